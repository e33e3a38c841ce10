"""Checkpoints that rebuild their model: class name, constructor arguments, weights, extras.

A checkpoint file is a `torch.save`d dict:
    {"format": "monocap-checkpoint", "version": 1, "model_class": str, "kwargs": dict,
     "state_dict": dict, "extra": dict}
Only plain types (str, numbers, lists, dicts, tensors) go in, so `torch.load(weights_only=True)`
reads it and a checkpoint cannot run code. Training configs, the skeleton name and metrics go
in `extra`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from engine.core.atomic import atomic_path
from engine.core.errors import InputError

FORMAT = "monocap-checkpoint"
VERSION = 1


def save_checkpoint(path: str | Path, model_class_name: str, kwargs: dict, state_dict: Mapping,
                    extra: dict | None = None) -> Path:
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_class": model_class_name,
        "kwargs": dict(kwargs),
        "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()},
        "extra": dict(extra or {}),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint's dict; InputError naming the file when it is not one."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError(f"{path}: checkpoint not found") from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a damaged or foreign file
        raise InputError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputError(f"{path}: not a Monocap checkpoint (no '{FORMAT}' header)")
    return payload


def load_checkpoint(path: str | Path, registry: Mapping[str, type[nn.Module]],
                    device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Rebuilds the model named in the checkpoint from `registry` (class name -> class).

    Returns (model in eval mode on `device`, the checkpoint dict).
    """
    payload = read_checkpoint(path)
    name = payload["model_class"]
    if name not in registry:
        raise InputError(f"{path}: holds a {name!r}, expected one of {', '.join(sorted(registry))}")
    try:
        model = registry[name](**payload["kwargs"])
        model.load_state_dict(payload["state_dict"])
    except (TypeError, RuntimeError) as exc:
        raise InputError(f"{path}: weights do not fit {name} ({exc})") from None
    return model.to(device).eval(), payload
