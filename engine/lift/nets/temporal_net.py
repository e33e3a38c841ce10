"""The temporal network over `fit`'s output, run in numpy (no torch), weights from a plain .npz.

A window of RECEPTIVE_FIELD frames in, a 3D correction of the centre frame out. Per frame the
input holds the detector's 33 keypoints (seed 1's explicit 2D representation: each frame's
keypoints centred on and divided by its person box), their scores, `fit`'s hip-relative 3D of the
33 points (camera axes, metres) and a flag saying whether the frame is there (frames before a
clip's start, after its end, beyond the newest frame live, or with nobody found are copies of the
nearest frame that is there, flagged 0). The network (dilated 1D convolutions, as in VideoPose3D:
a convolution over 3 frames, then residual blocks with dilations 3 and 9) gives the correction of
the 33 points' 3D, added to `fit`'s.

The file holds arrays only (np.load with allow_pickle=False): `conv_in.w` (C, C_in, 3),
`conv_in.b`, per block `block{i}.w` (C, C, 3), `block{i}.b`, `block{i}.w1` (C, C), `block{i}.b1`,
`out.w` (99, C), `out.b`, `dilations` (blocks,), and `format` (FORMAT).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from engine.core.errors import InputError
from engine.core.skeletons import KEYPOINT_SCORE_MIN, MEDIAPIPE_33

FORMAT = "monocap-temporal-1"
NUM_POINTS = MEDIAPIPE_33.num_joints
CHANNELS_IN = NUM_POINTS * 6 + 1  # 2D (2), score (1), fit 3D (3) per point, and the presence flag
CHANNELS_OUT = NUM_POINTS * 3
_MIN_BOX_PX = 16.0


def frame_features(keypoints_px: np.ndarray, scores: np.ndarray, fit3d: np.ndarray) -> np.ndarray:
    """(T, 33, 2) pixels, (T, 33) scores, (T, 33, 3) fit's hip-relative metres -> (T, CHANNELS_IN - 1).

    Keypoints are centred on each frame's person box and divided by its longer side; those at
    score 0 are zeroed."""
    kp = np.asarray(keypoints_px, np.float64)
    sc = np.asarray(scores, np.float64)
    seen = sc > KEYPOINT_SCORE_MIN
    lo = np.where(seen[..., None], kp, np.inf).min(axis=1)
    hi = np.where(seen[..., None], kp, -np.inf).max(axis=1)
    few = seen.sum(axis=1) < 2
    lo[few] = kp[few].min(axis=1)
    hi[few] = kp[few].max(axis=1)
    centre = 0.5 * (lo + hi)
    size = np.maximum((hi - lo).max(axis=1), _MIN_BOX_PX)
    norm = (kp - centre[:, None]) / size[:, None, None]
    norm = np.where((sc > 0)[..., None], norm, 0.0)
    t = len(kp)
    return np.concatenate([norm.reshape(t, -1), sc, np.asarray(fit3d, np.float64).reshape(t, -1)],
                          axis=1).astype(np.float32)


def with_presence(features: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(T, CHANNELS_IN - 1) features, (T,) bool -> (T, CHANNELS_IN): absent frames hold the
    nearest present frame's features and a 0 flag."""
    present = np.asarray(present, bool)
    t = len(features)
    out = np.zeros((t, features.shape[1] + 1), np.float32)
    if not present.any():
        return out
    idx = np.flatnonzero(present)
    pos = np.searchsorted(idx, np.arange(t)).clip(0, len(idx) - 1)
    before = idx[(pos - 1).clip(0)]
    after = idx[pos]
    nearest = np.where(np.abs(np.arange(t) - before) < np.abs(after - np.arange(t)), before, after)
    out[:, :-1] = features[nearest]
    out[:, -1] = present
    return out


class TemporalNet:
    """The network's forward pass in numpy. `arrays`: the file's arrays (see the module's doc)."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.dilations = [int(d) for d in arrays["dilations"]]
        self.conv_in = (arrays["conv_in.w"].astype(np.float32), arrays["conv_in.b"].astype(np.float32))
        self.blocks = [tuple(arrays[f"block{i}.{k}"].astype(np.float32) for k in ("w", "b", "w1", "b1"))
                       for i in range(len(self.dilations))]
        self.out = (arrays["out.w"].astype(np.float32), arrays["out.b"].astype(np.float32))
        if self.conv_in[0].shape[1] != CHANNELS_IN or self.out[0].shape[0] != CHANNELS_OUT:
            raise ValueError(f"layer shapes {self.conv_in[0].shape} / {self.out[0].shape} do not fit the inputs")
        self.receptive_field = 3 + sum(2 * d for d in self.dilations)

    @classmethod
    def load(cls, path: str | Path) -> "TemporalNet":
        """Reads a model file; raises InputError (one line naming the file) when it cannot."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            if str(arrays.get("format", "")) != FORMAT:
                raise ValueError(f"not a {FORMAT} file")
            return cls(arrays)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise InputError(f"{path}: temporal model missing or damaged ({str(exc).splitlines()[0]})") from None

    @staticmethod
    def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int) -> np.ndarray:
        """x (N, T, C_in), w (C_out, C_in, 3) -> (N, T - 2 * dilation, C_out), valid convolution."""
        t = x.shape[1] - 2 * dilation
        out = x[:, :t] @ w[:, :, 0].T
        out += x[:, dilation:dilation + t] @ w[:, :, 1].T
        out += x[:, 2 * dilation:2 * dilation + t] @ w[:, :, 2].T
        return out + b

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(N, T, CHANNELS_IN) -> (N, T - receptive_field + 1, 33, 3) corrections, metres."""
        h = np.maximum(self._conv(np.asarray(x, np.float32), *self.conv_in, 1), 0.0)
        for (w, b, w1, b1), d in zip(self.blocks, self.dilations):
            y = np.maximum(self._conv(h, w, b, d), 0.0)
            y = np.maximum(y @ w1.T + b1, 0.0)
            h = h[:, d:h.shape[1] - d] + y
        out = h @ self.out[0].T + self.out[1]
        return out.reshape(out.shape[:2] + (NUM_POINTS, 3))

    def forward_centre(self, x: np.ndarray) -> np.ndarray:
        """(N, receptive_field, CHANNELS_IN) windows -> (N, 33, 3) the centre frames' corrections.

        The same as `forward`, computing only the positions the one output depends on (live)."""
        needs = [np.array([0])]
        for d in reversed(self.dilations):
            needs.append(np.unique(needs[-1][:, None] + np.array([0, d, 2 * d])))
        needs = needs[::-1]  # needs[0]: positions of the first convolution's output
        x = np.asarray(x, np.float32)
        w, b = self.conv_in
        p = needs[0]
        h = np.maximum(x[:, p] @ w[:, :, 0].T + x[:, p + 1] @ w[:, :, 1].T + x[:, p + 2] @ w[:, :, 2].T + b, 0.0)
        for (w, b, w1, b1), d, pos, out_pos in zip(self.blocks, self.dilations, needs[:-1], needs[1:]):
            at = [np.searchsorted(pos, out_pos + k * d) for k in range(3)]
            y = np.maximum(h[:, at[0]] @ w[:, :, 0].T + h[:, at[1]] @ w[:, :, 1].T + h[:, at[2]] @ w[:, :, 2].T + b, 0.0)
            h = h[:, at[1]] + np.maximum(y @ w1.T + b1, 0.0)
        out = h[:, 0] @ self.out[0].T + self.out[1]
        return out.reshape(len(out), NUM_POINTS, 3)

    def correct_clip(self, features: np.ndarray) -> np.ndarray:
        """(T, CHANNELS_IN) a clip's features (with presence) -> (T, 33, 3): every frame's correction,
        frames beyond the clip's ends counted absent."""
        half = self.receptive_field // 2
        t = len(features)
        present = np.concatenate([np.zeros(half, bool), features[:, -1] > 0, np.zeros(half, bool)])
        core = features[:, :-1]
        padded = with_presence(np.concatenate([core[:1].repeat(half, 0), core, core[-1:].repeat(half, 0)]), present)
        return self.forward(padded[None])[0][:t]
