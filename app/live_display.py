"""Draws the running source: the newest processed frame in the image and 3D views and the angle
plot, at most at the screen's rate, and tells the window's state what was shown.

The worker's `frameAvailable` only says that a frame waits in its one-frame mailbox; the newest
is taken when it is time to draw, so a slow screen never queues frames.
"""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtGui import QGuiApplication

from . import heap
from .angle_plot import AnglePlot
from .image_view import ImageView
from .messages import TrackedFrame
from .people_overlay import marks_from_people
from .view3d import SkeletonView
from .window_state import WindowState
from .window_values import Mode, Source

PLOT_INTERVAL_S = 0.1  # the angle plot redraws at most 10 times a second
GONE_AFTER_S = 0.5  # the person followed unseen this long: their pose leaves the 3D view


class LiveDisplay(QObject):
    def __init__(self, take_latest: Callable[[], TrackedFrame | None], state: WindowState, image_view: ImageView,
                 view3d: SkeletonView, angle_plot: AnglePlot, parent: QObject | None = None):
        super().__init__(parent)
        self._take_latest = take_latest
        self._state = state
        self._image_view = image_view
        self._view3d = view3d
        self._angle_plot = angle_plot
        self.frames_rendered = 0
        self.last_frame: TrackedFrame | None = None
        self._last_render = 0.0
        self._last_plot = 0.0
        self._shown_since_start = False  # a frame of the source now running was drawn
        self._gone_since: float | None = None  # when the person followed was last lost (source time)
        self._heap_settled = False  # again once the engine's libraries are loaded (the first frame)
        screen = QGuiApplication.primaryScreen()
        refresh = screen.refreshRate() if screen else 60.0
        self._min_interval = 1.0 / max(min(refresh or 60.0, 120.0), 20.0)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._draw_latest)

    @Slot()
    def frame_available(self) -> None:
        if self._timer.isActive():
            return
        wait = self._min_interval - (time.perf_counter() - self._last_render)
        if wait > 0:
            self._timer.start(int(wait * 1000) + 1)
        else:
            self._draw_latest()

    @Slot(object)
    def start(self, source: Source) -> None:
        """A new source: the views start over, the image saying what opens."""
        self._view3d.clear_trails()
        self._view3d.clear_pose()
        self._view3d.set_people({}, None, None)
        self._view3d.leave_take()
        self._gone_since = None
        self._image_view.clear("Opening " + source.label + "…")
        self._shown_since_start = False
        self._angle_plot.start_live()

    def ended(self, error: str | None, cancelled: bool) -> None:
        """The source stopped; one that showed no frame leaves no "Opening …" behind in the image."""
        if self._shown_since_start:
            return
        source = self._state.source
        name = source.label if source is not None else "The source"
        self._image_view.clear(f"{name} could not be played: see the message above." if error else
                               f"{name} was stopped before its first frame." if cancelled else
                               f"{name} gave no frames.")

    def resume(self) -> None:
        """Back from a take: the angle plot and the trails follow the source again."""
        self._angle_plot.start_live()
        self._view3d.clear_trails()
        self._view3d.leave_take()

    def stop(self) -> None:
        self._timer.stop()

    def _draw_latest(self) -> None:
        frame = self._take_latest()
        if frame is None or not self._state.source_running:
            return
        self.last_frame = frame
        self._shown_since_start = True
        if not self._heap_settled:
            self._heap_settled = True
            heap.settle(collect=False)
        now = time.perf_counter()
        self._last_render = now
        self.frames_rendered += 1
        pose = frame.pose
        det = pose.detection
        if self._state.mode is not Mode.PLAYBACK:  # a take shown keeps the views; the status still follows
            self._image_view.set_frame(frame.frame.image, None if det is None else det.keypoints_px,
                                       None if det is None else det.scores,
                                       hands_px=None if pose.hands is None else pose.hands.keypoints_px,
                                       face_px=pose.face_px)
            self._image_view.set_people(marks_from_people(frame.people), frame.person_id)
            self._view3d.set_pose(pose.joints_m, pose.skeleton)
            self._forget_the_gone(frame, pose.timestamp_s)
            everyone = {p.id: p.pose.joints_m for p in frame.everyone if p.pose.joints_m is not None}
            self._view3d.set_people(everyone, frame.everyone[0].pose.skeleton if frame.everyone else None,
                                    frame.person_id)
            redraw = now - self._last_plot >= PLOT_INTERVAL_S
            if redraw:
                self._last_plot = now
            self._angle_plot.add_live(pose.timestamp_s, pose.joints_m, pose.skeleton, redraw=redraw, face=pose.face)
        self._state.frame_shown(now, frame.frame.index, pose.timestamp_s, frame.engine_fps, frame.latency_s * 1e3,
                                det is not None, frame.recording, frame.frame_count,
                                followed=frame.person_id, in_view=tuple(p.id for p in frame.people))

    def _forget_the_gone(self, frame: TrackedFrame, t: float) -> None:
        """The person followed out of view for GONE_AFTER_S: their last pose and trails leave the 3D view
        (a pose held longer would stand there frozen, often half collapsed as they walked off)."""
        if frame.pose.joints_m is not None or frame.person_id is None:
            self._gone_since = None
            return
        if self._gone_since is None:
            self._gone_since = t
        elif t - self._gone_since >= GONE_AFTER_S and self._view3d.last_joints_m is not None:
            self._view3d.clear_pose()
            self._view3d.clear_trails()
