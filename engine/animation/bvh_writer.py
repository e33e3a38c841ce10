"""Writes a solved rig (engine/animation/solver.RigMotion) as a BVH file.

Layout: one statement per line, tabs for indentation; the root has 6 channels
(Xposition Yposition Zposition, then the rotations in the chosen Euler order), every other
joint 3 rotation channels; every leaf ends with an End Site. Rotation channels are intrinsic
Euler angles in degrees, as BVH readers expect (for "ZXY": R = Rz Rx Ry), unwrapped so that
curves have no jumps. Offsets and root positions are in the chosen unit (cm by default).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.animation.solver import RigMotion
from engine.core.atomic import atomic_path
from engine.core.input_checks import check_rate_to_write
from engine.core.rotations import EULER_ORDERS, matrix_to_euler, unwrap_euler
from engine.core.units import units_per_metre

UNITS_PER_M = units_per_metre(("m", "cm", "mm", "in"))  # the units BVH files are written in


def unit_scale(units: str) -> float:
    try:
        return UNITS_PER_M[units]
    except KeyError:
        raise ValueError(f"unknown unit {units!r}; use one of {', '.join(UNITS_PER_M)}") from None


def hierarchy_text(motion: RigMotion, units: str = "cm", order: str = "ZXY") -> str:
    scale = unit_scale(units)
    rot_channels = " ".join(f"{a}rotation" for a in order)
    rig = motion.rig
    children: dict[int, list[int]] = {i: [] for i in range(len(rig.joints))}
    for i, j in enumerate(rig.joints):
        if j.parent >= 0:
            children[j.parent].append(i)
    lines = ["HIERARCHY"]

    def vec(v: np.ndarray) -> str:
        return " ".join(f"{x:.6f}" for x in v * scale)

    def emit(i: int, depth: int) -> None:
        tab = "\t" * depth
        j = rig.joints[i]
        lines.append(f"{tab}{'ROOT' if j.parent < 0 else 'JOINT'} {j.name}")
        lines.append(f"{tab}{{")
        lines.append(f"{tab}\tOFFSET {vec(motion.offsets_m[i])}")
        if j.parent < 0:
            lines.append(f"{tab}\tCHANNELS 6 Xposition Yposition Zposition {rot_channels}")
        else:
            lines.append(f"{tab}\tCHANNELS 3 {rot_channels}")
        for c in children[i]:
            emit(c, depth + 1)
        end = motion.end_offsets_m[i]
        if np.isfinite(end).all() or not children[i]:
            if not np.isfinite(end).all():
                end = np.array([0.0, 0.05, 0.0])
            lines.append(f"{tab}\tEnd Site")
            lines.append(f"{tab}\t{{")
            lines.append(f"{tab}\t\tOFFSET {vec(end)}")
            lines.append(f"{tab}\t}}")
        lines.append(f"{tab}}}")

    emit(0, 0)
    return "\n".join(lines) + "\n"


def channel_values(motion: RigMotion, units: str = "cm", order: str = "ZXY") -> np.ndarray:
    """(T, 6 + 3 (R - 1)) the MOTION section's numbers, in file order (depth-first)."""
    if order not in EULER_ORDERS:
        raise ValueError(f"unknown Euler order {order!r}; use one of {', '.join(EULER_ORDERS)}")
    angles = unwrap_euler(matrix_to_euler(motion.local_rotations, order), order)
    degrees = np.degrees(angles)
    file_order = _depth_first(motion)
    t_count = motion.local_rotations.shape[0]
    out = np.empty((t_count, 3 + 3 * len(file_order)))
    out[:, :3] = motion.root_m * unit_scale(units)
    out[:, 3:] = degrees[:, file_order].reshape(t_count, -1)
    return out


def _depth_first(motion: RigMotion) -> list[int]:
    rig = motion.rig
    order: list[int] = []

    def visit(i: int) -> None:
        order.append(i)
        for c, j in enumerate(rig.joints):
            if j.parent == i:
                visit(c)

    visit(0)
    return order


def write_bvh(motion: RigMotion, path: str | Path, units: str = "cm", order: str = "ZXY") -> Path:
    """Writes `motion` to `path` atomically. Raises ValueError on non-finite values (the solver
    fills gaps first, so this never reaches a file), OutputError on a rate that is not a
    plausible positive one."""
    frame_time = 1.0 / check_rate_to_write(motion.fps, path)
    values = channel_values(motion, units, order)
    if not np.isfinite(values).all():
        raise ValueError("refusing to write NaN or infinity into a BVH file")
    header = hierarchy_text(motion, units, order)
    header += f"MOTION\nFrames: {values.shape[0]}\nFrame Time: {frame_time:.8f}\n"
    fmt = " ".join(["%.5f"] * values.shape[1])
    body = "\n".join(fmt % tuple(row) for row in values.tolist())
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="ascii", newline="\n") as fh:
            fh.write(header)
            if body:
                fh.write(body)
                fh.write("\n")
    return Path(path)
