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


def fill_gaps(joints_m: np.ndarray, valid: np.ndarray, fps: float, max_gap_s: float = 0.5,
              what: str = "take") -> GapFill:
    """joints_m: (T, J, 3) with NaN where invalid; valid: (T,) bool. A frame with any non-finite
    coordinate counts as invalid. Raises NoValidFramesError when no frame is valid."""
    joints_m = np.asarray(joints_m, dtype=float)
    t_count = joints_m.shape[0]
    ok = np.asarray(valid, bool) & np.isfinite(joints_m).all(axis=(1, 2))
    good = np.flatnonzero(ok)
    if good.size == 0:
        raise NoValidFramesError(f"{what}: nobody was found in any of its {t_count} frames; nothing to export")
    out = joints_m.copy()
    interpolated = np.zeros(t_count, bool)
    held = np.zeros(t_count, bool)
    bad = np.flatnonzero(~ok)
    if bad.size:
        nxt_pos = np.searchsorted(good, bad)  # index into good of the next valid frame
        has_prev = nxt_pos > 0
        has_next = nxt_pos < good.size
        prev_f = good[np.clip(nxt_pos - 1, 0, good.size - 1)]
        next_f = good[np.clip(nxt_pos, 0, good.size - 1)]
        gap_len = next_f - prev_f - 1
        max_gap = max(int(round(max_gap_s * fps)), 0)
        interp = has_prev & has_next & (gap_len <= max_gap)
        if interp.any():
            b, p, n = bad[interp], prev_f[interp], next_f[interp]
            w = ((b - p) / (n - p))[:, None, None]
            out[b] = (1.0 - w) * joints_m[p] + w * joints_m[n]
            interpolated[b] = True
        hold = ~interp
        if hold.any():
            src = np.where(has_prev[hold], prev_f[hold], next_f[hold])
            out[bad[hold]] = joints_m[src]
            held[bad[hold]] = True
    return GapFill(out, interpolated, held)
