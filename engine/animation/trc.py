"""Writes a take's joint positions as an OpenSim TRC marker file.

Tab-separated, as OpenSim's TRCFileAdapter reads it:

    PathFileType  4  (X/Y/Z)  <file name>
    DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  OrigDataStartFrame  OrigNumFrames
    <values of those eight keys>
    Frame#  Time  <marker 1>  <tab>  <tab>  <marker 2> ...
    <tab>  <tab>  X1  Y1  Z1  X2  Y2  Z2 ...
    <empty line>
    1  0.000000  x  y  z ...

Markers are the take's joints, named as in its skeleton. Coordinates are Monocap's world frame
(Y up, which is also OpenSim's), in `units` ("mm" by default, "m" or "cm"). Frames in which
nobody was in view have empty fields, which OpenSim reads as missing markers (NaN).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from engine.core.atomic import atomic_path
from engine.core.errors import InputError
from engine.core.input_checks import (
    CUT_SHORT,
    DEFAULT_LIMITS,
    MAX_POSITION_M,
    InputLimits,
    NotANumberError,
    check_names_to_write,
    check_rate,
    check_rate_to_write,
    check_written_names_differ,
    cut_row_problem,
    ends_with_line_end,
    first_implausible,
    parse_number,
    parse_numbers,
    parse_whole_number,
    shown_field,
    unique_names,
)
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS, Skeleton
from engine.core.take import Take, confidence_if_partial, missing_as_whole_joints, valid_frames
from engine.core.take_rows import RowFrames, frames_of_rows, place_rows, say_skipped
from engine.core.units import units_per_metre

TRC_UNITS = units_per_metre(("mm", "cm", "m"))  # the units TRC files are read and written in
METADATA_KEYS = ("DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units", "OrigDataRate",
                 "OrigDataStartFrame", "OrigNumFrames")


def marker_name(name: str) -> str:
    """Marker names cannot hold whitespace in TRC; anything else is kept."""
    return re.sub(r"\s+", "_", name)


def written_rate(take: Take) -> float:
    """The DataRate a TRC states: the rate its time column runs at (a live take's frames are
    timed by the clock), the take's own rate where one frame cannot tell."""
    span = float(take.timestamps_s[-1] - take.timestamps_s[0]) if take.num_frames > 1 else 0.0
    return (take.num_frames - 1) / span if span > 0 else take.fps


def write_trc(take: Take, path: str | Path, units: str = "mm", start_frame: int = 1) -> Path:
    if units not in TRC_UNITS:
        raise ValueError(f"unknown TRC unit {units!r}; use one of {', '.join(TRC_UNITS)}")
    path = Path(path)
    rate = f"{check_rate_to_write(written_rate(take), path):.6g}"
    scale = TRC_UNITS[units]
    names = [marker_name(n) for n in take.skeleton.joint_names]
    check_written_names_differ(take.skeleton.joint_names, names, path)
    check_names_to_write(names, path)
    t_count, j_count = take.num_frames, len(names)
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "\t".join(METADATA_KEYS),
        "\t".join([rate, rate, str(t_count), str(j_count), units, rate, str(start_frame), str(t_count)]),
        "\t".join(["Frame#", "Time"] + [f"{n}\t\t" for n in names]).rstrip("\t"),
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, j_count + 1)),
        "",
    ]
    data = take.joints_m.reshape(t_count, -1) * scale
    complete = np.isfinite(data).all(axis=1)
    row_fmt = "\t".join(["%.4f"] * data.shape[1])
    empty = "\t".join([""] * data.shape[1])
    times = take.timestamps_s - (take.timestamps_s[0] if t_count else 0.0)
    for i in range(t_count):
        if not take.valid[i]:
            values = empty
        elif complete[i]:
            values = row_fmt % tuple(data[i])
        else:  # joints missing (a hand out of view): their markers are empty, the rest are there
            values = "\t".join("" if not np.isfinite(v) else f"{v:.4f}" for v in data[i])
        lines.append(f"{i + start_frame}\t{times[i]:.6f}\t{values}")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


RATE_TOLERANCE = 0.02  # DataRate and the time column's rate may differ by this fraction (rounded times)


def read_trc(path: str | Path, limits: InputLimits = DEFAULT_LIMITS) -> Take:
    """Reads a TRC marker file (as written above, or by other tools) into a take in metres.
    Markers become the take's joints; an empty marker field makes that marker missing in its
    frame. The header's rate, NumMarkers and NumFrames are checked against the data, frame
    numbers must increase (skipped ones are frames with nobody in view), every value must be a
    finite plausible number; InputError naming the file and the line otherwise."""
    path = Path(path)
    text = _trc_text(path)
    lines = text.splitlines()
    if not lines or not lines[0].startswith("PathFileType"):
        raise InputError(f"{path}: line 1: not a TRC file (it must start with PathFileType)")
    if len(lines) < 5:
        raise InputError(f"{path}: not a TRC file (the header needs 5 lines, the file has {len(lines)})")
    keys = [k.strip() for k in lines[1].split("\t") if k.strip()]
    values = [v.strip() for v in lines[2].split("\t") if v.strip()]
    meta = dict(zip(keys, values))
    for key in ("DataRate", "NumMarkers", "Units"):
        if key not in meta:
            raise InputError(f"{path}: line 2-3: the header has no {key}")
    fps = check_rate(_number(path, 3, "DataRate", meta["DataRate"]), f"{path}: line 3: DataRate")
    units = meta["Units"]
    if units not in TRC_UNITS:
        raise InputError(f"{path}: line 3: unknown Units {units!r}; use one of {', '.join(TRC_UNITS)}")
    num_markers = _count(path, 3, "NumMarkers", meta["NumMarkers"])
    limits.check_joints(num_markers, f"{path}: line 3: NumMarkers")
    names = tuple(n.strip() for n in lines[3].split("\t")[2:] if n.strip())
    if len(names) != num_markers:
        raise InputError(f"{path}: line 4: {len(names)} marker names but NumMarkers is {num_markers}")
    unique_names(names, f"{path}: line 4", "marker")
    declared = _count(path, 3, "NumFrames", meta["NumFrames"]) if "NumFrames" in meta else None
    if declared is not None:
        limits.check_frames(declared, f"{path}: line 3: NumFrames")
    width = 2 + 3 * num_markers
    if not ends_with_line_end(text) and len(lines) > 5 and lines[-1].strip():
        above = lines[-2].split("\t") if lines[-2].strip() and len(lines) > 6 else None
        problem = cut_row_problem(lines[-1].split("\t"), above, width)
        if problem:
            raise InputError(f"{path}: line {len(lines)}: {problem}; {CUT_SHORT}")
    first_line, rows = _data_rows(path, lines, width, limits)
    if declared is not None and declared != len(rows):
        raise InputError(f"{path}: line 3: NumFrames is {declared} but the file has {len(rows)} frames")
    data = np.array(rows, dtype=float)
    if np.isnan(data[:, :2]).any():
        bad = int(np.flatnonzero(np.isnan(data[:, :2]).any(axis=1))[0])
        raise InputError(f"{path}: line {first_line + bad}: Frame# and Time cannot be empty")
    times = data[:, 1]
    if (np.diff(times) < 0).any():
        bad = int(np.flatnonzero(np.diff(times) < 0)[0]) + 1
        raise InputError(f"{path}: line {first_line + bad}: the time {times[bad]:.6g} goes backwards")
    layout = frames_of_rows(data[:, 0], times, first_line, str(path), limits)
    _check_rate_against_times(path, fps, layout)
    say_skipped(str(path), layout.skipped, int(data[0, 0]))
    joints = data[:, 2:].reshape(len(rows), num_markers, 3) / TRC_UNITS[units]
    at = first_implausible(joints, MAX_POSITION_M, allow_nan=True)
    if at is not None:
        raise InputError(f"{path}: line {first_line + at[0]}, marker {names[at[1]]}: "
                         f"{data[at[0], 2 + 3 * at[1] + at[2]]:.6g} {units} is not a plausible position")
    joints = missing_as_whole_joints(place_rows(joints, layout))
    skeleton = next((s for s in (MONOCAP_BODY, MONOCAP_HANDS) if s.joint_names == names),
                    None) or Skeleton(path.stem, names, (-1,) * len(names))
    valid = valid_frames(joints, skeleton)
    joints[~valid] = np.nan
    return Take(joints, skeleton, fps, layout.times_s, valid, metadata={"source": str(path), "source_units": units},
                joint_confidence=confidence_if_partial(joints, skeleton, valid))


def _data_rows(path: Path, lines: list[str], width: int, limits: InputLimits) -> tuple[int, list[np.ndarray]]:
    """(line number of the first data row, each row's Frame#, Time and coordinates, NaN where
    empty). The rows run from after the header to the first empty line after them."""
    rows: list[np.ndarray] = []
    first_line = 0
    for number, line in enumerate(lines[5:], start=6):
        if not line.strip():
            if rows:
                break
            continue
        first_line = first_line or number
        limits.check_frames(len(rows) + 1, str(path))
        fields = line.split("\t")
        while len(fields) > width and not fields[-1].strip():
            fields.pop()
        # a row may end early where its last markers are missing, but only by whole markers
        if len(fields) > width or (len(fields) < width and (len(fields) < 2 or (len(fields) - 2) % 3)):
            raise InputError(f"{path}: line {number}: {len(fields)} fields, NumMarkers {(width - 2) // 3} "
                             f"needs {width}")
        fields = fields + [""] * (width - len(fields))
        try:
            rows.append(parse_numbers(fields, empty_is_missing=True))
        except NotANumberError as bad:
            raise InputError(f"{path}: line {number}: {bad}") from None
    if not rows:
        raise InputError(f"{path}: the TRC file has no frames")
    return first_line, rows


def _check_rate_against_times(path: Path, fps: float, layout: RowFrames) -> None:
    """InputError naming both when DataRate and the time column's rate disagree."""
    span = float(layout.times_s[-1] - layout.times_s[0])
    frames = len(layout.times_s) - 1
    if frames < 1 or span <= 0:
        return
    from_times = frames / span
    if abs(from_times - fps) > RATE_TOLERANCE * fps:
        raise InputError(f"{path}: line 3: DataRate is {fps:.6g} frames per second but the Time column runs at "
                         f"{from_times:.6g}; the header and the data disagree")


def _trc_text(path: Path) -> str:
    """The file as text: UTF-8, or Latin-1 (what older tools write marker names in)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _number(path: Path, line: int, key: str, text: str) -> float:
    try:
        return parse_number(text)
    except NotANumberError as bad:
        raise InputError(f"{path}: line {line}: {key} {bad}") from None


def _count(path: Path, line: int, key: str, text: str) -> int:
    try:
        value = parse_whole_number(text)
    except NotANumberError:
        raise InputError(f"{path}: line {line}: {key} {shown_field(text)} is not a whole number") from None
    if value < 0:
        raise InputError(f"{path}: line {line}: {key} is {value}, a negative count")
    return value
