"""Random virtual cameras around a mocap subject, and perspective projection (OpenCV camera axes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.rotations import axis_rotation

# World (mocap, Y up) to a camera on the world's +Z side looking towards -Z: x right, y down, z forward.
_BASE = np.diag([1.0, -1.0, -1.0])

_IMAGE_SIZES = np.array([[1280, 720], [1920, 1080], [640, 480], [720, 1280], [1080, 1920]], dtype=np.float64)


@dataclass(frozen=True)
class CameraRanges:
    hfov_deg: tuple[float, float] = (40.0, 85.0)
    pitch_deg: tuple[float, float] = (-10.0, 35.0)  # positive: the camera looks down on the subject
    roll_deg: float = 5.0
    body_fraction: tuple[float, float] = (0.35, 0.95)  # subject height / image height
    centre_spread: float = 0.25  # pelvis anywhere in the middle this fraction of the image, each side


@dataclass(frozen=True)
class Cameras:
    rotation: np.ndarray  # (B, 3, 3) world -> camera
    pelvis_cam: np.ndarray  # (B, 3) where the pelvis sits in camera coordinates (metres)
    focal_px: np.ndarray  # (B,)
    image_size: np.ndarray  # (B, 2) width, height
    principal_px: np.ndarray  # (B, 2)


def sample_cameras(count: int, rng: np.random.Generator, ranges: CameraRanges = CameraRanges()) -> Cameras:
    size = _IMAGE_SIZES[rng.integers(0, len(_IMAGE_SIZES), count)]
    w, h = size[:, 0], size[:, 1]
    hfov = np.radians(rng.uniform(*ranges.hfov_deg, count))
    f = w / (2 * np.tan(hfov / 2))
    yaw = rng.uniform(-np.pi, np.pi, count)
    pitch = np.radians(rng.uniform(*ranges.pitch_deg, count))
    roll = np.radians(rng.uniform(-ranges.roll_deg, ranges.roll_deg, count))
    rot = axis_rotation("Z", roll) @ axis_rotation("X", -pitch) @ _BASE @ axis_rotation("Y", yaw)
    frac = rng.uniform(*ranges.body_fraction, count)
    depth = f * 1.7 / (frac * h)
    principal = size / 2
    u = principal[:, 0] + rng.uniform(-ranges.centre_spread, ranges.centre_spread, count) * w
    v = principal[:, 1] + rng.uniform(-ranges.centre_spread, ranges.centre_spread, count) * h * 0.5
    pelvis = np.stack([(u - principal[:, 0]) * depth / f, (v - principal[:, 1]) * depth / f, depth], axis=-1)
    return Cameras(rot, pelvis, f, size, principal)


def to_camera(points_world: np.ndarray, pelvis_world: np.ndarray, cams: Cameras) -> np.ndarray:
    """(B, ..., 3) world points -> camera coordinates, pelvis placed at cams.pelvis_cam.

    points_world has the batch first; pelvis_world is (B, 3) (or broadcastable)."""
    extra = points_world.ndim - 2
    shape = (len(cams.rotation),) + (1,) * extra
    rel = points_world - pelvis_world.reshape(shape[:1] + (1,) * extra + (3,))
    r = cams.rotation.reshape(shape[:1] + (1,) * (extra - 1) + (3, 3)) if extra >= 1 else cams.rotation
    cam = np.einsum("...ij,...kj->...ki", r, rel)
    return cam + cams.pelvis_cam.reshape(shape[:1] + (1,) * extra + (3,))


def project(points_cam: np.ndarray, focal_px: np.ndarray, principal_px: np.ndarray) -> np.ndarray:
    """(B, ..., 3) camera points -> (B, ..., 2) pixels."""
    extra = points_cam.ndim - 2
    f = focal_px.reshape((-1,) + (1,) * extra)
    c = principal_px.reshape((-1,) + (1,) * extra + (2,))
    z = np.maximum(points_cam[..., 2], 0.05)
    return points_cam[..., :2] / z[..., None] * f[..., None] + c
