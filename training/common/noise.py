"""Detector-like errors on clean 2D keypoints: jitter, low scores, dropped keypoints (score 0),
whole-limb occlusion, keypoints outside the image, and left/right swaps of whole limbs.

All functions take batches: keypoints (B, W, 33, 2) pixels, scores (B, W, 33). A swap or a limb
occlusion holds for the whole window of a sample (the detector's errors come in runs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.skeletons import MEDIAPIPE_33

_N = MEDIAPIPE_33.index
ARM = {side: [_N(f"{side}_{j}") for j in ("elbow", "wrist", "pinky", "index", "thumb")] for side in ("left", "right")}
ARM_SWAP = {side: [_N(f"{side}_{j}") for j in ("shoulder", "elbow", "wrist", "pinky", "index", "thumb")]
            for side in ("left", "right")}
LEG = {side: [_N(f"{side}_{j}") for j in ("knee", "ankle", "heel", "foot_index")] for side in ("left", "right")}
LEG_SWAP = {side: [_N(f"{side}_{j}") for j in ("hip", "knee", "ankle", "heel", "foot_index")]
            for side in ("left", "right")}
FACE = list(range(0, 11))
DISTAL = ARM["left"][1:] + ARM["right"][1:] + LEG["left"][1:] + LEG["right"][1:]


@dataclass(frozen=True)
class NoiseConfig:
    jitter: float = 0.012  # largest per-sample jitter, as a fraction of the box size
    low_score_rate: float = 0.1  # keypoints given a low score and a larger error
    drop_rate: float = 0.08  # largest per-sample rate of single keypoints dropped
    limb_drop_rate: float = 0.12  # samples with one limb occluded
    face_drop_rate: float = 0.04
    swap_rate: float = 0.05  # samples with one limb's left/right swapped
    full_swap_rate: float = 0.01  # samples with every left/right pair swapped
    det3d_rate: float = 0.7  # samples that carry the detector's 3D
    det3d_noise_m: float = 0.025
    det3d_depth_noise: float = 0.15  # relative error of depth about the hips
    det3d_scale_noise: float = 0.06
    det3d_yaw_deg: float = 8.0

    def scaled(self, factor: float) -> "NoiseConfig":
        """Every error rate and size times `factor` (0: clean input)."""
        return NoiseConfig(self.jitter * factor, self.low_score_rate * factor, self.drop_rate * factor,
                           self.limb_drop_rate * factor, self.face_drop_rate * factor, self.swap_rate * factor,
                           self.full_swap_rate * factor, self.det3d_rate, self.det3d_noise_m * factor,
                           self.det3d_depth_noise * factor, self.det3d_scale_noise * factor,
                           self.det3d_yaw_deg * factor)


def swap_lists() -> tuple[list[tuple[list[int], list[int]]], np.ndarray]:
    limbs = [(ARM_SWAP["left"], ARM_SWAP["right"]), (LEG_SWAP["left"], LEG_SWAP["right"])]
    return limbs, MEDIAPIPE_33.mirror_permutation()


def apply_noise(kp: np.ndarray, scores: np.ndarray, image_size: np.ndarray, det3d: np.ndarray,
                rng: np.random.Generator, cfg: NoiseConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Returns noisy (kp, scores, det3d, det3d_valid (B, W)). Inputs are not modified."""
    kp = kp.copy()
    det3d = det3d.copy()
    b, w, k, _ = kp.shape
    box = np.ptp(kp, axis=2).max(axis=-1)  # (B, W)
    # left/right swaps, whole window
    limbs, perm = swap_lists()
    for side_l, side_r in limbs:
        m = rng.random(b) < cfg.swap_rate / 2
        if m.any():
            for arr in (kp, det3d):
                a = arr[m][:, :, side_l].copy()
                sub = arr[m]
                sub[:, :, side_l] = sub[:, :, side_r]
                sub[:, :, side_r] = a
                arr[m] = sub
    full = rng.random(b) < cfg.full_swap_rate
    if full.any():
        kp[full] = kp[full][:, :, perm]
        det3d[full] = det3d[full][:, :, perm]
    # scores and jitter
    scores = rng.uniform(0.6, 1.0, (b, w, k))
    sigma = rng.uniform(0, cfg.jitter, (b, 1, 1)) * box[:, :, None]
    sigma = np.broadcast_to(sigma, (b, w, k)).copy()
    sigma[:, :, DISTAL] *= 1.6
    low = rng.random((b, w, k)) < cfg.low_score_rate
    scores[low] = rng.uniform(0.05, 0.5, low.sum())
    sigma[low] = np.maximum(sigma[low], 0.04 * np.broadcast_to(box[:, :, None], (b, w, k))[low])
    kp += rng.normal(size=kp.shape) * sigma[..., None]
    # dropped keypoints
    drop = rng.random((b, w, k)) < rng.uniform(0, cfg.drop_rate, (b, 1, 1))
    groups = [ARM["left"], ARM["right"], LEG["left"], LEG["right"]]
    limb = rng.random(b) < cfg.limb_drop_rate
    which = rng.integers(0, 4, b)
    for g in range(4):
        sel = limb & (which == g)
        if sel.any():
            drop[np.ix_(sel, np.arange(w), groups[g])] = True
    face = rng.random(b) < cfg.face_drop_rate
    if face.any():
        drop[np.ix_(face, np.arange(w), FACE)] = True
    size = image_size[:, None, None, :]
    outside = (kp < 0).any(-1) | (kp >= size).any(-1)
    drop |= outside
    scores[drop] = 0.0
    kp[drop] = 0.0
    # the detector's 3D
    valid = np.broadcast_to((rng.random(b) < cfg.det3d_rate)[:, None], (b, w)).copy()
    scale = 1 + rng.normal(0, cfg.det3d_scale_noise, (b, 1, 1, 1))
    depth = 1 + rng.normal(0, cfg.det3d_depth_noise, (b, 1, 1))
    yaw = np.radians(rng.uniform(-cfg.det3d_yaw_deg, cfg.det3d_yaw_deg, b))
    c, s = np.cos(yaw), np.sin(yaw)
    x = det3d[..., 0] * c[:, None, None] + det3d[..., 2] * s[:, None, None]
    z = -det3d[..., 0] * s[:, None, None] + det3d[..., 2] * c[:, None, None]
    det3d = np.stack([x, det3d[..., 1], z * depth], axis=-1) * scale
    det3d += rng.normal(0, cfg.det3d_noise_m, det3d.shape)
    det3d[~valid] = 0.0
    return kp, scores, det3d, valid
