"""Exported networks: the weights of a trained torch model as plain arrays in one .npz file.

The program runs its networks in numpy (engine.lift.nets.lifter_numpy, image_numpy) from this
format, so neither the command line, the app nor the desktop bundle needs torch to infer. A file:

    "meta"      a 0-d string: JSON {"format": "monocap-network", "version": 1,
                "model_class": "LifterNet" | "ImagePoseNet", "kwargs": {...}, ...}
    NAME        every float32 weight under its torch state_dict name

It is read with `np.load(allow_pickle=False)`, so a model file cannot run code. Written by
`python -m training.export_model` (`make model` for the shipped lifter). The program opens model
files with engine.lift.nets.network_file.load_network, which also reads a torch checkpoint (.pt)
where torch is installed (engine.lift.nets.torch_weights), as the same arrays.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.core.atomic import atomic_path
from engine.core.errors import InputError

FORMAT = "monocap-network"
VERSION = 1
SUFFIX = ".npz"
EXPORT_COMMAND = "python -m training.export_model"


@dataclass(frozen=True)
class ExportedNetwork:
    """model_class, its constructor arguments, the rest of the metadata, and the weights."""

    model_class: str
    kwargs: dict
    meta: dict
    weights: dict[str, np.ndarray]


def save_exported(path: str | Path, network: ExportedNetwork) -> Path:
    """Writes the network atomically (a temporary file renamed into place)."""
    meta = dict(network.meta, format=FORMAT, version=VERSION, model_class=network.model_class, kwargs=network.kwargs)
    arrays = {name: np.ascontiguousarray(a, dtype=np.float32) for name, a in network.weights.items()}
    if "meta" in arrays:
        raise ValueError("a weight may not be called 'meta'")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    return Path(path)


def read_exported(path: str | Path) -> ExportedNetwork:
    """An exported network (.npz); InputError, one line naming the file, for a damaged or foreign one."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"][()]))
            weights = {name: data[name] for name in data.files if name != "meta"}
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not an exported Monocap network ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError(f"{path}: not an exported Monocap network (no '{FORMAT}' header)")
    if meta.get("version") != VERSION:
        raise InputError(f"{path}: exported network version {meta.get('version')}, this Monocap reads {VERSION}")
    return ExportedNetwork(str(meta.get("model_class")), dict(meta.get("kwargs") or {}), meta, weights)


def exported_path(path: str | Path) -> Path:
    """Where the export of a torch checkpoint goes by default: beside it, as .npz."""
    return Path(path).with_suffix(SUFFIX)
