"""The stages of a frame's flow: source -> detector -> 3D mode -> root -> temporal stage -> Take.

`detect_source` + `take_from_track` are the two passes over a file (every frame in order, then
the zero-lag temporal stage over the whole clip, engine/motion/temporal.py); `LiveTracker` runs
one frame at a time through the causal one (engine/motion/live_filters.py).
engine.session.session.Session drives them.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Protocol

import numpy as np

from engine import __version__
from engine.capture.detection import Detection
from engine.capture.detector import DetectorConfig, PoseDetector
from engine.capture.face import FaceConfig, FaceObservation, FaceTracker
from engine.capture.frames import FrameSource
from engine.capture.hands import HandsConfig, HandsFrame, HandTracker
from engine.capture.lock_on import LockOn
from engine.capture.people import PeopleConfig, PeopleTracker
from engine.capture.people_tracks import PeopleTracks
from engine.capture.track import DetectionTrack, HandTrack
from engine.core.coords import CAMERA_TO_WORLD
from engine.core.errors import InputError, NoValidFramesError
from engine.core.keypoint_maps import MAPS, map_keypoints, map_scores
from engine.core.skeletons import MEDIAPIPE_33, MONOCAP_BODY, MONOCAP_HANDS, Skeleton
from engine.core.take import Take
from engine.lift.camera import DEFAULT_FOV_DEG, Intrinsics, estimate_root_translation
from engine.lift.modes import LiftConfig, Lifter, make_lifter
from engine.motion.face_expressions import FACE_CURVES, FaceExpressions
from engine.motion.face_head import FaceHead
from engine.motion.fingers import LiveFingers, offline_fingers
from engine.motion.live_filters import LiveTemporal
from engine.motion.smoothing import SmoothingConfig
from engine.motion.temporal import offline_temporal


@dataclass(frozen=True)
class PipelineConfig:
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    lift: LiftConfig = field(default_factory=LiftConfig)
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    fov_deg: float = DEFAULT_FOV_DEG  # assumed horizontal field of view of the camera
    root_motion: bool = True  # False: the subject stays over the origin
    live_calibration_s: float = 3.0  # live: bone lengths and the floor come from the first seconds
    hands: bool = False  # track the fingers too (the monocap_hands skeleton; docs/HANDS.md)
    hand: HandsConfig = field(default_factory=HandsConfig)
    face: bool = False  # track the face too: expressions and the head (docs/FACE.md)
    face_tracking: FaceConfig = field(default_factory=FaceConfig)

    def __post_init__(self) -> None:
        if self.hands and self.lift.skeleton != MONOCAP_BODY.name:
            raise InputError(f"hands need the {MONOCAP_BODY.name} skeleton, not {self.lift.skeleton}")
    people: PeopleConfig = field(default_factory=PeopleConfig)
    person: int = 0  # whom a one-person take follows: 0 the lock-on rule (engine/capture/lock_on.py), n person n

    def to_dict(self) -> dict:
        return asdict(self)


class Progress(Protocol):
    def __call__(self, done: int, total: int | None) -> None: ...


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


class Cancelled(Exception):
    """Raised when processing was cancelled; the partial result is attached."""

    def __init__(self, partial: PeopleTracks):
        super().__init__("cancelled")
        self.partial = partial


def detect_people_source(source: FrameSource, detector: PoseDetector, progress: Progress | None = None,
                         cancel: CancelFlag | None = None, on_frame: Callable | None = None,
                         people: PeopleConfig = PeopleConfig(),
                         hand_tracker: HandTracker | None = None,
                         face_tracker: FaceTracker | None = None) -> PeopleTracks:
    """Runs the detector and the people tracker over every frame of `source`. Memory holds
    keypoints only, never images.

    on_frame(row, frame, tracked_people) runs after each frame. With a hand tracker, the hands of
    the person a causal lock-on follows (engine.capture.lock_on.LockOn, the live rule) are tracked
    on a second thread while the next frame's people are detected; that person's track then
    holds them (`PeopleTracks.hands_person`). A face tracker, likewise: that person's track then
    holds the face's values (`DetectionTrack.face_curves`, the live pass's causal values)."""
    tracker = PeopleTracker(people)
    tracks = PeopleTracks()
    total = source.frame_count
    hands = HandTrack() if hand_tracker is not None else None
    face = _FacePass() if face_tracker is not None else None
    lock = LockOn()
    pending: Future | None = None
    beside = hand_tracker is not None or face_tracker is not None
    with ThreadPoolExecutor(1, thread_name_prefix="monocap-hands") if beside else nullcontext() as pool:
        try:
            for frame in source:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(tracks)
                t = frame.timestamp_ns / 1e9
                found = tracker.update(t, detector.detect_people(frame.image, frame.timestamp_ns), frame.image)
                if pending is not None:
                    _keep(pending.result(), hands, face)
                    pending = None
                tracks.append(t, found, (frame.image.shape[1], frame.image.shape[0]))
                for newcomer, person in tracker.take_merges():
                    tracks.merge(newcomer, person)
                if beside:
                    pending = pool.submit(_track_beside, hand_tracker, face_tracker, frame, lock.pick(found))
                if on_frame is not None:
                    on_frame(len(tracks) - 1, frame, found)
                if progress is not None:
                    progress(len(tracks), total)
        except KeyboardInterrupt:
            if not source.is_live:
                raise
        finally:
            if pending is not None:
                _keep(pending.result() if not pending.exception() else (HandsFrame.empty(), None), hands, face)
    for later, earlier in tracker.pieces():  # one person seen in pieces (PeopleTracker.pieces): one track
        tracks.merge(later, earlier)
    if hands is not None and lock.person_id is not None:
        tracks.set_hands(lock.person_id, hands)
    if face is not None and lock.person_id is not None:
        tracks.track(lock.person_id).face_curves = face.curves()
    return tracks


class _FacePass:
    """The face's values over a file, frame by frame (the live pass's causal values)."""

    def __init__(self):
        self._face = FaceExpressions()
        self._rows: list[np.ndarray] = []

    def append(self, observation: FaceObservation | None, timestamp_s: float) -> None:
        seen = observation is not None and observation.found
        values = self._face.push(observation.landmarks_px if seen else None, timestamp_s)
        self._rows.append(values.astype(np.float32) if values is not None
                          else np.full(len(FACE_CURVES), np.nan, np.float32))

    def curves(self) -> np.ndarray:
        return np.array(self._rows, dtype=np.float32).reshape(len(self._rows), len(FACE_CURVES))


def _track_beside(hand_tracker: HandTracker | None, face_tracker: FaceTracker | None, frame, detection):
    """The hands and the face of one frame's followed person (on the second thread)."""
    hands = hand_tracker.track(frame.image, detection, frame.timestamp_ns) if hand_tracker is not None else None
    face = face_tracker.track(frame.image, detection, frame.timestamp_ns) if face_tracker is not None else None
    return hands, (face, frame.timestamp_ns / 1e9)


def _keep(result, hands: HandTrack | None, face: _FacePass | None) -> None:
    hand_frame, (observation, t) = result[0], result[1] if result[1] is not None else (None, 0.0)
    if hands is not None:
        hands.append(hand_frame if hand_frame is not None else HandsFrame.empty())
    if face is not None:
        face.append(observation, t)


def detect_source(source: FrameSource, detector: PoseDetector, progress: Progress | None = None,
                  cancel: CancelFlag | None = None, people: PeopleConfig = PeopleConfig(),
                  hand_tracker: HandTracker | None = None) -> DetectionTrack:
    """The detections of the person the lock-on rule (engine/capture/lock_on.py) picks over `source`."""
    tracks = detect_people_source(source, detector, progress, cancel, people=people, hand_tracker=hand_tracker)
    chosen = tracks.chosen(people.min_frames(source.fps))
    return tracks.track(chosen if chosen is not None else -1)


def root_positions_cam(rel_cam: np.ndarray, track: DetectionTrack, skeleton: Skeleton, fov_deg: float) -> np.ndarray:
    """(T, 3) camera-frame root positions, NaN where they cannot be estimated."""
    t = len(track)
    out = np.full((t, 3), np.nan)
    if track.image_size is None or skeleton.name not in MAPS:
        return out
    intrinsics = Intrinsics.from_fov(track.image_size, fov_deg)
    kp = map_keypoints(track.keypoints_px.astype(np.float64), skeleton.name)
    sc = map_scores(track.scores.astype(np.float64), skeleton.name)
    for i in np.flatnonzero(track.valid & np.isfinite(rel_cam).all(axis=(1, 2))):
        root = estimate_root_translation(rel_cam[i], kp[i], sc[i], intrinsics)
        if root is not None:
            out[i] = root
    return out


def take_from_track(track: DetectionTrack, fps: float, config: PipelineConfig, lifter: Lifter | None = None,
                    source_name: str = "", rel_cam: np.ndarray | None = None,
                    origin_m: np.ndarray | None = None) -> Take:
    """The offline stage: lifts, places and filters a whole track into a Take.

    rel_cam: (T, J, 3) root-relative joints already lifted frame by frame (image modes), or None.
    origin_m: (3,) the world origin in levelled camera-world axes (only x and z are used), e.g.
    another person's take's metadata["origin_m"]; None: under this subject's first second.
    """
    if len(track) == 0:
        raise InputError(f"{source_name or 'source'}: no frames were read")
    if not track.valid.any():
        raise NoValidFramesError(f"{source_name or 'source'}: nobody was found in any of its {len(track)} frames")
    lifter = lifter or make_lifter(config.lift)
    skeleton = lifter.skeleton
    if rel_cam is None:
        rel_cam = lifter.lift(track.detections(), causal=False)
    valid = track.valid & np.isfinite(rel_cam).all(axis=(1, 2))
    root_cam = root_positions_cam(rel_cam, track, skeleton, config.fov_deg)
    joints, info = offline_temporal(rel_cam, root_cam, valid, fps, skeleton, config.smoothing,
                                   config.root_motion, origin_m)
    hand_keypoints = None
    if track.hands is not None and skeleton.name == MONOCAP_BODY.name:
        found = track.hands.found & valid[:, None]
        to_world = np.array(info["level_rotation"]) @ CAMERA_TO_WORLD
        joints, finger_info = offline_fingers(joints, track.hands.world_m.astype(np.float64), found, to_world,
                                              fps, config.smoothing)
        joints[~valid] = np.nan
        skeleton = MONOCAP_HANDS
        info |= finger_info
        hand_keypoints = np.where(found[:, :, None, None], track.hands.keypoints_px, np.nan).astype(np.float64)
    face_curves = None
    if track.face_curves is not None:
        face_curves = np.where(valid[:, None], track.face_curves, np.nan).astype(np.float64)
        head = FaceHead(skeleton)
        for i in np.flatnonzero(np.isfinite(face_curves).all(axis=1)):
            joints[i] = head.apply(joints[i], face_curves[i])
    metadata = {
        "monocap_version": __version__,
        "source": source_name,
        "config": config.to_dict(),
        "temporal": "offline zero-phase",
        "frames": len(track),
        "valid_frames": int(valid.sum()),
        **info,
    }
    return Take(
        joints_m=joints,
        skeleton=skeleton,
        fps=fps,
        timestamps_s=track.timestamps_s.copy(),
        valid=valid,
        keypoints_px=track.keypoints_px.astype(np.float64),
        keypoint_scores=np.where(track.valid[:, None], track.scores, 0.0).astype(np.float64),
        keypoint_skeleton=MEDIAPIPE_33,
        image_size=track.image_size,
        metadata=metadata,
        hand_keypoints_px=hand_keypoints,
        face_curves=face_curves,
        face_curve_names=FACE_CURVES if face_curves is not None else (),
    )


def bgr_to_rgb(image_bgr: np.ndarray) -> np.ndarray:
    """A frame as sources give it (BGR) -> as image 3D modes take it (RGB)."""
    import cv2

    return cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True, eq=False)
class PoseFrame:
    """One frame's result. joints_m: (J, 3) world metres (causal temporal stage), None if nobody.
    hands: both hands' keypoints when hands are tracked (then the skeleton is MONOCAP_HANDS).
    face: the face's values (engine.motion.face_expressions.FACE_CURVES) when the face is tracked:
    all NaN in a frame it is not seen, None when it is not tracked; face_px: (478, 3) its
    landmarks in the image when seen, else None."""

    index: int
    timestamp_s: float
    detection: Detection | None
    joints_m: np.ndarray | None
    skeleton: Skeleton
    hands: HandsFrame | None = None
    face: np.ndarray | None = None
    face_px: np.ndarray | None = None


class LiveTracker:
    """The causal stage for live sources: one `push` per frame, no look-ahead; the lifter's live
    state, the root, then the temporal filters (engine.motion.live_filters.LiveTemporal: bone
    lengths, the level rotation and the floor from the first `config.live_calibration_s` seconds
    with someone in view, then held) and the fingers when hands are on.
    """

    def __init__(self, config: PipelineConfig = PipelineConfig(), lifter: Lifter | None = None):
        self.config = config
        self.lifter = lifter or make_lifter(config.lift)
        self.skeleton = self.lifter.skeleton
        self._body = self.skeleton  # what the lifter gives; the output adds fingers when hands are on
        self._temporal = LiveTemporal(self._body, config.smoothing, config.live_calibration_s, config.root_motion)
        self._live = self.lifter.start_live()
        self.last_push_s = 0.0  # seconds the last `push` took
        self._last_root: np.ndarray | None = None
        self._fingers = LiveFingers(config.smoothing) if config.hands else None
        if self._fingers is not None:
            self.skeleton = MONOCAP_HANDS
        self._face = FaceExpressions() if config.face else None
        self._face_head = FaceHead(self._body)

    def restart(self) -> None:
        """Forgets the subject (filters, bone lengths, floor, origin, the lifter's live state), for
        when the person followed changes."""
        self.__init__(self.config, self.lifter)

    @property
    def calibrated(self) -> bool:
        return self._temporal.calibrated

    @property
    def origin_m(self) -> np.ndarray | None:
        """(3,) where this tracker's world origin lies in its levelled camera frame (None before
        the subject was first seen); x and z are taken off every pose."""
        return self._temporal.origin_m

    def push(self, index: int, timestamp_s: float, detection: Detection | None,
             image_bgr: np.ndarray | None = None, hands: HandsFrame | None = None,
             face: FaceObservation | None = None) -> PoseFrame:
        """image_bgr is needed only by 3D modes that `needs_images`; hands (engine.capture.hands.
        HandTracker's, for the same frame) when the config tracks hands; face (engine.capture.face.
        FaceTracker's) when it tracks the face."""
        started = time.perf_counter()
        try:
            pose = self._push(index, timestamp_s, detection, image_bgr, hands)
            return self._with_face(pose, face) if self._face is not None else pose
        finally:
            self.last_push_s = time.perf_counter() - started

    def _push(self, index: int, timestamp_s: float, detection: Detection | None,
              image_bgr: np.ndarray | None, hands: HandsFrame | None = None) -> PoseFrame:
        if detection is None:
            self._live.push(None)
            return PoseFrame(index, timestamp_s, None, None, self.skeleton, hands)
        if self.lifter.needs_images:
            if image_bgr is None:
                raise ValueError(f"3D mode {self.config.lift.mode!r} needs the frame's image")
            rel_cam = self._live.push(detection, bgr_to_rgb(image_bgr))
        else:
            rel_cam = self._live.push(detection)
        if not np.isfinite(rel_cam).all():
            return PoseFrame(index, timestamp_s, detection, None, self.skeleton, hands)
        confidence = map_scores(detection.scores, self._body.name) if self._body.name in MAPS else None
        joints = self._temporal.push(rel_cam, self._root(rel_cam, detection), timestamp_s, confidence)
        if self._fingers is not None:
            hands = hands if hands is not None else HandsFrame.empty()
            joints = self._fingers.push(joints, hands.world_m, hands.found, self._temporal.level @ CAMERA_TO_WORLD,
                                        timestamp_s)
        return PoseFrame(index, timestamp_s, detection, joints, self.skeleton, hands)

    def _with_face(self, pose: PoseFrame, face: FaceObservation | None) -> PoseFrame:
        """The face's values on the pose, and the head and neck turned as the face is."""
        seen = face is not None and face.found  # a face followed on while the body is missed counts
        values = self._face.push(face.landmarks_px if seen else None, pose.timestamp_s)
        if values is None:
            return replace(pose, face=np.full(len(FACE_CURVES), np.nan))
        joints = pose.joints_m
        if joints is not None:
            joints = self._face_head.apply(joints, values)
        return replace(pose, joints_m=joints, face=values, face_px=face.landmarks_px)

    def _root(self, rel_cam: np.ndarray, detection: Detection) -> np.ndarray:
        root = None
        if self._body.name in MAPS:
            intrinsics = Intrinsics.from_fov(detection.image_size, self.config.fov_deg)
            kp = map_keypoints(detection.keypoints_px, self._body.name)
            sc = map_scores(detection.scores, self._body.name)
            root = estimate_root_translation(rel_cam, kp, sc, intrinsics)
        if root is None:
            root = self._last_root if self._last_root is not None else np.array([0.0, 0.0, 3.0])
        self._last_root = root
        return root
