"""Joint positions of a BVH file by forward kinematics on bvhio's parse (an independent reader).

bvhio turns each joint's rotation channels into a quaternion itself (intrinsic, in the file's
channel order); only the chaining of transforms is done here."""

from __future__ import annotations

import numpy as np


def _quat_matrices(q: np.ndarray) -> np.ndarray:
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def bvhio_positions(path) -> tuple[dict[str, np.ndarray], int, float]:
    """-> ({joint name or '<joint>_end': (T, 3) positions in file units}, frame count, frame time)."""
    import bvhio

    bvh = bvhio.readAsBvh(str(path))
    out: dict[str, np.ndarray] = {}

    def visit(joint, parent_r, parent_p) -> None:
        keys = joint.Keyframes
        pos = np.array([[k.Position.x, k.Position.y, k.Position.z] for k in keys])
        quat = np.array([[k.Rotation.w, k.Rotation.x, k.Rotation.y, k.Rotation.z] for k in keys])
        local_r = _quat_matrices(quat)
        if parent_r is None:
            g_r, g_p = local_r, pos
        else:
            g_r = parent_r @ local_r
            g_p = parent_p + np.einsum("tij,tj->ti", parent_r, pos)
        out[joint.Name] = g_p
        if not joint.Children:
            end = np.array([joint.EndSite.x, joint.EndSite.y, joint.EndSite.z])
            out[joint.Name + "_end"] = g_p + np.einsum("tij,j->ti", g_r, end)
        for child in joint.Children:
            visit(child, g_r, g_p)

    visit(bvh.Root, None, None)
    return out, bvh.FrameCount, bvh.FrameTime
