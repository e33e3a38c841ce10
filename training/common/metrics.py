"""3D pose metrics: MPJPE, 3D PCK and AUC, in the three protocols of Habibie et al. (CVPR 2019).

Every function takes `pred` and `gt` as (N, J, 3) arrays (numpy, or torch tensors, which are
converted) of root-relative joint positions, both in the same unit. Millimetres are the
default unit of the thresholded metrics; pass `units="m"` when the poses are in metres.
Distances come back in the unit of the input.

Protocols:
- unscaled: the poses as they are (`mpjpe`, `pck3d`, `auc3d`);
- globally scaled: each predicted pose is multiplied by the one scale factor that best fits the
  ground truth in the least-squares sense, s = <pred, gt> / <pred, pred> (`scaled_mpjpe`,
  `align="scale"`). This forgives a wrong overall size, as a pose from one image has;
- Procrustes: each predicted pose gets the similarity transform (rotation, uniform scale,
  translation; no reflection) that best fits the ground truth (`pa_mpjpe`, `align="procrustes"`).

`valid` (optional, (N, J) bool) leaves out joints without ground truth.
"""

from __future__ import annotations

import numpy as np

from engine.core.units import METRES_PER_UNIT

PCK_THRESHOLD_MM = 150.0
AUC_THRESHOLDS_MM = np.linspace(0.0, 150.0, 31)  # 0, 5, ..., 150 mm as in MPI-INF-3DHP's tools
_UNIT_PER_MM = {u: METRES_PER_UNIT["mm"] / METRES_PER_UNIT[u] for u in ("mm", "m")}


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def _check(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    pred, gt = _np(pred), _np(gt)
    if pred.ndim == 2:
        pred, gt = pred[None], gt[None]
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[-1] != 3:
        raise ValueError(f"pred and gt must both be (N, J, 3); got {pred.shape} and {gt.shape}")
    return pred, gt


def align_scale(pred, gt) -> np.ndarray:
    """Each pose of pred times its least-squares scale onto gt: (N, J, 3)."""
    pred, gt = _check(pred, gt)
    num = np.einsum("njc,njc->n", pred, gt)
    den = np.einsum("njc,njc->n", pred, pred)
    s = np.where(den > 0, num / np.maximum(den, 1e-12), 1.0)
    return pred * s[:, None, None]


def align_procrustes(pred, gt) -> np.ndarray:
    """Each pose of pred after its best similarity transform onto gt (no reflection): (N, J, 3)."""
    pred, gt = _check(pred, gt)
    mu_p = pred.mean(axis=1, keepdims=True)
    mu_g = gt.mean(axis=1, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    cov = np.einsum("nji,njk->nik", g, p)  # (N, 3, 3) = g^T p
    u, sig, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.ones_like(sig)
    fix[:, -1] = d
    rot = u @ (fix[:, :, None] * vt)  # (N, 3, 3), rotation taking p onto g
    var_p = np.einsum("njc,njc->n", p, p)
    scale = (sig * fix).sum(axis=1) / np.maximum(var_p, 1e-12)
    return scale[:, None, None] * np.einsum("nik,njk->nji", rot, p) + mu_g


def _aligned(pred, gt, align: str) -> tuple[np.ndarray, np.ndarray]:
    pred, gt = _check(pred, gt)
    if align in ("none", None):
        return pred, gt
    if align == "scale":
        return align_scale(pred, gt), gt
    if align == "procrustes":
        return align_procrustes(pred, gt), gt
    raise ValueError(f"align must be 'none', 'scale' or 'procrustes', not {align!r}")


def joint_errors(pred, gt, align: str = "none") -> np.ndarray:
    """(N, J) Euclidean distance per joint after the chosen alignment."""
    pred, gt = _aligned(pred, gt, align)
    return np.linalg.norm(pred - gt, axis=-1)


def rigid_mpjpe_mm(pred: np.ndarray, truth: np.ndarray) -> float:
    """(T, J, 3) metres -> mean joint error, mm, after the one rotation and translation that best
    align the whole take (joints missing on either side left out)."""
    ok = np.isfinite(pred).all(axis=-1) & np.isfinite(truth).all(axis=-1)
    a, b = pred[ok], truth[ok]
    ma, mb = a.mean(0), b.mean(0)
    u, _, vt = np.linalg.svd((a - ma).T @ (b - mb))
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    r = (u @ d @ vt).T
    return float(np.linalg.norm((a - ma) @ r.T + mb - b, axis=-1).mean() * 1000)


def _masked_mean(values: np.ndarray, valid) -> float:
    if valid is None:
        return float(values.mean())
    valid = _np(valid).astype(bool).reshape(values.shape)
    return float(values[valid].mean()) if valid.any() else float("nan")


def mpjpe(pred, gt, valid=None, align: str = "none") -> float:
    """Mean per-joint position error (unscaled protocol by default), in the input's unit."""
    return _masked_mean(joint_errors(pred, gt, align), valid)


def scaled_mpjpe(pred, gt, valid=None) -> float:
    """MPJPE after the global least-squares scale of each predicted pose."""
    return mpjpe(pred, gt, valid, align="scale")


def pa_mpjpe(pred, gt, valid=None) -> float:
    """MPJPE after Procrustes (similarity) alignment of each predicted pose."""
    return mpjpe(pred, gt, valid, align="procrustes")


def pck3d(pred, gt, threshold_mm: float = PCK_THRESHOLD_MM, units: str = "mm", valid=None,
          align: str = "none") -> float:
    """Fraction (0..1) of joints closer than `threshold_mm` to the ground truth."""
    thr = threshold_mm * _UNIT_PER_MM[units]
    return _masked_mean((joint_errors(pred, gt, align) <= thr).astype(np.float64), valid)


def auc3d(pred, gt, units: str = "mm", valid=None, align: str = "none",
          thresholds_mm: np.ndarray = AUC_THRESHOLDS_MM) -> float:
    """Area under the 3D PCK curve over 0..150 mm (mean PCK over the thresholds), 0..1."""
    err = joint_errors(pred, gt, align)
    return float(np.mean([_masked_mean((err <= t * _UNIT_PER_MM[units]).astype(np.float64), valid)
                          for t in thresholds_mm]))


PROTOCOLS = {"unscaled": "none", "scaled": "scale", "procrustes": "procrustes"}


def table_row_m(pred, gt) -> dict[str, float]:
    """One row of the lifter's evaluation table (docs/RESULTS.md) from poses in metres: MPJPE in
    the three protocols in mm, PCK@150 and AUC unscaled."""
    return {"mpjpe_mm": mpjpe(pred, gt) * 1000, "scaled_mpjpe_mm": scaled_mpjpe(pred, gt) * 1000,
            "pa_mpjpe_mm": pa_mpjpe(pred, gt) * 1000, "pck150": pck3d(pred, gt, units="m"),
            "auc": auc3d(pred, gt, units="m")}


def evaluate(pred, gt, units: str = "mm", valid=None, groups=None) -> dict:
    """All metrics in all three protocols: {protocol: {"mpjpe", "pck150", "auc"}}.

    MPJPE is reported in millimetres whatever the input unit. With `groups` ((N,) labels, e.g.
    MPI-INF-3DHP's scene types), the result also has "by_group": {label: same dict}.
    """
    pred, gt = _check(pred, gt)
    to_mm = 1.0 / _UNIT_PER_MM[units]
    out: dict = {}
    for name, align in PROTOCOLS.items():
        out[name] = {
            "mpjpe": mpjpe(pred, gt, valid, align) * to_mm,
            "pck150": pck3d(pred, gt, units=units, valid=valid, align=align),
            "auc": auc3d(pred, gt, units=units, valid=valid, align=align),
        }
    out["count"] = int(len(pred))
    if groups is not None:
        groups = np.asarray(groups)
        out["by_group"] = {}
        for g in sorted(set(groups.tolist()), key=str):
            m = groups == g
            out["by_group"][str(g)] = evaluate(pred[m], gt[m], units,
                                               None if valid is None else _np(valid)[m])
    return out
