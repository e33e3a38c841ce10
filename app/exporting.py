"""The GUI's export and batch requests, written by the engine's one writer of a take's files
(engine.session.outputs: the same files and .json sidecar as `monocap process`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from engine.core.take import Take
from engine.session.outputs import export_choices, export_options, write_outputs

__all__ = ["DEFAULT_FORMATS", "UNITS", "ExportRequest", "available_formats", "available_rigs", "export"]

CHOICES = export_choices()
DEFAULT_FORMATS = CHOICES.default_formats
UNITS = CHOICES.units


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
    return list(CHOICES.formats)


def available_rigs() -> list[str]:
    return list(CHOICES.rigs)


def export(take: Take, request: ExportRequest, settings: dict | None = None) -> list[Path]:
    """Writes OUT_DIR/STEM.<format> for each requested format and STEM.json beside them; returns
    the paths. MonocapError on failure. settings: what the sidecar records as the run's settings
    (default: the request)."""
    options = export_options(request.rig, request.units, request.fps, request.frame_range)
    return write_outputs(take, request.out_dir, request.stem, tuple(f.lower() for f in request.formats),
                         settings=asdict(request) if settings is None else settings, options=options)
