"""Monocap's 3D lifter network (seed 1, run behind the detector) and its checkpoint format.

Input, per frame of a short window: the detector's 33 keypoints, normalised by the person's box
(`prepare_inputs`), with their scores (0: missing), and the detector's own metric 3D when there
is one. The target frame's keypoints are also rendered as explicit 2D heatmap channels (one per
keypoint, weighted by its score) that a small conv stack reads, beside an MLP over the
coordinates. Output: for every skeleton format the model was trained on, root-relative 3D joints
in metres in camera axes (x right, y down, z forward), relative to the pelvis (the midpoint of
the hip joints), plus a weak-perspective camera (scale, principal point) mapping the 3D pose onto
the normalised 2D keypoints: uv = s * xy + c.

The checkpoint carries the constructor arguments and every output skeleton (names, parents,
mirror pairs), so `load_lifter(path)` rebuilds the model without guessing.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from engine.lift.nets.lifter_input import NUM_KEYPOINTS, prepare_inputs  # noqa: F401 - training imports it here


class _Block(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(width, width), nn.LayerNorm(width), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(width, width), nn.LayerNorm(width), nn.GELU(), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class LifterNet(nn.Module):
    """formats: {name: num_joints} output heads. window: frames in; target: the frame lifted
    (-1: the last, causal; window // 2: the centre)."""

    def __init__(self, formats: dict[str, int], window: int = 1, target: int = -1, width: int = 768,
                 blocks: int = 2, heatmap_size: int = 16, heatmap_sigma: float = 0.06, dropout: float = 0.05,
                 latent_points: int = 0):
        super().__init__()
        self.formats = dict(formats)
        self.window = window
        self.target = target
        self.heatmap_size = heatmap_size
        self.heatmap_sigma = heatmap_sigma
        self.latent_points = latent_points
        k = NUM_KEYPOINTS
        self.conv = nn.Sequential(
            nn.Conv2d(k, 64, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.GELU(),
        )
        conv_out = 64 * (heatmap_size // 4) ** 2
        coord_in = window * k * 3 + window * (k * 3 + 1)
        self.stem = nn.Sequential(nn.Linear(conv_out + coord_in, width), nn.LayerNorm(width), nn.GELU())
        self.blocks = nn.Sequential(*[_Block(width, dropout) for _ in range(blocks)])
        self.heads = nn.ModuleDict({name: nn.Linear(width, j * 3) for name, j in self.formats.items()})
        self.latent_head = nn.Linear(width, latent_points * 3) if latent_points else None
        self.camera = nn.Linear(width, 3)
        grid = torch.linspace(-0.6, 0.6, heatmap_size)
        self.register_buffer("grid", grid, persistent=False)

    def config(self) -> dict:
        return {"formats": self.formats, "window": self.window, "target": self.target,
                "width": self.stem[0].out_features, "blocks": len(self.blocks), "heatmap_size": self.heatmap_size,
                "heatmap_sigma": self.heatmap_sigma, "dropout": self.blocks[0].net[3].p if len(self.blocks) else 0.0,
                "latent_points": self.latent_points}

    def heatmaps(self, kp: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """kp (B, 33, 2) normalised, scores (B, 33) -> (B, 33, H, H) explicit 2D heatmaps."""
        g = self.grid
        dx = (g[None, None, :] - kp[..., 0:1]) ** 2  # (B, 33, H)
        dy = (g[None, None, :] - kp[..., 1:2]) ** 2
        s2 = 2 * self.heatmap_sigma ** 2
        return torch.exp(-(dy[..., :, None] + dx[..., None, :]) / s2) * scores[..., None, None]

    def features(self, kp: torch.Tensor, scores: torch.Tensor, det3d: torch.Tensor, det_valid: torch.Tensor) -> torch.Tensor:
        """kp (B, W, 33, 2), scores (B, W, 33), det3d (B, W, 33, 3), det_valid (B, W) -> (B, width)."""
        b = kp.shape[0]
        maps = self.heatmaps(kp[:, self.target], scores[:, self.target])
        conv = self.conv(maps).reshape(b, -1)
        coords = torch.cat([kp, scores[..., None]], dim=-1).reshape(b, -1)
        d = torch.cat([(det3d * det_valid[..., None, None]).reshape(b, -1), det_valid], dim=-1)
        return self.blocks(self.stem(torch.cat([conv, coords, d], dim=-1)))

    def forward(self, kp: torch.Tensor, scores: torch.Tensor, det3d: torch.Tensor, det_valid: torch.Tensor) -> dict:
        h = self.features(kp, scores, det3d, det_valid)
        out = {name: head(h).reshape(h.shape[0], -1, 3) for name, head in self.heads.items()}
        cam = self.camera(h)
        out["camera"] = torch.cat([nn.functional.softplus(cam[:, :1] + 1.0), cam[:, 1:]], dim=-1)
        if self.latent_head is not None:
            out["latent"] = self.latent_head(h).reshape(h.shape[0], -1, 3)
        return out


def save_lifter(path: str | Path, model: LifterNet, skeletons: dict, extra: dict | None = None,
                decoder: dict | None = None) -> None:
    """Writes the model with its constructor arguments and output skeletons, atomically.

    skeletons: {format: Skeleton}. decoder: optional affine decoder {"weights": (J_all, K) tensor,
    "formats": [(name, num_joints), ...], "mode": "hybrid"|"latent"|"heads"} for consistent output."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sk = {name: {"joint_names": list(s.joint_names), "parents": list(s.parents),
                 "mirror_pairs": [list(p) for p in s.mirror_pairs]} for name, s in skeletons.items()}
    state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
    blob = {"class": "LifterNet", "kwargs": model.config(), "state_dict": state, "skeletons": sk,
            "extra": extra or {}, "decoder": decoder}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)


def load_lifter(path: str | Path, device: str | torch.device = "cpu") -> tuple[LifterNet, dict]:
    """Rebuilds the model from a checkpoint. Returns (model in eval mode, the whole checkpoint dict)."""
    blob = torch.load(Path(path), map_location=device, weights_only=False)
    if blob.get("class") != "LifterNet":
        raise ValueError(f"{path}: not a lifter checkpoint")
    model = LifterNet(**blob["kwargs"])
    model.load_state_dict(blob["state_dict"])
    model.to(device).eval()
    return model, blob


def consistent_outputs(out: dict, formats: list[str], encoder: torch.Tensor | None, decoder: torch.Tensor | None,
                       mode: str) -> dict:
    """Applies the affine autoencoder's consistency to the heads' outputs.

    mode "heads": the heads as they are; "hybrid": every format's joints encoded to the latent
    points and decoded back (all formats then agree); "latent": the model's latent points decoded.
    encoder (K, J_all) and decoder (J_all, K) are the autoencoder's affine weights over the
    formats' joints concatenated in `formats` order."""
    if mode == "heads" or decoder is None:
        return out
    if mode == "hybrid":
        joints = torch.cat([out[f] for f in formats], dim=1)
        latent = torch.einsum("kj,bjd->bkd", encoder, joints)
    elif mode == "latent":
        latent = out["latent"]
    else:
        raise ValueError(f"unknown consistency mode {mode!r}")
    joints = torch.einsum("jk,bkd->bjd", decoder, latent)
    result = dict(out)
    start = 0
    for f in formats:
        n = out[f].shape[1] if f in out else 0
        result[f] = joints[:, start:start + n]
        start += n
    return result
