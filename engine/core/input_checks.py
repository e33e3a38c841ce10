"""What every reader and writer of take files checks: size limits (checked before allocating),
frame rates, and numbers that are finite and of a plausible size. One place for those bounds."""

from __future__ import annotations

import math
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


def unique_names(names, where: str, what: str = "joint") -> None:
    seen = set()
    for n in names:
        if n in seen:
            raise InputError(f"{where}: the {what} name {n!r} appears twice; names must be unique")
        seen.add(n)


def is_number(text: str) -> bool:
    """Whether a text field of a file parses as a number (inf and nan included: they are checked apart)."""
    try:
        float(text)
        return True
    except ValueError:
        return False
