"""Several cameras filmed at once for placing them (engine/session/views_recording.py): two video files
standing in for webcams (the sample clip and a second camera's view of it, tests/app/rig_footage.py),
played at their own rate, recorded into one video each whose frames pair up moment by moment."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from engine.core.errors import InputError
from engine.session.camera_rig import RigView
from engine.session.views_recording import CAMERA_FREE_WAIT_S, record_views
from tests.app.rig_footage import write_pair


def _frames(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image.astype(np.float32))
    cap.release()
    return frames


def _source_index(frame, video) -> int:
    """Which frame of `video` the recorded `frame` is (the closest)."""
    if video not in _SOURCES:
        _SOURCES[video] = [f[::4, ::4] for f in _frames(video)]
    return int(np.argmin([np.abs(frame[::4, ::4] - source).mean() for source in _SOURCES[video]]))


_SOURCES: dict = {}


def test_two_cameras_recorded_at_once_pair_up_frame_by_frame(tmp_path):
    cam1, cam2, _ = write_pair(tmp_path, frames=60)
    out = tmp_path / "calibration"
    reports = []
    recording = record_views([RigView("file", path=str(cam1)), RigView("file", path=str(cam2))], out, seconds=1.0,
                             progress=lambda done, total: reports.append((done, total)))
    paths = recording.paths
    assert [p.name for p in paths] == ["cam01.avi", "cam02.avi"]
    assert sorted(p.name for p in out.iterdir()) == ["cam01.avi", "cam02.avi"]  # no temporary left
    first, second = _frames(paths[0]), _frames(paths[1])
    assert len(first) == len(second) == recording.frames and 20 <= recording.frames <= 26  # 1 s of a 23.976 fps clip
    assert 0.9 <= recording.seconds <= 1.1 and reports[0] == (0, 1)
    assert first[0].shape == (360, 640, 3)
    # the second camera's frame i is the first's moment: each recorded frame found in its own source
    # video, the two videos' frames i are the same frame of the clip within a frame (two on a busy machine)
    offsets = np.array([_source_index(b, cam2) - _source_index(a, cam1) for a, b in zip(first, second)])
    assert np.median(offsets) == 0 and np.abs(offsets).max() <= 2 and (np.abs(offsets) <= 1).mean() >= 0.8, offsets


def test_a_recording_stopped_before_any_frame_keeps_the_videos_there_were(tmp_path):
    cam1, cam2, _ = write_pair(tmp_path, frames=24)
    out = tmp_path / "calibration"
    out.mkdir()
    (out / "cam01.avi").write_bytes(b"last week's video")
    stop = threading.Event()
    stop.set()
    with pytest.raises(InputError, match="nothing was recorded"):
        record_views([RigView("file", path=str(cam1)), RigView("file", path=str(cam2))], out, cancel=stop)
    assert (out / "cam01.avi").read_bytes() == b"last week's video" and sorted(p.name for p in out.iterdir()) == ["cam01.avi"]
    with pytest.raises(InputError, match="pick two cameras or more"):
        record_views([RigView("file", path=str(cam1))], out)
    started = time.monotonic()  # a camera in use is tried again for a moment (the live view letting go of it)
    with pytest.raises(InputError, match=r"^camera 7: not found or already in use"):
        record_views([RigView("file", path=str(cam1)), RigView("camera", camera_index=7)], out)
    assert time.monotonic() - started >= CAMERA_FREE_WAIT_S
    assert sorted(p.name for p in out.iterdir()) == ["cam01.avi"]
