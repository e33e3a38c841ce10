"""A take as CSV: one row per frame: frame, time_s, then <joint>_x_m, _y_m, _z_m (metres; empty
where a joint is missing), then, for takes with the face, face_<curve> per face curve (e.g.
face_blink_left, face_head_yaw_deg; empty where the face was not seen). The frame rate is 1 / the
time step."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from engine.core.atomic import write_text_atomic
from engine.core.errors import InputError, OutputError
from engine.core.input_checks import (
    CUT_SHORT,
    DEFAULT_LIMITS,
    MAX_POSITION_M,
    InputLimits,
    NotANumberError,
    check_names_to_write,
    check_rate,
    check_rate_to_write,
    check_times,
    check_written_names_differ,
    cut_row_problem,
    ends_with_line_end,
    first_implausible,
    parse_numbers,
    unique_names,
)
from engine.core.skeletons import Skeleton
from engine.core.take import DEFAULT_FPS, Take, confidence_if_partial, missing_as_whole_joints, valid_frames
from engine.core.take_rows import frames_of_rows, place_rows, say_skipped

# What ends a CSV field or line: a comma, and every character str.splitlines() breaks a line at.
_CSV_BREAKS = re.compile("[,\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")


def csv_joint_name(name: str) -> str:
    """A joint's name as a CSV header holds it: commas and line breaks become `_`, no spaces around."""
    return _CSV_BREAKS.sub("_", name).strip()


FACE_PREFIX = "face_"


def csv_header(skeleton: Skeleton, face_curve_names: tuple[str, ...] = ()) -> list[str]:
    cols = ["frame", "time_s"]
    for name in map(csv_joint_name, skeleton.joint_names):
        cols += [f"{name}_x_m", f"{name}_y_m", f"{name}_z_m"]
    return cols + [FACE_PREFIX + csv_joint_name(n) for n in face_curve_names]


def _face_columns(header: list[str]) -> int:
    """Where the trailing face curve columns (face_<curve>, not a coordinate) start in a header."""
    k = len(header)
    while k > 2 and header[k - 1].startswith(FACE_PREFIX) and not header[k - 1].endswith("_m"):
        k -= 1
    return k


def write_csv(take: Take, path: str | Path) -> Path:
    """One row per frame: frame, time_s, then x, y, z in metres per joint (empty where missing).
    Joint names are written as csv_joint_name gives them; OutputError when two become one."""
    check_rate_to_write(take.fps, path)
    if not np.isfinite(take.timestamps_s).all():
        raise OutputError(f"{path}: not written: the take's timestamps are not all finite")
    names = take.skeleton.joint_names
    check_written_names_differ(names, [csv_joint_name(n) for n in names], path)
    check_names_to_write([csv_joint_name(n) for n in names], path)
    face_names = take.face_curve_names if take.face_curves is not None else ()
    lines = [",".join(csv_header(take.skeleton, face_names))]
    flat = take.joints_m.reshape(take.num_frames, -1)
    if face_names:
        flat = np.concatenate([flat, take.face_curves], axis=1)
    for i in range(take.num_frames):
        values = ",".join("" if not np.isfinite(v) else f"{v:.5f}" for v in flat[i])
        lines.append(f"{i},{take.timestamps_s[i]:.6f},{values}")
    return write_text_atomic(path, "\n".join(lines) + "\n")


def read_text_file(path: Path, what: str) -> str:
    """The file as UTF-8 text (a BOM allowed); InputError naming it when it cannot be read or is
    not text."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: not UTF-8 text; not a {what}") from None


def csv_joint_names(path: Path, header_line: str) -> tuple[str, ...]:
    """Joint names from a Monocap CSV header; InputError naming the file when it is not one."""
    header = [h.strip() for h in header_line.strip().split(",")]
    header = header[:_face_columns(header)]
    if header[:2] != ["frame", "time_s"] or len(header) < 5 or (len(header) - 2) % 3:
        raise InputError(f"{path}: line 1: not a Monocap CSV header "
                         "(frame,time_s,<joint>_x_m,<joint>_y_m,<joint>_z_m,...)")
    names = []
    for k in range(2, len(header), 3):
        x, y, z = header[k:k + 3]
        name = x[:-4]
        if not (x.endswith("_x_m") and y == f"{name}_y_m" and z == f"{name}_z_m") or not name:
            raise InputError(f"{path}: line 1: columns {x},{y},{z} are not <joint>_x_m,<joint>_y_m,<joint>_z_m")
        names.append(name)
    unique_names(names, f"{path}: line 1")
    return tuple(names)


def read_csv(path: str | Path, skeleton: Skeleton | None = None, limits: InputLimits = DEFAULT_LIMITS,
             any_joints: bool = False) -> Take:
    """Reads a CSV written by write_csv back into a take (joint names from the header; with
    `any_joints`, joints that are no known skeleton's become a skeleton of their own). Every row
    must have the header's columns, every value be a number of a plausible size or empty (that
    joint missing), frame numbers must increase (skipped ones are frames with nobody in view) and
    time with them; InputError naming the file and line otherwise."""
    from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS

    path = Path(path)
    text = read_text_file(path, "CSV")
    rows = text.splitlines()
    while rows and not rows[-1].strip():
        rows.pop()
    if not rows:
        raise InputError(f"{path}: the file is empty; not a Monocap CSV")
    names = csv_joint_names(path, rows[0])
    limits.check_joints(len(names), str(path))
    limits.check_frames(len(rows) - 1, str(path))
    if len(rows) < 2:
        raise InputError(f"{path}: the CSV has a header but no frames")
    if skeleton is None:
        skeleton = next((s for s in (MONOCAP_BODY, MONOCAP_HANDS) if s.joint_names == names), None)
        if skeleton is None and any_joints:
            skeleton = Skeleton(path.stem, names, (-1,) * len(names))
    if skeleton is None or skeleton.joint_names != names:
        raise InputError(f"{path}: joints {names[:3]}... do not match a known skeleton")
    columns = [h.strip() for h in rows[0].strip().split(",")]
    face_names = tuple(h[len(FACE_PREFIX):] for h in columns[_face_columns(columns):])
    header = csv_header(skeleton, face_names)
    if not ends_with_line_end(text):
        problem = cut_row_problem(rows[-1].split(","), rows[-2].split(",") if len(rows) > 2 else None, len(header))
        if problem:
            raise InputError(f"{path}: line {len(rows)}: {problem}; {CUT_SHORT}")
    data = _csv_values(path, rows[1:], header)
    if np.isnan(data[:, :2]).any():
        line = int(np.flatnonzero(np.isnan(data[:, :2]).any(axis=1))[0]) + 2
        raise InputError(f"{path}: line {line}: frame and time_s cannot be empty")
    times = data[:, 1]
    check_times(times, f"{path}: time_s")
    if len(times) > 1 and times[-1] <= times[0]:
        raise InputError(f"{path}: time_s does not advance, so the frame rate is unknown")
    layout = frames_of_rows(data[:, 0], times, 2, str(path), limits)
    say_skipped(str(path), layout.skipped, int(data[0, 0]))
    joint_end = 2 + 3 * len(names)
    joints = missing_as_whole_joints(place_rows(data[:, 2:joint_end].reshape(len(data), len(names), 3), layout))
    face = place_rows(data[:, joint_end:], layout) if face_names else None
    count = len(layout.times_s)
    span = float(times[-1] - times[0])
    fps = check_rate((count - 1) / span, f"{path}: time_s") if count > 1 else DEFAULT_FPS
    valid = valid_frames(joints, skeleton)
    joints[~valid] = np.nan
    return Take(joints, skeleton, fps, layout.times_s, valid,
                joint_confidence=confidence_if_partial(joints, skeleton, valid),
                face_curves=face, face_curve_names=face_names)


def _csv_values(path: Path, rows: list[str], header: list[str]) -> np.ndarray:
    """(rows, columns) numbers of the data rows (NaN where empty), each a number in the one
    grammar and every position within MAX_POSITION_M."""
    data = np.empty((len(rows), len(header)))
    for i, row in enumerate(rows):
        fields = row.split(",")
        if len(fields) != len(header):
            raise InputError(f"{path}: line {i + 2}: {len(fields)} values, the header has {len(header)} columns")
        try:
            data[i] = parse_numbers(fields, empty_is_missing=True)
        except NotANumberError as bad:
            raise InputError(f"{path}: line {i + 2}, {header[bad.index]}: {bad}") from None
    at = first_implausible(data[:, 2:], MAX_POSITION_M, allow_nan=True)
    if at is not None:
        raise InputError(f"{path}: line {at[0] + 2}, {header[at[1] + 2]}: {data[at[0], at[1] + 2]:.6g} is not "
                         f"a position in metres (finite, within {MAX_POSITION_M:g} m)")
    return data
