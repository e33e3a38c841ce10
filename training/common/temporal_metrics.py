"""Temporal and skeletal quality of a pose sequence: bone-length variation, jitter, acceleration error.

Inputs are (T, J, 3) in metres at a known frame rate; NaN frames are skipped.
"""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import Skeleton


def bone_length_variation(joints: np.ndarray, skeleton: Skeleton) -> float:
    """Mean over bones of the coefficient of variation (std / mean) of its length over time."""
    ok = np.isfinite(joints).all(axis=(-1, -2))
    lengths = skeleton.bone_lengths(joints[ok])
    if len(lengths) < 2:
        return float("nan")
    return float((lengths.std(axis=0) / np.maximum(lengths.mean(axis=0), 1e-9)).mean())


def _acceleration(joints: np.ndarray, fps: float) -> np.ndarray:
    return (joints[2:] - 2 * joints[1:-1] + joints[:-2]) * fps * fps


def jitter(joints: np.ndarray, fps: float) -> float:
    """Mean magnitude of the joints' acceleration, m/s^2 (lower is smoother)."""
    acc = _acceleration(joints, fps)
    mag = np.linalg.norm(acc, axis=-1)
    return float(np.nanmean(mag))


def acceleration_error(pred: np.ndarray, gt: np.ndarray, fps: float) -> float:
    """Mean magnitude of the difference of predicted and true joint accelerations, m/s^2."""
    diff = np.linalg.norm(_acceleration(pred, fps) - _acceleration(gt, fps), axis=-1)
    return float(np.nanmean(diff))
