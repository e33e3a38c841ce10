"""Calibrated cameras: intrinsics, lens distortion and pose, and the checks a video makes of them.

A `Camera` follows OpenCV's pinhole model: K (3, 3) in pixels, distortion (k1, k2, p1, p2, k3),
and the world-to-camera pose (R (3, 3), t (3,) metres): x_cam = R @ x_world + t, camera axes
x right, y down, z forward (engine/core/coords.py). A `Rig` is the cameras of one set-up, in the
order their videos are given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.core.errors import InputError

# A video up to this many pixels smaller than its calibration on a side (and no larger) is the
# calibrated image cropped by its decoder (e.g. 1080 wide decoded from 1088 coded): accepted with a note.
DECODER_CROP_MAX_PX = 16


@dataclass(frozen=True, eq=False)
class Camera:
    """One calibrated camera. image_size: (width, height) px the intrinsics were calibrated at."""

    name: str
    image_size: tuple[int, int]
    K: np.ndarray
    dist: np.ndarray
    R: np.ndarray
    t: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "K", np.asarray(self.K, dtype=np.float64).reshape(3, 3))
        dist = np.zeros(5)
        given = np.asarray(self.dist, dtype=np.float64).ravel()[:5]
        dist[: len(given)] = given
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "R", np.asarray(self.R, dtype=np.float64).reshape(3, 3))
        object.__setattr__(self, "t", np.asarray(self.t, dtype=np.float64).reshape(3))
        object.__setattr__(self, "image_size", (int(self.image_size[0]), int(self.image_size[1])))
        if not np.isfinite(self.K).all() or self.K[0, 0] <= 0 or self.K[1, 1] <= 0:
            raise InputError(f"camera {self.name}: its focal length must be a positive number")
        if abs(np.linalg.det(self.R) - 1.0) > 1e-3:
            raise InputError(f"camera {self.name}: its rotation is not a rotation matrix")

    @property
    def centre_m(self) -> np.ndarray:
        """(3,) the camera's optical centre in the world, metres."""
        return -self.R.T @ self.t

    @property
    def projection(self) -> np.ndarray:
        """(3, 4) [R | t]: world -> normalised (undistorted) image coordinates."""
        return np.hstack([self.R, self.t[:, None]])

    def with_pose(self, R: np.ndarray, t: np.ndarray) -> "Camera":
        return replace(self, R=R, t=t)

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world metres -> (..., 3) camera axes metres."""
        return points_world @ self.R.T + self.t

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world metres -> (..., 2) pixels, lens distortion applied (NaN behind the camera)."""
        return distort_to_pixels(self.to_camera(points_world), self.K, self.dist)

    def normalise(self, points_px: np.ndarray) -> np.ndarray:
        """(..., 2) pixels -> (..., 2) undistorted normalised coordinates (x/z, y/z)."""
        import cv2

        pts = np.asarray(points_px, dtype=np.float64)
        flat = pts.reshape(-1, 1, 2)
        out = np.full(flat.shape, np.nan)
        ok = np.isfinite(flat).all(axis=-1)[:, 0]
        if ok.any():
            criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 1e-9)
            out[ok] = cv2.undistortPoints(flat[ok], self.K, self.dist, criteria=criteria)
        return out.reshape(pts.shape)


def distort_to_pixels(points_cam: np.ndarray, K: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """(..., 3) camera axes -> (..., 2) pixels with OpenCV's radial and tangential distortion."""
    z = points_cam[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(z > 1e-6, points_cam[..., 0] / z, np.nan)
        y = np.where(z > 1e-6, points_cam[..., 1] / z, np.nan)
    k1, k2, p1, p2, k3 = dist
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2 * r2 + k3 * r2 ** 3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([K[0, 0] * xd + K[0, 1] * yd + K[0, 2], K[1, 1] * yd + K[1, 2]], axis=-1)


@dataclass(frozen=True)
class Rig:
    """The calibrated cameras of one set-up; world units are metres."""

    cameras: tuple[Camera, ...]

    def __post_init__(self) -> None:
        names = [c.name for c in self.cameras]
        if len(set(names)) != len(names):
            raise InputError(f"calibration: two cameras share a name ({', '.join(names)})")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cameras)

    def __len__(self) -> int:
        return len(self.cameras)

    def __getitem__(self, index: int) -> Camera:
        return self.cameras[index]

    def camera(self, name: str) -> Camera:
        for camera in self.cameras:
            if camera.name == name:
                return camera
        raise InputError(f"calibration has no camera {name!r} (it has {', '.join(self.names)})")


def check_image_size(camera: Camera, size: tuple[int, int], where: str) -> str | None:
    """Whether a video of `size` (width, height) fits `camera`'s calibration: None when equal, a note
    when it is a decoder's crop of a few pixels, else InputError (one line)."""
    (w, h), (cw, ch) = size, camera.image_size
    if (w, h) == (cw, ch):
        return None
    if 0 <= cw - w <= DECODER_CROP_MAX_PX and 0 <= ch - h <= DECODER_CROP_MAX_PX:
        return (f"{where}: decoded {w}x{h}, calibrated {cw}x{ch}: taken as the decoder's crop "
                f"of the calibrated image ({cw - w} px, {ch - h} px)")
    raise InputError(f"{where}: the video is {w}x{h} but camera {camera.name} was calibrated at {cw}x{ch}; "
                     "calibrate the camera at the size it records, or give its own calibration")
