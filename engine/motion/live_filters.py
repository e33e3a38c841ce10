"""The causal temporal stage for live sources, one frame at a time with no look-ahead: One Euro
filters, then bone lengths, the level rotation, the floor and the origin from the first seconds
with someone in view, then held. Given the detector's score of each joint, bone lengths are
measured on the joints it saw well (not on a limb hidden behind something, whose guessed length
is not the person's)."""

from __future__ import annotations

import numpy as np

from engine.core.coords import CAMERA_TO_WORLD
from engine.core.skeletons import Skeleton
from engine.motion.bones import estimate_bone_lengths, impose_bone_lengths
from engine.motion.ground import floor_height, level_rotation
from engine.motion.smoothing import OneEuroFilter, SmoothingConfig

# One Euro settings for joints in metres, tuned on CMU mocap with 1.5 cm jitter at 30 fps
# (closer to the truth than the input) and on real footage (jitter at least 1.5 times lower).
LIVE_BETA = 10.0
LIVE_CUTOFF_FACTOR = 1 / 3


class LiveTemporal:
    """One `push` per frame with someone in view: camera-frame joints in, world joints out.

    calibration_s: bone lengths, the level rotation and the floor come from the first seconds;
    root_motion False: the root stays where it was first seen."""

    def __init__(self, skeleton: Skeleton, smoothing: SmoothingConfig, calibration_s: float,
                 root_motion: bool = True):
        self.skeleton = skeleton
        self.calibration_s = calibration_s
        self.root_motion = root_motion
        cutoff = smoothing.cutoff_hz() if smoothing.strength > 0 else 1e3
        self._rel_filter = OneEuroFilter(cutoff * LIVE_CUTOFF_FACTOR, beta=LIVE_BETA)
        self._root_filter = OneEuroFilter(cutoff * LIVE_CUTOFF_FACTOR, beta=LIVE_BETA)
        self._calib_rel: list[np.ndarray] = []
        self._calib_world: list[np.ndarray] = []
        self._calib_conf: list[np.ndarray] = []
        self._calib_start: float | None = None
        self._lengths: np.ndarray | None = None
        self._level = np.eye(3)
        self._floor = 0.0
        self._origin: np.ndarray | None = None
        self._calibrated = False
        self._fixed_root: np.ndarray | None = None

    @property
    def calibrated(self) -> bool:
        return self._calibrated

    @property
    def origin_m(self) -> np.ndarray | None:
        """(3,) where the world origin lies in the levelled camera frame (None before the subject
        was first seen); x and z are taken off every pose."""
        return self._origin

    @property
    def level(self) -> np.ndarray:
        """(3, 3) the rotation that levels camera-aligned world axes."""
        return self._level

    def push(self, rel_cam: np.ndarray, root_cam: np.ndarray, timestamp_s: float,
             confidence: np.ndarray | None = None) -> np.ndarray:
        """rel_cam: (J, 3) root-relative joints and root_cam (3,), camera frame -> (J, 3) world joints.
        confidence: (J,) the detector's score of each joint: bone lengths are measured on the
        joints it saw well (engine/motion/bones.estimate_bone_lengths)."""
        rel = self._rel_filter(rel_cam @ CAMERA_TO_WORLD.T, timestamp_s)
        root = self._root_filter(root_cam @ CAMERA_TO_WORLD.T, timestamp_s)
        if not self.root_motion:
            self._fixed_root = root if self._fixed_root is None else self._fixed_root
            root = self._fixed_root
        if not self._calibrated:
            self._calibrate(rel, root, timestamp_s, confidence)
        rel = impose_bone_lengths(rel, self.skeleton, self._lengths)
        joints = (rel + root) @ self._level.T
        joints[:, 1] -= self._floor
        joints[:, [0, 2]] -= self._origin[[0, 2]]
        return joints

    def _calibrate(self, rel: np.ndarray, root: np.ndarray, t: float, confidence: np.ndarray | None) -> None:
        self._calib_start = t if self._calib_start is None else self._calib_start
        self._calib_rel.append(rel)
        self._calib_world.append(rel + root)
        self._calib_conf.append(np.ones(len(rel)) if confidence is None else confidence)
        rel_all = np.array(self._calib_rel)
        ok = np.ones(len(rel_all), bool)
        self._lengths = estimate_bone_lengths(rel_all, ok, self.skeleton, confidence=np.array(self._calib_conf))
        locked = impose_bone_lengths(rel_all, self.skeleton, self._lengths)
        self._level = level_rotation(locked, ok, self.skeleton)
        world = (locked + (np.array(self._calib_world) - rel_all)) @ self._level.T
        self._floor = floor_height(world, ok, self.skeleton)
        root_idx = self.skeleton.parents.index(-1)
        self._origin = np.median(world[:, root_idx], axis=0)
        if t - self._calib_start >= self.calibration_s:
            self._calibrated = True
            self._calib_rel.clear()
            self._calib_world.clear()
            self._calib_conf.clear()
