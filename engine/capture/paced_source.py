"""A video file played at its own rate, as if a camera were filming it: for streaming demos, tests
and latency benchmarks of the live path. Frames come when they are due; a consumer that falls
behind meets the same newest-frame-wins behaviour as with a camera (engine/capture/latest_frame.py).
"""

from __future__ import annotations

import threading
import time
from typing import Iterator

from engine.capture.frames import Frame, FrameSource


class PacedSource:
    """Wraps a file source. `clock_origin_ns` is the time.monotonic_ns() of its first frame, so
    a frame was 'captured' at clock_origin_ns + frame.timestamp_ns (as with CameraSource). Set it
    before the first frame to play several files on one clock, as cameras filming together: a file
    whose first frame comes late then catches up instead of running behind the others."""

    is_live = True

    def __init__(self, source: FrameSource):
        self.source = source
        self.name = source.name
        self.fps = source.fps
        self.clock_origin_ns: int | None = None
        self._stop = threading.Event()

    @property
    def frame_count(self) -> int | None:
        return self.source.frame_count

    def __iter__(self) -> Iterator[Frame]:
        first_ts = None
        for frame in self.source:
            if self._stop.is_set():
                return
            if first_ts is None:
                first_ts = frame.timestamp_ns
                if self.clock_origin_ns is None:  # set beforehand: several files started on one clock
                    self.clock_origin_ns = time.monotonic_ns()
            ts = frame.timestamp_ns - first_ts
            delay = (self.clock_origin_ns + ts - time.monotonic_ns()) / 1e9
            if delay > 0 and self._stop.wait(delay):
                return
            yield Frame(frame.index, ts, frame.image)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self.source.close()
