"""Joint angles over time, in degrees, from world joint positions. No Qt.

Each angle is the angle between two segments. Knee and elbow: flexion (0 = straight, grows as the
joint bends). Hip: the thigh against the line down the torso (0 = standing straight, 90 = thigh
horizontal). Shoulder: the upper arm against the line down the torso (0 = arm hanging, 90 = arm
out horizontally). Finger curl (takes with hands): the flexion of the finger's middle joint (the
thumb's MCP joint), 0 = straight, about 90 = curled into a fist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.skeletons import FINGERS, Skeleton


@dataclass(frozen=True)
class AngleDef:
    """The angle between segment a0->a1 and segment b0->b1 (0 when they point the same way)."""

    name: str
    a0: str
    a1: str
    b0: str
    b1: str

    @property
    def joints(self) -> set[str]:
        return {self.a0, self.a1, self.b0, self.b1}


def _sides(kind: str, a0: str, a1: str, b0: str, b1: str) -> list[AngleDef]:
    return [AngleDef(f"{side}_{kind}", *(j.replace("{s}", side) for j in (a0, a1, b0, b1)))
            for side in ("left", "right")]


ANGLES: dict[str, AngleDef] = {d.name: d for d in (
    _sides("knee", "{s}_hip", "{s}_knee", "{s}_knee", "{s}_ankle")
    + _sides("elbow", "{s}_shoulder", "{s}_elbow", "{s}_elbow", "{s}_wrist")
    + _sides("hip", "spine", "pelvis", "{s}_hip", "{s}_knee")
    + _sides("shoulder", "chest", "pelvis", "{s}_shoulder", "{s}_elbow")
    + [d for f in FINGERS for d in _sides(f"{f}_curl", f"{{s}}_{f}1", f"{{s}}_{f}2", f"{{s}}_{f}2", f"{{s}}_{f}3")]
)}


def available_angles(skeleton: Skeleton) -> list[str]:
    """The angle names this skeleton has every joint for, in ANGLES order."""
    names = set(skeleton.joint_names)
    return [n for n, d in ANGLES.items() if d.joints <= names]


def angle_between_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(..., 3) vectors -> (...) angle between them in degrees; NaN where either is zero or NaN."""
    nu = np.linalg.norm(u, axis=-1)
    nv = np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.einsum("...i,...i->...", u, v) / (nu * nv)
    cos = np.where((nu > 1e-9) & (nv > 1e-9), cos, np.nan)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def joint_angle(joints_m: np.ndarray, skeleton: Skeleton, name: str) -> np.ndarray:
    """joints_m: (T, J, 3) or (J, 3) -> (T,) or () degrees of angle `name` (NaN where joints are NaN)."""
    d = ANGLES[name]
    idx = [skeleton.index(n) for n in (d.a0, d.a1, d.b0, d.b1)]
    p = [joints_m[..., i, :] for i in idx]
    return angle_between_deg(p[1] - p[0], p[3] - p[2])


def joint_angles(joints_m: np.ndarray, skeleton: Skeleton, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Every requested angle (default: all the skeleton supports) -> {name: (T,) degrees}."""
    names = available_angles(skeleton) if names is None else names
    return {n: joint_angle(joints_m, skeleton, n) for n in names}
