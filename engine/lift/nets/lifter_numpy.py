"""Monocap's lifter (engine.lift.nets.lifter_net.LifterNet) run in numpy from its exported weights.

The same forward pass as the torch model in eval mode: the target frame's keypoints rendered as
explicit 2D heatmaps and read by two strided convolutions, an MLP over the window's coordinates
and the detector's 3D, one head per skeleton format, the weak-perspective camera; then the affine
autoencoder's consistency (`consistent`). float32 throughout, as in torch.
"""

from __future__ import annotations

import numpy as np

from engine.lift.nets import numpy_layers as nl
from engine.lift.nets.exported import ExportedNetwork


class LifterNumpy:
    """`net(kp, scores, det3d, det_valid)` -> {format: (B, J, 3), "camera": (B, 3)} like LifterNet."""

    def __init__(self, network: ExportedNetwork):
        kw = network.kwargs
        self.w = {k: v.astype(np.float32, copy=False) for k, v in network.weights.items()}
        self.formats = dict(kw["formats"])
        self.window = int(kw.get("window", 1))
        self.target = int(kw.get("target", -1))
        self.blocks = int(kw.get("blocks", 2))
        self.heatmap_sigma = float(kw.get("heatmap_sigma", 0.06))
        self.grid = np.linspace(-0.6, 0.6, int(kw.get("heatmap_size", 16)), dtype=np.float32)
        self.has_latent = bool(kw.get("latent_points", 0))
        self.format_order = list(network.meta.get("formats") or self.formats)
        self.mode = network.meta.get("consistency", "heads")
        self.encoder = self.w.get("consistency.encoder")
        self.decoder = self.w.get("consistency.decoder")

    def heatmaps(self, kp: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """kp (B, 33, 2) normalised, scores (B, 33) -> (B, 33, H, H)."""
        g = self.grid
        dx = (g[None, None, :] - kp[..., 0:1]) ** 2
        dy = (g[None, None, :] - kp[..., 1:2]) ** 2
        s2 = np.float32(2 * self.heatmap_sigma ** 2)
        return np.exp(-(dy[..., :, None] + dx[..., None, :]) / s2) * scores[..., None, None]

    def __call__(self, kp: np.ndarray, scores: np.ndarray, det3d: np.ndarray, det_valid: np.ndarray) -> dict:
        """kp (B, W, 33, 2), scores (B, W, 33), det3d (B, W, 33, 3), det_valid (B, W), float32."""
        with nl.one_blas_thread():
            return self._forward(kp, scores, det3d, det_valid)

    def _forward(self, kp, scores, det3d, det_valid) -> dict:
        w = self.w
        kp, scores, det3d, det_valid = (np.asarray(a, dtype=np.float32) for a in (kp, scores, det3d, det_valid))
        b = kp.shape[0]
        x = self.heatmaps(kp[:, self.target], scores[:, self.target])
        x = nl.gelu(nl.conv2d(x, w, "conv.0", stride=2, padding=1))
        conv = nl.gelu(nl.conv2d(x, w, "conv.2", stride=2, padding=1)).reshape(b, -1)
        coords = np.concatenate([kp, scores[..., None]], axis=-1).reshape(b, -1)
        d = np.concatenate([(det3d * det_valid[..., None, None]).reshape(b, -1), det_valid], axis=-1)
        h = nl.gelu(nl.layer_norm(nl.linear(np.concatenate([conv, coords, d], axis=-1), w, "stem.0"), w, "stem.1"))
        for i in range(self.blocks):
            r = f"blocks.{i}.net"
            y = nl.gelu(nl.layer_norm(nl.linear(h, w, f"{r}.0"), w, f"{r}.1"))
            h = h + nl.gelu(nl.layer_norm(nl.linear(y, w, f"{r}.4"), w, f"{r}.5"))
        out = {name: nl.linear(h, w, f"heads.{name}").reshape(b, -1, 3) for name in self.formats}
        cam = nl.linear(h, w, "camera")
        out["camera"] = np.concatenate([nl.softplus(cam[:, :1] + 1.0), cam[:, 1:]], axis=-1)
        if self.has_latent:
            out["latent"] = nl.linear(h, w, "latent_head").reshape(b, -1, 3)
        return self.consistent(out)

    def consistent(self, out: dict) -> dict:
        """The affine autoencoder's consistency (lifter_net.consistent_outputs, in numpy)."""
        if self.mode == "heads" or self.decoder is None:
            return out
        if self.mode == "hybrid":
            latent = np.einsum("kj,bjd->bkd", self.encoder, np.concatenate([out[f] for f in self.format_order], axis=1))
        elif self.mode == "latent":
            latent = out["latent"]
        else:
            raise ValueError(f"unknown consistency mode {self.mode!r}")
        joints = np.einsum("jk,bkd->bjd", self.decoder, latent)
        result, start = dict(out), 0
        for f in self.format_order:
            n = out[f].shape[1] if f in out else 0
            result[f] = joints[:, start:start + n]
            start += n
        return result
