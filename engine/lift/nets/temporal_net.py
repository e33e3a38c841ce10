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
`out.w` (99, C), `out.b`, `dilations` (blocks,), and `format` (FORMAT). An ensemble (networks of
one recipe trained from different seeds) holds `members` (M) and each member's arrays under the
prefix `member{m}/`; its correction is the mean of the members' (they run side by side, one
matrix product per layer for all of them).
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


def member_arrays(arrays: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """A model file's arrays -> each member network's arrays (one for a single network)."""
    if "members" not in arrays:
        return [arrays]
    count = int(arrays["members"])
    if count < 1:
        raise ValueError(f"members = {count}")
    members = [{k[len(f"member{m}/"):]: v for k, v in arrays.items() if k.startswith(f"member{m}/")}
               for m in range(count)]
    for m, a in enumerate(members):
        lacking = sorted({k.split("/", 1)[1] for k in arrays if k.startswith("member0/")} - set(a))
        if lacking:
            raise ValueError(f"member {m} of {count} lacks {', '.join(lacking[:3])}")
    return members


class TemporalNet:
    """The network's forward pass in numpy. `arrays`: the file's arrays (see the module's doc).

    Every layer's weights carry a leading member axis (M = 1 for a single network); the members
    run side by side and their corrections are averaged."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        members = member_arrays(arrays)
        self.members = len(members)
        dilations = {tuple(int(d) for d in a["dilations"]) for a in members}
        if len(dilations) != 1:
            raise ValueError(f"members of different shapes (dilations {sorted(dilations)})")
        self.dilations = list(dilations.pop())

        def stack(key: str, taps: bool = False) -> np.ndarray:
            shapes = {np.shape(a[key]) for a in members}
            if len(shapes) != 1:
                raise ValueError(f"members' {key} differ in shape: {sorted(shapes)}")
            w = np.stack([np.asarray(a[key], np.float32) for a in members])
            # (M, C_out, C_in, 3) -> (M, 3, C_in, C_out); (M, C_out, C_in) -> (M, C_in, C_out); biases (M, 1, 1, C_out)
            return np.ascontiguousarray(w.transpose(0, 3, 2, 1) if taps else w.transpose(0, 2, 1) if w.ndim == 3
                                        else w[:, None, None, :])

        self.conv_in = (stack("conv_in.w", taps=True), stack("conv_in.b"))
        self.blocks = [(stack(f"block{i}.w", taps=True), stack(f"block{i}.b"), stack(f"block{i}.w1"),
                        stack(f"block{i}.b1")) for i in range(len(self.dilations))]
        self.out = (stack("out.w"), stack("out.b"))
        if self.conv_in[0].shape[2] != CHANNELS_IN or self.out[0].shape[2] != CHANNELS_OUT:
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
    def _taps(x: np.ndarray, at: list, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """x (M or 1, N, T, C_in), `at`: the time positions of the 3 taps, w (M, 3, C_in, C_out)
        -> (M, N, len(at[0]), C_out), before the ReLU."""
        out = x[:, :, at[0]] @ w[:, None, 0]
        out += x[:, :, at[1]] @ w[:, None, 1]
        out += x[:, :, at[2]] @ w[:, None, 2]
        return out + b

    def _valid(self, x: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int) -> np.ndarray:
        """A valid convolution: (M or 1, N, T, C_in) -> (M, N, T - 2 * dilation, C_out)."""
        t = x.shape[2] - 2 * dilation
        return self._taps(x, [slice(k * dilation, k * dilation + t) for k in range(3)], w, b)

    def _output(self, h: np.ndarray) -> np.ndarray:
        """(M, N, T, C) -> (N, T, 33, 3): the members' mean correction."""
        out = (h @ self.out[0][:, None] + self.out[1]).mean(axis=0)
        return out.reshape(out.shape[:2] + (NUM_POINTS, 3))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(N, T, CHANNELS_IN) -> (N, T - receptive_field + 1, 33, 3) corrections, metres."""
        h = np.maximum(self._valid(np.asarray(x, np.float32)[None], *self.conv_in, 1), 0.0)
        for (w, b, w1, b1), d in zip(self.blocks, self.dilations):
            y = np.maximum(self._valid(h, w, b, d), 0.0)
            h = h[:, :, d:h.shape[2] - d] + np.maximum(y @ w1[:, None] + b1, 0.0)
        return self._output(h)

    def forward_centre(self, x: np.ndarray) -> np.ndarray:
        """(N, receptive_field, CHANNELS_IN) windows -> (N, 33, 3) the centre frames' corrections.

        The same as `forward`, computing only the positions the one output depends on (live)."""
        needs = [np.array([0])]
        for d in reversed(self.dilations):
            needs.append(np.unique(needs[-1][:, None] + np.array([0, d, 2 * d])))
        needs = needs[::-1]  # needs[0]: positions of the first convolution's output
        p = needs[0]
        h = np.maximum(self._taps(np.asarray(x, np.float32)[None], [p, p + 1, p + 2], *self.conv_in), 0.0)
        for (w, b, w1, b1), d, pos, out_pos in zip(self.blocks, self.dilations, needs[:-1], needs[1:]):
            at = [np.searchsorted(pos, out_pos + k * d) for k in range(3)]
            y = np.maximum(self._taps(h, at, w, b), 0.0)
            h = h[:, :, at[1]] + np.maximum(y @ w1[:, None] + b1, 0.0)
        return self._output(h)[:, 0]

    def correct_clip(self, features: np.ndarray) -> np.ndarray:
        """(T, CHANNELS_IN) a clip's features (with presence) -> (T, 33, 3): every frame's correction,
        frames beyond the clip's ends counted absent."""
        half = self.receptive_field // 2
        t = len(features)
        present = np.concatenate([np.zeros(half, bool), features[:, -1] > 0, np.zeros(half, bool)])
        core = features[:, :-1]
        padded = with_presence(np.concatenate([core[:1].repeat(half, 0), core, core[-1:].repeat(half, 0)]), present)
        return self.forward(padded[None])[0][:t]
