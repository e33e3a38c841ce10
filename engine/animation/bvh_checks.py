"""What a BVH file must hold for its motion to be trusted, checked as it is parsed: bounds on
joints and frames (before anything is allocated), unique names, finite offsets, a positive
plausible Frame Time, one frame per line with exactly the hierarchy's channel count, and finite
values of a plausible size. Each failure is an InputError naming the file and the line."""

from __future__ import annotations

import re

import numpy as np

from engine.core.errors import InputError
from engine.core.input_checks import (
    CUT_SHORT,
    MAX_ANGLE_DEG,
    InputLimits,
    NotANumberError,
    cut_row_problem,
    ends_with_line_end,
    is_number,
    parse_number,
    parse_numbers,
    parse_whole_number,
    rate_problem,
    shown_field,
)

MAX_FILE_UNITS = 1e7  # offsets and positions: 10 km in millimetres, the smallest unit BVH files use
MAX_CHANNELS_PER_JOINT = 6


_JOINT_KEYWORD = re.compile(r"(?m)^\s*(?:ROOT|JOINT|End)\s")


def check_hierarchy_size(text: str, limits: InputLimits, path: str) -> None:
    """Counts the joints (end sites included) of the HIERARCHY before anything is parsed, so a
    header of a million joints is refused in a moment."""
    motion = text.find("MOTION")
    hierarchy = text if motion < 0 else text[:motion]
    count = sum(1 for _ in _JOINT_KEYWORD.finditer(hierarchy))
    limits.check_joints(count, f"{path}: HIERARCHY")


def check_joint_count(count: int, limits: InputLimits, path: str) -> None:
    limits.check_joints(count, f"{path}: HIERARCHY")


def check_channel_count(count: int, joint: str, path: str) -> None:
    if not 0 <= count <= MAX_CHANNELS_PER_JOINT:
        raise InputError(f"{path}: joint {joint}: CHANNELS {count}; a joint has 0 to {MAX_CHANNELS_PER_JOINT} channels")


def check_hierarchy(joints, path: str) -> None:
    """Unique names (end sites included) and three finite offsets per joint."""
    seen: set[str] = set()
    for joint in joints:
        if joint.name in seen:
            raise InputError(f"{path}: the joint name {joint.name!r} appears twice in the HIERARCHY; "
                             "names must be unique")
        seen.add(joint.name)
        offset = np.asarray(joint.offset, dtype=float)
        if offset.shape != (3,):
            raise InputError(f"{path}: joint {joint.name}: OFFSET needs 3 numbers, has {offset.size}")
        if not (np.abs(offset) <= MAX_FILE_UNITS).all():
            raise InputError(f"{path}: joint {joint.name}: OFFSET {' '.join(f'{v:.6g}' for v in offset)} is not "
                             f"finite and within {MAX_FILE_UNITS:g} units")


def frame_count(text: str, limits: InputLimits, path: str) -> int:
    """The `Frames:` value: a whole number, not negative, within the limit."""
    try:
        count = parse_whole_number(text)
    except NotANumberError:
        raise InputError(f"{path}: Frames: {shown_field(text)} is not a whole number") from None
    if count < 0:
        raise InputError(f"{path}: Frames: {count} is negative")
    limits.check_frames(count, f"{path}: Frames:")
    return count


def frame_time(text: str, path: str) -> float:
    """The `Frame Time:` value: seconds per frame, a number, positive, a plausible rate."""
    seconds = parse_number(text) if is_number(text) else np.nan
    if not seconds > 0:
        raise InputError(f"{path}: Frame Time: {shown_field(text)} is not a positive time in seconds")
    problem = rate_problem(1.0 / seconds)
    if problem:
        raise InputError(f"{path}: Frame Time: {seconds:g} s per frame is {problem}")
    return seconds


def motion_values(text: str, rows: list[str], num_frames: int, joints, path: str) -> np.ndarray:
    """(num_frames, channels) from the motion rows (the non-empty lines after `Frame Time:`).
    A row is a frame of exactly the hierarchy's channel count; rows wrapped over several lines
    are read when together they hold exactly `num_frames` frames. Values must be finite,
    rotations within MAX_ANGLE_DEG, positions within MAX_FILE_UNITS."""
    channels = [(j.name, c) for j in joints for c in j.channels]
    width = len(channels)
    counts = _values_per_line("\n".join(rows)) if rows else np.zeros(0, dtype=np.int64)
    total = int(counts.sum())
    wrapped = len(rows) != num_frames and total == num_frames * width
    _check_not_cut(text, rows, 0 if wrapped else width, path)
    if not wrapped:
        wrong = np.flatnonzero(counts != width)
        if wrong.size:
            k = int(wrong[0])
            raise InputError(f"{path}: line {_row_line(text, k)}: {counts[k]} values where the hierarchy declares "
                             f"{width} channels")
        if len(rows) != num_frames:
            raise InputError(f"{path}: Frames: announces {num_frames} frames but the file has {len(rows)}"
                             + (" (it is truncated or damaged)" if len(rows) < num_frames else ""))
    flat = " ".join(rows).split()
    try:
        out = parse_numbers(flat)
    except NotANumberError as bad:
        row, (name, channel) = divmod(bad.index, width)[0], channels[bad.index % width]
        where = f"line {_row_line(text, row)}" if not wrapped else f"frame {row}"
        raise InputError(f"{path}: {where}, {name} {channel}: {bad}") from None
    if out.size != num_frames * width:
        raise InputError(f"{path}: the MOTION section holds {out.size} values, not {num_frames} x {width}")
    out = out.reshape(num_frames, width)
    _check_values(out, channels, text, wrapped, path)
    return out


def _check_not_cut(text: str, rows: list[str], width: int, path: str) -> None:
    """InputError when the file stops inside its last motion row (no line end after it and the
    row short or its last number cut)."""
    if not rows or ends_with_line_end(text):
        return
    above = rows[-2].split() if len(rows) > 1 else None
    problem = cut_row_problem(rows[-1].split(), above, width)
    if problem:
        raise InputError(f"{path}: line {_row_line(text, len(rows) - 1)}: {problem}; {CUT_SHORT}")


def _check_values(values: np.ndarray, channels, text: str, wrapped: bool, path: str) -> None:
    limits = np.array([MAX_ANGLE_DEG if c.endswith("rotation") else MAX_FILE_UNITS for _, c in channels])
    bad = ~(np.abs(values) <= limits)
    if bad.any():
        r, k = np.unravel_index(int(np.argmax(bad)), bad.shape)
        name, channel = channels[k]
        value = values[r, k]
        why = "is not a finite number (NaN or infinity)" if not np.isfinite(value) else f"is beyond {limits[k]:g}"
        where = f"frame {r}" if wrapped else f"line {_row_line(text, int(r))}"
        raise InputError(f"{path}: {where}, {name} {channel}: {value:.6g} {why}")


_MOTION = re.compile(r"\bMOTION\b")
_FRAME_TIME_LINE = re.compile(r"frame\s+time\s*:", re.IGNORECASE)


def _row_line(text: str, row: int) -> int:
    """The file's line number of motion row `row` (0 first), for messages."""
    motion = _MOTION.search(text)
    base = text.count("\n", 0, motion.end()) if motion else 0
    lines = text[motion.end() if motion else 0:].split("\n")
    start = next((i for i, line in enumerate(lines) if _FRAME_TIME_LINE.search(line)), 0)
    seen = -1
    for i in range(start + 1, len(lines)):
        if lines[i].strip():
            seen += 1
            if seen == row:
                return base + i + 1
    return base + len(lines)


def _values_per_line(text: str) -> np.ndarray:
    """How many whitespace-separated values each line of `text` holds (line 0 first), counted
    without splitting it into strings."""
    raw = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    if raw.size == 0:
        return np.zeros(1, dtype=np.int64)
    newline = raw == 10
    space = newline | (raw == 32) | (raw == 9) | (raw == 11) | (raw == 12) | (raw == 13)
    starts = np.flatnonzero(~space & np.r_[True, space[:-1]])
    newlines = np.flatnonzero(newline)
    line = np.searchsorted(newlines, starts)  # the line each value starts on
    return np.bincount(line, minlength=newlines.size + 1)

