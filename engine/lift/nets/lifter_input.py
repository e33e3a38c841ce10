"""The lifter's input: a window of the detector's keypoints normalised by the person's box (numpy
only, shared by the numpy network the program runs and the torch one training trains)."""

from __future__ import annotations

import numpy as np

NUM_KEYPOINTS = 33
MIN_BOX_PX = 16.0


def prepare_inputs(keypoints_px: np.ndarray, scores: np.ndarray, target: int = -1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalises a window of keypoints by the target frame's box.

    keypoints_px: (..., W, 33, 2); scores: (..., W, 33). Returns kp_norm (..., W, 33, 2) with
    missing keypoints (score 0) at 0, the box centre (..., 2) and size (...,) in pixels.
    """
    kp = np.asarray(keypoints_px, dtype=np.float64)
    sc = np.asarray(scores, dtype=np.float64)
    tk, ts = kp[..., target, :, :], sc[..., target, :]
    seen = ts > 0
    big = np.where(seen[..., None], tk, np.nan)
    with np.errstate(all="ignore"):
        lo, hi = np.nanmin(big, axis=-2), np.nanmax(big, axis=-2)
    none = ~seen.any(axis=-1)
    lo = np.where(none[..., None], 0.0, lo)
    hi = np.where(none[..., None], 1.0, hi)
    centre = 0.5 * (lo + hi)
    size = np.maximum((hi - lo).max(axis=-1), MIN_BOX_PX)
    norm = (kp - centre[..., None, None, :]) / size[..., None, None, None]
    norm = np.where((sc > 0)[..., None], norm, 0.0)
    return norm.astype(np.float32), centre, size
