"""Writes a take's files for one input: STEM.npz, STEM.csv and STEM.json beside them."""

from __future__ import annotations

import platform
from pathlib import Path

from .atomic import ensure_writable_dir
from .take import Take, save_npz, write_csv, write_json

BASIC_FORMATS = ("npz", "csv")


def versions() -> dict:
    import cv2
    import numpy
    import torch

    from . import __version__

    try:
        from importlib.metadata import version

        mediapipe_version = version("mediapipe")
    except Exception:
        mediapipe_version = "unknown"
    return {"monocap": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "torch": torch.__version__, "opencv": cv2.__version__, "mediapipe": mediapipe_version}


def write_outputs(take: Take, out_dir: str | Path, stem: str, formats: tuple[str, ...] = BASIC_FORMATS,
                  settings: dict | None = None) -> list[Path]:
    out_dir = ensure_writable_dir(out_dir)
    written = []
    writers = {"npz": save_npz, "csv": write_csv}
    for fmt in formats:
        if fmt not in writers:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(writers)}")
        written.append(writers[fmt](take, out_dir / f"{stem}.{fmt}"))
    sidecar = {"settings": settings or {}, "versions": versions(), "take": take.metadata,
               "files": [p.name for p in written], "fps": take.fps, "frames": take.num_frames,
               "valid_frames": int(take.valid.sum()), "skeleton": take.skeleton.name}
    written.append(write_json(out_dir / f"{stem}.json", sidecar))
    return written
