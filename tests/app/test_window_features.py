"""Settings, persistence, drag and drop, the About box, the 3D view's follow mode."""

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from engine.core.resources import sample_clip


def test_settings_dialog_saves_and_applies(window, qtbot):
    def fill():
        dlg = QApplication.activeModalWidget()
        dlg.smoothing.setValue(80)
        dlg.camera_size.setCurrentIndex(1)
        dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    QTimer.singleShot(200, fill)
    window.commands.settings.trigger()
    assert window.app_settings.smoothing == 0.8
    assert window.app_settings.pipeline_config().smoothing.strength == 0.8
    assert (window.app_settings.camera_width, window.app_settings.camera_height) == (1280, 720)
    assert float(window.qsettings.value("settings/smoothing")) == 0.8


def test_recent_files_and_layout_persist(qtbot, tmp_path):
    from app.main import dispose_window
    from app.main_window import MainWindow

    path = str(tmp_path / "s.ini")
    win = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat), takes_dir=str(tmp_path / "t"))
    win.show()
    win.open_file(sample_clip())
    win.resize(1111, 777)
    qtbot.wait(50)
    dispose_window(win)
    again = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat), takes_dir=str(tmp_path / "t"))
    assert [a.text() for a in again.commands.recent_menu.actions()] == [str(sample_clip())]
    assert again.size().width() == 1111
    dispose_window(again)


def test_dropping_a_video_opens_it(window, qtbot):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample_clip()))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.frames_rendered >= 1, timeout=30000)
    assert window.last_frame.frame.image.shape == (360, 640, 3)


def test_about_names_version_and_licences(window):
    from app.about import about_text
    from engine import __version__

    text = about_text()
    assert __version__ in text and "Apache License" in text and "MIT" in text and "pose_landmarker" in text


def test_follow_mode_centres_the_subject(window):
    from engine.core.skeletons import MONOCAP_BODY

    view = window.view3d
    joints = np.zeros((MONOCAP_BODY.num_joints, 3))
    joints[:, 1] = np.linspace(0, 1.7, MONOCAP_BODY.num_joints)
    joints[:, 0] += 2.0  # two metres to the right
    joints[:, 2] -= 1.0  # one metre away from the camera
    view.set_pose(joints, MONOCAP_BODY)
    assert view.opts["center"].x() == 0.0
    window.commands.follow.setChecked(True)
    assert (view.opts["center"].x(), view.opts["center"].y()) == (2.0, 1.0)  # GL: (x, -z)
    window.commands.reset_view.trigger()
    assert view.opts["center"].x() == 0.0 and view.opts["distance"] == view.HOME["distance"]


def test_start_without_camera_plays_the_sample_clip(qtbot, tmp_path, monkeypatch):
    import app.main_window as mw
    from app.main import dispose_window

    monkeypatch.setattr(mw, "list_cameras", lambda: [])
    win = mw.MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                        autostart=True, takes_dir=str(tmp_path / "t"))
    win.show()
    qtbot.waitUntil(lambda: win.frames_rendered >= 2, timeout=30000)
    assert "No camera found" in win.banner.text()
    assert win.source_info is not None and win.source_info.name == "taiji_sample.mp4"
    dispose_window(win)


def test_the_3d_mode_that_runs_is_shown_in_the_status_bar(window, qtbot):
    label = window.status_labels.lift
    mode = window.app_settings.lift_mode
    assert label.isVisible() and label.text() == f"3D mode {mode}"
    window.open_sample()
    qtbot.waitUntil(lambda: window.frames_rendered >= 2, timeout=60000)
    window.apply_settings(window.app_settings.with_(mode="detector", hands=True), quiet=True)
    # the running source keeps its mode until the next one opens: both are said
    assert label.text() == f"3D mode {mode} (next source: detector + hands)"
    assert "hands and fingers" in label.toolTip()
    window.stop_source()
    qtbot.waitUntil(lambda: not window.source_running, timeout=10000)
    assert label.text() == "3D mode detector + hands"
