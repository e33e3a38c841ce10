"""A file recorded whole in the app gets the take `monocap process` gives on it: the live take is
shown at once, then replaced by the offline pass's (the same arrays), and the window says so."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings

from engine.capture.frames import open_source
from engine.core.take import load_npz, save_npz
from engine.session.session import Session
from tests.engine.video_helpers import read_frames, write_video


def test_a_file_recorded_whole_in_the_app_equals_process_on_it(qtbot, tmp_path, sample_clip):
    from app.main import dispose_window
    from app.main_window import MainWindow

    clip = write_video(tmp_path / "walk.mp4", read_frames(sample_clip, 30), fps=24)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("settings/realtime", False)
    settings.setValue("settings/record_files", True)
    win = MainWindow(settings=settings, takes_dir=str(tmp_path / "takes"))
    win.show()
    try:
        with qtbot.waitSignal(win.engine.worker.takeRefined, timeout=240000) as refined:
            win.open_file(clip)
            qtbot.waitUntil(lambda: "refining" in win.statusBar().currentMessage(), timeout=120000)
            name = next(iter(win.takes))
            win.select_take(name)  # the live take, shown while the pass runs
            live = win.current_take
            win.timeline.slider.setValue(20)
        result = refined.args[0]
        assert result.error == "" and result.frames == 30
        qtbot.waitUntil(lambda: "refined by the whole-clip pass" in win.statusBar().currentMessage(), timeout=5000)
        shown = win.current_take  # the refined take replaced the live one where it was shown
        assert shown is not live and win.timeline.frame == 20
        np.testing.assert_array_equal(shown.joints_m, load_npz(result.take_path).joints_m)
        config = win.app_settings.pipeline_config()
    finally:
        dispose_window(win)
    app_take = load_npz(result.take_path)
    processed = load_npz(save_npz(Session(lambda: open_source(clip), config).process(), tmp_path / "p.npz"))
    for name in ("joints_m", "valid", "timestamps_s", "keypoints_px", "keypoint_scores"):
        np.testing.assert_array_equal(getattr(app_take, name), getattr(processed, name), err_msg=name)
