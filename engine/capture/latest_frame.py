"""Live capture: a reader thread that keeps only the newest frame (stale frames are dropped)."""

from __future__ import annotations

import threading

from engine.capture.frames import Frame, FrameSource


class LatestFrameGrabber:
    """Reads `source` on its own thread. `take()` returns the newest frame not yet taken.

    Memory is one frame, whatever the speed of the consumer; `dropped` counts frames that were
    replaced before anybody took them. An error in the source is raised from `take()`.
    """

    def __init__(self, source: FrameSource):
        self.source = source
        self.dropped = 0
        self._frame: Frame | None = None
        self._error: BaseException | None = None
        self._ended = False
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="monocap-capture", daemon=True)

    def start(self) -> "LatestFrameGrabber":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            for frame in self.source:
                with self._cond:
                    if self._frame is not None:
                        self.dropped += 1
                    self._frame = frame
                    self._cond.notify_all()
                if self._stop.is_set():
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            with self._cond:
                self._error = exc
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def take(self, timeout: float = 0.1) -> Frame | None:
        """The newest unseen frame, or None after `timeout` s. Raises the source's error; StopIteration at its end."""
        with self._cond:
            if self._frame is None and not self._ended:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            if frame is not None:
                return frame
            if self._error is not None:
                raise self._error
            if self._ended:
                raise StopIteration
            return None

    def stop(self, timeout: float = 1.0) -> None:
        self._stop.set()
        stopper = getattr(self.source, "stop", None)
        if stopper is not None:
            stopper()
        self._thread.join(timeout)
