"""The temporal network in torch (for training) and its export to the engine's plain .npz.

The layers match engine.lift.nets.temporal_net.TemporalNet, which runs the exported file in numpy
(one network, or an ensemble of several written into one file by `save_ensemble`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.core.atomic import atomic_path
from engine.lift.nets.temporal_net import CHANNELS_IN, CHANNELS_OUT, FORMAT


class TemporalConvNet(nn.Module):
    def __init__(self, channels: int = 128, dilations: tuple[int, ...] = (3, 9)):
        super().__init__()
        self.dilations = tuple(dilations)
        self.conv_in = nn.Conv1d(CHANNELS_IN, channels, 3)
        self.convs = nn.ModuleList(nn.Conv1d(channels, channels, 3, dilation=d) for d in dilations)
        self.mixes = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in dilations)
        self.out = nn.Conv1d(channels, CHANNELS_OUT, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)  # starts as `fit` itself

    @property
    def receptive_field(self) -> int:
        return 3 + sum(2 * d for d in self.dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, CHANNELS_IN) -> (N, T - receptive_field + 1, 33, 3)."""
        h = torch.relu(self.conv_in(x.transpose(1, 2)))
        for conv, mix, d in zip(self.convs, self.mixes, self.dilations):
            y = torch.relu(mix(torch.relu(conv(h))))
            h = h[:, :, d:h.shape[2] - d] + y
        out = self.out(h).transpose(1, 2)
        return out.reshape(out.shape[0], out.shape[1], -1, 3)


def export_arrays(model: TemporalConvNet, config: dict, axes: str = "xyz") -> dict[str, np.ndarray]:
    """The arrays of the engine's model file. axes: the camera axes whose correction it keeps (the
    others' output rows are zeroed: "z" keeps the depth correction alone)."""
    keep = np.zeros(CHANNELS_OUT, np.float32)
    for axis in axes:
        keep["xyz".index(axis)::3] = 1.0
    arrays = {"format": np.array(FORMAT), "dilations": np.array(model.dilations, np.int64),
              "config": np.array(json.dumps(config, sort_keys=True)),
              "conv_in.w": model.conv_in.weight, "conv_in.b": model.conv_in.bias,
              "out.w": model.out.weight[:, :, 0], "out.b": model.out.bias}
    for i, (conv, mix) in enumerate(zip(model.convs, model.mixes)):
        arrays |= {f"block{i}.w": conv.weight, f"block{i}.b": conv.bias,
                   f"block{i}.w1": mix.weight[:, :, 0], f"block{i}.b1": mix.bias}
    out = {k: (v.detach().cpu().numpy().astype(np.float32) if isinstance(v, torch.Tensor) else v)
           for k, v in arrays.items()}
    out["out.w"] = out["out.w"] * keep[:, None]
    out["out.b"] = out["out.b"] * keep
    return out


def save_npz(model: TemporalConvNet, config: dict, path: str | Path, axes: str = "xyz") -> None:
    """Writes the model file in one rename (a failed write leaves the old file)."""
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **export_arrays(model, config, axes))


def save_ensemble(members: list[str | Path], config: dict, path: str | Path) -> None:
    """Writes the model files `members` (single networks of one shape) as one ensemble file (the
    engine averages their corrections), in one rename; its `config` records `config` and each
    member's own."""
    arrays: dict[str, np.ndarray] = {}
    configs = []
    for m, member in enumerate(members):
        with np.load(member, allow_pickle=False) as data:
            if "members" in data.files:
                raise ValueError(f"{member}: already an ensemble")
            arrays |= {f"member{m}/{k}": data[k] for k in data.files if k not in ("format", "config")}
            configs.append(json.loads(str(data["config"])) if "config" in data.files else {})
    arrays |= {"format": np.array(FORMAT), "members": np.array(len(members), np.int64),
               "config": np.array(json.dumps(config | {"members": configs}, sort_keys=True))}
    with atomic_path(Path(path)) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def load_npz(path: str | Path, member: int = 0) -> TemporalConvNet:
    """The engine's model file (one network, or member `member` of an ensemble) back into torch
    (fine-tuning, and checking the numpy forward pass)."""
    with np.load(path, allow_pickle=False) as data:
        a = {k: data[k] for k in data.files}
    if "members" in a:
        a = {k.split("/", 1)[1]: v for k, v in a.items() if k.startswith(f"member{member}/")}
    model = TemporalConvNet(a["conv_in.w"].shape[0], tuple(int(d) for d in a["dilations"]))
    state = {"conv_in.weight": a["conv_in.w"], "conv_in.bias": a["conv_in.b"],
             "out.weight": a["out.w"][:, :, None], "out.bias": a["out.b"]}
    for i in range(len(model.dilations)):
        state |= {f"convs.{i}.weight": a[f"block{i}.w"], f"convs.{i}.bias": a[f"block{i}.b"],
                  f"mixes.{i}.weight": a[f"block{i}.w1"][:, :, None], f"mixes.{i}.bias": a[f"block{i}.b1"]}
    model.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in state.items()})
    return model
