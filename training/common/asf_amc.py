"""Reads CMU ASF skeletons and AMC motions, and computes joint positions by forward kinematics.

ASF: bones with a direction and length (in the file's length unit), an `axis` (the bone's local
frame, Euler angles in degrees) and the rotational degrees of freedom the AMC gives values for.
Positions are the ends of the bones (the root's is its translation). Units: the file's length
unit is `1/length` inch (CMU's 0.45), so metres per unit is 0.0254 / length.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.core.errors import InputError
from engine.core.input_checks import DEFAULT_LIMITS, MAX_FPS
from engine.core.rotations import axis_rotation
from engine.core.skeletons import Skeleton


@dataclass(frozen=True)
class AsfBone:
    name: str
    parent: int  # index into AsfSkeleton.bones; -1 for the root
    direction: np.ndarray  # (3,) unit vector in the global rest frame
    length: float  # file units
    axis_deg: np.ndarray  # (3,)
    axis_order: str  # e.g. "XYZ"
    dofs: tuple[str, ...]  # e.g. ("rx", "ry", "rz"); root: TX TY TZ RX RY RZ


@dataclass(frozen=True)
class AsfSkeleton:
    bones: tuple[AsfBone, ...]  # root first, parents before children
    metres_per_unit: float
    path: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.bones)

    def skeleton(self, name: str = "cmu_asf") -> Skeleton:
        from engine.core.skeletons import guess_mirror_pairs

        names = self.names
        return Skeleton(name, names, tuple(b.parent for b in self.bones), guess_mirror_pairs(names))


def _axis_matrix(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Euler angles applied so the first axis of `order` acts first on column vectors: R = ... @ R2 @ R1."""
    m = np.eye(3)
    for k, ax in enumerate(order):
        m = axis_rotation(ax.upper(), np.radians(angles_deg[..., k])) @ m
    return m


def read_asf(path: str | Path) -> AsfSkeleton:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return _parse_asf(lines, str(path))
    except (ValueError, IndexError, KeyError) as exc:
        raise InputError(f"{path}: not a valid ASF file ({exc})") from None


def _parse_asf(lines: list[str], path: str) -> AsfSkeleton:
    section = ""
    length_unit = 1.0
    root_order = ("TX", "TY", "TZ", "RX", "RY", "RZ")
    root_axis = "XYZ"
    root_orientation = np.zeros(3)
    raw: dict[str, dict] = {}
    order_of_definition: list[str] = []
    current: dict | None = None
    children: dict[str, list[str]] = {}
    for line in lines:
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith(":"):
            parts = s.split()
            section = parts[0]
            continue
        parts = s.split()
        if section == ":units" and parts[0] == "length":
            length_unit = float(parts[1])
        elif section == ":root":
            if parts[0] == "order":
                root_order = tuple(p.upper() for p in parts[1:])
            elif parts[0] == "axis":
                root_axis = parts[1].upper()
            elif parts[0] == "orientation":
                root_orientation = np.array([float(v) for v in parts[1:4]])
        elif section == ":bonedata":
            if parts[0] == "begin":
                current = {"dofs": (), "axis": np.zeros(3), "order": "XYZ"}
            elif parts[0] == "end":
                raw[current["name"]] = current
                order_of_definition.append(current["name"])
                current = None
            elif current is not None:
                key = parts[0]
                if key == "name":
                    current["name"] = parts[1]
                elif key == "direction":
                    current["direction"] = np.array([float(v) for v in parts[1:4]])
                elif key == "length":
                    current["length"] = float(parts[1])
                elif key == "axis":
                    current["axis"] = np.array([float(v) for v in parts[1:4]])
                    current["order"] = parts[4].upper() if len(parts) > 4 else "XYZ"
                elif key == "dof":
                    current["dofs"] = tuple(p.lower() for p in parts[1:])
        elif section == ":hierarchy":
            if parts[0] in ("begin", "end"):
                continue
            children.setdefault(parts[0], []).extend(parts[1:])
    _check_asf(path, length_unit, raw, order_of_definition, children)
    bones = [AsfBone("root", -1, np.zeros(3), 0.0, root_orientation, root_axis, root_order)]
    index = {"root": 0}
    queue = ["root"]
    while queue:
        name = queue.pop(0)
        for child in children.get(name, []):
            if child in index:
                raise InputError(f"{path}: :hierarchy: bone {child!r} has two parents (or a loop)")
            b = raw[child]
            index[child] = len(bones)
            d = b["direction"]
            bones.append(AsfBone(child, index[name], d / max(np.linalg.norm(d), 1e-12), b["length"],
                                 b["axis"], b["order"], b["dofs"]))
            queue.append(child)
    return AsfSkeleton(tuple(bones), 0.0254 / length_unit, path)


def _check_asf(path: str, length_unit: float, raw: dict[str, dict], defined: list[str],
               children: dict[str, list[str]]) -> None:
    """Unique, complete, finite bone definitions and a hierarchy of defined bones."""
    if not (np.isfinite(length_unit) and length_unit > 0):
        raise InputError(f"{path}: :units length {length_unit:g} is not a positive number")
    DEFAULT_LIMITS.check_joints(len(defined) + 1, path)
    if len(set(defined)) != len(defined):
        twice = next(n for n in defined if defined.count(n) > 1)
        raise InputError(f"{path}: bone {twice!r} is defined twice; names must be unique")
    for name, bone in raw.items():
        for key in ("direction", "length"):
            if key not in bone:
                raise InputError(f"{path}: bone {name!r} has no {key}")
        values = np.r_[bone["direction"], bone["length"], bone["axis"]]
        if values.shape != (7,) or not (np.abs(values) <= 1e7).all():
            raise InputError(f"{path}: bone {name!r}: direction, length and axis must be finite numbers")
        if bone["length"] < 0 or (bone["length"] > 0 and not np.linalg.norm(bone["direction"]) > 0):
            raise InputError(f"{path}: bone {name!r}: a bone needs a length >= 0 and a direction")
    for parent, kids in children.items():
        for name in [parent, *kids]:
            if name != "root" and name not in raw:
                raise InputError(f"{path}: :hierarchy names bone {name!r}, which :bonedata does not define")


@dataclass(frozen=True)
class AmcMotion:
    skeleton: AsfSkeleton
    values: dict[str, np.ndarray]  # bone name -> (T, dof count)
    fps: float = 120.0

    @property
    def num_frames(self) -> int:
        return len(next(iter(self.values.values())))

    def positions(self) -> np.ndarray:
        """(T, B, 3) bone-end positions in metres (root: its translation), Y up as in the file."""
        bones = self.skeleton.bones
        t_count = self.num_frames
        pos = np.zeros((t_count, len(bones), 3))
        rot = np.zeros((t_count, len(bones), 3, 3))
        for i, b in enumerate(bones):
            c = _axis_matrix(b.axis_deg, b.axis_order)
            vals = self.values.get(b.name)
            motion = np.tile(np.eye(3), (t_count, 1, 1))
            trans = np.zeros((t_count, 3))
            if vals is not None:
                for k, dof in enumerate(b.dofs):
                    d = dof.lower()
                    if d.startswith("r"):
                        motion = axis_rotation(d[1].upper(), np.radians(vals[:, k])) @ motion
                    elif d.startswith("t"):
                        trans[:, "xyz".index(d[1])] = vals[:, k]
            local = c @ motion @ c.T
            if b.parent < 0:
                rot[:, i] = local
                pos[:, i] = trans
            else:
                rot[:, i] = rot[:, b.parent] @ local
                pos[:, i] = pos[:, b.parent] + rot[:, i] @ (b.direction * b.length)
        return pos * self.skeleton.metres_per_unit


def read_amc(path: str | Path, skeleton: AsfSkeleton, fps: float = 120.0) -> AmcMotion:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not (np.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise InputError(f"{path}: {fps:g} is not a plausible frame rate")
    dofs = {b.name: len(b.dofs) for b in skeleton.bones}
    frames: list[dict[str, list[float]]] = []
    for number, line in enumerate(lines, start=1):
        s = line.strip()
        if not s or s.startswith("#") or s.startswith(":"):
            continue
        parts = s.split()
        if len(parts) == 1 and parts[0].isdigit():
            if int(parts[0]) != len(frames) + 1 and frames:
                raise InputError(f"{path}: line {number}: frame {parts[0]} follows frame {len(frames)}")
            DEFAULT_LIMITS.check_frames(len(frames) + 1, str(path))
            frames.append({})
            continue
        where = f"{path}: line {number}"
        if not frames:
            raise InputError(f"{where}: values before the first frame number")
        if parts[0] not in dofs:
            raise InputError(f"{where}: bone {parts[0][:40]!r} is not in {Path(skeleton.path).name or 'the ASF'}")
        if len(parts) - 1 != dofs[parts[0]]:
            raise InputError(f"{where}: {len(parts) - 1} values for {parts[0]}, which has {dofs[parts[0]]} dof")
        if parts[0] in frames[-1]:
            raise InputError(f"{where}: {parts[0]} appears twice in frame {len(frames)}")
        try:
            values = [float(v) for v in parts[1:]]
        except ValueError:
            raise InputError(f"{where}: {parts[0]}: not a number") from None
        if not all(abs(v) <= 1e7 for v in values):
            raise InputError(f"{where}: {parts[0]}: values must be finite and within 1e7")
        frames[-1][parts[0]] = values
    if not frames:
        raise InputError(f"{path}: no frames")
    names = set(frames[0])
    if any(set(f) != names for f in frames):
        bad = next(i for i, f in enumerate(frames) if set(f) != names)
        raise InputError(f"{path}: frame {bad + 1} does not give the bones frame 1 gives")
    values = {n: np.array([f[n] for f in frames]) for n in names}
    return AmcMotion(skeleton, values, fps)
