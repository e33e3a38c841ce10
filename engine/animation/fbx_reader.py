"""Reads the skeleton and animation of a binary FBX (Monocap's, and other tools' armatures:
Blender, Maya, MotionBuilder, Mixamo, Unreal) as joint positions, for `inspect` and `convert`.

The joints are the LimbNode models (the bones), in the order of the hierarchy, parents first.
A model's local transform is Lcl Translation, PreRotation, Lcl Rotation (in its RotationOrder),
the inverse PostRotation and Lcl Scaling (pivots and offsets are left out: exporters of
skeletons write them as zero); what is not animated keeps its value, curves are read at the
frames' times, linearly between keys (files baked a key a frame, as exporters write them for
game engines, read exactly). Frames run over the first animation stack at the file's rate
(GlobalSettings TimeMode or CustomFrameRate). Lengths are converted to metres with
UnitScaleFactor (cm per unit); the axes stay the file's and the caller turns the rig upright
(engine/animation/formats.py). A file with no bones, or bytes that do not decode, is an
InputError naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.animation.fbx_binary import FbxDecodeError, Node, decode
from engine.animation.fbx_writer import KTIME_PER_S
from engine.core.errors import InputError
from engine.core.input_checks import DEFAULT_LIMITS, InputLimits, check_rate
from engine.core.rotations import euler_to_matrix

# FBX's TimeMode values and their rates (14 is custom: CustomFrameRate)
_RATES = {1: 120.0, 2: 100.0, 3: 60.0, 4: 50.0, 5: 48.0, 6: 30.0, 7: 30.0, 8: 30000 / 1001, 9: 30000 / 1001,
          10: 25.0, 11: 24.0, 12: 1000.0, 13: 24000 / 1001, 15: 96.0, 16: 72.0, 17: 60000 / 1001, 18: 120000 / 1001}
# RotationOrder (eEulerXYZ ...) as intrinsic orders (engine.core.rotations): XYZ turns X first, R = Rz Ry Rx
_ORDERS = ("ZYX", "YZX", "XZY", "ZXY", "YXZ", "XYZ")


@dataclass(frozen=True)
class ArmatureMotion:
    """A skeleton and its motion as read from an FBX or glTF file."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    joints_m: np.ndarray  # (T, J, 3) world positions, metres, the file's axes
    rest_m: np.ndarray  # (J, 3) the models' own (unanimated) values
    fps: float
    unit_cm: float  # centimetres in one file unit (FBX: UnitScaleFactor; glTF: 100)


def _props(node: Node) -> dict[str, tuple]:
    p70 = next((c for c in node.children if c.name == "Properties70"), None)
    return {c.props[0]: c.props[4:] for c in p70.children if c.name == "P" and c.props} if p70 else {}


def _child(node: Node, name: str) -> Node | None:
    return next((c for c in node.children if c.name == name), None)


def read_fbx(path, limits: InputLimits = DEFAULT_LIMITS) -> ArmatureMotion:
    try:
        data = open(path, "rb").read()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        _, top = decode(data, limits.max_decompressed_mb << 20)
        return _skeleton(top, str(path), limits)
    except FbxDecodeError as exc:
        raise InputError(f"{path}: not a readable FBX file: {exc}") from None


def _skeleton(top: list[Node], where: str, limits: InputLimits) -> ArmatureMotion:
    sections = {n.name: n for n in top}
    settings = _props(sections["GlobalSettings"]) if "GlobalSettings" in sections else {}
    unit_cm = float(settings.get("UnitScaleFactor", (1.0,))[0])
    mode = int(settings.get("TimeMode", (0,))[0])
    fps = _RATES.get(mode) or float(settings.get("CustomFrameRate", (30.0,))[0]) or 30.0
    fps = check_rate(fps, f"{where}: its frame rate")
    objects = {n.props[0]: n for n in (sections["Objects"].children if "Objects" in sections else [])
               if n.props and isinstance(n.props[0], int)}
    parent_of, prop_links = {}, {}
    for c in (sections["Connections"].children if "Connections" in sections else []):
        if c.name == "C" and len(c.props) >= 3:
            if c.props[0] == "OO":
                parent_of.setdefault(c.props[1], c.props[2])
            elif c.props[0] == "OP" and len(c.props) >= 4:
                prop_links.setdefault(c.props[2], []).append((c.props[1], c.props[3]))
    models = {k: n for k, n in objects.items() if n.name == "Model"}
    bones = [k for k, n in models.items() if len(n.props) > 2 and n.props[2] == "LimbNode"]
    if not bones:
        raise FbxDecodeError("it has no skeleton (no LimbNode models)")
    limits.check_joints(len(bones), where)
    order = _parents_first(bones, models, parent_of)
    stack = next((n for n in objects.values() if n.name == "AnimationStack"), None)
    start, stop = _span(stack, objects, prop_links)
    count = int(round((stop - start) / KTIME_PER_S * fps)) + 1
    limits.check_frames(count, where)
    times = start + np.arange(count) * (KTIME_PER_S / fps)
    world: dict[int, np.ndarray] = {}
    rest_world: dict[int, np.ndarray] = {}
    for k in _ancestors_first(order, models, parent_of):
        local, rest = _local(models[k], times, objects, prop_links.get(k, []), prop_links)
        parent = parent_of.get(k)
        world[k] = world[parent] @ local if parent in world else local
        rest_world[k] = rest_world[parent] @ rest if parent in rest_world else rest
    scale = unit_cm / 100.0
    names = tuple(models[k].props[1].split("\x00")[0] for k in order)
    index = {k: i for i, k in enumerate(order)}
    parents = tuple(index.get(_bone_parent(k, parent_of, index), -1) for k in order)
    joints = np.stack([world[k][:, :3, 3] for k in order], axis=1) * scale
    rest = np.stack([rest_world[k][:3, 3] for k in order]) * scale
    return ArmatureMotion(names, parents, joints, rest, fps, unit_cm)


def _bone_parent(k: int, parent_of: dict, index: dict) -> int | None:
    p = parent_of.get(k)
    while p is not None and p not in index:
        p = parent_of.get(p)
    return p


def _parents_first(bones: list[int], models: dict, parent_of: dict) -> list[int]:
    depth = {}
    for k in bones:
        d, p, seen = 0, parent_of.get(k), {k}
        while p in models and p not in seen:
            seen.add(p)
            d, p = d + 1, parent_of.get(p)
        depth[k] = d
    return sorted(bones, key=lambda k: depth[k])


def _ancestors_first(bones: list[int], models: dict, parent_of: dict) -> list[int]:
    """The bones and every model above them, each after its parent."""
    out, seen = [], set()
    for k in bones:
        chain, p = [], k
        while p in models and p not in seen:
            seen.add(p)
            chain.append(p)
            p = parent_of.get(p)
        out += reversed(chain)
    return out


def _span(stack: Node | None, objects: dict, prop_links: dict) -> tuple[int, int]:
    if stack is not None:
        p = _props(stack)
        if "LocalStop" in p:
            return int(p.get("LocalStart", (0,))[0]), int(p["LocalStop"][0])
    keys = [n for n in objects.values() if n.name == "AnimationCurve" and _child(n, "KeyTime") is not None]
    times = [t for n in keys for t in _child(n, "KeyTime").props[0][[0, -1]]] if keys else [0]
    return int(min(times)), int(max(times))


def _channel(value: tuple, times: np.ndarray, links: list, prop: str, objects: dict, prop_links: dict) -> np.ndarray:
    """(T, 3) a vector property over the frames: its value, with each animated axis from its curve."""
    out = np.tile(np.asarray(value[:3], float), (times.shape[0], 1))
    node = next((objects.get(src) for src, name in links if name == prop), None)
    if node is None:
        return out
    for src, name in prop_links.get(node.props[0], []):
        curve = objects.get(src)
        axis = {"d|X": 0, "d|Y": 1, "d|Z": 2}.get(name)
        key_time = _child(curve, "KeyTime") if curve is not None else None
        key_value = _child(curve, "KeyValueFloat") if curve is not None else None
        if axis is None or key_time is None or key_value is None:
            continue
        t, v = np.asarray(key_time.props[0], float), np.asarray(key_value.props[0], float)
        if t.size and t.size == v.size:
            out[:, axis] = np.interp(times, t, v)
    return out


def _local(model: Node, times: np.ndarray, objects: dict, links: list,
           prop_links: dict) -> tuple[np.ndarray, np.ndarray]:
    """(T, 4, 4) the model's local transform at the frames, and (4, 4) its unanimated one."""
    p = _props(model)
    order = _ORDERS[int(p.get("RotationOrder", (0,))[0]) % 6]
    zero, one = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    pre = euler_to_matrix(np.radians(np.asarray(p.get("PreRotation", zero)[:3], float))[::-1], "ZYX")
    post = euler_to_matrix(np.radians(np.asarray(p.get("PostRotation", zero)[:3], float))[::-1], "ZYX")

    def compose(t: np.ndarray, r: np.ndarray, s: np.ndarray) -> np.ndarray:
        m = np.zeros(t.shape[:-1] + (4, 4))
        angles = np.radians(r)[..., [{"X": 0, "Y": 1, "Z": 2}[a] for a in order]]
        m[..., :3, :3] = pre @ euler_to_matrix(angles, order) @ post.T * s[..., None, :]
        m[..., :3, 3] = t
        m[..., 3, 3] = 1.0
        return m

    values = [p.get(name, default) for name, default in
              (("Lcl Translation", zero), ("Lcl Rotation", zero), ("Lcl Scaling", one))]
    rest = compose(*(np.asarray(v[:3], float) for v in values))
    animated = [_channel(v, times, links, name, objects, prop_links)
                for v, name in zip(values, ("Lcl Translation", "Lcl Rotation", "Lcl Scaling"))]
    return compose(*animated), rest
