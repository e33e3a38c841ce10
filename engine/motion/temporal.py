"""The zero-lag temporal stage over a whole clip: low-pass, bone lengths locked, level and floor.

Input is camera-frame (root-relative joints and the root); output is world joints
(engine/core/coords.py) with the origin under the subject's first second.
"""

from __future__ import annotations

import numpy as np

from engine.core.coords import CAMERA_TO_WORLD
from engine.core.skeletons import Skeleton
from engine.motion.bones import estimate_bone_lengths, impose_bone_lengths
from engine.motion.gaps import bridge_gaps, hold_gaps
from engine.motion.ground import floor_height, level_rotation
from engine.motion.smoothing import SmoothingConfig, zero_phase_lowpass

# One camera sees depth far less well than the image-plane axes: depth's share of the cutoff.
DEPTH_CUTOFF_FACTOR = 0.7


def _fill_nan_rows(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN rows of (T, 3) among valid frames; edges hold."""
    missing = ~(valid & np.isfinite(x).all(axis=1))
    if missing.all():
        return x
    filled, held = bridge_gaps(x, missing, np.inf)
    return hold_gaps(filled, held)


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
                     skeleton: Skeleton, smoothing: SmoothingConfig, root_motion: bool = True,
                     origin_m: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Zero-lag temporal stage over a whole clip -> (T, J, 3) world joints (NaN where invalid), info.

    root_motion False: the subject stays over the origin. origin_m: another take's
    info["origin_m"], to place several people in one world."""
    rel = rel_cam @ CAMERA_TO_WORLD.T
    root = _fill_nan_rows(root_cam, valid) @ CAMERA_TO_WORLD.T
    if not root_motion or not np.isfinite(root[valid]).all():
        held = np.nanmedian(root[valid], axis=0) if np.isfinite(root[valid]).any() else np.array([0, 0, -3.0])
        root = np.broadcast_to(held, root.shape).copy()
    rel, root, lengths = filter_and_lock(rel, root, valid, fps, skeleton, smoothing)
    cutoff = smoothing.cutoff_hz()
    level = level_rotation(rel, valid, skeleton)
    joints = (rel + root[:, None, :]) @ level.T
    joints[..., 1] -= floor_height(joints, valid, skeleton)
    first = np.flatnonzero(valid)[: max(int(fps), 1)]
    root_idx = skeleton.parents.index(-1)
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
