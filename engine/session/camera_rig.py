"""Several calibrated cameras run live as one engine session, for a front end.

    rig = CameraRigSession([RigView("camera", 0), RigView("file", path="cam03.mp4")], "rig.toml",
                           config, SessionEvents(opened=..., pose=..., ended=...), takes_dir="takes")
    rig.set_recording(True)          # any thread: the next poses go into a crash-safe take
    end = rig.stream()               # until the first camera ends or the session is cancelled

The cameras run through `multi_camera_live.LiveCameras` (a detector per view, the person matched
across views, triangulated, the causal temporal stage); a video file stands in for a webcam,
played at its own rate. Each fused pose is reported as one `events.TrackedFrame` (the cameras'
images side by side, the first as it is with its view of the person, the fused joints, the fused
rate and the latency from capture to pose), so the views, the status bar, streams and recordings take it as they take one
camera's. Recording writes the same crash-safe take (session/recorder.py): the fused joints, the
first camera's keypoints and images, and every view's person beside it, from which a front end redoes
the take offline once it is saved (session/views_redo.py). Like `Session.stream` it never raises: a problem (no
calibration, a camera whose size does not match its calibration) ends it with a one-line error.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.capture.frames import CameraSource, Frame, FrameSource, VideoFileSource
from engine.capture.paced_source import PacedSource
from engine.core.errors import InputError
from engine.core.native_memory import release_free_memory
from engine.core.skeletons import KEYPOINT_SCORE_MIN, MEDIAPIPE_33, MONOCAP_BODY
from engine.lift.device import describe_device
from engine.multiview.calibration_files import read_calibration
from engine.multiview.cameras import Rig, check_image_size
from engine.session.events import PoseSink, RecordingState, SessionEnd, SessionEvents, SessionInfo, TakeSaved, TrackedFrame
from engine.session.multi_camera import FPS_TOLERANCE, assign_cameras
from engine.session.multi_camera_live import LiveCameras, LiveViewsFrame
from engine.session.pipeline import CancelFlag, PipelineConfig, PoseFrame
from engine.session.recorder import TakeRecorder, next_take_name
from engine.session.views_redo import ViewsRecorder

MIN_VIEWS = 2
UNSEEN_S = 3.0  # a camera that has not seen the person this long is named to the user


@dataclass(frozen=True)
class RigView:
    """One camera of a rig: a connected camera (kind "camera", its OpenCV index) or a video file
    standing in for one (kind "file", played at its own rate)."""

    kind: str
    camera_index: int = 0
    path: str = ""

    @property
    def label(self) -> str:
        return Path(self.path).name if self.kind == "file" else f"camera {self.camera_index}"


def rig_for_views(views: list[RigView], calibration: str | Path) -> Rig:
    """The calibration's camera for each view: video files by name when every file names one
    camera (cam01.mp4 -> cam01), else in order. InputError (one line) when there is no calibration,
    fewer than two views, or more views than calibrated cameras."""
    if len(views) < MIN_VIEWS:
        raise InputError(f"several cameras: pick at least {MIN_VIEWS} cameras or video files ({len(views)} given)")
    if not str(calibration):
        raise InputError("several cameras need a calibration file (monocap calibrate makes one, or give "
                         "Qualisys, Pose2Sim, anipose, FreeMoCap or EasyMocap's)")
    rig = read_calibration(calibration)
    if len(views) > len(rig):
        raise InputError(f"{len(views)} cameras but the calibration {Path(calibration).name} has {len(rig)} "
                         f"({', '.join(rig.names)})")
    if all(v.kind == "file" for v in views):
        return Rig(tuple(assign_cameras([Path(v.path) for v in views], rig)))
    return Rig(tuple(rig.cameras[: len(views)]))


class CameraRigSession:
    def __init__(self, views: list[RigView], calibration: str | Path, config: PipelineConfig = PipelineConfig(),
                 events: SessionEvents | None = None, *, cancel: CancelFlag | None = None, takes_dir: str | Path = ""):
        self.views = list(views)
        self.calibration = calibration
        self.config = config
        self.events = events or SessionEvents()
        self.takes_dir = Path(takes_dir) if takes_dir else None
        self.name = " + ".join(v.label for v in self.views)
        self.live: LiveCameras | None = None
        self._outside_cancel = cancel
        self._cancelled = threading.Event()
        self._record_wanted = False
        self._sinks: list[PoseSink] = []

    # ---- any thread ----
    def cancel(self) -> None:
        self._cancelled.set()

    def is_set(self) -> bool:
        return self._cancelled.is_set() or (self._outside_cancel is not None and self._outside_cancel.is_set())

    def set_recording(self, on: bool) -> None:
        self._record_wanted = on

    def choose_person(self, person_id: int) -> None:
        """Several cameras follow the largest person in the first camera's view (no choosing, for now)."""

    def add_sink(self, sink: PoseSink) -> None:
        """Before `stream`: `sink.on_pose` gets every fused frame, `sink.close` the end."""
        self._sinks.append(sink)

    # ---- the thread that runs it ----
    def stream(self, max_frames: int | None = None) -> SessionEnd:
        sources: list[FrameSource] = []
        error: BaseException | None = None
        made = 0
        recording = _RigRecording(self)
        try:
            rig = rig_for_views(self.views, self.calibration)
            notes = []
            for view, camera in zip(self.views, rig.cameras):
                source = self._open(view, camera.image_size)
                sources.append(source)
                size = getattr(getattr(source, "source", source), "image_size", None)
                note = check_image_size(camera, size, view.label) if size is not None else None
                notes += [note] if note else []
            _same_rate(self.views, sources)
            rig_name = " + ".join(v.label for v in self.views) + f" (calibrated as {', '.join(rig.names)})"
            self.name = rig_name
            info = SessionInfo(rig_name, sources[0].fps, None, True, describe_device(self.config.lift.device),
                               tuple(notes))
            self._emit(self.events.opened, info)
            unseen = _Unseen(self.views)
            self.live = LiveCameras(sources, rig, self.config)
            rate = _Rate()
            recording.rig, recording.fps = rig, sources[0].fps

            def on_frame(fused: LiveViewsFrame) -> None:
                now_ns = time.monotonic_ns()
                det = fused.detections[0] if fused.detections else None
                pose = PoseFrame(fused.index - 1, fused.timestamp_s, det, fused.joints_m, MONOCAP_BODY)
                said = unseen.update(fused)
                if said:  # reported as the source's notes again: the front end shows them
                    self._emit(self.events.opened, replace(info, notes=tuple(notes) + (said,)))
                on = recording.update(fused, pose)
                shown = Frame(fused.frame.index, fused.frame.timestamp_ns, side_by_side(fused))
                tracked = TrackedFrame(shown, pose, fused.detect_s, 0.0, max(now_ns - fused.captured_ns, 0) / 1e9,
                                       rate.tick(now_ns / 1e9), sum(self.live.dropped), on, captured_ns=fused.captured_ns)
                for sink in self._sinks:
                    sink.on_pose(tracked)
                self._emit(self.events.pose, tracked)

            made = self.live.stream(max_frames=max_frames, cancel=self, on_frame=on_frame)
        except Exception as exc:  # noqa: BLE001 - a stream ends with a report, never a crash
            error = exc
        finally:
            for source in sources:
                try:
                    source.close()
                except Exception:  # noqa: BLE001 - the run's own outcome is what gets reported
                    pass
            error = _first(error, recording.close)
            for sink in self._sinks:
                error = _first(error, sink.close)
            self._record_wanted = False
        release_free_memory()
        if error is not None:
            self._emit(self.events.error, error)
        end = SessionEnd(self.name, made, error, self.is_set())
        self._emit(self.events.ended, end)
        return end

    @staticmethod
    def _open(view: RigView, size: tuple[int, int]) -> FrameSource:
        if view.kind == "camera":  # asked for the size it was calibrated at
            return CameraSource(view.camera_index, *size)
        return PacedSource(VideoFileSource(view.path))  # a file films as a webcam would: at its own rate

    @staticmethod
    def _emit(event, value) -> None:
        if event is not None:
            event(value)


def side_by_side(fused: LiveViewsFrame) -> np.ndarray:
    """(H, W, 3) uint8 BGR: the first camera's image as it is (its keypoints stay where they are),
    the others beside it, scaled to its height, each with the person as it saw them drawn in
    (a camera that does not see them shows none), so that each camera can be aimed."""
    import cv2

    first = fused.frame.image
    h = first.shape[0]
    tiles = [first]
    for v, frame in enumerate(fused.view_frames[1:], start=1):
        if frame is None:
            continue
        scale = h / frame.image.shape[0]
        tile = cv2.resize(frame.image, (round(frame.image.shape[1] * scale), h), interpolation=cv2.INTER_AREA)
        det = fused.detections[v] if v < len(fused.detections) else None
        if det is not None:
            ok = det.scores > KEYPOINT_SCORE_MIN
            points = np.round(det.keypoints_px * scale).astype(int)
            for a, b in MEDIAPIPE_33.edges:
                if ok[a] and ok[b]:
                    cv2.line(tile, tuple(points[a]), tuple(points[b]), (60, 220, 255), 2, cv2.LINE_AA)
        tiles.append(tile)
    return first if len(tiles) == 1 else np.hstack(tiles)


def _same_rate(views: list[RigView], sources: list[FrameSource]) -> None:
    """InputError (one line) when a camera's frame rate is not the first camera's: their frames are
    grouped by capture time, one pose per frame of the first."""
    first = sources[0].fps
    for view, source in zip(views[1:], sources[1:]):
        if abs(source.fps - first) > FPS_TOLERANCE * first:
            raise InputError(f"{view.label} runs at {source.fps:g} fps and {views[0].label} at {first:g} fps: "
                             "set every camera to one frame rate")


def _first(error: BaseException | None, close) -> BaseException | None:
    try:
        close()
    except Exception as exc:  # noqa: BLE001
        return error or exc
    return error


class _Unseen:
    """Says (once, until it sees them again) when a camera has not seen the person the first camera
    sees for UNSEEN_S seconds; the other views go on without it."""

    def __init__(self, views: list[RigView]):
        self._views = views
        self._last: list[float | None] = [None] * len(views)
        self._said: set[int] = set()

    def update(self, fused: LiveViewsFrame) -> str:
        seen = [d is not None for d in fused.detections]
        if not seen or not seen[0]:
            return ""
        t = fused.timestamp_s
        missing = []
        for v in range(1, len(self._views)):
            if seen[v]:
                self._last[v] = t
                self._said.discard(v)
            elif self._last[v] is None:  # counted from the first moment the first camera sees the person
                self._last[v] = t
            elif t - self._last[v] >= UNSEEN_S and v not in self._said:
                missing.append(v)
        if not missing:
            return ""
        self._said.update(missing)
        names = ", ".join(self._views[v].label for v in missing)
        alone = all(not seen[v] for v in range(1, len(self._views)))
        rest = f"{self._views[0].label} alone, with one camera's depth" if alone else "the other cameras"
        return f"{names} has not seen the person for {UNSEEN_S:g} s (aimed elsewhere, or covered?): poses from {rest}"


class _Rate:
    """Poses made per second over the recent ones (the fused rate)."""

    def __init__(self, recent: int = 30):
        self._times: deque[float] = deque(maxlen=recent)

    def tick(self, now_s: float) -> float:
        t = self._times
        t.append(now_s)
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0.0


class _RigRecording:
    """The crash-safe take of the fused poses, opened and closed as the session's flag asks."""

    def __init__(self, session: CameraRigSession):
        self._session = session
        self.rig: Rig | None = None
        self.fps = 0.0
        self._recorder: TakeRecorder | None = None
        self._views: ViewsRecorder | None = None  # every view's person, for the offline redo (session/views_redo.py)

    def update(self, fused: LiveViewsFrame, pose: PoseFrame) -> bool:
        s = self._session
        if s._record_wanted and self._recorder is None:
            self._start()
        if self._recorder is not None and not s._record_wanted:
            self._finish()
        if self._recorder is None:
            return False
        det = pose.detection
        self._recorder.append(pose.timestamp_s, pose.joints_m, None if det is None else det.keypoints_px,
                              None if det is None else det.scores, None if fused.frame is None else fused.frame.image)
        self._views.append(fused.detections)
        return True

    def close(self) -> None:
        if self._recorder is not None:
            self._finish()

    def _start(self) -> None:
        s = self._session
        if s.takes_dir is None:
            raise ValueError("recording needs a takes folder (CameraRigSession(takes_dir=...))")
        s.takes_dir.mkdir(parents=True, exist_ok=True)
        meta = {"config": s.config.to_dict(), "cameras": list(self.rig.names),
                "three_d": "triangulated from calibrated cameras, live", "calibration": Path(s.calibration).name}
        self._recorder = TakeRecorder(s.takes_dir, next_take_name(s.takes_dir), MONOCAP_BODY, self.fps, s.name,
                                      metadata=meta)
        self._views = ViewsRecorder(s.takes_dir, self._recorder.name, self.rig)
        s._emit(s.events.recording, RecordingState(True, self._recorder.name, 0))

    def _close_views(self) -> None:
        views, self._views = self._views, None
        if views is not None:
            try:
                views.close()
            except OSError:  # the redo reads what was written, or says why it cannot
                pass

    def _finish(self) -> None:
        recorder, self._recorder = self._recorder, None
        self._close_views()  # whole before the take is saved: a front end redoes it from them
        try:
            take, path = recorder.finish()
        except Exception:
            recorder.abort()  # what was written stays recoverable
            raise
        s = self._session
        s._emit(s.events.recording, RecordingState(False, recorder.name, take.num_frames))
        s._emit(s.events.take_saved, TakeSaved(recorder.name, path, take, recorder.video_path))
