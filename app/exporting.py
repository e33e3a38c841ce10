"""The GUI's one door to the exporters.

Uses engine.formats (BVH/TRC/CSV/NPZ with ExportOptions) when the engine has it; otherwise the
basic writers (npz and csv, metres) that engine.take provides. The export dialog lists
`available_formats()`, so it shows what the engine offers.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from pathlib import Path

from engine.errors import MonocapError, OutputError
from engine.take import Take, save_npz, write_csv

try:  # the full exporters, when this engine has them
    from engine.formats import FORMATS, ExportOptions, export_take  # type: ignore

    HAVE_FORMATS = True
except ImportError:  # pragma: no cover - depends on the engine build
    FORMATS = None
    ExportOptions = None
    export_take = None
    HAVE_FORMATS = False

UNITS = ("m", "cm", "mm")


@dataclass(frozen=True)
class ExportRequest:
    out_dir: str
    stem: str
    formats: tuple[str, ...]
    rig: str = ""  # empty: the exporter's default
    units: str = ""  # empty: each format's default (BVH centimetres, CSV metres)
    fps: float | None = None  # None: the take's rate
    frame_range: tuple[int, int] | None = None  # [start, stop) frames; None: all


def available_formats() -> list[str]:
    if HAVE_FORMATS:
        if isinstance(FORMATS, dict):
            return [str(k) for k in FORMATS]
        return [str(getattr(f, "name", f)) for f in FORMATS]
    return ["npz", "csv"]


def available_rigs() -> list[str]:
    """Rig names the exporters accept (empty list: the exporter decides)."""
    if not HAVE_FORMATS:
        return []
    for module_attr in ("RIGS", "EXPORT_RIGS"):
        import engine.formats as formats

        rigs = getattr(formats, module_attr, None)
        if rigs:
            return [str(r) for r in (rigs.keys() if isinstance(rigs, dict) else rigs)]
    return []


def option_fields() -> set[str]:
    if HAVE_FORMATS and dataclasses.is_dataclass(ExportOptions):
        return {f.name for f in dataclasses.fields(ExportOptions)}
    return set()


def _options(request: ExportRequest, take: Take):
    names = option_fields()
    wanted = {"rig": request.rig or None, "units": request.units or None, "fps": request.fps,
              "frame_range": request.frame_range}
    kwargs = {k: v for k, v in wanted.items() if k in names and v is not None}
    if request.frame_range is not None and "frame_range" not in names:
        for a, b in (("start_frame", "end_frame"), ("start", "stop"), ("first_frame", "last_frame")):
            if a in names and b in names:
                kwargs[a], kwargs[b] = request.frame_range
                break
    return ExportOptions(**kwargs)


def export(take: Take, request: ExportRequest) -> list[Path]:
    """Writes each requested format to OUT_DIR/STEM.EXT; returns the paths. MonocapError on failure."""
    out_dir = Path(request.out_dir)
    written: list[Path] = []
    if HAVE_FORMATS:
        options = _options(request, take)
        frame_range_in_options = "frame_range" in option_fields() or "start_frame" in option_fields()
        source = take
        if request.frame_range is not None and not frame_range_in_options:
            source = take.slice(*request.frame_range)
        params = list(inspect.signature(export_take).parameters)
        for fmt in request.formats:
            path = out_dir / f"{request.stem}.{fmt.lower()}"
            try:
                if len(params) >= 4 or "fmt" in params or "format" in params:
                    result = export_take(source, path, fmt, options)
                else:
                    result = export_take(source, path, options)
            except MonocapError:
                raise
            except OSError as exc:
                raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
            written.append(Path(result) if isinstance(result, (str, Path)) else path)
        return written
    source = take.slice(*request.frame_range) if request.frame_range is not None else take
    writers = {"npz": save_npz, "csv": write_csv}
    for fmt in request.formats:
        if fmt not in writers:
            raise MonocapError(f"{fmt}: this build exports only {', '.join(writers)}")
        written.append(writers[fmt](source, out_dir / f"{request.stem}.{fmt}"))
    return written
