"""The GUI's one door to the exporters (engine.animation.formats: BVH, CSV, TRC, NPZ)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import MonocapError
from engine.animation.formats import FORMATS, ExportOptions, export_take
from engine.animation.rig import RIGS
from engine.core.take import Take

HAVE_FORMATS = True
UNITS = ("m", "cm", "mm")


@dataclass(frozen=True)
class ExportRequest:
    out_dir: str
    stem: str
    formats: tuple[str, ...]
    rig: str = ""  # empty: the exporter's default
    units: str = ""  # empty: each format's default (BVH centimetres, TRC millimetres, CSV metres)
    fps: float | None = None  # None: the take's rate
    frame_range: tuple[int, int] | None = None  # [start, stop) frames; None: all


def available_formats() -> list[str]:
    return list(FORMATS)


def available_rigs() -> list[str]:
    return list(RIGS)


def options_for(request: ExportRequest) -> ExportOptions:
    kwargs: dict = {}
    if request.rig:
        kwargs["rig"] = request.rig
    if request.units:
        kwargs["units"] = request.units
    if request.fps:
        kwargs["fps"] = request.fps
    if request.frame_range is not None:
        kwargs["start_frame"], kwargs["end_frame"] = request.frame_range
    try:
        return ExportOptions(**kwargs)
    except ValueError as exc:
        raise MonocapError(f"export settings: {exc}") from None


def export(take: Take, request: ExportRequest) -> list[Path]:
    """Writes each requested format to OUT_DIR/STEM.EXT as one set (all or none); returns the
    paths. MonocapError on failure."""
    options = options_for(request)
    return export_take(take, Path(request.out_dir), request.stem, tuple(f.lower() for f in request.formats), options)
