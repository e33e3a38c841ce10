"""Batch over a good clip and a corrupt file; cancel; no camera; nothing freezes the window."""

import time

import numpy as np
from PySide6.QtCore import QTimer

from app.messages import BatchRequest
from engine.core.resources import sample_clip


def _short_clip(tmp_path, frames=24):
    """The sample clip's first frames, so the batch test stays short."""
    import cv2

    cap = cv2.VideoCapture(str(sample_clip()))
    path = tmp_path / "good.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 24.0, (640, 360))
    for _ in range(frames):
        ok, img = cap.read()
        out.write(img)
    out.release()
    cap.release()
    return path


class _Heartbeat:
    """Records the longest gap between 10 ms ticks of a GUI-thread timer."""

    def __init__(self):
        self.last = time.perf_counter()
        self.worst = 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(10)

    def tick(self):
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now


def test_batch_good_and_corrupt(window, qtbot, tmp_path):
    good = _short_clip(tmp_path)
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    panel = window.batch_panel
    panel.add_paths([good, bad])
    panel.out_dir.setText(str(tmp_path / "batch_out"))
    for fmt, box in panel.format_boxes.items():
        box.setChecked(fmt == "csv")
    beat = _Heartbeat()
    with qtbot.waitSignal(panel.finished, timeout=60000) as blocker:
        panel.start_button.click()
    result = blocker.args[0]
    beat.timer.stop()
    assert list(result.succeeded) == [str(good)]
    assert (tmp_path / "batch_out" / "good.csv").exists()
    assert len(result.failures) == 1 and result.failures[0][0] == str(bad)
    assert "corrupt.mp4" in panel.summary.toPlainText()
    assert "FAILED" in panel.summary.toPlainText()
    assert beat.worst < 0.5, f"the GUI thread stalled {beat.worst * 1e3:.0f} ms during the batch"
    assert panel.start_button.isEnabled()


def test_batch_cancel_stops_within_a_second(window, qtbot, tmp_path):
    files = [str(sample_clip())] * 3
    window.run_batch(BatchRequest(tuple(files), str(tmp_path / "out"), ("csv",)))
    panel = window.batch_panel
    qtbot.waitUntil(lambda: panel.file_progress.value() >= 3, timeout=30000)  # working on the first file
    started = time.perf_counter()
    with qtbot.waitSignal(panel.finished, timeout=5000) as blocker:
        panel.cancel_button.setEnabled(True)
        panel.cancel_button.click()
    assert time.perf_counter() - started < 1.0
    result = blocker.args[0]
    assert result.cancelled and not result.succeeded


def test_no_camera_gives_a_friendly_message(window, qtbot, monkeypatch):
    import app.main_window as mw

    monkeypatch.setattr(mw, "list_cameras", lambda: [])
    window.check_cameras()
    assert "No camera found" in window.banner.text()
    assert window.banner.action_button.text() == "Play sample clip"
    assert not window.camera_picker.button.isEnabled()
    # asking for a camera that does not exist ends in a message, not an exception
    window.open_camera(7)
    qtbot.waitUntil(lambda: "camera 7" in window.banner.text(), timeout=10000)
    assert not window.source_running
    # and the offered sample clip plays
    window.banner.action_button.click()
    qtbot.waitUntil(lambda: window.frames_rendered >= 2, timeout=30000)


def test_corrupt_file_opened_directly_is_a_message(window, qtbot, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00garbage" * 1000)
    window.open_file(bad)
    qtbot.waitUntil(lambda: "broken.mp4" in window.banner.text(), timeout=10000)
    assert window.isVisible()


def test_a_file_whose_header_rate_is_not_believed_says_so_while_it_plays(window, qtbot, tmp_path):
    from tests.engine.video_helpers import read_frames, write_video

    fast = write_video(tmp_path / "fast.mp4", read_frames(sample_clip(), 30), fps=10000)
    window.open_file(fast)
    qtbot.waitUntil(lambda: "not plausible" in window.banner.text(), timeout=30000)
    assert window.banner.text().startswith("fast.mp4: the header's frame rate 10000 fps")
    assert window.state.banner.level == "warning"


class _UnpluggedCamera:
    """Sends the sample clip's first frames like a camera, then fails as an unplugged one does."""

    is_live = True
    fps = 24.0
    frame_count = None

    def __init__(self, index=0, width=None, height=None):
        from engine.capture.frames import VideoFileSource

        self.name = f"camera {index}"
        self._video = VideoFileSource(sample_clip())

    def __iter__(self):
        from engine.core.errors import InputError

        for frame in self._video:
            if frame.index >= 40:
                raise InputError(f"{self.name}: stopped sending frames (unplugged?)")
            time.sleep(1 / 24)
            yield frame

    def stop(self):
        pass

    def close(self):
        self._video.close()


def test_camera_unplugged_mid_take_keeps_the_take(window, qtbot, monkeypatch):
    import engine.session.sources as sources

    monkeypatch.setattr(sources, "CameraSource", _UnpluggedCamera)
    window.open_camera(0)
    qtbot.waitUntil(lambda: window.frames_rendered >= 2, timeout=30000)
    window.set_recording(True)
    qtbot.waitUntil(lambda: "unplugged" in window.banner.text(), timeout=30000)
    qtbot.waitUntil(lambda: len(window.takes) == 1, timeout=5000)
    path, _ = window.takes[next(iter(window.takes))]
    assert path.exists()
    assert window.banner.action_button.text() == "Play sample clip"
    assert not window.recording and not window.source_running
