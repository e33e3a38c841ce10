"""The live tracking stage: the same poses as tracking in line, in order, errors handed back."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.capture.detector import PoseDetector
from engine.capture.frames import VideoFileSource
from engine.session.live_stage import TrackingStage
from engine.session.pipeline import LiveTracker, PipelineConfig


@pytest.fixture(scope="module")
def detected(sample_clip):
    source = VideoFileSource(sample_clip)
    frames = [f for _, f in zip(range(40), source)]
    source.close()
    with PoseDetector() as detector:
        return [(f, detector.detect(f.image, f.timestamp_ns)) for f in frames]


def test_stage_gives_the_poses_of_tracking_in_line_in_order(detected):
    in_line = LiveTracker(PipelineConfig())
    expected = [in_line.push(f.index, f.timestamp_ns / 1e9, d) for f, d in detected]
    got, threads = [], set()

    def on_pose(frame, detection, pose, item):
        threads.add(threading.get_ident())
        got.append((item, pose))

    with TrackingStage(LiveTracker(PipelineConfig()), on_pose) as stage:
        for f, d in detected:
            stage.submit(f, d, detected=f.index)
    assert [item for item, _ in got] == [f.index for f, _ in detected]
    assert threads and threading.get_ident() not in threads
    for (_, pose), ref in zip(got, expected):
        assert pose.index == ref.index
        if ref.joints_m is None:
            assert pose.joints_m is None
        else:
            np.testing.assert_array_equal(pose.joints_m, ref.joints_m)


def test_an_error_on_the_stage_is_raised_in_the_submitting_thread(detected):
    seen = []

    def on_pose(frame, detection, pose, item):
        seen.append(item)
        if item == 3:
            raise OSError("disk full")

    stage = TrackingStage(LiveTracker(PipelineConfig()), on_pose, depth=1)
    with pytest.raises(OSError, match="disk full"):
        for i, (f, d) in enumerate(detected):
            stage.submit(f, d, detected=i)
        stage.close()
    stage.close()  # the error was handed over once; closing again is quiet
    assert seen == [0, 1, 2, 3]  # nothing is tracked after the error
    with pytest.raises(RuntimeError, match="closed"):
        stage.submit(*detected[0], detected=0)
