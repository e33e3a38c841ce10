"""Bone lengths locked per subject: estimated robustly, then imposed along the kinematic tree."""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import Skeleton


def estimate_bone_lengths(joints: np.ndarray, valid: np.ndarray, skeleton: Skeleton, symmetric: bool = True) -> np.ndarray:
    """joints: (T, J, 3). Returns (J,) length of the bone ending at each joint (0 for the root).

    The median over valid frames; with `symmetric`, left and right bones share the mean of
    their medians (people are close to symmetric; the detector's errors are not).
    """
    lengths = np.zeros(skeleton.num_joints)
    good = joints[valid & np.isfinite(joints).all(axis=(1, 2))]
    if len(good) == 0:
        return lengths
    for child, parent in enumerate(skeleton.parents):
        if parent >= 0:
            lengths[child] = float(np.median(np.linalg.norm(good[:, child] - good[:, parent], axis=-1)))
    if symmetric:
        for a, b in skeleton.mirror_pairs:
            if skeleton.parents[a] >= 0 and skeleton.parents[b] >= 0:
                lengths[a] = lengths[b] = 0.5 * (lengths[a] + lengths[b])
    return lengths


def impose_bone_lengths(joints: np.ndarray, skeleton: Skeleton, lengths: np.ndarray) -> np.ndarray:
    """joints: (..., J, 3). Keeps the root and every bone's direction; sets every bone's length."""
    out = joints.copy()
    for child, parent in enumerate(skeleton.parents):
        if parent < 0:
            continue
        d = joints[..., child, :] - joints[..., parent, :]
        norm = np.linalg.norm(d, axis=-1, keepdims=True)
        direction = np.divide(d, norm, out=np.zeros_like(d), where=norm > 1e-9)
        out[..., child, :] = out[..., parent, :] + direction * lengths[child]
    return out
