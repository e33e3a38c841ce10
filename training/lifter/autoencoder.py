"""The affine-combining autoencoder (Sarandi et al., WACV 2023) over every output format's joints.

A few latent 3D points are affine combinations of all joints of all formats (encoder), and every
joint is an affine combination of the latent points (decoder). Weights in each row sum to one,
so encoding and decoding commute with rotation, translation and scaling; the latent points come
in left/right pairs plus central ones and the weights are symmetrised so they also commute with
mirroring (x -> -x with left/right joints exchanged). An L1 penalty keeps the weights sparse; the
reconstruction loss is L1 in 3D and in 2D projection.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def concat_permutation(perms: list[np.ndarray]) -> np.ndarray:
    """Per-format mirror permutations -> one over the concatenated joints."""
    out, offset = [], 0
    for p in perms:
        out.append(np.asarray(p) + offset)
        offset += len(p)
    return np.concatenate(out)


class AffineAutoencoder(nn.Module):
    def __init__(self, joint_perm: list[int], side_pairs: int = 12, central: int = 8):
        super().__init__()
        self.num_joints = len(joint_perm)
        self.side_pairs = side_pairs
        self.central = central
        k = 2 * side_pairs + central
        self.num_latent = k
        q = np.arange(k)
        q[:side_pairs], q[side_pairs:2 * side_pairs] = np.arange(side_pairs, 2 * side_pairs), np.arange(side_pairs)
        self.register_buffer("joint_perm", torch.as_tensor(np.asarray(joint_perm), dtype=torch.long))
        self.register_buffer("latent_perm", torch.as_tensor(q, dtype=torch.long))
        g = torch.Generator().manual_seed(0)
        self.enc_raw = nn.Parameter(torch.rand(k, self.num_joints, generator=g) / self.num_joints)
        self.dec_raw = nn.Parameter(torch.rand(self.num_joints, k, generator=g) / k)

    def config(self) -> dict:
        return {"joint_perm": self.joint_perm.tolist(), "side_pairs": self.side_pairs, "central": self.central}

    @staticmethod
    def _affine(w: torch.Tensor) -> torch.Tensor:
        return w + (1 - w.sum(dim=-1, keepdim=True)) / w.shape[-1]

    def encoder_weights(self) -> torch.Tensor:
        """(K, J): rows sum to one; mirror-symmetric: E[Q][:, P] == E."""
        e = self._affine(self.enc_raw)
        return 0.5 * (e + e[self.latent_perm][:, self.joint_perm])

    def decoder_weights(self) -> torch.Tensor:
        """(J, K): rows sum to one; mirror-symmetric: D[P][:, Q] == D."""
        d = self._affine(self.dec_raw)
        return 0.5 * (d + d[self.joint_perm][:, self.latent_perm])

    def encode(self, joints: torch.Tensor) -> torch.Tensor:
        return torch.einsum("kj,...jd->...kd", self.encoder_weights(), joints)

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return torch.einsum("jk,...kd->...jd", self.decoder_weights(), latent)

    def forward(self, joints: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(joints))

    def loss(self, joints: torch.Tensor, sparsity: float = 1e-3, depth_m: float = 4.0) -> tuple[torch.Tensor, dict]:
        """joints: (B, J, 3) root-relative metres in camera axes."""
        rec = self(joints)
        l3 = (rec - joints).abs().mean()
        z = lambda x: (x[..., 2:3] + depth_m).clamp(min=0.5)
        l2 = (rec[..., :2] / z(rec) - joints[..., :2] / z(joints)).abs().mean() * depth_m
        sp = self.encoder_weights().abs().sum(-1).mean() + self.decoder_weights().abs().sum(-1).mean()
        total = l3 + l2 + sparsity * sp
        return total, {"ae_l1_3d_m": float(l3), "ae_l1_2d_m": float(l2), "ae_weight_l1": float(sp)}


def fit_autoencoder(joints: np.ndarray, joint_perm: np.ndarray, steps: int = 3000, side_pairs: int = 24,
                    central: int = 16, sparsity: float = 1e-4, lr: float = 1e-2, seed: int = 0,
                    log=print) -> AffineAutoencoder:
    """Fits the autoencoder to (N, J, 3) predictions (or labels) of every format."""
    torch.manual_seed(seed)
    ae = AffineAutoencoder(list(joint_perm), side_pairs, central)
    opt = torch.optim.Adam(ae.parameters(), lr=lr)
    data = torch.as_tensor(joints, dtype=torch.float32)
    g = torch.Generator().manual_seed(seed)
    for step in range(steps):
        batch = data[torch.randint(0, len(data), (512,), generator=g)]
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1 + np.cos(np.pi * step / steps))
        loss, parts = ae.loss(batch, sparsity)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 500 == 0 or step == steps - 1:
            log(f"autoencoder step {step}/{steps} " + " ".join(f"{k}={v:.4f}" for k, v in parts.items()))
    return ae.eval()
