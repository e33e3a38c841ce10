"""Opens a network file the program runs: an exported network (.npz, engine.lift.nets.exported),
or a torch checkpoint where torch is installed (engine.lift.nets.torch_weights)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from engine.core.errors import InputError
from engine.lift.nets.exported import SUFFIX, ExportedNetwork, read_exported


def load_network(path: str | Path, model_class: str) -> ExportedNetwork:
    """The network in `path`, which must be a `model_class` ("LifterNet", "ImagePoseNet").

    InputError, one line naming the file, for a missing, damaged or foreign file, another model
    class, or a torch checkpoint without torch (with the command that exports it)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: model file not found")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a model file (an exported .npz network or a torch checkpoint)")
    if path.suffix.lower() == SUFFIX:
        network = read_exported(path)
    else:
        from engine.lift.nets.torch_weights import read_torch_network

        network = read_torch_network(path, model_class)
    if network.model_class != model_class:
        raise InputError(f"{path}: holds a {network.model_class}, expected a {model_class}")
    return network
