"""Filters for joint trajectories: zero-lag for files, causal (One Euro) for live sources."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from engine.motion.gaps import bridge_gaps, runs


@dataclass(frozen=True)
class SmoothingConfig:
    """strength: 0 (raw) .. 1 (very smooth). 0.5 suits most motion.

    Files: a zero-phase Butterworth low-pass whose cutoff falls geometrically from 12 Hz
    (strength 0) through 3 Hz (0.5) to 0.75 Hz (1); depth gets a lower cutoff than the image-plane
    axes (engine.motion.temporal.DEPTH_CUTOFF_FACTOR). Live: One Euro filters scaled the same way.
    """

    strength: float = 0.5
    max_gap_s: float = 0.5  # gaps up to this long are bridged by the filter; longer ones split it

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"smoothing strength must be between 0 and 1, got {self.strength}")

    def cutoff_hz(self) -> float:
        return 12.0 * (0.75 / 12.0) ** self.strength


def zero_phase_lowpass(x: np.ndarray, valid: np.ndarray, fps: float, cutoff_hz: float, max_gap_s: float = 0.5) -> np.ndarray:
    """x: (T, ...) trajectories; frames where valid is False are NaN in the result.

    Each run of valid frames (short gaps bridged) is filtered forwards and backwards, so the
    result has no lag.
    """
    shape = x.shape
    flat = x.reshape(shape[0], -1, 1)
    filled, missing = bridge_gaps(flat, ~valid, max(int(round(max_gap_s * fps)), 0))
    out = np.full_like(flat, np.nan)
    nyquist = fps / 2.0
    cutoff = min(cutoff_hz, 0.8 * nyquist)
    sos = butter(2, cutoff / nyquist, output="sos")
    for a, b in runs(~missing):
        seg = filled[a:b, :, 0]
        if b - a > 15:
            out[a:b, :, 0] = sosfiltfilt(sos, seg, axis=0, padtype="odd", padlen=min(3 * 6, b - a - 1))
        else:
            out[a:b, :, 0] = seg
    out[~valid] = np.nan
    return out.reshape(shape)


class OneEuroFilter:
    """Casiez et al.'s One Euro filter over arrays of any shape, one call per frame."""

    def __init__(self, min_cutoff_hz: float, beta: float = 0.7, d_cutoff_hz: float = 1.0):
        self.min_cutoff = min_cutoff_hz
        self.beta = beta
        self.d_cutoff = d_cutoff_hz
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def reset(self) -> None:
        self._x = self._dx = self._t = None

    def __call__(self, x: np.ndarray, t_s: float) -> np.ndarray:
        if self._x is None or self._t is None or t_s <= self._t or not np.isfinite(self._x).all():
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t_s
            return x.copy()
        dt = t_s - self._t
        dx = (x - self._x) / dt
        a_d = self._alpha(self.d_cutoff, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = self._alpha(cutoff, dt)
        self._x = a * x + (1 - a) * self._x
        self._t = t_s
        return self._x.copy()
