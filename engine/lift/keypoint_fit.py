"""Makes the detector's 3D agree with its own 2D keypoints, which are far more accurate.

Per frame: the detector's hip-relative 3D is placed in front of the pinhole camera (root by the
least squares of engine.lift.camera), turned by the rotation that best carries it onto the rays
of the 2D keypoints at its own depths, and every joint is then moved onto its keypoint's ray at
that depth: image-plane positions come from the 2D, depth from the detector. Then no leg bone
may be longer than the subject's: where the image-plane part of a bone is already nearly its
whole length, the detector's depth along it is cut down to what the length leaves (a straight
leg seen straight in the image stays straight in 3D). Bone lengths per subject are the medians
of the detector's own metric 3D over the clip, left and right shared (the fit keeps
the detector's scale, so its lengths are the ones that fit).
"""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import MEDIAPIPE_33
from engine.lift.camera import Intrinsics, estimate_root_translation

_N = MEDIAPIPE_33.index
_LEFT_HIP, _RIGHT_HIP = _N("left_hip"), _N("right_hip")
ROTATION_ITERATIONS = 2
_SIDES = ("left", "right")
# leg bones (parent, child), and the keypoints that ride on each child. Arms are left alone: the
# detector's arm lengths are too unsteady to cut by (on real truth the cut made arms worse).
LEG_BONES = [(_N(f"{s}_{a}"), _N(f"{s}_{b}")) for s in _SIDES for a, b in (("hip", "knee"), ("knee", "ankle"))]
_CARRIED = {}
for _s in _SIDES:
    _CARRIED[_N(f"{_s}_knee")] = [_N(f"{_s}_{x}") for x in ("ankle", "heel", "foot_index")]
    _CARRIED[_N(f"{_s}_ankle")] = [_N(f"{_s}_{x}") for x in ("heel", "foot_index")]
_TWIN = len(LEG_BONES) // 2  # bone k and bone k + _TWIN are left and right of the same bone


def _rotation_onto(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The rotation R (no reflection) minimising sum w |R a - b|^2 over centred point sets."""
    h = (a * w[:, None]).T @ b
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def fit_frame(world_rel: np.ndarray, keypoints_px: np.ndarray, scores: np.ndarray,
              intrinsics: Intrinsics) -> np.ndarray:
    """(33, 3) the detector's hip-relative 3D (camera axes) -> (33, 3) hip-relative, on the 2D rays.

    Returns the input unchanged when the root cannot be placed (too few confident keypoints)."""
    root = estimate_root_translation(world_rel, keypoints_px, scores, intrinsics)
    if root is None:
        return world_rel.copy()
    rays = np.stack([(keypoints_px[:, 0] - intrinsics.cx) / intrinsics.fx,
                     (keypoints_px[:, 1] - intrinsics.cy) / intrinsics.fy], axis=-1)
    pose = world_rel
    for i in range(ROTATION_ITERATIONS + 1):
        depth = np.maximum(root[2] + pose[:, 2], 0.1)
        on_rays = np.concatenate([rays * depth[:, None], depth[:, None]], axis=-1) - root
        if i == ROTATION_ITERATIONS:
            break
        w = scores / max(float(scores.sum()), 1e-9)
        rot = _rotation_onto(pose - w @ pose, on_rays - w @ on_rays, scores)  # keypoints at score 0 play no part
        pose = pose @ rot.T
        root = estimate_root_translation(pose, keypoints_px, scores, intrinsics)
        if root is None:
            return world_rel.copy()
    out = np.where((scores > 0)[:, None], on_rays, pose)
    return out - 0.5 * (out[_LEFT_HIP] + out[_RIGHT_HIP])


def leg_bone_lengths(world_m: np.ndarray) -> np.ndarray:
    """(..., 33, 3) the detector's 3D -> (..., len(LEG_BONES)) each leg bone's length."""
    parents, children = np.array(LEG_BONES).T
    return np.linalg.norm(world_m[..., children, :] - world_m[..., parents, :], axis=-1)


def subject_leg_lengths(per_frame: np.ndarray) -> np.ndarray:
    """(T, len(LEG_BONES)) per-frame lengths -> the subject's: medians, left and right shared."""
    lengths = np.median(per_frame, axis=0)
    return 0.5 * (lengths + np.roll(lengths, _TWIN))


def clip_leg_depths(fitted: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(33, 3) one fitted frame -> a copy whose leg bones are no longer than `lengths` (depth cut)."""
    out = fitted.copy()
    for (parent, child), length in zip(LEG_BONES, lengths):
        d = out[child] - out[parent]
        room = float(np.sqrt(max(length ** 2 - d[0] ** 2 - d[1] ** 2, 0.0)))
        shift = float(np.clip(d[2], -room, room)) - d[2]
        if shift:
            out[[child] + _CARRIED.get(child, []), 2] += shift
    return out
