"""Bone lengths locked per subject: estimated robustly, then imposed along the kinematic tree."""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import KEYPOINT_CONFIDENT, Skeleton


def estimate_bone_lengths(joints: np.ndarray, valid: np.ndarray, skeleton: Skeleton, symmetric: bool = True,
                          confidence: np.ndarray | None = None) -> np.ndarray:
    """joints: (T, J, 3). Returns (J,) length of the bone ending at each joint (0 for the root).

    The median over valid frames; with `confidence` ((T, J), the detector's score of each joint),
    over the frames where both of the bone's ends were seen well (KEYPOINT_CONFIDENT), where there
    are any: a limb hidden behind something is guessed, and its guessed length is not the
    person's. With `symmetric`, left and right bones share the mean of their medians (people are
    close to symmetric; the detector's errors are not).
    """
    lengths = np.zeros(skeleton.num_joints)
    rows = valid & np.isfinite(joints).all(axis=(1, 2))
    good = joints[rows]
    if len(good) == 0:
        return lengths
    sure = None if confidence is None else confidence[rows] >= KEYPOINT_CONFIDENT
    for child, parent in enumerate(skeleton.parents):
        if parent >= 0:
            bone = np.linalg.norm(good[:, child] - good[:, parent], axis=-1)
            if sure is not None and (sure[:, child] & sure[:, parent]).any():
                bone = bone[sure[:, child] & sure[:, parent]]
            lengths[child] = float(np.median(bone))
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
