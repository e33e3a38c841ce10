"""One bundle adjustment for every calibration that places cameras (scipy.optimize.least_squares).

    adjusted = bundle_adjust(cameras, poses, bodies, observations, rigid=False)

Unknowns: the pose of every camera but the first (the world's origin, which fixes the gauge) and
of every body. A body is a free 3D point (`rigid=False`: 3 numbers, its position; the person's
keypoints) or a rigid object of known shape (`rigid=True`: 6 numbers, a Rodrigues rotation and a
translation; a calibration board in one view, whose corners are known on it). Each observation is a
pixel where a camera saw a body's point; the residual is the reprojection error with the camera's
lens distortion, under a robust loss (soft L1), with a sparse Jacobian. After each round but the
last, observations further off than `outlier_times_median` times the median count no more (a
keypoint the detector put on the wrong limb, a misread corner).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.multiview.cameras import Camera, distort_to_pixels


@dataclass(frozen=True)
class Observations:
    """N observations: camera (N,) and body (N,) indices, local (N, 3) the point in its body's frame
    (zeros for free points), pixels (N, 2) where the camera saw it."""

    camera: np.ndarray
    body: np.ndarray
    local: np.ndarray
    pixels: np.ndarray


@dataclass(frozen=True)
class Adjusted:
    rotations: list[np.ndarray]  # world -> camera, per camera
    translations: list[np.ndarray]
    bodies: np.ndarray  # (M, 3) or (M, 6) as given
    errors_px: np.ndarray  # (N,) reprojection error of every observation
    kept: np.ndarray  # (N,) bool: observations within outlier_times_median of the median after the last round


def rodrigues(rvec: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.Rodrigues(np.asarray(rvec, dtype=np.float64).reshape(3, 1))[0]


def rotate(rvecs: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 3) points each turned by its (N, 3) Rodrigues vector."""
    theta = np.linalg.norm(rvecs, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(theta > 1e-12, rvecs / theta, 0.0)
    cos, sin = np.cos(theta), np.sin(theta)
    return points * cos + np.cross(k, points) * sin + k * np.sum(k * points, axis=1, keepdims=True) * (1 - cos)


def bundle_adjust(cameras: list[Camera], poses: list[tuple[np.ndarray, np.ndarray]], bodies: np.ndarray,
                  obs: Observations, rigid: bool, loss_px: float = 3.0, outlier_rounds: int = 1,
                  outlier_times_median: float = 3.0, max_nfev: int = 60) -> Adjusted:
    """cameras: intrinsics (held); poses: each camera's initial world -> camera (R, t), the first
    held; bodies: (M, 6) [rvec, t] when rigid, else (M, 3) positions."""
    import cv2
    from scipy.optimize import least_squares
    from scipy.sparse import lil_matrix

    v_count, width = len(cameras), 6 if rigid else 3
    n_cam = 6 * (v_count - 1)
    bodies = np.asarray(bodies, dtype=np.float64).reshape(-1, width)
    n_obs = len(obs.camera)
    per_camera = [np.flatnonzero(obs.camera == v) for v in range(v_count)]

    def unpack(x):
        rt = x[:n_cam].reshape(-1, 6)
        Rs = [np.asarray(poses[0][0], dtype=np.float64)] + [rodrigues(r[:3]) for r in rt]
        ts = [np.asarray(poses[0][1], dtype=np.float64)] + [r[3:] for r in rt]
        return Rs, ts, x[n_cam:].reshape(-1, width)

    def residuals(x):
        Rs, ts, B = unpack(x)
        if rigid:
            world = rotate(B[obs.body, :3], obs.local) + B[obs.body, 3:]
        else:
            world = B[obs.body] + obs.local
        out = np.empty((n_obs, 2))
        for v, sel in enumerate(per_camera):
            cam_pts = world[sel] @ Rs[v].T + ts[v]
            out[sel] = distort_to_pixels(cam_pts, cameras[v].K, cameras[v].dist) - obs.pixels[sel]
        return np.nan_to_num(out, nan=1e4).ravel()

    sparsity = lil_matrix((2 * n_obs, n_cam + width * len(bodies)), dtype=np.uint8)
    rows = np.arange(n_obs)
    for k in range(2):
        for j in range(width):
            sparsity[2 * rows + k, n_cam + width * obs.body + j] = 1
        for v in range(1, v_count):
            sel = per_camera[v]
            for j in range(6):
                sparsity[2 * sel + k, 6 * (v - 1) + j] = 1
    cam_params = [np.concatenate([cv2.Rodrigues(np.asarray(R, dtype=np.float64))[0].ravel(), np.ravel(t)])
                  for R, t in poses[1:]]
    x = np.concatenate(cam_params + [bodies.ravel()])
    weights = np.ones(n_obs)

    def weighted(x):
        return residuals(x) * np.repeat(weights, 2)

    for _ in range(outlier_rounds + 1):
        x = least_squares(weighted, x, jac_sparsity=sparsity, loss="soft_l1", f_scale=loss_px, x_scale="jac",
                          method="trf", max_nfev=max_nfev, ftol=1e-6, xtol=1e-8).x
        err = np.linalg.norm(residuals(x).reshape(-1, 2), axis=1)
        weights = (err <= outlier_times_median * np.median(err[weights > 0])).astype(float)
    Rs, ts, B = unpack(x)
    return Adjusted(Rs, ts, B, err, weights > 0)
