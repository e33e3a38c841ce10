"""Augmentation for the image network: crop jitter, scale, in-plane rotation, flip with the
left/right swap, and colour. Geometry is applied through engine.lift.image_crop.make_crop, so the 2D
labels, the 3D pose (in the crop's virtual camera) and the image always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    scale_range: tuple[float, float] = (0.8, 1.25)  # multiplies the crop side
    shift: float = 0.08          # crop-centre jitter, as a fraction of the side
    rotation_deg: float = 30.0   # in-plane rotation, uniform in +-rotation_deg ...
    rotation_prob: float = 0.5   # ... with this probability
    flip_prob: float = 0.5
    channel_gain: float = 0.2    # each RGB channel times U(1 - g, 1 + g)
    brightness: float = 0.2      # plus U(-b, b) * 255
    contrast: float = 0.2        # contrast about the mean times U(1 - c, 1 + c)


@dataclass(frozen=True)
class GeometryDraw:
    scale: float
    shift: np.ndarray  # (2,) fraction of the side
    angle_deg: float
    flip: bool


def draw_geometry(rng: np.random.Generator, cfg: AugmentConfig | None) -> GeometryDraw:
    if cfg is None:
        return GeometryDraw(1.0, np.zeros(2), 0.0, False)
    angle = rng.uniform(-cfg.rotation_deg, cfg.rotation_deg) if rng.random() < cfg.rotation_prob else 0.0
    return GeometryDraw(float(rng.uniform(*cfg.scale_range)), rng.uniform(-cfg.shift, cfg.shift, 2),
                        float(angle), bool(rng.random() < cfg.flip_prob))


def colour_jitter(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig | None) -> np.ndarray:
    """(H, W, 3) uint8 -> jittered uint8."""
    if cfg is None:
        return image
    x = image.astype(np.float32)
    mean = x.mean()
    x = (x - mean) * rng.uniform(1 - cfg.contrast, 1 + cfg.contrast) + mean
    x = x * rng.uniform(1 - cfg.channel_gain, 1 + cfg.channel_gain, 3).astype(np.float32)
    x = x + rng.uniform(-cfg.brightness, cfg.brightness) * 255
    return np.clip(x, 0, 255).astype(np.uint8)


def flip_sample(image: np.ndarray, joints2d_norm: np.ndarray, vis: np.ndarray, pose3d: np.ndarray,
                valid3d: np.ndarray, mirror_perm: np.ndarray):
    """Mirror a crop left to right: image columns reversed, u -> -u, X -> -X, left/right swapped."""
    image = image[:, ::-1].copy()
    j2 = joints2d_norm[mirror_perm] * np.array([-1.0, 1.0])
    p3 = pose3d[mirror_perm] * np.array([-1.0, 1.0, 1.0])
    return image, j2, vis[mirror_perm], p3, valid3d[mirror_perm]
