"""A trained torch checkpoint as an exported network (engine.lift.nets.exported): the one place
that turns torch weights into the arrays the numpy networks run.

`python -m training.export_model` writes the result to a .npz; the engine reads a .pt through here
where torch is installed (a development install), and says which command exports it where not
(the desktop bundle has no torch).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.core.errors import InputError
from engine.lift.nets.exported import EXPORT_COMMAND, ExportedNetwork, exported_path

KINDS = {"LifterNet": "lifter", "ImagePoseNet": "image"}


def read_torch_network(path: str | Path, model_class: str) -> ExportedNetwork:
    """The checkpoint's model rebuilt and checked by torch, its weights as float32 arrays."""
    path = Path(path)
    try:
        import torch  # noqa: F401 - only to tell a build without torch from a damaged file
    except ImportError:
        raise InputError(f"{path}: a torch checkpoint, which this build cannot read; export it with "
                         f"`{EXPORT_COMMAND} {KINDS.get(model_class, 'image')} {path} {exported_path(path)}` "
                         f"in a development install (with torch) and choose the .npz") from None
    if model_class == "LifterNet":
        return _lifter(path)
    return _image_net(path, model_class)


def _arrays(state_dict) -> dict[str, np.ndarray]:
    """Floating-point tensors only (BatchNorm's step counter is not a weight)."""
    return {k: v.detach().cpu().float().numpy() for k, v in state_dict.items() if v.is_floating_point()}


def _lifter(path: Path) -> ExportedNetwork:
    from engine.lift.nets.lifter_net import load_lifter

    try:
        model, blob = load_lifter(path, "cpu")
    except ValueError:
        raise InputError(f"{path}: not a lifter checkpoint") from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a damaged or foreign file
        raise InputError(f"{path}: not a readable lifter checkpoint ({type(exc).__name__}: {exc})") from None
    weights = _arrays(model.state_dict())
    decoder = blob.get("decoder") or {}
    for part in ("encoder", "decoder"):
        if decoder.get(part) is not None:
            weights[f"consistency.{part}"] = decoder[part].detach().cpu().float().numpy()
    formats = list(decoder.get("formats") or blob["extra"].get("formats_order") or model.formats)
    extra = {k: v for k, v in blob.get("extra", {}).items() if k in ("formats_order", "bone_reference_m", "stage", "step")}
    meta = {"skeletons": blob["skeletons"], "formats": formats, "consistency": decoder.get("mode", "heads"),
            "extra": extra}
    return ExportedNetwork("LifterNet", model.config(), meta, weights)


def _image_net(path: Path, model_class: str) -> ExportedNetwork:
    from engine.lift.nets.checkpoint import load_checkpoint
    from engine.lift.nets.image_pose_net import MODEL_REGISTRY

    model, payload = load_checkpoint(path, MODEL_REGISTRY, "cpu")
    extra = {k: v for k, v in payload.get("extra", {}).items() if isinstance(v, (str, int, float, bool))}
    return ExportedNetwork(payload["model_class"], model.constructor_kwargs(), {"extra": extra},
                           _arrays(model.state_dict()))
