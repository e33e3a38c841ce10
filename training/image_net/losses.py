"""Losses of the image network (Habibie et al. 2019), each averaged over the labelled joints.

2D coordinates are normalised crop coordinates (-1..1); 3D poses root-relative metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.lift.nets.image_pose_net import heatmap_grid


@dataclass(frozen=True)
class LossWeights:
    heatmap: float = 1.0        # final latent heatmaps
    intermediate: float = 0.5   # each of the two intermediate 2D supervisions
    pose3d: float = 1.0         # L1 on the 3D joints (metres), 3D-labelled samples
    projection: float = 1.0     # L1 between the camera projection and the 2D labels
    bone: float = 1.0           # L1 on bone lengths (metres)
    sigma_cells: float = 1.0    # Gaussian width of the heatmap targets, in heatmap cells


def gaussian_heatmaps(joints2d: torch.Tensor, height: int, width: int, sigma_cells: float = 1.0) -> torch.Tensor:
    """(B, J, 2) normalised coords -> (B, J, H, W) Gaussians with peak 1."""
    gx = heatmap_grid(width, joints2d.device, joints2d.dtype)
    gy = heatmap_grid(height, joints2d.device, joints2d.dtype)
    sx, sy = 2.0 * sigma_cells / width, 2.0 * sigma_cells / height
    dx = (gx[None, None, :] - joints2d[..., :1]) ** 2 / (2 * sx ** 2)  # (B, J, W)
    dy = (gy[None, None, :] - joints2d[..., 1:]) ** 2 / (2 * sy ** 2)  # (B, J, H)
    return torch.exp(-(dy[..., :, None] + dx[..., None, :]))


def _masked(per_joint: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (per_joint * mask).sum() / mask.sum().clamp(min=1.0)


def heatmap_loss(pred: torch.Tensor, joints2d: torch.Tensor, vis: torch.Tensor, sigma_cells: float = 1.0) -> torch.Tensor:
    """Sum of squared differences per heatmap, averaged over labelled joints."""
    target = gaussian_heatmaps(joints2d, pred.shape[-2], pred.shape[-1], sigma_cells)
    per_joint = ((pred.float() - target) ** 2).sum(dim=(-1, -2))
    return _masked(per_joint, vis)


def pose3d_loss(pred: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    return _masked((pred.float() - gt).abs().sum(-1), valid)


def projection_loss(proj2d: torch.Tensor, joints2d: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    return _masked((proj2d.float() - joints2d).abs().sum(-1), vis)


def bone_lengths(pose: torch.Tensor, bones: torch.Tensor) -> torch.Tensor:
    """(B, J, 3), (Bn, 2) parent/child pairs -> (B, Bn)."""
    return (pose[:, bones[:, 1]] - pose[:, bones[:, 0]]).norm(dim=-1)


def bone_loss(pose3d: torch.Tensor, ref_lengths: torch.Tensor, bones: torch.Tensor,
              weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean |predicted bone length - reference|; `weight` (B,) leaves samples out with 0."""
    per = (bone_lengths(pose3d.float(), bones) - ref_lengths).abs().mean(-1)
    if weight is None:
        return per.mean()
    return (per * weight).sum() / weight.sum().clamp(min=1.0)


def reference_bones(batch: dict, bone_bank: torch.Tensor | None, generator: torch.Generator | None = None):
    """Per sample: its own bone lengths when 3D-labelled, else those of a random training subject.

    Returns (B, Bn) lengths and a (B,) weight (0 where there is no reference at all).
    """
    own = batch["bones"]
    has_own = (own > 0).all(-1).float()
    if bone_bank is None or len(bone_bank) == 0:
        return own, has_own
    pick = torch.randint(0, len(bone_bank), (len(own),), generator=generator, device=bone_bank.device)
    ref = torch.where(has_own[:, None] > 0, own, bone_bank[pick].to(own.device, own.dtype))
    return ref, torch.ones_like(has_own)


def image_net_losses(out: dict, batch: dict, bones: torch.Tensor, stage: str, weights: LossWeights = LossWeights(),
                     bone_bank: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """All terms and "total". stage "heatmap": 2D terms only; "joint": every term."""
    vis = batch["vis2d"]
    j2 = batch["joints2d"]
    terms = {"heatmap": heatmap_loss(out["heatmaps"], j2, vis, weights.sigma_cells)}
    terms["intermediate"] = sum(heatmap_loss(h, j2, vis, weights.sigma_cells) for h in out["intermediate"])
    total = weights.heatmap * terms["heatmap"] + weights.intermediate * terms["intermediate"]
    if stage == "joint":
        mask3d = batch["valid3d"] * batch["has3d"][:, None]
        terms["pose3d"] = pose3d_loss(out["pose3d"], batch["pose3d"], mask3d)
        terms["projection"] = projection_loss(out["proj2d"], j2, vis)
        ref, w = reference_bones(batch, bone_bank)
        terms["bone"] = bone_loss(out["pose3d"], ref, bones, w)
        total = total + weights.pose3d * terms["pose3d"] + weights.projection * terms["projection"] \
            + weights.bone * terms["bone"]
    elif stage != "heatmap":
        raise ValueError(f"stage must be 'heatmap' or 'joint', not {stage!r}")
    terms["total"] = total
    return terms
