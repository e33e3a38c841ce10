"""The stages of a frame's flow: source -> detector -> 3D mode -> root -> temporal stage -> Take.

`detect_source` + `take_from_track` are the two passes over a file (every frame in order, then
the zero-lag temporal stage over the whole clip); `LiveTracker` is the causal temporal stage, one
frame at a time. engine.session.session.Session drives them.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Callable, Protocol

import numpy as np

from engine import __version__
from engine.motion.bones import estimate_bone_lengths, impose_bone_lengths
from engine.lift.camera import DEFAULT_FOV_DEG, Intrinsics, estimate_root_translation
from engine.core.coords import CAMERA_TO_WORLD
from engine.capture.detection import Detection
from engine.capture.detector import DetectorConfig, PoseDetector
from engine.capture.hands import HandsConfig, HandsFrame, HandTracker
from engine.core.errors import InputError, NoValidFramesError
from engine.capture.frames import FrameSource
from engine.motion.fingers import LiveFingers, offline_fingers
from engine.motion.gaps import bridge_gaps, hold_gaps
from engine.motion.ground import floor_height, level_rotation
from engine.core.keypoint_maps import MAPS, map_keypoints, map_scores
from engine.lift.modes import LiftConfig, Lifter, make_lifter
from engine.capture.people import LockOn, PeopleConfig, PeopleTracker
from engine.capture.people_tracks import PeopleTracks
from engine.core.skeletons import MEDIAPIPE_33, MONOCAP_BODY, MONOCAP_HANDS, Skeleton
from engine.motion.smoothing import OneEuroFilter, SmoothingConfig, zero_phase_lowpass
from engine.core.take import Take
from engine.capture.track import DetectionTrack, HandTrack


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

    def __post_init__(self) -> None:
        if self.hands and self.lift.skeleton != MONOCAP_BODY.name:
            raise InputError(f"hands need the {MONOCAP_BODY.name} skeleton, not {self.lift.skeleton}")
    people: PeopleConfig = field(default_factory=PeopleConfig)
    person: int = 0  # whom a one-person take follows: 0 the lock-on rule (engine/capture/people.py), n person n

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
                         hand_tracker: HandTracker | None = None) -> PeopleTracks:
    """Runs the detector and the people tracker over every frame of `source`. Memory holds
    keypoints only, never images.

    on_frame(row, frame, tracked_people) runs after each frame. With a hand tracker, the hands of
    the person a causal lock-on follows (engine.capture.people.LockOn, the live rule) are tracked
    on a second thread while the next frame's people are detected; that person's track then
    holds them (`PeopleTracks.hands_person`)."""
    tracker = PeopleTracker(people)
    tracks = PeopleTracks()
    total = source.frame_count
    hands = HandTrack() if hand_tracker is not None else None
    lock = LockOn()
    pending: Future | None = None
    with ThreadPoolExecutor(1, thread_name_prefix="monocap-hands") if hand_tracker else nullcontext() as pool:
        try:
            for frame in source:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(tracks)
                t = frame.timestamp_ns / 1e9
                found = tracker.update(t, detector.detect_people(frame.image, frame.timestamp_ns), frame.image)
                if pending is not None:
                    hands.append(pending.result())
                    pending = None
                tracks.append(t, found, (frame.image.shape[1], frame.image.shape[0]))
                for newcomer, person in tracker.take_merges():
                    tracks.merge(newcomer, person)
                if hand_tracker is not None:
                    pending = pool.submit(hand_tracker.track, frame.image, lock.pick(found), frame.timestamp_ns)
                if on_frame is not None:
                    on_frame(len(tracks) - 1, frame, found)
                if progress is not None:
                    progress(len(tracks), total)
        except KeyboardInterrupt:
            if not source.is_live:
                raise
        finally:
            if pending is not None:
                hands.append(pending.result() if not pending.exception() else HandsFrame.empty())
    if hands is not None and lock.person_id is not None:
        tracks.set_hands(lock.person_id, hands)
    return tracks


def detect_source(source: FrameSource, detector: PoseDetector, progress: Progress | None = None,
                  cancel: CancelFlag | None = None, people: PeopleConfig = PeopleConfig(),
                  hand_tracker: HandTracker | None = None) -> DetectionTrack:
    """The detections of the person the lock-on rule (engine/capture/people.py) picks over `source`."""
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


def _fill_nan_rows(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN rows of (T, 3) among valid frames; edges hold."""
    missing = ~(valid & np.isfinite(x).all(axis=1))
    if missing.all():
        return x
    filled, held = bridge_gaps(x, missing, np.inf)
    return hold_gaps(filled, held)


DEPTH_CUTOFF_FACTOR = 0.7


def filter_and_lock(rel: np.ndarray, root: np.ndarray, valid: np.ndarray, fps: float, skeleton: Skeleton,
                    smoothing: SmoothingConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zero-lag low-pass of root-relative joints (T, J, 3) and root (T, 3), then bone lengths locked.

    Both are in camera-aligned world axes, so axis 2 is depth: one camera sees depth far less
    well than the image-plane axes, and depth gets DEPTH_CUTOFF_FACTOR of the cutoff.
    Returns (rel, root, bone lengths (J,)).
    """
    if smoothing.strength > 0:
        cutoff = smoothing.cutoff_hz()
        rel = rel.copy()
        root = root.copy()
        rel[..., :2] = zero_phase_lowpass(rel[..., :2], valid, fps, cutoff, smoothing.max_gap_s)
        rel[..., 2:] = zero_phase_lowpass(rel[..., 2:], valid, fps, cutoff * DEPTH_CUTOFF_FACTOR, smoothing.max_gap_s)
        root[..., :2] = zero_phase_lowpass(root[..., :2], valid, fps, cutoff, smoothing.max_gap_s)
        root[..., 2:] = zero_phase_lowpass(root[..., 2:], valid, fps, cutoff * DEPTH_CUTOFF_FACTOR, smoothing.max_gap_s)
    lengths = estimate_bone_lengths(rel, valid, skeleton)
    return impose_bone_lengths(rel, skeleton, lengths), root, lengths


def offline_temporal(rel_cam: np.ndarray, root_cam: np.ndarray, valid: np.ndarray, fps: float,
                     skeleton: Skeleton, config: PipelineConfig,
                     origin_m: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Zero-lag temporal stage over a whole clip -> (T, J, 3) world joints (NaN where invalid), info."""
    rel = rel_cam @ CAMERA_TO_WORLD.T
    root = _fill_nan_rows(root_cam, valid) @ CAMERA_TO_WORLD.T
    if not config.root_motion or not np.isfinite(root[valid]).all():
        root = np.broadcast_to(np.nanmedian(root[valid], axis=0) if np.isfinite(root[valid]).any() else np.array([0, 0, -3.0]), root.shape).copy()
    rel, root, lengths = filter_and_lock(rel, root, valid, fps, skeleton, config.smoothing)
    cutoff = config.smoothing.cutoff_hz()
    level = level_rotation(rel, valid, skeleton)
    joints = (rel + root[:, None, :]) @ level.T
    joints[..., 1] -= floor_height(joints, valid, skeleton)
    first = np.flatnonzero(valid)[: max(int(fps), 1)]
    root_idx = skeleton.parents.index(-1)
    # origin_m: another take's info["origin_m"], to place several people in one world
    origin = np.nanmedian(joints[first, root_idx], axis=0) if origin_m is None else np.asarray(origin_m, float)
    joints[..., 0] -= origin[0]
    joints[..., 2] -= origin[2]
    joints[~valid] = np.nan
    info = {"bone_lengths_m": dict(zip(skeleton.joint_names, np.round(lengths, 4).tolist())),
            "level_rotation": np.round(level, 5).tolist(), "cutoff_hz": cutoff,
            # camera-axis joints = world joints @ R.T (up to a translation): scores a take in the camera's axes
            "world_to_camera_rotation": np.round(CAMERA_TO_WORLD.T @ level.T, 6).tolist(),
            "origin_m": np.round(origin, 5).tolist()}
    return joints, info


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
    joints, info = offline_temporal(rel_cam, root_cam, valid, fps, skeleton, config, origin_m)
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
    )


def bgr_to_rgb(image_bgr: np.ndarray) -> np.ndarray:
    """A frame as sources give it (BGR) -> as image 3D modes take it (RGB)."""
    import cv2

    return cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True, eq=False)
class PoseFrame:
    """One frame's result. joints_m: (J, 3) world metres (causal temporal stage), None if nobody.
    hands: both hands' keypoints when hands are tracked (then the skeleton is MONOCAP_HANDS)."""

    index: int
    timestamp_s: float
    detection: Detection | None
    joints_m: np.ndarray | None
    skeleton: Skeleton
    hands: HandsFrame | None = None


# One Euro settings for joints in metres, tuned on CMU mocap with 1.5 cm jitter at 30 fps
# (closer to the truth than the input) and on real footage (jitter at least 1.5 times lower).
LIVE_BETA = 10.0
LIVE_CUTOFF_FACTOR = 1 / 3


class LiveTracker:
    """The causal temporal stage for live sources: one `push` per frame, no look-ahead.

    Bone lengths, the level rotation and the floor are estimated over the first
    `config.live_calibration_s` seconds with someone in view, then held.
    """

    def __init__(self, config: PipelineConfig = PipelineConfig(), lifter: Lifter | None = None):
        self.config = config
        self.lifter = lifter or make_lifter(config.lift)
        self.skeleton = self.lifter.skeleton
        self._body = self.skeleton  # what the lifter gives; the output adds fingers when hands are on
        cutoff = config.smoothing.cutoff_hz() if config.smoothing.strength > 0 else 1e3
        self._rel_filter = OneEuroFilter(cutoff * LIVE_CUTOFF_FACTOR, beta=LIVE_BETA)
        self._root_filter = OneEuroFilter(cutoff * LIVE_CUTOFF_FACTOR, beta=LIVE_BETA)
        self._live = self.lifter.start_live()
        self.last_push_s = 0.0  # seconds the last `push` took
        self._calib_rel: list[np.ndarray] = []
        self._calib_world: list[np.ndarray] = []
        self._calib_start: float | None = None
        self._lengths: np.ndarray | None = None
        self._level = np.eye(3)
        self._floor = 0.0
        self._origin: np.ndarray | None = None
        self._calibrated = False
        self._last_root: np.ndarray | None = None
        self._fixed_root: np.ndarray | None = None
        self._fingers = LiveFingers(config.smoothing) if config.hands else None
        if self._fingers is not None:
            self.skeleton = MONOCAP_HANDS

    def restart(self) -> None:
        """Forgets the subject (filters, bone lengths, floor, origin, the lifter's live state), for
        when the person followed changes."""
        self.__init__(self.config, self.lifter)

    @property
    def calibrated(self) -> bool:
        return self._calibrated

    @property
    def origin_m(self) -> np.ndarray | None:
        """(3,) where this tracker's world origin lies in its levelled camera frame (None before
        the subject was first seen); x and z are taken off every pose."""
        return self._origin

    def push(self, index: int, timestamp_s: float, detection: Detection | None,
             image_bgr: np.ndarray | None = None, hands: HandsFrame | None = None) -> PoseFrame:
        """image_bgr is needed only by 3D modes that `needs_images`; hands (engine.capture.hands.
        HandTracker's, for the same frame) when the config tracks hands."""
        started = time.perf_counter()
        try:
            return self._push(index, timestamp_s, detection, image_bgr, hands)
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
        root_cam = self._root(rel_cam, detection)
        rel = self._rel_filter(rel_cam @ CAMERA_TO_WORLD.T, timestamp_s)
        root = self._root_filter(root_cam @ CAMERA_TO_WORLD.T, timestamp_s)
        if not self.config.root_motion:
            self._fixed_root = root if self._fixed_root is None else self._fixed_root
            root = self._fixed_root
        if not self._calibrated:
            self._calibrate(rel, root, timestamp_s)
        rel = impose_bone_lengths(rel, self._body, self._lengths)
        joints = (rel + root) @ self._level.T
        joints[:, 1] -= self._floor
        joints[:, [0, 2]] -= self._origin[[0, 2]]
        if self._fingers is not None:
            hands = hands if hands is not None else HandsFrame.empty()
            joints = self._fingers.push(joints, hands.world_m, hands.found, self._level @ CAMERA_TO_WORLD,
                                        timestamp_s)
        return PoseFrame(index, timestamp_s, detection, joints, self.skeleton, hands)

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

    def _calibrate(self, rel: np.ndarray, root: np.ndarray, t: float) -> None:
        self._calib_start = t if self._calib_start is None else self._calib_start
        self._calib_rel.append(rel)
        self._calib_world.append(rel + root)
        rel_all = np.array(self._calib_rel)
        ok = np.ones(len(rel_all), bool)
        self._lengths = estimate_bone_lengths(rel_all, ok, self._body)
        locked = impose_bone_lengths(rel_all, self._body, self._lengths)
        self._level = level_rotation(locked, ok, self._body)
        world = (locked + (np.array(self._calib_world) - rel_all)) @ self._level.T
        self._floor = floor_height(world, ok, self._body)
        root_idx = self._body.parents.index(-1)
        self._origin = np.median(world[:, root_idx], axis=0)
        if t - self._calib_start >= self.config.live_calibration_s:
            self._calibrated = True
            self._calib_rel.clear()
            self._calib_world.clear()
