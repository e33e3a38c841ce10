"""Pinhole intrinsics from an assumed field of view, and root placement in the camera frame."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# A typical webcam or phone main camera sees about 60 degrees across the long side of the image.
DEFAULT_FOV_DEG = 60.0


@dataclass(frozen=True)
class Intrinsics:
    fx: float
    fy: float
    cx: float
    cy: float

    @classmethod
    def from_fov(cls, image_size: tuple[int, int], fov_deg: float = DEFAULT_FOV_DEG) -> "Intrinsics":
        """fov_deg: the field of view across the image's longer side."""
        w, h = image_size
        f = 0.5 * max(w, h) / math.tan(math.radians(fov_deg) / 2)
        return cls(f, f, w / 2.0, h / 2.0)

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """(..., 3) camera-frame points -> (..., 2) pixels."""
        z = np.maximum(points_cam[..., 2:3], 1e-6)
        xy = points_cam[..., :2] / z
        return np.concatenate([xy[..., :1] * self.fx + self.cx, xy[..., 1:] * self.fy + self.cy], axis=-1)


def estimate_root_translation(joints_rel: np.ndarray, keypoints_px: np.ndarray, weights: np.ndarray,
                              intrinsics: Intrinsics) -> np.ndarray | None:
    """Where the root must be so that `joints_rel` projects onto `keypoints_px`.

    joints_rel: (J, 3) root-relative metres, camera axes. keypoints_px: (J, 2) the same joints in
    the image. weights: (J,) confidence. Returns (3,) camera-frame root position, or None.
    Solves the linearised pinhole equations u*(Z+tz) = fx*(X+tx) + cx*(Z+tz) by weighted least
    squares in (tx, ty, tz).
    """
    ok = (weights > 0.2) & np.isfinite(keypoints_px).all(axis=1) & np.isfinite(joints_rel).all(axis=1)
    if ok.sum() < 4:
        return None
    p, k, w = joints_rel[ok], keypoints_px[ok], np.sqrt(weights[ok])
    un = (k[:, 0] - intrinsics.cx) / intrinsics.fx
    vn = (k[:, 1] - intrinsics.cy) / intrinsics.fy
    n = len(p)
    a = np.zeros((2 * n, 3))
    b = np.zeros(2 * n)
    a[:n, 0] = 1.0
    a[:n, 2] = -un
    b[:n] = un * p[:, 2] - p[:, 0]
    a[n:, 1] = 1.0
    a[n:, 2] = -vn
    b[n:] = vn * p[:, 2] - p[:, 1]
    ww = np.concatenate([w, w])
    t, *_ = np.linalg.lstsq(a * ww[:, None], b * ww, rcond=None)
    if not np.isfinite(t).all() or t[2] <= 0.3:
        return None
    return t
