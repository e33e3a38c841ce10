"""Pose accuracy metrics used by the lifter's evaluation (Habibie et al.'s set).

All take (N, J, 3) predictions and ground truth in metres, already root-relative, and return
millimetres (MPJPE family) or fractions (PCK, AUC). A sample's error is averaged over its joints.
"""

from __future__ import annotations

import numpy as np


def mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean per-joint position error, mm."""
    return float(np.linalg.norm(pred - gt, axis=-1).mean() * 1000)


def _scale_to(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    s = (pred * gt).sum(axis=(-1, -2)) / np.maximum((pred * pred).sum(axis=(-1, -2)), 1e-12)
    return pred * s[..., None, None]


def scaled_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after the least-squares scale of each predicted pose, mm."""
    return mpjpe(_scale_to(pred, gt), gt)


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Each predicted pose after the similarity transform (rotation, scale, translation) closest to gt."""
    mp, mg = pred.mean(axis=-2, keepdims=True), gt.mean(axis=-2, keepdims=True)
    p, g = pred - mp, gt - mg
    h = np.einsum("...ji,...jk->...ik", p, g)
    u, s, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.einsum("...ij,...jk->...ik", u, vt)))
    fix = np.ones_like(s)
    fix[..., -1] = d
    r = np.einsum("...ij,...j,...jk->...ik", u, fix, vt)
    scale = (s * fix).sum(-1) / np.maximum((p * p).sum(axis=(-1, -2)), 1e-12)
    return scale[..., None, None] * (p @ r) + mg


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after Procrustes alignment of each pose, mm."""
    return mpjpe(procrustes_align(pred, gt), gt)


def pck3d(pred: np.ndarray, gt: np.ndarray, threshold_mm: float = 150.0) -> float:
    """Fraction of joints within threshold_mm of the truth."""
    return float((np.linalg.norm(pred - gt, axis=-1) * 1000 <= threshold_mm).mean())


def auc3d(pred: np.ndarray, gt: np.ndarray, max_mm: float = 150.0, steps: int = 31) -> float:
    """Area under the PCK curve over thresholds 0..max_mm, normalised to [0, 1]."""
    err = np.linalg.norm(pred - gt, axis=-1) * 1000
    return float(np.mean([(err <= t).mean() for t in np.linspace(0, max_mm, steps)]))


def all_metrics(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    return {"mpjpe_mm": mpjpe(pred, gt), "scaled_mpjpe_mm": scaled_mpjpe(pred, gt), "pa_mpjpe_mm": pa_mpjpe(pred, gt),
            "pck150": pck3d(pred, gt), "auc": auc3d(pred, gt)}
