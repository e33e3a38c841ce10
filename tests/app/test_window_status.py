"""What the window tells the user: progress, recording, banners, rates; and the small traps."""

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from app.window_state import Mode


def test_file_recorded_from_its_start_with_progress_and_indicator(window, qtbot):
    window.commands.record_files.setChecked(True)
    window.open_sample()
    qtbot.waitUntil(lambda: window.recording and window.state.recording_s > 0.5, timeout=30000)
    strip = window.banner
    assert strip.progress.isVisible() and strip.progress.maximum() == 240
    assert strip.label.text().startswith("Tracking taiji_sample.mp4 — frame ")
    assert " of 240" in strip.label.text()
    assert strip.rec_label.isVisible() and strip.rec_label.text().startswith("● REC take_001")
    assert window.commands.record.text() == "■ Stop recording"
    qtbot.waitUntil(lambda: len(window.takes) == 1 and not window.source_running, timeout=60000)
    assert "Finished tracking taiji_sample.mp4: 240 of 240 frames" in strip.text()
    assert not strip.rec_label.isVisible() and not strip.progress.isVisible()
    assert window.status_labels.fps.text() == "— fps" and window.status_labels.latency.text() == "latency —"
    window.select_take("take_001")
    assert window.current_take.num_frames == 240  # every frame, from the first
    assert window.banner.text() == ""  # the finished message belonged to the source


def test_space_pauses_playback_where_it_is(window, qtbot, tmp_path):
    from tests.app.test_takes import _record_take

    name = _record_take(window, qtbot, frames=40)
    window.select_take(name)
    window.takes_panel.takes_list.setFocus()
    window.timeline.set_frame(20)
    qtbot.keyClick(window.takes_panel.takes_list, Qt.Key.Key_Space)
    assert window.timeline.playing and window.state.activity_text().startswith("Playing back")
    qtbot.wait(200)
    frame = window.timeline.frame
    qtbot.keyClick(window.takes_panel.takes_list, Qt.Key.Key_Space)
    assert not window.timeline.playing
    assert window.timeline.frame >= frame >= 20, "Space restarted the take instead of pausing it"
    assert "Playing back" not in window.state.activity_text()
    window.select_take(name)  # clicking the take that is shown keeps its place
    assert window.timeline.frame >= frame


def test_sample_banner_goes_when_another_file_plays(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import app.main_window as mw
    from app.main import dispose_window
    from tests.app.test_batch_and_errors import _short_clip

    monkeypatch.setattr(mw, "list_cameras", lambda: [])
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("settings/realtime", False)
    win = mw.MainWindow(settings=settings, autostart=True, takes_dir=str(tmp_path / "t"))
    win.resize(1280, 800)
    win.show()
    try:
        qtbot.waitUntil(lambda: "No camera found" in win.banner.text(), timeout=10000)
        image_geometry = win.image_view.geometry()
        clip = _short_clip(tmp_path)
        win.open_file(clip)
        assert win.banner.text() == ""
        qtbot.waitUntil(lambda: win.frames_rendered >= 3, timeout=30000)
        win.show_error("something to read")
        QApplication.processEvents()
        assert win.image_view.geometry() == image_geometry, "the image area moved when a message appeared"
    finally:
        dispose_window(win)


def test_joints_menu_stays_open_and_legend_is_beside_the_plot(window, qtbot):
    plot = window.angle_plot
    x0, x1 = plot.plot.getViewBox().viewRange()[0]
    assert (x0, x1) == (-10.0, 0.0)  # not -400..400 ms before the first frame
    assert not plot.plot.getAxis("bottom").autoSIPrefix and plot.plot.getAxis("bottom").labelText.startswith("time (s")
    menu = plot.menu
    menu.popup(plot.choose.mapToGlobal(QPoint(0, plot.choose.height())))
    qtbot.waitExposed(menu)
    action = plot.actions["left_elbow"]
    was = action.isChecked()
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    assert action.isChecked() != was
    assert menu.isVisible(), "the Joints menu closed after one tick"
    menu.close()
    assert ("left elbow" in plot.legend.text()) == action.isChecked()
    assert plot.plot.getPlotItem().legend is None  # no legend drawn over the curves


def test_about_is_formatted_text(window, qtbot):
    from app.about import AboutDialog

    dlg = AboutDialog(window)
    text = dlg.browser.toPlainText()
    assert "Bundled models" in text and "pose_landmarker_full.task" in text
    assert "## " not in text and "`" not in text and "# Monocap" not in text


def test_image_mode_needs_a_checkpoint_and_a_bad_one_changes_nothing(window, qtbot, tmp_path):
    from app.settings_dialog import SettingsDialog

    dlg = SettingsDialog(window.app_settings, window)
    image = dlg.mode.findData("image")
    assert not dlg.mode.model().item(image).isEnabled()
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    dlg.checkpoint.setText(str(bad))
    assert dlg.mode.model().item(image).isEnabled()
    dlg.mode.setCurrentIndex(image)
    before = window.app_settings
    dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert dlg.isVisible() or not dlg.result(), "a checkpoint that does not load was accepted"
    assert "broken.pt" in dlg.error_label.text() and "--checkpoint" not in dlg.error_label.text()
    assert window.app_settings == before
    dlg.reject()


def test_one_home_for_outputs(window, qtbot, tmp_path):
    from app.settings import AppSettings, default_output_dir

    home = Path(default_output_dir())
    assert home.name == "Monocap" and home.parent.name != "Monocap"
    s = AppSettings()
    assert Path(s.takes_folder).parent == Path(s.exports_folder).parent == Path(s.batch_folder).parent == home
    assert window.batch_panel.out_dir.text() == s.batch_folder
    from app.exporting import DEFAULT_FORMATS

    assert set(window.batch_panel.formats()) == set(DEFAULT_FORMATS)


def test_export_offers_to_open_the_folder(window, qtbot, tmp_path):
    from app.exporting import ExportRequest
    from engine.core.skeletons import MONOCAP_BODY
    from engine.core.take import Take

    take = Take(np.zeros((3, MONOCAP_BODY.num_joints, 3)), MONOCAP_BODY, 30.0, np.arange(3) / 30, np.ones(3, bool))
    with qtbot.waitSignal(window.exportFinished, timeout=10000):
        window.start_export(take, ExportRequest(str(tmp_path / "out"), "t", ("csv",)))
    assert window.banner.action_button.isVisible() and window.banner.action_button.text() == "Open folder"
    assert window.state.banner.folder == str(tmp_path / "out")
    assert window.state.mode is Mode.IDLE
