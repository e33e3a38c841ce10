"""Live capture from several calibrated cameras: one pose per moment, triangulated as it comes.

    live = LiveCameras([CameraSource(0), CameraSource(1)], read_calibration("rig.toml"), config)
    stats = live.stream(on_frame=show, cancel=flag)

Each camera is read on its own thread keeping only its newest frame (engine/capture/latest_frame.py).
Every step takes the first camera's newest frame and the others' newest (a camera with no new
frame yet lends its last detection while it is under one frame period old); the views are detected
at once on a thread each (the detector's native code runs beside the others'), the person followed
in the first view (the largest) is found in the others (engine/multiview/matching.py), the views
are triangulated (engine/multiview/triangulation.py) and the joints, in the first camera's axes, go
through the one-camera causal temporal stage (engine/motion/live_filters.py). While no other view
sees the person, the first camera's detector 3D, placed by its keypoints, keeps the pose going; a
change between the two glides over a fraction of a second (engine/session/view_handover.py).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from engine.capture.detection import Detection
from engine.capture.frames import Frame, FrameSource
from engine.capture.latest_frame import LatestFrameGrabber
from engine.capture.live_detector import live_detector
from engine.core.errors import NoValidFramesError
from engine.core.keypoint_maps import map_keypoints
from engine.core.skeletons import MONOCAP_BODY
from engine.core.take import Take
from engine.lift.camera import Intrinsics, estimate_root_translation
from engine.motion.live_filters import LiveTemporal
from engine.multiview.cameras import Camera, Rig, check_image_size
from engine.multiview.matching import MATCH_FRACTION, agreement
from engine.multiview.triangulation import FusionHistory, fuse_views
from engine.session.pipeline import CancelFlag, PipelineConfig
from engine.session.view_handover import Handover


@dataclass(frozen=True, eq=False)
class LiveViewsFrame:
    """index: poses made so far; joints_m (22, 3) world metres (monocap_body) or None; views: views
    that saw the person; captured_ns: monotonic time of the oldest frame used; detect_s: the views'
    detection, wall time; frame: the first camera's frame; detections: per view, the person
    followed as that view saw them (None: not seen or not matched)."""

    index: int
    timestamp_s: float
    joints_m: np.ndarray | None
    views: int
    captured_ns: int
    detect_s: float
    frame: Frame | None = None
    detections: tuple = ()
    view_frames: tuple = ()  # per view, the newest frame used (None: none yet)


def _largest(people: list[Detection]) -> Detection | None:
    if not people:
        return None
    return max(people, key=lambda d: float(np.prod(d.box_xyxy[2:] - d.box_xyxy[:2])))


class LiveCameras:
    def __init__(self, sources: list[FrameSource], rig: Rig, config: PipelineConfig = PipelineConfig()):
        if len(sources) != len(rig):
            raise ValueError(f"{len(sources)} cameras but a calibration of {len(rig)}")
        self.sources, self.rig, self.config = sources, rig, config
        self.dropped = [0] * len(sources)
        self.notes: list[str] = []  # for the user: a decoder's crop of a camera's calibrated size
        self._sized: set[int] = set()
        self._history = FusionHistory()  # left/right and limb lengths carried from frame to frame
        self._handover = Handover()  # a change between triangulated and one camera's pose glides

    def stream(self, max_frames: int | None = None, cancel: CancelFlag | None = None,
               on_frame=None) -> int:
        """Poses until the first camera ends, `max_frames` poses or `cancel`; returns the poses made."""
        detectors = [live_detector(self.config.detector) for _ in self.sources]  # before the cameras run
        grabbers = [LatestFrameGrabber(s).start() for s in self.sources]
        temporal = LiveTemporal(MONOCAP_BODY, self.config.smoothing, self.config.live_calibration_s,
                                self.config.root_motion)
        self._history, self._handover = FusionHistory(), Handover()  # each run starts afresh
        last: list[tuple[Frame, list[Detection]] | None] = [None] * len(self.sources)
        made = 0
        try:
            with ThreadPoolExecutor(len(self.sources), thread_name_prefix="monocap-view") as pool:
                while (max_frames is None or made < max_frames) and not (cancel is not None and cancel.is_set()):
                    try:
                        anchor = grabbers[0].take(timeout=0.2)
                    except StopIteration:
                        break
                    if anchor is None:
                        continue
                    frames = [anchor] + [self._newest(g) for g in grabbers[1:]]
                    self._check_sizes(frames)
                    started = time.perf_counter()
                    futures = {v: pool.submit(detectors[v].detect_people, f.image, f.timestamp_ns)
                               for v, f in enumerate(frames) if f is not None}
                    for v, future in futures.items():
                        last[v] = (frames[v], future.result())
                    detect_s = time.perf_counter() - started
                    joints, views, captured, chosen = self._pose(last, anchor, temporal)
                    made += 1
                    self.dropped = [g.dropped for g in grabbers]
                    if on_frame is not None:
                        on_frame(LiveViewsFrame(made, anchor.timestamp_ns / 1e9, joints, views, captured, detect_s,
                                                anchor, tuple(chosen), tuple(None if lv is None else lv[0] for lv in last)))
        finally:
            for g in grabbers:
                g.stop()
            self.dropped = [g.dropped for g in grabbers]
            for d in detectors:
                d.close()
        return made

    def _check_sizes(self, frames: list[Frame | None]) -> None:
        """Each camera's first frame against its calibrated size (InputError, one line, when it differs)."""
        for v, frame in enumerate(frames):
            if frame is not None and v not in self._sized:
                self._sized.add(v)
                size = (frame.image.shape[1], frame.image.shape[0])
                note = check_image_size(self.rig[v], size, getattr(self.sources[v], "name", f"camera {v}"))
                if note:
                    self.notes.append(note)

    @staticmethod
    def _newest(grabber: LatestFrameGrabber) -> Frame | None:
        try:
            return grabber.take(timeout=0.0)
        except StopIteration:
            return None

    def _captured_ns(self, view: int, frame: Frame) -> int:
        origin = getattr(self.sources[view], "clock_origin_ns", None)
        return (origin or 0) + frame.timestamp_ns

    def _pose(self, last, anchor: Frame, temporal: LiveTemporal) -> tuple[np.ndarray | None, int, int, list]:
        v_count = len(self.sources)
        chosen_views: list[Detection | None] = [None] * v_count
        kp = np.full((v_count, 1, 33, 2), np.nan)
        sc = np.zeros((v_count, 1, 33))
        wm = np.full((v_count, 1, 33, 3), np.nan)
        person = _largest(last[0][1]) if last[0] is not None else None
        if person is None:
            return None, 0, self._captured_ns(0, anchor), chosen_views
        anchor_ns = self._captured_ns(0, anchor)
        captured = anchor_ns
        period_ns = 1.5e9 / max(self.sources[0].fps, 1.0)
        for v in range(v_count):
            if last[v] is None:
                continue
            frame, people = last[v]
            when = self._captured_ns(v, frame)
            if v and abs(when - anchor_ns) > period_ns:
                continue
            chosen = person if v == 0 else self._match(v, person, people)
            if chosen is None:
                continue
            chosen_views[v] = chosen
            kp[v, 0], sc[v, 0] = chosen.keypoints_px, chosen.scores
            if chosen.world_m is not None:
                wm[v, 0] = chosen.world_m
            captured = min(captured, when)
        fused = fuse_views(self.rig, kp, sc, wm, history=self._history)
        have = np.isfinite(fused.points_m).all(axis=-1)
        joints = map_keypoints(np.where(have[..., None], fused.points_m, 0.0), MONOCAP_BODY.name)[0]
        lacking = map_keypoints((~have)[..., None].astype(float), MONOCAP_BODY.name)[0, :, 0] != 0
        views = int((sc[:, 0].max(axis=1) > 0).sum())
        if lacking.any():
            alone = self._first_view_alone(person) if views == 1 else None
            if alone is None:
                return None, views, captured, chosen_views
            rel, root = alone
            source = "alone"
        else:
            cam = self.rig[0].to_camera(joints)
            root = cam[MONOCAP_BODY.parents.index(-1)]
            rel = cam - root
            source = "views"
        when_s = anchor.timestamp_ns / 1e9
        rel, root = self._handover(rel, root, source, when_s)
        return temporal.push(rel, root, when_s), views, captured, chosen_views

    def _first_view_alone(self, person: Detection) -> tuple[np.ndarray, np.ndarray] | None:
        """While no other view sees the person (a camera covered, or looking elsewhere): the first
        camera's own pose, so the pose goes on (with one camera's depth) until the views agree again."""
        return camera_own_pose(self.rig[0], person)

    def _match(self, v: int, person: Detection, people: list[Detection]) -> Detection | None:
        if not people:
            return None
        rig2 = Rig((self.rig[0], self.rig[v]))
        scores = [agreement(rig2, person.keypoints_px[None], person.scores[None], d.keypoints_px[None], d.scores[None])[0]
                  for d in people]
        best = int(np.argmin(scores))
        return people[best] if scores[best] <= MATCH_FRACTION else None


def camera_own_pose(camera: Camera, person: Detection) -> tuple[np.ndarray, np.ndarray] | None:
    """One camera's own 3D of the person, its detector's, placed where its keypoints put it through
    the calibrated lens, in that camera's axes -> (root-relative joints, root) of monocap_body, or None."""
    if person.world_m is None:
        return None
    root_index = MONOCAP_BODY.parents.index(-1)
    rel = map_keypoints(person.world_m[None], MONOCAP_BODY.name)[0]
    rel = rel - rel[root_index]
    normalised = map_keypoints(camera.normalise(person.keypoints_px)[None], MONOCAP_BODY.name)[0]
    weights = map_keypoints(person.scores[None, :, None], MONOCAP_BODY.name)[0, :, 0]
    root = estimate_root_translation(rel, normalised, weights, Intrinsics(1.0, 1.0, 0.0, 0.0))
    return None if root is None else (rel, root)


def take_from_live(frames: list[LiveViewsFrame], rig: Rig, fps: float, config: PipelineConfig) -> Take:
    """The poses a LiveCameras run made, as a take (the causal stage's joints, as recorded live)."""
    from engine import __version__

    if not frames:
        raise NoValidFramesError("no frame was captured from the cameras")
    joints = np.stack([f.joints_m if f.joints_m is not None else np.full((MONOCAP_BODY.num_joints, 3), np.nan)
                       for f in frames])
    valid = np.isfinite(joints).all(axis=(1, 2))
    times = np.array([f.timestamp_s for f in frames]) - frames[0].timestamp_s
    rate = (len(frames) - 1) / times[-1] if len(frames) > 1 and times[-1] > 0 else fps
    return Take(joints_m=joints, skeleton=MONOCAP_BODY, fps=float(rate), timestamps_s=times, valid=valid,
                metadata={"monocap_version": __version__, "source": " + ".join(rig.names), "config": config.to_dict(),
                          "temporal": "live causal", "three_d": "triangulated from calibrated cameras, live",
                          "cameras": list(rig.names), "frames": len(frames), "valid_frames": int(valid.sum())})
