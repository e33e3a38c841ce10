"""The live tracking stage on its own thread, so that a frame's tracking (lifting, filters, and
whatever the caller does with the pose) overlaps the next frame's detection.

The detector keeps about one core busy; the lifter's network and the filters then run on another
instead of after it, and live capture in the lifter mode keeps the detector's own frame rate
(docs/RESULTS.md). Frames are tracked in the order they are submitted, by one thread, so the
tracker's causal state sees them exactly as it would sequentially.

    with TrackingStage(tracker, on_pose) as stage:
        for frame in frames:
            stage.submit(frame, detector.detect(frame.image, frame.timestamp_ns))

`on_pose(frame, detection, pose, detected)` runs on the stage's thread. An exception there (or in the tracker) stops the
stage and is raised again by the next `submit` or by `close`. `InlineStage` has the same calls and
tracks each frame in `submit` itself (for measurements that want the two steps apart).
"""

from __future__ import annotations

import queue
import threading
from typing import Callable

from engine.capture.detection import Detection
from engine.capture.face import FaceTracker
from engine.capture.frames import Frame
from engine.capture.hands import HandTracker
from engine.session.events import DetectedFrame
from engine.session.pipeline import LiveTracker, PoseFrame

_STOP = object()
OnPose = Callable[[Frame, Detection | None, PoseFrame, DetectedFrame | None], None]


def _hand_tracker(tracker: LiveTracker) -> HandTracker | None:
    hand = tracker.config.hand
    return HandTracker(hand, alternate=hand.live_alternate) if tracker.config.hands else None


def _face_tracker(tracker: LiveTracker) -> FaceTracker | None:
    return FaceTracker(tracker.config.face_tracking) if tracker.config.face else None


def _close_trackers(stage: "TrackingStage | InlineStage") -> None:
    for tracker in (stage._hands, stage._face):
        if tracker is not None:
            tracker.close()


def _track(stage: "TrackingStage | InlineStage", frame: Frame, detection: Detection | None,
           detected: DetectedFrame | None,
           restart: bool) -> None:
    """One frame through a stage: hands, the face, the tracker, then on_pose."""
    if restart:
        stage.tracker.restart()
    image = frame.image if stage._needs_images else None
    hands = None if stage._hands is None else stage._hands.track(frame.image, detection, frame.timestamp_ns)
    face = None if stage._face is None else stage._face.track(frame.image, detection, frame.timestamp_ns)
    pose = stage.tracker.push(frame.index, frame.timestamp_ns / 1e9, detection, image, hands, face)
    stage._on_pose(frame, detection, pose, detected)


class TrackingStage:
    def __init__(self, tracker: LiveTracker, on_pose: OnPose,
                 depth: int = 2):
        """depth: frames that may wait for tracking before `submit` blocks (the detector then waits)."""
        self.tracker = tracker
        self._on_pose = on_pose
        self._needs_images = tracker.lifter.needs_images
        # with hands on, the hands are tracked here too, beside the next frame's body detection
        self._hands = _hand_tracker(tracker)
        self._face = _face_tracker(tracker)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._failed = False
        self._thread = threading.Thread(target=self._run, name="monocap-tracking", daemon=True)
        self._thread.start()
        self._closed = False

    def submit(self, frame: Frame, detection: Detection | None, detected: DetectedFrame | None = None,
               restart: bool = False) -> None:
        """Queues one detected frame; `detected` is handed on to `on_pose` with it. restart: the
        tracker starts over (`LiveTracker.restart`) before this frame, e.g. for another person."""
        self._raise_error()
        if self._closed:
            raise RuntimeError("the tracking stage is closed")
        while True:
            try:
                self._queue.put((frame, detection, detected, restart), timeout=0.1)
                return
            except queue.Full:
                self._raise_error()

    def close(self) -> None:
        """Tracks what is queued, stops the thread and raises the stage's error, if any."""
        if not self._closed:
            self._closed = True
            while self._thread.is_alive():
                try:
                    self._queue.put(_STOP, timeout=0.1)
                    break
                except queue.Full:
                    continue
            self._thread.join()
            _close_trackers(self)
        self._raise_error()

    def __enter__(self) -> "TrackingStage":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.close()
        except Exception:
            if exc_type is None:  # otherwise the caller's error wins
                raise

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is _STOP:
                return
            if self._failed:
                continue  # drain what is queued without tracking it
            try:
                _track(self, *entry)
            except BaseException as exc:  # noqa: BLE001 - handed to the submitting thread
                self._failed = True
                self._error = exc


class InlineStage:
    """TrackingStage's calls without the thread: `submit` tracks the frame before it returns."""

    def __init__(self, tracker: LiveTracker, on_pose: OnPose):
        self.tracker = tracker
        self._on_pose = on_pose
        self._needs_images = tracker.lifter.needs_images
        self._hands = _hand_tracker(tracker)
        self._face = _face_tracker(tracker)

    def submit(self, frame: Frame, detection: Detection | None, detected: DetectedFrame | None = None,
               restart: bool = False) -> None:
        _track(self, frame, detection, detected, restart)

    def close(self) -> None:
        _close_trackers(self)

    def __enter__(self) -> "InlineStage":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()
