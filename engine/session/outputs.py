"""Writes a take's files for one input: STEM.npz, STEM.csv, STEM.bvh, STEM.trc (as asked) and
STEM.json beside them, as one set; and what a front end may ask of them (`export_choices`,
`export_options`). The formats themselves live in engine/animation/formats.py."""

from __future__ import annotations

import platform
import warnings
from dataclasses import dataclass
from pathlib import Path

from engine.animation.bvh_writer import UNITS_PER_M
from engine.animation.formats import DEFAULT_FORMATS, FORMATS, RIG_FORMATS, ExportOptions, write_take
from engine.animation.rig import RIGS
from engine.animation.rig_mappings import can_map
from engine.animation.trc import TRC_UNITS
from engine.core.atomic import file_set
from engine.core.errors import InputError, NoValidFramesError
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS
from engine.core.take import Take, save_npz, write_json
from engine.core.units import METRES_PER_UNIT


@dataclass(frozen=True)
class ExportChoices:
    """What a front end offers for a take's files."""

    formats: tuple[str, ...]
    default_formats: tuple[str, ...]
    rigs: tuple[str, ...]
    units: tuple[str, ...]  # the lengths every format that takes a unit (BVH, TRC) is written in


def export_choices() -> ExportChoices:
    units = tuple(u for u in METRES_PER_UNIT if u in UNITS_PER_M and u in TRC_UNITS)
    return ExportChoices(FORMATS, DEFAULT_FORMATS, tuple(RIGS), units)


def export_options(rig: str = "", units: str = "", fps: float | None = None,
                   frame_range: tuple[int, int] | None = None) -> ExportOptions:
    """The options for write_outputs from a front end's plain values: "" or None keeps each default
    (the Monocap rig, each format's units, the take's rate, every frame); frame_range is [start, stop).
    InputError (one line) when a value is bad."""
    kwargs: dict = {}
    if rig:
        kwargs["rig"] = rig
    if units:
        kwargs["units"] = units
    if fps:
        kwargs["fps"] = fps
    if frame_range is not None:
        kwargs["start_frame"], kwargs["end_frame"] = frame_range
    try:
        return ExportOptions(**kwargs)
    except ValueError as exc:
        raise InputError(f"export settings: {exc}") from None


def versions() -> dict:
    import cv2
    import numpy

    from engine import __version__

    try:
        from importlib.metadata import version

        mediapipe_version = version("mediapipe")
    except Exception:  # noqa: BLE001 - a missing or odd distribution record is only "unknown"
        mediapipe_version = "unknown"
    return {"monocap": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "opencv": cv2.__version__, "mediapipe": mediapipe_version}


def write_outputs(take: Take, out_dir: str | Path, stem: str, formats: tuple[str, ...] = DEFAULT_FORMATS,
                  settings: dict | None = None, options: ExportOptions | None = None,
                  notes: list[str] | None = None) -> list[Path]:
    """The one writer of a take's set of files: STEM.<fmt> for each format (engine/animation/formats.py
    writes each) and STEM.json, as one set: all of them appear together when all are complete, or none does, and the
    files already there stay as they were. The .npz keeps the whole take; the other formats
    follow `options` (frame range, rate, rig, units...). A take with nobody in it gets its .npz
    and .json (unless STEM.npz is already there, which is then kept), then NoValidFramesError.
    A format this take cannot be written in is skipped with a note: added to `notes` when given
    (a batch's item), else an ExportSkipped warning."""
    out_dir = Path(out_dir)
    options = options or ExportOptions()
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InputError(f"unknown format {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    skipped = {}
    rigged = [f for f in formats if f in RIG_FORMATS]
    if rigged and take.skeleton not in (MONOCAP_BODY, MONOCAP_HANDS) and not can_map(take):
        for fmt in rigged:
            skipped[fmt] = (f"skeleton {take.skeleton.name} lacks joints the animation rig needs; "
                            f"use the detector or lifter 3D mode for {fmt.upper()}")
        formats = tuple(f for f in formats if f not in RIG_FORMATS)
    exports = tuple(f for f in formats if f != "npz")
    empty = None
    with file_set(out_dir, stem):
        written = [save_npz(take, out_dir / f"{stem}.npz")] if "npz" in formats else []
        try:
            solved: dict = {}  # the rig formats (BVH, FBX, glTF) share one solve
            written += [write_take(take, out_dir / f"{stem}.{fmt}", options, solved) for fmt in exports]
        except NoValidFramesError as exc:
            if "npz" not in formats or (out_dir / f"{stem}.npz").exists():
                raise NoValidFramesError(f"{exc}; the files already in {out_dir} are kept") from None
            empty = exc
        sidecar = {"settings": settings or {}, "versions": versions(), "take": take.metadata,
                   "files": [p.name for p in written], "fps": take.fps, "frames": take.num_frames,
                   "valid_frames": int(take.valid.sum()), "skeleton": take.skeleton.name,
                   "skipped": skipped}
        written.append(write_json(out_dir / f"{stem}.json", sidecar))
    if empty is not None:
        raise empty
    for fmt, why in skipped.items():
        if notes is None:
            warnings.warn(f"{stem}.{fmt} not written: {why}", ExportSkipped, stacklevel=2)
        else:
            notes.append(f"{stem}.{fmt} not written: {why}")
    return written


class ExportSkipped(UserWarning):
    """A format asked for that this take cannot be written in (the CLI prints it as a warning)."""
