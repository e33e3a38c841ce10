"""Small things a user meets: a joint ticked after a clip ended keeps every curve; a click on the
timeline's groove jumps there; the slider keeps its place when ▶ and ❚❚ swap; Tab walks the window
(out of the 3D view too) from where the focus starts; a take selected says it is paused and how to
play it."""

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.app.test_batch_and_errors import _short_clip
from tests.app.test_foreign_take import _walk


def _points(curve) -> int:
    x, y = curve.getData()
    return 0 if y is None else int(np.isfinite(y).sum())


def test_a_joint_ticked_after_the_clip_ended_keeps_every_curve(window, qtbot, tmp_path):
    window.open_file(_short_clip(tmp_path, frames=48))
    qtbot.waitUntil(lambda: not window.source_running and window.frames_rendered > 10, timeout=60000)
    plot = window.angle_plot
    before = _points(plot.curves["left_knee"])
    assert before > 10
    plot.actions["left_elbow"].trigger()  # ticked in Joints ▾
    assert _points(plot.curves["left_knee"]) >= before, "ticking a joint wiped the curves"
    assert _points(plot.curves["left_elbow"]) > 10, "the joint ticked has no curve of the seconds shown"


def test_the_timeline_jumps_to_a_click_and_keeps_still_when_play_and_pause_swap(window, qtbot, tmp_path):
    window.open_take_file(_walk(tmp_path / "walk.bvh"))
    t = window.timeline
    assert t.slider.maximum() == 119
    assert window.banner.label.text() == "Take walk.bvh paused at frame 1 of 120 · Space or ▶ plays it"
    groove = t.slider.rect()
    QTest.mouseClick(t.slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(groove.width() * 0.75), groove.height() // 2))
    assert abs(t.slider.value() - 0.75 * 119) <= 6, f"a click at three quarters went to frame {t.slider.value()}"
    assert window.banner.label.text().startswith(f"Take walk.bvh paused at frame {t.slider.value() + 1} of 120")
    where = t.slider.geometry()
    t.set_playing(True)
    assert t.play_button.text() == "❚❚" and window.banner.label.text() == "Playing back walk.bvh"
    QApplication.processEvents()
    assert t.slider.geometry() == where, "the slider moved when ▶ turned into ❚❚"
    t.set_playing(False)


def test_tab_walks_the_window_from_where_the_focus_starts(window, qtbot):
    with qtbot.waitActive(window):
        window.activateWindow()
    panel = window.takes_panel
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.takes_list, timeout=5000)
    seen = []
    for _ in range(3):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    assert seen == [panel.live_button, panel.export_button, window.view3d.container()]
    QTest.keyClick(window.view3d, Qt.Key.Key_Tab)  # the keys go to the 3D view's own window: Tab leaves it
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.angle_plot.choose, timeout=5000)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # the timeline is off with no take: on to Stream
    assert QApplication.focusWidget() is window.stream_control.button


def test_space_plays_with_the_focus_in_the_3d_view(window, qtbot, tmp_path):
    window.open_take_file(_walk(tmp_path / "walk.bvh"))
    QTest.keyClick(window.view3d, Qt.Key.Key_Space)
    assert window.timeline.playing
    QTest.keyClick(window.view3d, Qt.Key.Key_Space)
    assert not window.timeline.playing
