"""The strip says what holds now: a take recovered at start stays in view while the sample clip
plays for want of a camera; an earlier batch's summary gives way to the file opened next (its
progress shows); a source's end is not announced over a take being played; a video that cannot be
opened leaves no "Opening …" in the image."""

import numpy as np
from PySide6.QtCore import QSettings

from app.messages import BatchRequest
from app.window_state import Mode
from engine.core.skeletons import MONOCAP_BODY
from engine.session.recorder import TakeRecorder
from tests.app.test_batch_and_errors import _short_clip


def _crash_left_take(takes):
    """A take cut short as a crash leaves it: its records flushed, never finished."""
    rec = TakeRecorder(takes.parent / "writing", "take_001", MONOCAP_BODY, 24.0, write_video=False)
    for i in range(48):
        rec.append(i / 24, np.full((MONOCAP_BODY.num_joints, 3), 0.5), None, None)
    rec.flush()
    takes.mkdir()
    for f in (rec.rec_path, rec.header_path):
        (takes / f.name).write_bytes(f.read_bytes())
    rec.close()


def test_the_recovered_take_is_said_while_the_sample_plays_for_want_of_a_camera(qtbot, tmp_path, monkeypatch):
    import app.main_window as mw
    from app.main import dispose_window

    takes = tmp_path / "takes"
    _crash_left_take(takes)
    monkeypatch.setattr(mw, "list_cameras", lambda: [])
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("settings/realtime", False)
    win = mw.MainWindow(settings=settings, autostart=True, takes_dir=str(takes))
    win.show()
    try:
        qtbot.waitUntil(lambda: win.frames_rendered >= 3, timeout=30000)
        assert "take_001 was recovered after a crash: 2.0 s" in win.banner.label.text()
        qtbot.waitUntil(lambda: not win.source_running, timeout=90000)
        assert "take_001 was recovered after a crash" in win.banner.label.text()
        win.banner.close_button.click()  # read: what came meanwhile shows
        assert win.banner.label.text().startswith("Finished tracking taiji_sample.mp4")
    finally:
        dispose_window(win)


def test_a_batch_summary_gives_way_to_the_next_file(window, qtbot, tmp_path):
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(b"not a video" * 100)
    with qtbot.waitSignal(window.batch_panel.finished, timeout=60000):
        window.run_batch(BatchRequest((str(bad),), str(tmp_path / "out"), ("csv",)))
    qtbot.waitUntil(lambda: "failed" in window.banner.text(), timeout=5000)
    window.open_file(_short_clip(tmp_path, frames=48))
    qtbot.waitUntil(lambda: window.frames_rendered >= 2, timeout=30000)
    assert window.banner.text() == ""
    assert window.banner.label.text().startswith("Tracking good.avi — frame ")
    assert window.banner.progress.isVisible()
    window.stop_source()
    qtbot.waitUntil(lambda: not window.source_running, timeout=10000)


def test_a_source_ending_while_a_take_plays_is_not_announced_over_it(window, qtbot, tmp_path):
    from tests.app.test_takes import _record_take

    name = _record_take(window, qtbot, frames=20)
    window.open_file(_short_clip(tmp_path, frames=72))
    qtbot.waitUntil(lambda: window.frames_rendered >= 2 and window.source_running, timeout=30000)
    window.select_take(name)
    qtbot.waitUntil(lambda: not window.source_running, timeout=60000)
    assert window.mode is Mode.PLAYBACK
    assert "Finished tracking" not in window.banner.label.text()
    assert window.banner.label.text().startswith(f"Take {name}")


def test_a_video_that_cannot_be_opened_leaves_no_opening_in_the_image(window, qtbot, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    window.open_file(bad)
    assert window.image_view.placeholder == "Opening bad.mp4…"
    qtbot.waitUntil(lambda: not window.source_running, timeout=30000)
    assert window.state.banner is not None and window.state.banner.level == "error"
    assert "bad.mp4" in window.banner.text() and "\n" not in window.banner.text()
    assert window.image_view.placeholder == "bad.mp4 could not be played: see the message above."


def test_a_checkpoint_torch_will_not_load_is_one_line_with_the_detail_in_the_log(window, qtbot, tmp_path, caplog):
    import pathlib

    import torch
    from PySide6.QtWidgets import QDialogButtonBox

    from app.settings_dialog import SettingsDialog

    odd = tmp_path / "downloaded.pt"
    torch.save({"model": pathlib.PurePosixPath("a")}, odd)  # a pickle torch refuses to load safely
    dlg = SettingsDialog(window.app_settings, window)
    dlg.checkpoint.setText(str(odd))
    dlg.mode.setCurrentIndex(dlg.mode.findData("image"))
    with caplog.at_level("WARNING", logger="monocap.app"):
        dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    said = dlg.error_label.text()
    assert "downloaded.pt" in said and "\n" not in said and len(said) < 200, said
    assert "weights_only" not in said and "Unpickling" not in said
    assert "weights_only" in caplog.text  # the library's own words are in the log
    dlg.reject()


def test_every_message_in_the_strip_is_one_line(window, qtbot, caplog):
    with caplog.at_level("WARNING", logger="monocap.app"):
        window.show_error("take.bvh: internal error: ValueError: could not convert string to float: 'x'\n"
                          "Traceback (most recent call last):\n  File ...")
    said = window.banner.text()
    assert "\n" not in said and "Traceback" not in said and said.startswith("take.bvh: "), said
    assert "Traceback" in caplog.text
