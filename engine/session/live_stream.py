"""A live source streamed to other programs: frames -> detector -> tracking stage -> PoseStreamer.

The loop of `monocap stream`. Live sources (a camera, or a file played at its own rate with
capture/paced_source.py) keep only the newest frame; each tracked pose goes to the streamer,
which never blocks the tracking thread (engine/streaming/sender.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from engine.capture.detector import PoseDetector
from engine.capture.frames import FrameSource
from engine.capture.latest_frame import LatestFrameGrabber
from engine.session.live_stage import TrackingStage
from engine.session.pipeline import CancelFlag, LiveTracker, PipelineConfig
from engine.lift.modes import make_lifter
from engine.streaming.sender import PoseStreamer, StreamStats


@dataclass(frozen=True)
class StreamRun:
    frames: int  # frames tracked
    dropped_frames: int  # frames the source made while the loop was busy (newest frame wins)
    seconds: float
    stats: StreamStats


def stream_source(source: FrameSource, config: PipelineConfig, streamer: PoseStreamer,
                  cancel: CancelFlag | None = None, on_status: Callable[[int, StreamStats], None] | None = None,
                  status_every_s: float = 1.0, max_frames: int | None = None) -> StreamRun:
    """Tracks `source` (a live one) until it ends, `cancel` is set, max_frames or Ctrl+C."""
    tracker = LiveTracker(config, make_lifter(config.lift))
    tracked = [0]

    def on_pose(frame, detection, pose, captured_ns: int) -> None:
        streamer.submit(pose, captured_ns)
        tracked[0] += 1

    grabber = LatestFrameGrabber(source)
    started = time.monotonic()
    next_status = started + status_every_s
    try:
        with PoseDetector(config.detector) as detector, TrackingStage(tracker, on_pose) as stage:
            grabber.start()
            while cancel is None or not cancel.is_set():
                if max_frames is not None and tracked[0] >= max_frames:
                    break
                try:
                    frame = grabber.take(0.1)
                except StopIteration:
                    break
                if on_status is not None and time.monotonic() >= next_status:
                    next_status += status_every_s
                    on_status(tracked[0], streamer.stats())
                if frame is None:
                    continue
                origin = getattr(source, "clock_origin_ns", None)
                captured_ns = origin + frame.timestamp_ns if origin is not None else time.monotonic_ns()
                stage.submit(frame, detector.detect(frame.image, frame.timestamp_ns), captured_ns)
    except KeyboardInterrupt:
        pass
    finally:
        grabber.stop()
    return StreamRun(tracked[0], grabber.dropped, time.monotonic() - started, streamer.stats())
