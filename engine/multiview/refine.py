"""Triangulated keypoints refined so the body's limbs keep one length through the take.

    lengths = bone_lengths(points)                       # (E,) the take's own, or a live history's
    points = refine_points(rig, normalised, weights, points, lengths)

Two views pin a keypoint down across their lines of sight but hardly along them when the cameras
face each other or look the same way: there a few pixels of detector error (a keypoint a camera
sees from behind, a limb it half confuses with the other side) move a keypoint by centimetres, and
the limb it ends stretches or shrinks. A body's limbs do not change length, so one least-squares
solve per frame weighs, each by its uncertainty:

- each view's ray through a keypoint: the point's distance from it over its depth (an angle),
  against RAY_SIGMA_RAD, weighted by the view's confidence;
- each limb (MEDIAPIPE_33's edges: bones, shoulder and hip widths): its length against the
  median length of that limb (the take's, or the frames seen so far live; a left limb and its
  right twin held to their mean), against LENGTH_SIGMA_M; linearised along the limb's direction
  in the triangulated frame.

The geometry's conditioning sets the balance by itself: where rays cross at a wide angle they
win in every direction; along the direction they hardly constrain, the limbs' lengths decide.
Each frame is one small dense system (3 x 33 unknowns), solved vectorised over frames; it needs
no history beyond the lengths, so live capture runs it per frame as it comes.
"""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import MEDIAPIPE_33
from engine.multiview.cameras import Rig

RAY_SIGMA_RAD = 0.004  # a keypoint's angular error in a view: about 7 px on a 1700 px focal length
LENGTH_SIGMA_M = 0.02  # how far a limb may stray from its usual length in a frame
# a limb and its twin on the other side are held to their mean when their medians differ by less
# than this share (more: the body, or what the detector calls that keypoint, is not symmetric there)
TWIN_TOLERANCE = 0.25
ANCHOR_SIGMA_M = 3.0  # a weak pull towards the triangulated point, only so the system is never singular
CHUNK_FRAMES = 256  # frames solved at once (memory: CHUNK_FRAMES x 99 x 99 doubles)
EDGES = np.array(MEDIAPIPE_33.edges, dtype=int)  # (E, 2) the limbs whose lengths are held


def _mirror_edges() -> np.ndarray:
    """(E,) each limb's left/right twin in EDGES (itself for the limbs across the body)."""
    perm = MEDIAPIPE_33.mirror_permutation()
    where = {frozenset((int(a), int(c))): e for e, (a, c) in enumerate(EDGES)}
    return np.array([where.get(frozenset((int(perm[a]), int(perm[c]))), e) for e, (a, c) in enumerate(EDGES)])


MIRROR_EDGES = _mirror_edges()


def limb_lengths(points: np.ndarray) -> np.ndarray:
    """(..., E) each limb's length in points (..., K, 3), NaN where an end is missing."""
    return np.linalg.norm(points[..., EDGES[:, 1], :] - points[..., EDGES[:, 0], :], axis=-1)


def bone_lengths(points: np.ndarray) -> np.ndarray:
    """(E,) each limb's length over the frames of points (T, K, 3): the median of the frames'
    lengths (`usual_lengths`)."""
    return usual_lengths(limb_lengths(points))


def usual_lengths(lengths: np.ndarray) -> np.ndarray:
    """(E,) from frames' limb lengths (T, E): each limb's median, the same for its left and right
    twins where they nearly agree (their mean: a body is symmetric, and the side a camera sees
    worse is the one that strays; TWIN_TOLERANCE); NaN where never seen."""
    median = np.full(lengths.shape[-1], np.nan)
    seen = np.isfinite(lengths).any(axis=0)
    median[seen] = np.nanmedian(lengths[:, seen], axis=0)
    twin = median[MIRROR_EDGES]
    with np.errstate(invalid="ignore", divide="ignore"):
        close = np.abs(median - twin) < TWIN_TOLERANCE * np.minimum(median, twin)
    return np.where(close, 0.5 * (median + twin), median)


def refine_points(rig: Rig, normalised: np.ndarray, weights: np.ndarray, points: np.ndarray,
                  lengths: np.ndarray, ray_sigma_rad: float = RAY_SIGMA_RAD,
                  length_sigma_m: float = LENGTH_SIGMA_M) -> np.ndarray:
    """normalised (V, T, K, 2) undistorted coordinates; weights (V, T, K) each view's confidence (0:
    not used); points (T, K, 3) the triangulated keypoints (NaN where none); lengths (E,) each
    limb's length (NaN: not held). Returns (T, K, 3): the finite keypoints refined, the others NaN."""
    out = np.full(points.shape, np.nan)
    for start in range(0, points.shape[0], CHUNK_FRAMES):
        part = slice(start, start + CHUNK_FRAMES)
        out[part] = _solve(rig, normalised[:, part], weights[:, part], points[part], lengths,
                           ray_sigma_rad, length_sigma_m)
    return out


def _add_pair(H: np.ndarray, b: np.ndarray, a: int, c: int, block: np.ndarray, target: np.ndarray) -> None:
    """In place: the residual block^(1/2) ((x_c - x_a) - target) for every frame. block (T, 3, 3)."""
    H[:, a, :, a, :] += block
    H[:, c, :, c, :] += block
    H[:, a, :, c, :] -= block
    H[:, c, :, a, :] -= block
    pull = block @ target[..., None]
    b[:, c] += pull[..., 0]
    b[:, a] -= pull[..., 0]


def _solve(rig: Rig, normalised: np.ndarray, weights: np.ndarray, points: np.ndarray, lengths: np.ndarray,
           ray_sigma_rad: float, length_sigma_m: float) -> np.ndarray:
    t_count, k_count = points.shape[:2]
    have = np.isfinite(points).all(axis=-1)
    x0 = np.where(have[..., None], points, 0.0)
    H = np.zeros((t_count, k_count, 3, k_count, 3))
    b = np.zeros((t_count, k_count, 3))
    diag = np.arange(k_count)
    eye = np.eye(3)
    # each view's ray: (I - d d^T)(x - C) / depth, an angle, against ray_sigma_rad
    for v, cam in enumerate(rig):
        centre = cam.centre_m
        n = normalised[v]
        ray = np.concatenate([n, np.ones(n.shape[:-1] + (1,))], axis=-1) @ cam.R  # camera -> world axes
        ray /= np.linalg.norm(ray, axis=-1, keepdims=True)
        depth = np.linalg.norm(x0 - centre, axis=-1)
        w = np.where(have & np.isfinite(ray).all(axis=-1), weights[v], 0.0)
        w = w / np.maximum(depth, 0.1) ** 2 / ray_sigma_rad ** 2
        ray = np.nan_to_num(ray)
        M = w[..., None, None] * (eye - ray[..., :, None] * ray[..., None, :])  # (T, K, 3, 3)
        H[:, diag, :, diag, :] += M.transpose(1, 0, 2, 3)
        b += M @ centre
    # each limb: its length along its present direction, u . (x_c - x_a) = L
    for e, (a, c) in enumerate(EDGES):
        if not np.isfinite(lengths[e]):
            continue
        u = x0[:, c] - x0[:, a]
        norm = np.linalg.norm(u, axis=-1, keepdims=True)
        ok = have[:, a] & have[:, c] & (norm[:, 0] > 1e-6)
        u = np.where(ok[:, None], u / np.maximum(norm, 1e-9), 0.0)
        _add_pair(H, b, a, c, u[:, :, None] * u[:, None, :] / length_sigma_m ** 2, u * lengths[e])
    anchor = 1.0 / ANCHOR_SIGMA_M ** 2
    H[:, diag, :, diag, :] += anchor * eye
    b += anchor * x0
    solved = np.linalg.solve(H.reshape(t_count, 3 * k_count, 3 * k_count), b.reshape(t_count, 3 * k_count, 1))
    return np.where(have[..., None], solved.reshape(t_count, k_count, 3), np.nan)
