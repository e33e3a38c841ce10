"""Ground plane, foot contact detection and foot pinning for MONOCAP_BODY takes.

- `floor_height`: the floor's y, judged from the lowest foot joints over the take.
- `detect_contacts`: a foot is planted when its lowest joint (ankle or toe) is near the floor and
  it moves slower than a walking foot in swing; short blips are removed.
- `pin_feet`: while a foot is planted its ankle and toe keep the horizontal position they had on
  average over the contact (blended in and out over `blend_s`), and the knee is re-placed by
  two-bone IK with the thigh and shin lengths unchanged, keeping the knee's bend plane.
All positions are metres in the world frame (Y up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.rotations import normalize
from engine.core.skeletons import MONOCAP_BODY, Skeleton
from engine.motion.gaps import runs

SIDES = ("left", "right")


@dataclass(frozen=True)
class FootContactOptions:
    height_m: float = 0.05  # a planted foot's lowest joint is within this of the floor
    speed_m_s: float = 0.35  # and moves horizontally slower than this
    min_contact_s: float = 0.08  # shorter contacts are ignored
    blend_s: float = 0.1  # pinning fades in and out over this


def _foot_indices(skeleton: Skeleton, side: str) -> tuple[int, int, int, int]:
    return tuple(skeleton.index(f"{side}_{j}") for j in ("hip", "knee", "ankle", "toe"))  # type: ignore[return-value]


def floor_height(joints_m: np.ndarray, skeleton: Skeleton = MONOCAP_BODY) -> float:
    """y of the floor: the 2nd percentile of the lowest foot joint per frame."""
    feet = [skeleton.index(f"{s}_{j}") for s in SIDES for j in ("ankle", "toe")]
    lowest = np.nanmin(joints_m[:, feet, 1], axis=1)
    lowest = lowest[np.isfinite(lowest)]
    return float(np.percentile(lowest, 2)) if lowest.size else 0.0


def detect_contacts(joints_m: np.ndarray, fps: float, skeleton: Skeleton = MONOCAP_BODY,
                    options: FootContactOptions = FootContactOptions(), floor_y: float | None = None) -> np.ndarray:
    """(T, J, 3) finite positions -> (T, 2) bool, planted [left, right] feet."""
    if floor_y is None:
        floor_y = floor_height(joints_m, skeleton)
    t_count = joints_m.shape[0]
    out = np.zeros((t_count, 2), bool)
    min_frames = max(int(round(options.min_contact_s * fps)), 1)
    for k, side in enumerate(SIDES):
        _, _, ankle, toe = _foot_indices(skeleton, side)
        low = np.minimum(joints_m[:, ankle, 1], joints_m[:, toe, 1]) - floor_y
        mid = 0.5 * (joints_m[:, ankle] + joints_m[:, toe])
        if t_count > 1:
            vel = np.gradient(mid[:, [0, 2]], axis=0) * fps
            speed = np.linalg.norm(vel, axis=1)
        else:
            speed = np.zeros(t_count)
        c = (low < options.height_m) & (speed < options.speed_m_s)
        if t_count > 2:
            c[1:-1] |= c[:-2] & c[2:]  # one-frame dropouts inside a contact
        for a, b in runs(c):
            if b - a < min_frames:
                c[a:b] = False
        out[:, k] = c
    return out


def pin_feet(joints_m: np.ndarray, contacts: np.ndarray, fps: float, skeleton: Skeleton = MONOCAP_BODY,
             options: FootContactOptions = FootContactOptions()) -> np.ndarray:
    """Returns a copy of (T, J, 3) positions in which planted feet do not slide."""
    out = joints_m.copy()
    t_count = joints_m.shape[0]
    ramp = max(int(round(options.blend_s * fps)), 1)
    for k, side in enumerate(SIDES):
        hip, knee, ankle, toe = _foot_indices(skeleton, side)
        delta = np.zeros((t_count, 2))
        weight = np.zeros(t_count)
        for a, b in runs(contacts[:, k]):
            anchor = joints_m[a:b, ankle][:, [0, 2]].mean(axis=0)
            lo, hi = max(a - ramp, 0), min(b + ramp, t_count)
            frames = np.arange(lo, hi)
            w = np.ones(frames.size)
            w = np.minimum(w, np.clip((frames - (a - ramp)) / ramp, 0, 1))
            w = np.minimum(w, np.clip(((b - 1 + ramp) - frames) / ramp, 0, 1))
            take = w > weight[frames]
            f = frames[take]
            weight[f] = w[take]
            delta[f] = anchor - joints_m[f, ankle][:, [0, 2]]
        moved = np.flatnonzero(weight > 0)
        if moved.size == 0:
            continue
        shift = np.zeros((moved.size, 3))
        shift[:, [0, 2]] = delta[moved] * weight[moved, None]
        target = joints_m[moved, ankle] + shift
        h, kn = joints_m[moved, hip], joints_m[moved, knee]
        thigh = np.linalg.norm(kn - h, axis=1)
        shin = np.linalg.norm(joints_m[moved, ankle] - kn, axis=1)
        d = target - h
        dist = np.linalg.norm(d, axis=1)
        reach = np.clip(dist, np.abs(thigh - shin) + 1e-6, thigh + shin - 1e-6)
        dhat = normalize(d)
        target = h + dhat * reach[:, None]
        cos_a = np.clip((thigh ** 2 + reach ** 2 - shin ** 2) / (2 * thigh * reach), -1.0, 1.0)
        pole = kn - h
        pole = normalize(pole - np.sum(pole * dhat, axis=1, keepdims=True) * dhat)
        new_knee = h + thigh[:, None] * (cos_a[:, None] * dhat + np.sqrt(1 - cos_a ** 2)[:, None] * pole)
        foot_shift = target - joints_m[moved, ankle]
        out[moved, knee] = new_knee
        out[moved, ankle] = target
        out[moved, toe] = joints_m[moved, toe] + foot_shift
    return out
