"""The time offset between videos that did not start together, before any calibration exists.

    offsets = motion_offsets(per_view, fps)            # per_view: [(keypoints_px (T, 33, 2), scores (T, 33))]
    keypoints_px, scores = align_views(per_view, offsets)

engine/multiview/sync.py finds offsets by triangulating, which needs the cameras' poses; placing
the cameras from the person (self_calibration.py) needs the offsets first. This coarse search needs
neither: a limb that swings fast in one view swings fast in every view, whatever the angle. Each
view's motion energy is, per frame, the mean speed of the person's limb keypoints (shoulders to
ankles) as a share of the person's size in that view (so near and far cameras compare), each speed
capped (a detector's left/right swap is no motion). Each view's energy is correlated with the first
view's over every whole-frame offset within MAX_OFFSET_S, and the best correlation wins, on overlaps
of at least MIN_OVERLAP_S. Motion that repeats (a steady walk) matches itself a period later: the
best offset must beat every other by CLEAR_MARGIN, else it is an error, as is a best correlation
under MIN_CORRELATION (a wrong offset would place the cameras wrongly without a word).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from engine.core.errors import InputError

MAX_OFFSET_S = 5.0  # offsets searched either way
MIN_OVERLAP_S = 5.0  # an offset counts when the views share at least this much motion
MIN_CORRELATION = 0.5  # below it, no offset is trusted: an error rather than a calibration from mismatched frames
# the best offset must beat every offset further than PEAK_WIDTH_S from it by this much (else the motion repeats)
CLEAR_MARGIN = 0.05
PEAK_WIDTH_S = 0.25
MIN_OVERLAP_SHARE = 0.5  # ... and at least this share of the shorter view's frames with motion
SCORE = 0.5  # keypoints at least this confident in two frames in a row give a speed
SPEED_CAP = 0.1  # person sizes per frame: faster is a detector's jump, counted as this
GLITCH_FRAMES = 5  # the energy's running median over this many frames
MIN_PAIRS = 3  # frames with fewer left/right pairs seen have no energy
# the detector's left/right keypoint pairs of the limbs: shoulders, elbows, wrists, hips, knees, ankles
LIMB_PAIRS = ((11, 12), (13, 14), (15, 16), (23, 24), (25, 26), (27, 28))


@dataclass(frozen=True)
class MotionOffset:
    """frames: view v's frame i + frames shows the instant of the first view's frame i.
    correlation: of the two views' motion energies at that offset (1 is perfect)."""

    frames: int
    correlation: float


def motion_energy(keypoints_px: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """(T,) the limbs' mean speed per frame in person sizes, about the body's middle, each left/right
    pair taken in whichever labelling moves it less (NaN where too little is seen)."""
    kp = keypoints_px[:, LIMB_PAIRS].astype(np.float64)  # (T, P, 2, 2): pairs, left/right, xy
    ok = (scores[:, LIMB_PAIRS] >= SCORE).all(axis=-1) & np.isfinite(kp).all(axis=(-1, -2))  # (T, P)
    seen = np.where(ok[..., None, None], kp, np.nan).reshape(len(kp), -1, 2)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames where nothing is confident: NaN
        size = np.linalg.norm(np.nanmax(seen, axis=1) - np.nanmin(seen, axis=1), axis=-1)  # (T,) box diagonal
        kp = kp - np.nanmedian(seen, axis=1)[:, None, None]  # the limbs' motion about the body, not the body's
    now, before = kp[1:], kp[:-1]
    kept = np.linalg.norm(now - before, axis=-1).sum(axis=-1)
    swapped = np.linalg.norm(now - before[:, :, ::-1], axis=-1).sum(axis=-1)
    speed = 0.5 * np.minimum(kept, swapped) / np.maximum(size[1:], 1e-6)[:, None]  # (T-1, P)
    both = ok[1:] & ok[:-1] & (size[1:] > 0)[:, None]
    speed = np.where(both, np.minimum(speed, SPEED_CAP), 0.0)
    count = both.sum(axis=1)
    energy = np.full(len(kp), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        energy[1:] = np.where(count >= MIN_PAIRS, speed.sum(axis=1) / count, np.nan)
    return _running_median(energy, GLITCH_FRAMES)


def _running_median(x: np.ndarray, width: int) -> np.ndarray:
    """x's median over `width` frames about each (a one-frame glitch of the detector is no motion)."""
    from numpy.lib.stride_tricks import sliding_window_view

    half = width // 2
    padded = np.concatenate([np.full(half, np.nan), x, np.full(half, np.nan)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanmedian(sliding_window_view(padded, width), axis=1)
    return np.where(np.isfinite(x), out, np.nan)


def _correlation(a: np.ndarray, b: np.ndarray, lag: int, min_overlap: int) -> float:
    """Pearson's correlation of a[i] with b[i + lag] where both are known (-inf: overlap too short)."""
    i = np.arange(max(0, -lag), min(len(a), len(b) - lag))
    x, y = a[i], b[i + lag]
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < min_overlap:
        return -np.inf
    x, y = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denom) if denom > 0 else -np.inf


def motion_offsets(per_view: list[tuple[np.ndarray, np.ndarray]], fps: float,
                   names: list[str] | None = None) -> list[MotionOffset]:
    """Each view's offset against the first view's (the first's is 0). InputError naming a view
    whose person moves too little, or too briefly, to compare."""
    names = names or [f"view {v + 1}" for v in range(len(per_view))]
    energies = [motion_energy(kp, sc) for kp, sc in per_view]
    max_lag = int(round(MAX_OFFSET_S * fps))
    out = [MotionOffset(0, 1.0)]
    for v in range(1, len(per_view)):
        a, b = energies[0], energies[v]
        shorter = min(np.isfinite(a).sum(), np.isfinite(b).sum())
        min_overlap = max(int(MIN_OVERLAP_S * fps), int(MIN_OVERLAP_SHARE * shorter), 3)
        lags = range(-max_lag, max_lag + 1)
        scores = np.array([_correlation(a, b, lag, min_overlap) for lag in lags])
        if not np.isfinite(scores).any():
            raise InputError(f"{names[v]}: the person is seen moving too briefly with {names[0]} to find the "
                             "offset between the videos; film them moving about where both cameras see them")
        best = int(np.argmax(scores))
        if scores[best] < MIN_CORRELATION:
            raise InputError(f"{names[v]}: its motion matches {names[0]}'s at no offset within {MAX_OFFSET_S:g} s "
                             f"(best correlation {scores[best]:.2f}); cut the videos at a clap seen by every camera")
        far = np.abs(np.arange(len(scores)) - best) > PEAK_WIDTH_S * fps
        if far.any() and np.max(scores[far]) > scores[best] - CLEAR_MARGIN:
            other = lags[int(np.flatnonzero(far)[np.argmax(scores[far])])]
            raise InputError(f"{names[v]}: its motion matches {names[0]}'s about as well {lags[best] / fps:+.2f} s and "
                             f"{other / fps:+.2f} s apart (the motion repeats); wave, stop and turn rather than walk "
                             "steadily, or cut the videos at a clap seen by every camera")
        out.append(MotionOffset(lags[best], float(scores[best])))
    return out


def align_views(per_view: list[tuple[np.ndarray, np.ndarray]],
                offsets: list[MotionOffset]) -> tuple[np.ndarray, np.ndarray]:
    """keypoints_px (V, T, 33, 2) and scores (V, T, 33) on one timeline: every instant some view saw,
    NaN keypoints and 0 scores where a view had not started or had stopped."""
    d = [o.frames for o in offsets]
    start = min(-x for x in d)
    stop = max(len(kp) - x for (kp, _), x in zip(per_view, d))
    length = stop - start
    kps, scs = [], []
    for (kp, sc), x in zip(per_view, d):
        src = np.arange(start, stop) + x
        ok = (src >= 0) & (src < len(kp))
        k = np.full((length,) + kp.shape[1:], np.nan)
        s = np.zeros((length,) + sc.shape[1:])
        k[ok], s[ok] = kp[src[ok]], sc[src[ok]]
        kps.append(k)
        scs.append(s)
    return np.stack(kps), np.stack(scs)
