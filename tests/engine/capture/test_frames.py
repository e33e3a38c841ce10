import numpy as np
import pytest

from engine.capture.frames import CameraSource, ImageFolderSource, VideoFileSource, open_source
from engine.core.errors import InputError
from tests.engine.video_helpers import write_video


def _gradient_frames(n, w=64, h=48):
    return [np.full((h, w, 3), i * 10 % 255, np.uint8) for i in range(n)]


def test_video_file_frames_in_order_with_timestamps(tmp_path):
    path = write_video(tmp_path / "clip.mp4", _gradient_frames(12), fps=25)
    source = VideoFileSource(path)
    frames = list(source)
    source.close()
    assert [f.index for f in frames] == list(range(12))
    assert frames[5].timestamp_ns == 200_000_000
    assert source.fps == pytest.approx(25, rel=0.01)
    # the decoded brightness follows the written ramp, so frames are neither dropped nor reordered
    means = [f.image.mean() for f in frames]
    assert np.all(np.diff(means) > 0)


def test_stopping_early_leaves_no_reader_running(tmp_path):
    path = write_video(tmp_path / "clip.mp4", _gradient_frames(30))
    source = VideoFileSource(path)
    for frame in source:
        if frame.index == 3:
            break
    source.close()
    import threading

    assert not any(t.name == "video-decode" and t.is_alive() for t in threading.enumerate())


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100, bytes(range(256)) * 50])
def test_non_video_files_give_one_clear_error(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError, match="broken.mp4"):
        VideoFileSource(path)


def test_missing_file_and_folder_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        VideoFileSource(tmp_path / "nope.mp4")
    with pytest.raises(InputError, match="folder"):
        VideoFileSource(tmp_path)


def test_truncated_video_reports_lost_frames(tmp_path):
    path = write_video(tmp_path / "full.avi", _gradient_frames(60, 160, 120), fourcc="MJPG")
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    source = VideoFileSource(cut)
    frames = list(source)
    assert 0 < len(frames) < 60
    assert source.decode_errors > 0


def test_image_folder_source(tmp_path):
    import cv2

    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.full((20, 30, 3), i * 50, np.uint8))
    source = open_source(tmp_path, fps=10)
    assert isinstance(source, ImageFolderSource)
    frames = list(source)
    assert [f.timestamp_ns for f in frames] == [0, 100_000_000, 200_000_000]
    assert frames[2].image.mean() == pytest.approx(100, abs=1)


def test_empty_image_folder(tmp_path):
    with pytest.raises(InputError, match="no images"):
        ImageFolderSource(tmp_path)


def test_missing_camera_is_a_clear_error():
    with pytest.raises(InputError, match="camera 57"):
        CameraSource(57)
