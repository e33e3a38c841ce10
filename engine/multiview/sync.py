"""The time offset between cameras' videos, found from the person's motion itself.

A body is rigid between its joints: only when two calibrated views show the same instant do the
limbs triangulated from them keep their lengths. For each candidate offset (in frames of the first
view) the person's confident keypoints are triangulated from both views, and the offset whose
limb lengths vary least over the take wins (the reprojection error is no guide: with cameras
facing each other, a wrong offset slides the keypoints along their epipolar lines and costs
nothing). Each view's left and right are resolved per frame first (a detector's swap is no motion)
and the spread of the lengths is measured between quartiles. Videos recorded together come out at
0: another offset must bring the spread under CLEAR_GAIN of that at 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.skeletons import KEYPOINT_CONFIDENT
from engine.multiview.cameras import Rig
from engine.multiview.triangulation import SWAP_GROUPS, apply_swaps, dlt, resolve_left_right

MAX_OFFSET_S = 2.0  # offsets searched: up to this many seconds either way
MAX_FRAMES_USED = 300  # frames sampled per candidate offset on long videos
MIN_OVERLAP = 0.6  # an offset counts when the views share at least this share of the frames sampled
# an offset other than 0 must make the limb lengths vary less than this share of their variation at 0
CLEAR_GAIN = 0.8
# the detector's keypoints joined by a rigid limb (shoulders, elbows, wrists, hips, knees, ankles)
LIMBS = ((11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28), (11, 12), (23, 24),
         (11, 23), (12, 24))
USED = sorted({k for limb in LIMBS for k in limb})
LIMB_GROUPS = tuple(g for g, pairs in enumerate(SWAP_GROUPS) if any(k in USED for pair in pairs for k in pair))


@dataclass(frozen=True)
class Offset:
    """frames: view b's frame i + frames shows the instant of view a's frame i. variation: the limbs'
    mean coefficient of variation at that offset; at_zero: at offset 0 (inf: too little seen)."""

    frames: int
    variation: float
    at_zero: float


def _variation_at(rig2: Rig, P: np.ndarray, kp_a, sc_a, kp_b, sc_b, n_a, n_b, lag: int, sample: np.ndarray) -> float:
    """The limbs' robust coefficient of variation with view b's frame i + lag against view a's frame
    i, each view's left and right resolved per frame first (a detector's swap is no motion)."""
    ia = sample[(sample + lag >= 0) & (sample + lag < len(kp_b))]
    ib = ia + lag
    w = np.stack([np.where(sc_a[ia] >= KEYPOINT_CONFIDENT, sc_a[ia], 0.0), np.where(sc_b[ib] >= KEYPOINT_CONFIDENT,
                                                                                  sc_b[ib], 0.0)])
    both = (w[:, :, USED] > 0).all(axis=0)
    if (both.sum(axis=1) >= 6).sum() < max(10, MIN_OVERLAP * len(sample)):
        return np.inf
    kp, n = np.stack([kp_a[ia], kp_b[ib]]), np.stack([n_a[ia], n_b[ib]])
    swapped = resolve_left_right(rig2, n, kp, w, groups=LIMB_GROUPS)
    n, w = apply_swaps(n, swapped), apply_swaps(w, swapped)
    pts = dlt(P, n[:, :, USED], w[:, :, USED])
    lengths = np.stack([np.linalg.norm(pts[:, USED.index(i)] - pts[:, USED.index(j)], axis=-1) for i, j in LIMBS], axis=1)
    counted = np.isfinite(lengths).sum(axis=0) >= 5
    if not counted.any():
        return np.inf
    with np.errstate(all="ignore"):  # robust: frames where a view swapped left and right weigh little
        q25, q50, q75 = np.nanpercentile(lengths[:, counted], [25, 50, 75], axis=0)
        return float(np.mean((q75 - q25) / q50))


def find_offset(rig2: Rig, keypoints_px: np.ndarray, scores: np.ndarray, fps: float,
                max_offset_s: float = MAX_OFFSET_S) -> Offset:
    """rig2: the two cameras (a, b). keypoints_px: a list/tuple of the two views' (T_v, K, 2), scores
    (T_v, K) (0 where nobody). Searches every whole-frame offset within max_offset_s."""
    kp_a, kp_b = (np.asarray(k, dtype=np.float64) for k in keypoints_px)
    sc_a, sc_b = (np.asarray(s, dtype=np.float64) for s in scores)
    n_a, n_b = rig2[0].normalise(kp_a), rig2[1].normalise(kp_b)
    P = np.stack([c.projection for c in rig2])
    seen = np.flatnonzero((sc_a[:, USED] >= KEYPOINT_CONFIDENT).sum(axis=1) >= 6)
    if len(seen) > MAX_FRAMES_USED:
        seen = seen[np.linspace(0, len(seen) - 1, MAX_FRAMES_USED).astype(int)]
    reach = int(round(max_offset_s * fps))
    errors = {lag: _variation_at(rig2, P, kp_a, sc_a, kp_b, sc_b, n_a, n_b, lag, seen) for lag in range(-reach, reach + 1)}
    best = min(errors, key=lambda lag: (errors[lag], abs(lag)))
    if errors[best] > CLEAR_GAIN * errors.get(0, np.inf):
        best = 0
    return Offset(best, errors[best], errors.get(0, np.inf))
