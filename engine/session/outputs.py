"""Writes a take's files for one input: STEM.npz, STEM.csv, STEM.bvh, STEM.trc (as asked) and
STEM.json beside them. The formats themselves live in engine/animation/formats.py."""

from __future__ import annotations

import platform
import warnings
from pathlib import Path

from engine.core.atomic import ensure_writable_dir
from engine.core.errors import NoValidFramesError
from engine.animation.formats import DEFAULT_FORMATS, FORMATS, ExportOptions, write_take
from engine.animation.rig_mappings import can_map
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS
from engine.core.take import Take, save_npz, write_json



def versions() -> dict:
    import cv2
    import numpy
    import torch

    from engine import __version__

    try:
        from importlib.metadata import version

        mediapipe_version = version("mediapipe")
    except Exception:
        mediapipe_version = "unknown"
    return {"monocap": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "torch": torch.__version__, "opencv": cv2.__version__, "mediapipe": mediapipe_version}


def write_outputs(take: Take, out_dir: str | Path, stem: str, formats: tuple[str, ...] = DEFAULT_FORMATS,
                  settings: dict | None = None, options: ExportOptions | None = None) -> list[Path]:
    """The .npz keeps the whole take; the other formats follow `options` (frame range, rate,
    rig, units...). A take with nobody in it still gets its .npz and .json, then
    NoValidFramesError."""
    out_dir = ensure_writable_dir(out_dir)
    options = options or ExportOptions()
    written = []
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    empty = None
    skipped = {}
    if "bvh" in formats and take.skeleton not in (MONOCAP_BODY, MONOCAP_HANDS) and not can_map(take):
        skipped["bvh"] = (f"skeleton {take.skeleton.name} lacks joints the animation rig needs; "
                          "use the detector or lifter 3D mode for BVH")
        formats = tuple(f for f in formats if f != "bvh")
    # the npz first: whatever happens to the exports, the recording is kept
    for fmt in sorted(formats, key=lambda f: f != "npz"):
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "npz":
            written.append(save_npz(take, path))
            continue
        try:
            written.append(write_take(take, path, options))
        except NoValidFramesError as exc:
            empty = exc
    sidecar = {"settings": settings or {}, "versions": versions(), "take": take.metadata,
               "files": [p.name for p in written], "fps": take.fps, "frames": take.num_frames,
               "valid_frames": int(take.valid.sum()), "skeleton": take.skeleton.name,
               "skipped": skipped}
    written.append(write_json(out_dir / f"{stem}.json", sidecar))
    if empty is not None:
        raise empty
    for fmt, why in skipped.items():
        warnings.warn(f"{stem}.{fmt} not written: {why}", ExportSkipped, stacklevel=2)
    return written


class ExportSkipped(UserWarning):
    """A format asked for that this take cannot be written in (the CLI prints it as a warning)."""
