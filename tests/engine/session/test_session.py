"""The engine session: the same numbers as the pipeline's stages run by hand, every event in order,
recording driven by the flag, errors reported and never raised by a stream, memory flat over
thousands of frames."""

from __future__ import annotations

import gc
import threading
import tracemalloc

import numpy as np
import pytest

from engine.capture.detector import PoseDetector
from engine.capture.frames import Frame, VideoFileSource
from engine.core.errors import InputError
from engine.lift.modes import LiftConfig
from engine.session.events import SessionEvents
from engine.session.pipeline import LiveTracker, PipelineConfig, detect_source, take_from_track
from engine.session.session import Session
from tests.engine.video_helpers import read_frames, write_video

DETECTOR_MODE = PipelineConfig(lift=LiftConfig(mode="detector"))


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory, sample_clip):
    return write_video(tmp_path_factory.mktemp("clip") / "short.mp4", read_frames(sample_clip, 30), fps=25)


@pytest.fixture(scope="module")
def detected(short_clip):
    """The clip's frames with the real detector's detections."""
    source = VideoFileSource(short_clip)
    frames = list(source)
    source.close()
    with PoseDetector() as detector:
        return frames, [detector.detect(f.image, f.timestamp_ns) for f in frames]


class _Replay:
    """A detector that gives back detections the real one made, in turn (for runs far longer
    than the clip); the session's part is what is under test."""

    def __init__(self, detections):
        self._detections = detections
        self._i = 0

    def __call__(self, config):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def detect_people(self, image_bgr, timestamp_ns):
        det = self._detections[self._i % len(self._detections)]
        self._i += 1
        return [] if det is None else [det]


class _FrameSource:
    """`count` frames at 25 fps, in order: the clip's own when given, else small blank ones."""

    is_live = False
    name = "frames"
    fps = 25.0

    def __init__(self, count: int, frames: list[Frame] | None = None):
        self.frame_count = count
        self.frames = frames
        self.closed = False

    def __iter__(self):
        if self.frames is not None:
            yield from self.frames[: self.frame_count]
            return
        image = np.zeros((48, 64, 3), np.uint8)
        for i in range(self.frame_count):
            yield Frame(i, int(i * 1e9 / self.fps), image)

    def close(self):
        self.closed = True


class _Sink:
    def __init__(self, fail_at: int | None = None):
        self.frames, self.closed, self.fail_at = [], 0, fail_at

    def on_pose(self, tracked):
        if tracked.frame.index == self.fail_at:
            raise OSError("the receiver went away")
        self.frames.append(tracked)

    def close(self):
        self.closed += 1


def test_process_gives_the_numbers_of_the_two_passes_run_by_hand(short_clip):
    config = PipelineConfig()
    progress = []
    take = Session(VideoFileSource(short_clip), config, SessionEvents(progress=lambda d, t: progress.append(d))).process()
    source = VideoFileSource(short_clip)
    with PoseDetector(config.detector) as detector:
        track = detect_source(source, detector)
    source.close()
    by_hand = take_from_track(track, source.fps, config, source_name=source.name)
    np.testing.assert_array_equal(take.joints_m, by_hand.joints_m)
    np.testing.assert_array_equal(take.valid, by_hand.valid)
    assert progress == list(range(1, 31))


def test_stream_tracks_every_frame_in_order_as_the_tracker_does_in_line(detected):
    frames, dets = detected
    in_line = LiveTracker(PipelineConfig())
    expected = [in_line.push(f.index, f.timestamp_ns / 1e9, d) for f, d in zip(frames, dets)]
    seen, order, threads = [], [], set()
    sink = _Sink()
    events = SessionEvents(opened=lambda info: order.append(("opened", info)),
                           pose=lambda t: (seen.append(t), threads.add(threading.get_ident())),
                           ended=lambda end: order.append(("ended", end)))
    source = _FrameSource(len(frames), frames)
    session = Session(source, PipelineConfig(), events, detector=_Replay(dets))
    session.add_sink(sink)
    end = session.stream()
    assert [kind for kind, _ in order] == ["opened", "ended"]
    assert order[0][1].name == "frames" and order[0][1].device.startswith(("CPU", "CUDA"))
    assert end.frames == len(frames) and end.error is None and not end.cancelled
    assert [t.frame.index for t in seen] == [f.index for f in frames] == [t.frame.index for t in sink.frames]
    assert sink.closed == 1 and source.closed
    assert threading.get_ident() not in threads  # tracking ran on its own thread
    for t, ref in zip(seen, expected):
        if ref.joints_m is None:
            assert t.pose.joints_m is None
        else:
            np.testing.assert_array_equal(t.pose.joints_m, ref.joints_m)
        assert t.detect_s >= 0 and t.track_s > 0 and t.latency_s >= t.track_s


def test_recording_follows_the_flag_and_saves_a_take(tmp_path, detected):
    frames, dets = detected
    states, saved = [], []

    def on_pose(t):
        if t.frame.index == 9:
            session.set_recording(False)

    session = Session(_FrameSource(len(frames)), DETECTOR_MODE,
                      SessionEvents(pose=on_pose, recording=states.append, take_saved=saved.append),
                      takes_dir=tmp_path / "takes", detector=_Replay(dets))
    session.set_recording(True)
    session.stream()
    assert [s.recording for s in states] == [True, False]
    assert len(saved) == 1 and saved[0].path.exists() and saved[0].video_path.exists()
    assert saved[0].take.num_frames == 10 == states[1].frames  # frames 0..9; the flag applies at the next
    assert not list((tmp_path / "takes").glob("*.rec"))


def test_a_take_being_recorded_is_saved_when_the_stream_ends(tmp_path, detected):
    frames, dets = detected
    saved = []
    session = Session(_FrameSource(12), DETECTOR_MODE, SessionEvents(take_saved=saved.append),
                      takes_dir=tmp_path, detector=_Replay(dets))
    session.set_recording(True)
    session.stream()
    assert len(saved) == 1 and saved[0].take.num_frames == 12


def test_a_failing_sink_ends_the_stream_with_a_report_not_a_crash(detected):
    frames, dets = detected
    errors, ends = [], []
    sink = _Sink(fail_at=5)
    session = Session(_FrameSource(len(frames)), DETECTOR_MODE, SessionEvents(error=errors.append, ended=ends.append),
                      detector=_Replay(dets))
    session.add_sink(sink)
    end = session.stream()
    assert isinstance(end.error, OSError) and errors == [end.error] and ends == [end]
    assert len(sink.frames) == 5 and sink.closed == 1


def test_a_source_that_cannot_open_is_reported_by_name(tmp_path):
    missing = tmp_path / "gone.mp4"
    ends = []
    end = Session(lambda: VideoFileSource(missing), events=SessionEvents(ended=ends.append), name=str(missing)).stream()
    assert isinstance(end.error, InputError) and "gone.mp4" in str(end.error)
    assert ends[0].name == str(missing) and end.frames == 0
    with pytest.raises(InputError, match="gone.mp4"):
        Session(lambda: VideoFileSource(missing), name=str(missing)).process()


def test_cancel_stops_a_realtime_file_at_once(detected):
    frames, dets = detected
    seen = []

    def on_pose(t):
        seen.append(t)
        session.cancel()

    source = _FrameSource(10_000)  # 333 s at its own rate
    session = Session(source, DETECTOR_MODE, SessionEvents(pose=on_pose), detector=_Replay(dets))
    end = session.stream(realtime=True)
    assert end.cancelled and end.frames <= 3 and source.closed


@pytest.mark.slow
def test_stream_soak_memory_and_objects_stay_flat(tmp_path, detected):
    """Thousands of frames through the lifter mode with recording switched on and off."""
    frames, dets = detected
    count = 3000
    marks = {}

    def on_pose(t):
        i = t.frame.index
        session.set_recording(i % 1000 < 300)
        if i in (1000, count - 1):
            gc.collect()
            marks[i] = (tracemalloc.get_traced_memory()[0], len(gc.get_objects()))

    tracemalloc.start()
    try:
        session = Session(_FrameSource(count), PipelineConfig(lift=LiftConfig(device="cpu")),
                          SessionEvents(pose=on_pose), takes_dir=tmp_path, detector=_Replay(dets))
        end = session.stream()
    finally:
        tracemalloc.stop()
    assert end.error is None and end.frames == count
    (mem_a, obj_a), (mem_b, obj_b) = marks[1000], marks[count - 1]
    assert mem_b - mem_a < 2_000_000, (mem_a, mem_b)
    assert obj_b - obj_a < 2000, (obj_a, obj_b)
    assert len(list(tmp_path.glob("*.npz"))) == 3
