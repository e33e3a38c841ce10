"""Which way is up, and where the floor is, from the motion itself."""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import Skeleton

MAX_TILT_DEG = 35.0
FOOT_JOINTS = ("left_ankle", "right_ankle", "left_toe", "right_toe")


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector a onto unit vector b, (3, 3)."""
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if c < -0.999999:
        return -np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def torso_up(joints: np.ndarray, valid: np.ndarray, skeleton: Skeleton) -> np.ndarray | None:
    """(T, J, 3) Y-up joints -> the mean unit pelvis-to-neck direction over valid frames."""
    try:
        pelvis, neck = skeleton.index("pelvis"), skeleton.index("neck")
    except KeyError:
        return None
    good = joints[valid & np.isfinite(joints).all(axis=(1, 2))]
    if len(good) == 0:
        return None
    d = good[:, neck] - good[:, pelvis]
    d /= np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)
    mean = d.mean(axis=0)
    norm = np.linalg.norm(mean)
    return mean / norm if norm > 0.5 else None


def level_rotation(joints: np.ndarray, valid: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """A rotation (3, 3) that stands the subject's average torso upright, undoing camera tilt.

    Tilts beyond MAX_TILT_DEG are taken as the subject's own posture (lying, bending), not the
    camera's, and left alone.
    """
    up = torso_up(joints, valid, skeleton)
    if up is None:
        return np.eye(3)
    tilt = np.degrees(np.arccos(np.clip(up[1], -1, 1)))
    if tilt > MAX_TILT_DEG:
        return np.eye(3)
    return rotation_between(up, np.array([0.0, 1.0, 0.0]))


def floor_height(joints: np.ndarray, valid: np.ndarray, skeleton: Skeleton, percentile: float = 5.0) -> float:
    """Height of the floor under Y-up joints: a low percentile of the lowest foot joint per frame."""
    feet = [skeleton.index(n) for n in FOOT_JOINTS if n in skeleton.joint_names]
    good = joints[valid & np.isfinite(joints).all(axis=(1, 2))]
    if len(good) == 0:
        return 0.0
    lowest = good[:, feet, 1].min(axis=1) if feet else good[:, :, 1].min(axis=1)
    return float(np.percentile(lowest, percentile))
