"""Where the rows of a text take file (CSV, TRC) sit in its take: the file's frame column read into
frames, the frame numbers it skips becoming frames with nobody in view."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from engine.core.errors import InputError
from engine.core.input_checks import InputLimits

log = logging.getLogger("monocap.input")


@dataclass(frozen=True)
class RowFrames:
    """Where the rows of a CSV or TRC file sit in its take, from the file's frame column: frame
    numbers the file skips become frames with nobody in view."""

    slots: np.ndarray  # (rows,) the take frame each row is
    times_s: np.ndarray  # (T,) every frame's time; a skipped frame's between the rows around it
    skipped: list[tuple[int, int]]  # [start, stop) runs of frame numbers the file does not hold


GAP_STEP_TOLERANCE = 2.0  # a skipped run's time per frame within this factor of the file's own


def frames_of_rows(frames: np.ndarray, times: np.ndarray, first_line: int, where: str,
                   limits: InputLimits) -> RowFrames:
    """frames, times: (rows,) the frame and time columns, rows from line `first_line` on.
    Frame numbers must be whole and increase; where they skip, the time column must skip as
    many frames' worth (within GAP_STEP_TOLERANCE). InputError naming the line otherwise."""
    whole = frames == np.round(frames)
    if not whole.all():
        k = int(np.argmin(whole))
        raise InputError(f"{where}: line {first_line + k}: frame {frames[k]:.6g} is not a whole number")
    steps = np.diff(frames)
    if (steps <= 0).any():
        k = int(np.argmax(steps <= 0)) + 1
        raise InputError(f"{where}: line {first_line + k}: frame {frames[k]:.12g} comes after frame "
                         f"{frames[k - 1]:.12g}; frame numbers must increase")
    count = int(frames[-1] - frames[0]) + 1
    limits.check_frames(count, where)
    _check_skips_in_time(frames, times, first_line, where)
    slots = (frames - frames[0]).astype(np.int64)
    skipped = [(int(slots[k]) + 1, int(slots[k + 1])) for k in np.flatnonzero(steps > 1)]
    return RowFrames(slots, np.interp(np.arange(count), slots, times), skipped)


def _check_skips_in_time(frames: np.ndarray, times: np.ndarray, first_line: int, where: str) -> None:
    steps, elapsed = np.diff(frames), np.diff(times)
    if not (steps > 1).any():
        return
    single = elapsed[steps == 1]
    per_frame = float(np.median(single)) if single.size else float(elapsed.sum() / steps.sum())
    if per_frame <= 0:
        return
    ratio = elapsed / steps / per_frame
    bad = np.flatnonzero((steps > 1) & ((ratio > GAP_STEP_TOLERANCE) | (ratio < 1 / GAP_STEP_TOLERANCE)))
    if bad.size:
        k = int(bad[0])
        raise InputError(f"{where}: line {first_line + k + 1}: the frame column skips from {frames[k]:.12g} to "
                         f"{frames[k + 1]:.12g} but the time column from {times[k]:.6g} to {times[k + 1]:.6g} s, "
                         f"{ratio[k]:.2g} times the time those frames take; the two columns disagree")


def say_skipped(where: str, skipped: list[tuple[int, int]], first_frame: int) -> None:
    """A warning naming the frame numbers a file skips, which are read as nobody in view."""
    if skipped:
        named = ", ".join(f"{first_frame + a}" if b == a + 1 else f"{first_frame + a}-{first_frame + b - 1}"
                          for a, b in skipped[:5])
        more = f" and {len(skipped) - 5} more runs" if len(skipped) > 5 else ""
        log.warning("%s: the file skips frame numbers %s%s; read as frames with nobody in view", where, named, more)


def place_rows(rows: np.ndarray, layout: RowFrames) -> np.ndarray:
    """(rows, ...) values -> (T, ...) with each row at its frame and NaN in the frames skipped."""
    out = np.full((len(layout.times_s),) + rows.shape[1:], np.nan)
    out[layout.slots] = rows
    return out
