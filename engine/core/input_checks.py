"""What every reader and writer of take files checks: size limits (checked before allocating),
frame rates, and numbers that are finite and of a plausible size. One place for those bounds."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from engine.core.errors import InputError, OutputError

MIN_FPS = 0.001  # one frame in 1000 s
MAX_FPS = 2000.0  # the fastest motion capture systems
MAX_POSITION_M = 1e4  # no joint of a recorded person is 10 km from the origin
MAX_ANGLE_DEG = 1e7  # unwrapped angles grow with every turn, but not to this


@dataclass(frozen=True)
class InputLimits:
    """Bounds on what a file may ask to allocate. `--max-frames` and `--max-joints` raise them."""

    max_frames: int = 2_000_000  # 18 hours at 30 fps
    max_joints: int = 1_000
    max_decompressed_mb: int = 4096  # an .npz's arrays, unpacked; a 2-million-frame take needs 1.5 GB

    def check_frames(self, count: int, where: str) -> None:
        if count > self.max_frames:
            raise InputError(f"{where}: {count} frames is more than the limit of {self.max_frames} "
                             "(--max-frames raises it)")

    def check_joints(self, count: int, where: str) -> None:
        if count > self.max_joints:
            raise InputError(f"{where}: {count} joints is more than the limit of {self.max_joints} "
                             "(--max-joints raises it)")

    def check_decompressed(self, nbytes: int, where: str) -> None:
        if nbytes > self.max_decompressed_mb * 2**20:
            raise InputError(f"{where}: its arrays unpack to {nbytes / 2**20:.0f} MB, more than the limit of "
                             f"{self.max_decompressed_mb} MB (--max-decompressed-mb raises it)")


DEFAULT_LIMITS = InputLimits()


def rate_problem(fps: float) -> str | None:
    """Why `fps` cannot be a take's frame rate, or None when it can."""
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        return f"{fps!r} is not a number"
    if not math.isfinite(fps) or fps <= 0:
        return f"{fps:g} is not a positive frame rate"
    if not MIN_FPS <= fps <= MAX_FPS:
        return f"{fps:g} frames per second is not a plausible frame rate ({MIN_FPS:g} to {MAX_FPS:g})"
    return None


def check_rate(fps: float, where: str) -> float:
    """InputError "WHERE: <problem>" unless `fps` is a plausible frame rate; returns it as float."""
    problem = rate_problem(fps)
    if problem:
        raise InputError(f"{where}: {problem}")
    return float(fps)


def check_rate_to_write(fps: float, path) -> float:
    """OutputError naming `path`: no file is ever written with a rate a reader cannot use."""
    problem = rate_problem(fps)
    if problem:
        raise OutputError(f"{path}: not written: the take's frame rate {problem[0].lower() + problem[1:]}")
    return float(fps)


def first_implausible(values: np.ndarray, limit: float, allow_nan: bool = False) -> tuple[int, ...] | None:
    """Index of the first value that is infinite, NaN (unless allowed) or larger than `limit`."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(values) <= limit)
    if allow_nan:
        bad &= ~np.isnan(values)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), values.shape))


def describe_value(value: float) -> str:
    return f"{value:.6g}"


def check_positions(joints_m: np.ndarray, where: str, names: tuple[str, ...] | None = None,
                    allow_nan: bool = True) -> None:
    """InputError naming the frame and joint of the first non-finite or implausibly far position
    in (T, J, 3) metres."""
    at = first_implausible(joints_m, MAX_POSITION_M, allow_nan=allow_nan)
    if at is None:
        return
    frame, joint = at[0], at[1]
    name = names[joint] if names is not None and joint < len(names) else f"joint {joint}"
    value = float(joints_m[at])
    why = "is not a finite number" if not np.isfinite(value) else f"m is more than {MAX_POSITION_M:g} m from the origin"
    raise InputError(f"{where}: frame {frame}, {name}: {describe_value(value)} {why}")


def check_names_to_write(names, path, what: str = "joint") -> None:
    """OutputError naming `path` unless every name can be written and read back: not empty, no
    NUL characters, no two alike."""
    seen: set[str] = set()
    for k, name in enumerate(names):
        if not name or "\0" in name:
            raise OutputError(f"{path}: not written: {what} {k} has " +
                              ("an empty name" if not name else f"the name {name!r}, which holds a NUL character"))
        if name in seen:
            raise OutputError(f"{path}: not written: the {what} name {name!r} appears twice")
        seen.add(name)


def check_written_names_differ(names, written, path, what: str = "joint") -> None:
    """OutputError naming both when two names become one as a file format writes them."""
    first: dict[str, str] = {}
    for name, as_written in zip(names, written):
        if as_written in first:
            raise OutputError(f"{path}: not written: the {what}s {first[as_written]!r} and {name!r} would both be "
                              f"written as {as_written!r}; rename one")
        first[as_written] = name


def unique_names(names, where: str, what: str = "joint") -> None:
    seen = set()
    for n in names:
        if n in seen:
            raise InputError(f"{where}: the {what} name {n!r} appears twice; names must be unique")
        seen.add(n)


# The one grammar of a number in a text take file (BVH, CSV, TRC): decimal digits, an optional
# point and exponent. Python's float() also takes `1_000`, `nan`, `inf` and other scripts' digits,
# none of which any of these formats allows.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_NUMBER_BYTES = np.zeros(256, dtype=bool)
_NUMBER_BYTES[list(b"0123456789+-.eE \t\r\n")] = True


class NotANumberError(ValueError):
    """A field that is not a number: `index` is its place among the fields parsed, `text` the field."""

    def __init__(self, index: int, text: str):
        super().__init__(_not_a_number(text))
        self.index = index
        self.text = text


def _not_a_number(text: str) -> str:
    try:
        infinite = not math.isfinite(float(text))
    except ValueError:
        infinite = False
    if infinite:
        return f"{text.strip()[:20]} is not a finite number (NaN or infinity)"
    return f"{shown_field(text)} is not a number"


def shown_field(text: str) -> str:
    """A field as a message quotes it: stripped and cut to 20 characters."""
    return repr(text.strip()[:20])


def is_number(text: str) -> bool:
    """Whether a field of a text take file is a number in the one grammar above."""
    return _NUMBER.fullmatch(text.strip()) is not None


def parse_number(text: str) -> float:
    """A field as a float; NotANumberError unless it is a number in the one grammar."""
    if not is_number(text):
        raise NotANumberError(0, text)
    return float(text)


def parse_whole_number(text: str) -> int:
    """A field as an int (digits only); NotANumberError otherwise."""
    if _WHOLE_NUMBER.fullmatch(text.strip()) is None:
        raise NotANumberError(0, text)
    return int(text)


def parse_numbers(fields: list[str], empty_is_missing: bool = False) -> np.ndarray:
    """(N,) floats from N fields, each a number in the one grammar (or, with `empty_is_missing`,
    empty: NaN). NotANumberError naming the first field that is not."""
    joined = "\n".join(fields).encode("utf-8", "surrogatepass")
    if _NUMBER_BYTES[np.frombuffer(joined, dtype=np.uint8)].all():
        try:
            return np.array([f if f.strip() or not empty_is_missing else "nan" for f in fields], dtype=float)
        except ValueError:
            pass
    for index, text in enumerate(fields):
        if not (is_number(text) or (empty_is_missing and not text.strip())):
            raise NotANumberError(index, text)
    return np.array([float(f) if f.strip() else np.nan for f in fields], dtype=float)


CUT_SHORT = "the file stops inside this frame, with no line end after it: it is truncated"


def ends_with_line_end(text: str) -> bool:
    """Whether the file's last row was closed by a line end (spaces after it aside)."""
    return text.rstrip(" \t").endswith(("\n", "\r"))


def cut_row_problem(last: list[str], above: list[str] | None, width: int) -> str | None:
    """Why the last row of a file that stops without a line end looks cut off, or None.

    last: its fields; above: the fields of the row before it (None when it is the first); width:
    the fields a whole row has. A cut row is short, ends on a separator inside a value group, or
    its last number has fewer decimals than the same number in the row above (files write each
    column to a fixed number of decimals)."""
    while len(last) > width and not last[-1].strip():  # separators after a whole row
        last = last[:-1]
    if len(last) < width:
        return f"{len(last)} values where a frame has {width}"
    end = last[-1].strip()
    if not end:
        return "the row ends on a separator" if len(last) > 1 and last[-2].strip() else None
    reference = above[len(last) - 1] if above is not None and len(above) >= len(last) else (
        last[-2] if len(last) > 1 else "")
    if is_number(end) and is_number(reference) and _decimals(end) < _decimals(reference):
        return f"its last number {end[:20]!r} has fewer decimals than {reference.strip()[:20]!r} before it"
    return None


def _decimals(number: str) -> int:
    mantissa = re.split("[eE]", number.strip())[0]
    return len(mantissa.partition(".")[2]) if "." in mantissa else 0


def check_times(times: np.ndarray, where: str) -> None:
    """(T,) a file's times in seconds: each plausible, none going backwards; InputError naming the frame."""
    bad = first_implausible(times, 1e9)
    if bad is not None:
        raise InputError(f"{where}: frame {bad[0]}: {times[bad]:.6g} is not a plausible time in seconds")
    back = np.flatnonzero(np.diff(times) < 0)
    if back.size:
        raise InputError(f"{where}: frame {back[0] + 1}: time goes backwards ({times[back[0]]:.6g} -> "
                         f"{times[back[0] + 1]:.6g} s)")
