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
from engine.core.input_checks import (DEFAULT_LIMITS, MAX_POSITION_M, InputLimits, check_rate, check_rate_to_write,
                                      first_implausible, is_number, unique_names)
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS, Skeleton, frame_joints
from engine.core.take import Take

TRC_UNITS = {"mm": 1000.0, "cm": 100.0, "m": 1.0}
METADATA_KEYS = ("DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units", "OrigDataRate",
                 "OrigDataStartFrame", "OrigNumFrames")


def marker_name(name: str) -> str:
    """Marker names cannot hold whitespace in TRC; anything else is kept."""
    return re.sub(r"\s+", "_", name)


def write_trc(take: Take, path: str | Path, units: str = "mm", start_frame: int = 1) -> Path:
    if units not in TRC_UNITS:
        raise ValueError(f"unknown TRC unit {units!r}; use one of {', '.join(TRC_UNITS)}")
    path = Path(path)
    check_rate_to_write(take.fps, path)
    scale = TRC_UNITS[units]
    names = [marker_name(n) for n in take.skeleton.joint_names]
    t_count, j_count = take.num_frames, len(names)
    rate = f"{take.fps:.6g}"
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "\t".join(METADATA_KEYS),
        "\t".join([rate, rate, str(t_count), str(j_count), units, rate, str(start_frame), str(t_count)]),
        "\t".join(["Frame#", "Time"] + [f"{n}\t\t" for n in names]).rstrip("\t"),
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, j_count + 1)),
        "",
    ]
    data = take.joints_m.reshape(t_count, -1) * scale
    ok = take.valid & np.isfinite(take.joints_m[:, frame_joints(take.skeleton)]).all(axis=(1, 2))
    complete = np.isfinite(data).all(axis=1)
    row_fmt = "\t".join(["%.4f"] * data.shape[1])
    empty = "\t".join([""] * data.shape[1])
    times = take.timestamps_s - (take.timestamps_s[0] if t_count else 0.0)
    for i in range(t_count):
        if not ok[i]:
            values = empty
        elif complete[i]:
            values = row_fmt % tuple(data[i])
        else:  # a hand out of view: its markers are missing, the rest are there
            values = "\t".join("" if not np.isfinite(v) else f"{v:.4f}" for v in data[i])
        lines.append(f"{i + start_frame}\t{times[i]:.6f}\t{values}")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_trc(path: str | Path, limits: InputLimits = DEFAULT_LIMITS) -> Take:
    """Reads a TRC marker file (as written above, or by other tools) into a take in metres.
    Markers become the take's joints; a frame with any empty marker field is invalid. The
    header's rate, NumMarkers and NumFrames are checked against the data, every value must be
    finite and plausible; InputError naming the file and the line otherwise."""
    path = Path(path)
    lines = _trc_lines(path)
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
    rows = []
    first_line = None
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
            raise InputError(f"{path}: line {number}: {len(fields)} fields, NumMarkers {num_markers} needs {width}")
        fields = fields + [""] * (width - len(fields))
        try:
            rows.append([float(f) if f.strip() else np.nan for f in fields[1:width]])
        except ValueError:
            bad = next(f for f in fields[1:width] if f.strip() and not is_number(f))
            raise InputError(f"{path}: line {number}: {bad.strip()[:20]!r} is not a number") from None
    if not rows:
        raise InputError(f"{path}: the TRC file has no frames")
    if declared is not None and declared != len(rows):
        raise InputError(f"{path}: line 3: NumFrames is {declared} but the file has {len(rows)} frames")
    data = np.array(rows, dtype=float)
    times = data[:, 0]
    if not np.isfinite(times).all() or (np.diff(times) < 0).any():
        bad = int(np.flatnonzero(~np.isfinite(times) | np.r_[False, np.diff(times) < 0])[0])
        raise InputError(f"{path}: line {first_line + bad}: the time {times[bad]:.6g} is missing or goes backwards")
    joints = data[:, 1:].reshape(len(rows), num_markers, 3) / TRC_UNITS[units]
    at = first_implausible(joints, MAX_POSITION_M, allow_nan=True)
    if at is not None:
        raise InputError(f"{path}: line {first_line + at[0]}, marker {names[at[1]]}: "
                         f"{data[at[0], 1 + 3 * at[1] + at[2]]:.6g} {units} is not a plausible position")
    skeleton = next((s for s in (MONOCAP_BODY, MONOCAP_HANDS) if s.joint_names == names),
                    None) or Skeleton(path.stem, names, (-1,) * len(names))
    valid = np.isfinite(joints[:, frame_joints(skeleton)]).all(axis=(1, 2))
    return Take(joints, skeleton, fps, times, valid, metadata={"source": str(path), "source_units": units})


def _trc_lines(path: Path) -> list[str]:
    """The file's lines; UTF-8, or Latin-1 (what older tools write marker names in)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.splitlines()



def _number(path: Path, line: int, key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{path}: line {line}: {key} {text[:20]!r} is not a number") from None


def _count(path: Path, line: int, key: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{path}: line {line}: {key} {text[:20]!r} is not a whole number") from None
    if value < 0:
        raise InputError(f"{path}: line {line}: {key} is {value}, a negative count")
    return value
