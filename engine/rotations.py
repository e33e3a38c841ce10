"""Rotation helpers shared by the BVH reader, the solver and the exporters.

Euler orders are written as BVH writes channels, e.g. "ZXY", and are intrinsic: the matrix
for "ZXY" with angles (z, x, y) is Rz(z) @ Rx(x) @ Ry(y), applied to column vectors.
"""

from __future__ import annotations

import numpy as np


def axis_rotation(axis: str, angle_rad: np.ndarray) -> np.ndarray:
    """(...,) angles -> (..., 3, 3) rotation matrices about one principal axis."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    one, zero = np.ones_like(c), np.zeros_like(c)
    if axis == "X":
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    elif axis == "Y":
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    elif axis == "Z":
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    else:
        raise ValueError(f"unknown axis {axis!r}")
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def euler_to_matrix(angles_rad: np.ndarray, order: str) -> np.ndarray:
    """(..., 3) intrinsic Euler angles in `order` (e.g. "ZXY") -> (..., 3, 3)."""
    m = axis_rotation(order[0], angles_rad[..., 0])
    for k in (1, 2):
        m = m @ axis_rotation(order[k], angles_rad[..., k])
    return m
