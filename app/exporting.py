"""The GUI's export and batch requests, written by the engine's one writer of a take's files
(engine.session.outputs: the same files and .json sidecar as `monocap process`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from engine.animation.formats import DEFAULT_FORMATS, FORMATS, ExportOptions
from engine.animation.rig import RIGS
from engine.core.errors import MonocapError
from engine.core.take import Take
from engine.session.outputs import write_outputs

__all__ = ["DEFAULT_FORMATS", "UNITS", "ExportRequest", "available_formats", "available_rigs", "export",
           "options_for"]

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


def export(take: Take, request: ExportRequest, settings: dict | None = None) -> list[Path]:
    """Writes OUT_DIR/STEM.<format> for each requested format and STEM.json beside them; returns
    the paths. MonocapError on failure. settings: what the sidecar records as the run's settings
    (default: the request)."""
    options = options_for(request)
    return write_outputs(take, request.out_dir, request.stem, tuple(f.lower() for f in request.formats),
                         settings=asdict(request) if settings is None else settings, options=options)
