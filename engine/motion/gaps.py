"""Fills the frames of a take in which nobody was in view, so that exports never contain NaN.

Short gaps (at most `max_gap_s`) are interpolated linearly between the valid frames around them;
longer gaps, and gaps at the start or end of the take, hold the nearest valid pose and are
reported as held, so the caller can warn the user.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.errors import NoValidFramesError


@dataclass(frozen=True)
class GapFill:
    joints_m: np.ndarray  # (T, J, 3) finite everywhere
    interpolated: np.ndarray  # (T,) bool: frame filled by interpolation
    held: np.ndarray  # (T,) bool: frame filled by holding the nearest valid pose

    @property
    def held_ranges(self) -> list[tuple[int, int]]:
        """[start, stop) frame ranges that were held."""
        return runs(self.held)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) ranges where a (T,) bool mask is True."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def bridge_gaps(x: np.ndarray, missing: np.ndarray, max_gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation over each run of missing frames (T, ...) that has a frame on both
    sides and is at most `max_gap` frames long. Returns (x, still missing)."""
    x = np.array(x, copy=True)
    still = np.array(missing, bool, copy=True)
    for a, b in runs(still):
        if a > 0 and b < len(still) and b - a <= max_gap:
            w = ((np.arange(a, b) - (a - 1)) / (b - (a - 1))).reshape((-1,) + (1,) * (x.ndim - 1))
            x[a:b] = x[a - 1] * (1 - w) + x[b] * w
            still[a:b] = False
    return x, still


def hold_gaps(x: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Each run of missing frames holds the frame before it (the one after it at the start).
    Needs at least one frame that is not missing."""
    x = np.array(x, copy=True)
    for a, b in runs(missing):
        x[a:b] = x[a - 1] if a > 0 else x[b]
    return x


def fill_gaps(joints_m: np.ndarray, valid: np.ndarray, fps: float, max_gap_s: float = 0.5,
              what: str = "take") -> GapFill:
    """joints_m: (T, J, 3) with NaN where invalid; valid: (T,) bool. A frame with any non-finite
    coordinate counts as invalid. Raises NoValidFramesError when no frame is valid."""
    joints_m = np.asarray(joints_m, dtype=float)
    ok = np.asarray(valid, bool) & np.isfinite(joints_m).all(axis=(1, 2))
    if not ok.any():
        raise NoValidFramesError(f"{what}: nobody was found in any of its {len(joints_m)} frames; nothing to export")
    out, held = bridge_gaps(joints_m, ~ok, max(int(round(max_gap_s * fps)), 0))
    return GapFill(hold_gaps(out, held), ~ok & ~held, held)
