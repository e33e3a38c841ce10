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


EULER_ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")


_NEXT = np.array([1, 2, 0])
_PREV = np.array([2, 0, 1])


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.cross of (..., 3) vectors, several times faster on the few vectors of a live frame."""
    a, b = np.asarray(a), np.asarray(b)
    return a.take(_NEXT, -1) * b.take(_PREV, -1) - a.take(_PREV, -1) * b.take(_NEXT, -1)


def norm(v: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """Lengths of (..., 3) vectors."""
    return np.sqrt((v * v).sum(-1, keepdims=keepdims))


def normalize(v: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """(..., 3) -> unit vectors (zero vectors stay zero)."""
    return v / np.maximum(norm(v, keepdims=True), eps)


def frame_from_vectors(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """(..., 3), (..., 3) -> (..., 3, 3) orthonormal frame whose columns are: the primary
    direction, the part of `secondary` orthogonal to it, and their cross product."""
    e1 = normalize(primary)
    e2 = normalize(secondary - (secondary * e1).sum(-1, keepdims=True) * e1)
    e3 = cross(e1, e2)
    return np.stack([e1, e2, e3], axis=-1)


def swing_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3) directions -> (..., 3, 3) the smallest rotation taking a onto b (no twist).

    Antiparallel inputs turn by 180 degrees about an axis perpendicular to a."""
    a = normalize(a)
    b = normalize(b)
    v = cross(a, b)
    c = np.clip((a * b).sum(-1), -1.0, 1.0)
    # Rodrigues for unit a, b with v = a x b, c = a . b: R = c I + [v]x + v v^T / (1 + c)
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    k = 1.0 / np.maximum(1.0 + c, 1e-12)
    out = v[..., :, None] * (v[..., None, :] * k[..., None, None])
    out[..., 0, 0] += c
    out[..., 1, 1] += c
    out[..., 2, 2] += c
    out[..., 0, 1] -= z
    out[..., 1, 0] += z
    out[..., 0, 2] += y
    out[..., 2, 0] -= y
    out[..., 1, 2] -= x
    out[..., 2, 1] += x
    near = c < -1.0 + 1e-6  # nearly opposite: the formula loses precision, the angle form does not
    if np.any(near):
        out[near] = _opposite_swing(a[near], b[near])
    degenerate = ((a * a).sum(-1) < 0.5) | ((b * b).sum(-1) < 0.5)  # a zero vector: no direction, no turn
    if np.any(degenerate):
        out[degenerate] = np.eye(3)
    return out


def _opposite_swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    axis = cross(a, b)
    s = norm(axis)
    angle = np.arctan2(s, np.sum(a * b, axis=-1))
    # exactly opposite: a half turn about any axis perpendicular to a
    helper = np.where(np.abs(a[..., :1]) < 0.9, np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    axis = np.where((s < 1e-9)[..., None], cross(a, helper), axis)
    return axis_angle_matrix(normalize(axis), angle)


def axis_angle_matrix(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """(..., 3) unit axes, (...,) angles in radians -> (..., 3, 3) (Rodrigues)."""
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    c, s = np.cos(angle), np.sin(angle)
    t = 1.0 - c
    rows = [
        [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
        [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
        [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
    ]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def matrix_to_euler(matrices: np.ndarray, order: str) -> np.ndarray:
    """(..., 3, 3) -> (..., 3) intrinsic Euler angles in radians, inverse of euler_to_matrix.

    The middle angle is in [-pi/2, pi/2]; see unwrap_euler for continuous curves."""
    from scipy.spatial.transform import Rotation

    if order not in EULER_ORDERS:
        raise ValueError(f"unknown Euler order {order!r}; use one of {', '.join(EULER_ORDERS)}")
    shape = matrices.shape[:-2]
    flat = matrices.reshape(-1, 3, 3)
    if flat.shape[0] == 0:
        return np.zeros(shape + (3,))
    angles = Rotation.from_matrix(flat).as_euler(order.upper())
    return angles.reshape(shape + (3,))


def unwrap_euler(angles: np.ndarray, order: str) -> np.ndarray:
    """(T, ..., 3) intrinsic Euler angles (radians) -> the same rotations with angles that change
    as little as possible from frame to frame.

    Each Tait-Bryan rotation has two angle triples, (a, b, c) and (a + pi, pi - b, c + pi)
    each up to multiples of 2 pi; every frame takes the one nearest the previous frame's choice."""
    if angles.shape[0] == 0:
        return angles
    a = angles.reshape(angles.shape[0], -1, 3)
    alt = np.stack([a[..., 0] + np.pi, np.pi - a[..., 1], a[..., 2] + np.pi], axis=-1)
    out = np.empty_like(a)
    out[0] = a[0]
    two_pi = 2.0 * np.pi
    prev = a[0]
    for t in range(1, a.shape[0]):
        c1 = a[t] + two_pi * np.round((prev - a[t]) / two_pi)
        c2 = alt[t] + two_pi * np.round((prev - alt[t]) / two_pi)
        d1 = np.abs(c1 - prev).sum(axis=-1)
        d2 = np.abs(c2 - prev).sum(axis=-1)
        prev = np.where((d2 < d1)[:, None], c2, c1)
        out[t] = prev
    return out.reshape(angles.shape)
