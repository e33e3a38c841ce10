"""Crops around a person for the image network, and the perspective correction that goes with them.

A crop is a square around the person's box, scaled to `out_size` pixels (optionally rotated in
the image plane). An affine crop of an off-centre person sees them from the side, but the crop
looks like a centred view: the network's 3D output is therefore in the axes of a *virtual
camera* turned to look through the crop centre. `virtual_camera_rotation` gives that rotation R
(camera-frame vectors v map to virtual-frame vectors R @ v):

    training target:  pose_virtual = pose_camera @ R.T      (`to_virtual`)
    inference output: pose_camera  = pose_virtual @ R       (`from_virtual`)

An in-plane rotation of the crop by `angle` (degrees, counter-clockwise as seen on screen, i.e.
from +x towards -y) is a rotation of the virtual camera about its z axis; it is folded into R.

Normalised crop coordinates: u = 2 * x_crop_px / out_size - 1 (and v likewise), -1..1.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.core.skeletons import KEYPOINT_SCORE_MIN
from engine.lift.camera import DEFAULT_FOV_DEG, Intrinsics

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def default_focal_px(image_size: tuple[int, int], hfov_deg: float = DEFAULT_FOV_DEG) -> float:
    """Focal length in pixels of a camera with `hfov_deg` across the wider image side."""
    return Intrinsics.from_fov(image_size, hfov_deg).fx


def intrinsics(focal_px: float, image_size: tuple[int, int], principal=None) -> np.ndarray:
    """3x3 K with the principal point at the image centre unless given. image_size: (w, h)."""
    cx, cy = principal if principal is not None else (image_size[0] / 2, image_size[1] / 2)
    return np.array([[focal_px, 0, cx], [0, focal_px, cy], [0, 0, 1.0]])


def square_box(box_xyxy, scale: float = 1.25) -> tuple[np.ndarray, float]:
    """(x0, y0, x1, y1) -> (centre (2,), side) of the square around it, enlarged by `scale`."""
    x0, y0, x1, y1 = (float(v) for v in box_xyxy)
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    return centre, max(x1 - x0, y1 - y0, 1.0) * scale


def box_from_keypoints(keypoints_px: np.ndarray, scores: np.ndarray | None = None,
                       min_score: float = KEYPOINT_SCORE_MIN) -> np.ndarray:
    """(K, 2) keypoints -> (4,) box of the confident ones (all of them when none is confident)."""
    pts = keypoints_px if scores is None else keypoints_px[np.asarray(scores) > min_score]
    if len(pts) == 0:
        pts = keypoints_px
    pts = pts[np.isfinite(pts).all(axis=1)]
    return np.concatenate([pts.min(axis=0), pts.max(axis=0)])


@dataclass(frozen=True)
class Crop:
    """matrix: 2x3 affine, image pixels -> crop pixels. rotation: 3x3, camera -> virtual camera."""

    matrix: np.ndarray
    out_size: int
    rotation: np.ndarray
    centre_px: np.ndarray
    side_px: float

    def image_to_norm(self, points_px: np.ndarray) -> np.ndarray:
        """(..., 2) image pixels -> (..., 2) normalised crop coordinates."""
        crop = points_px @ self.matrix[:, :2].T + self.matrix[:, 2]
        return crop / self.out_size * 2 - 1

    def norm_to_image(self, points_norm: np.ndarray) -> np.ndarray:
        """(..., 2) normalised crop coordinates -> (..., 2) image pixels."""
        crop = (points_norm + 1) / 2 * self.out_size
        inv = cv2.invertAffineTransform(self.matrix)
        return crop @ inv[:, :2].T + inv[:, 2]

    def to_virtual(self, joints_cam: np.ndarray) -> np.ndarray:
        return joints_cam @ self.rotation.T

    def from_virtual(self, joints_virtual: np.ndarray) -> np.ndarray:
        return joints_virtual @ self.rotation


def rotation_to_ray(direction: np.ndarray) -> np.ndarray:
    """The smallest rotation R with R @ direction/|direction| = (0, 0, 1)."""
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(d, z)
    s, c = np.linalg.norm(axis), float(d @ z)
    if s < 1e-12:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    k = axis / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * kx + (1 - c) * kx @ kx


def in_plane_rotation(angle_deg: float) -> np.ndarray:
    """2x2 rotation of image points by `angle_deg` counter-clockwise on screen (y points down)."""
    a = np.radians(angle_deg)
    return np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])


def virtual_camera_rotation(centre_px, K: np.ndarray | None, angle_deg: float = 0.0) -> np.ndarray:
    """Camera -> virtual camera rotation for a crop centred at `centre_px`, rotated by `angle_deg`.

    K None: no perspective correction (only the in-plane rotation).
    """
    r = np.eye(3)
    if K is not None:
        ray = np.linalg.solve(K, np.array([centre_px[0], centre_px[1], 1.0]))
        r = rotation_to_ray(ray)
    rz = np.eye(3)
    rz[:2, :2] = in_plane_rotation(angle_deg)
    return rz @ r


def make_crop(box_xyxy=None, out_size: int = 256, K: np.ndarray | None = None, scale: float = 1.25,
              angle_deg: float = 0.0, centre_px=None, side_px: float | None = None) -> Crop:
    """A square crop around `box_xyxy` (or around `centre_px` with side `side_px`)."""
    if centre_px is None or side_px is None:
        centre_px, side_px = square_box(box_xyxy, scale)
    centre_px = np.asarray(centre_px, dtype=np.float64)
    a = in_plane_rotation(angle_deg) * (out_size / side_px)
    t = np.array([out_size / 2, out_size / 2]) - a @ centre_px
    matrix = np.concatenate([a, t[:, None]], axis=1)
    return Crop(matrix, out_size, virtual_camera_rotation(centre_px, K, angle_deg), centre_px, float(side_px))


def crop_image(image: np.ndarray, crop: Crop) -> np.ndarray:
    """Warps `image` (H, W, C) into the (out_size, out_size, C) crop; outside is black."""
    return cv2.warpAffine(image, crop.matrix, (crop.out_size, crop.out_size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def normalise_rgb(crop_rgb: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8 RGB -> (3, S, S) float32, ImageNet mean/std normalised."""
    x = crop_rgb.astype(np.float32) / 255.0
    return ((x - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1).copy()
