"""Writes a solved rig (engine/animation/solver.RigMotion) as a binary FBX file (7.4) holding an
armature and its animation, which Blender, Unity, Unreal, Maya, MotionBuilder and ufbx import.

What the file holds (the bytes: engine/animation/fbx_binary.py):

- GlobalSettings: Y up (UpAxis 1), front +Z (FrontAxis 2), right-handed X (CoordAxis 0): the
  program's own world frame, the one Maya, Unity and Mixamo files use, so importers turn it
  upright themselves (Blender to Z up, Unreal to its Z-up left-handed frame). UnitScaleFactor is
  the centimetres in one file unit (1 for the default cm), OriginalUnitScaleFactor the same;
  TimeMode the take's rate when it is one of FBX's, else custom with CustomFrameRate.
- Objects: one Model of type LimbNode per rig joint (with its LimbNode NodeAttribute, "Skeleton"),
  parented as the rig; a joint's Lcl Translation is its rest offset, Lcl Rotation 0: the rest pose
  is the rig's T-pose (engine/animation/solver.py), the root standing on the floor. A rig's floor
  bones (UE5's `root`, above the pelvis, and its IK roots) are still LimbNodes at the origin; a
  rig with end bones (Monocap's, Mixamo's) gets its End Sites as still leaves `<joint>_end`. No
  mesh, no skin, no bind pose.
- One AnimationStack ("Take 001") with one AnimationLayer; per animated joint an AnimationCurveNode
  on Lcl Rotation ("R") and, for the first joint, on Lcl Translation ("T") (the root motion), each
  with three AnimationCurves (d|X, d|Y, d|Z): a key a frame at KTime ticks (46186158000 a second),
  linear. Rotations are Euler angles in degrees in FBX's default order XYZ (R = Rz Ry Rx),
  unwrapped so that curves do not jump.
- Connections: model -> parent (OO), attribute -> model (OO), layer -> stack, curve node -> layer
  (OO), curve node -> model property (OP "Lcl Rotation"), curve -> curve node (OP "d|X").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.animation.fbx_binary import CREATION_TIME, FILE_ID, I32, VERSION, Node, Raw, encode, object_name
from engine.animation.solver import RigMotion
from engine.core.atomic import atomic_path
from engine.core.input_checks import check_rate_to_write
from engine.core.rotations import matrix_to_euler, unwrap_euler
from engine.core.units import METRES_PER_UNIT

KTIME_PER_S = 46_186_158_000
FBX_UNITS = ("cm", "m", "mm", "in")  # file units; UnitScaleFactor says how many cm one is
TAKE_NAME = "Take 001"
# FBX's TimeMode for the rates it names (others: 14, custom, with CustomFrameRate)
_TIME_MODES = {120.0: 1, 100.0: 2, 60.0: 3, 50.0: 4, 48.0: 5, 30.0: 6, 25.0: 10, 24.0: 11, 1000.0: 12,
               96.0: 15, 72.0: 16}
_CUSTOM_TIME_MODE = 14
_LINEAR_KEY = 0x104  # eInterpolationLinear with its default tangent bits, as the SDK writes it


def fbx_euler_degrees(local_rotations: np.ndarray) -> np.ndarray:
    """(T, R, 3, 3) -> (T, R, 3) Lcl Rotation X, Y, Z in degrees for FBX's default order (XYZ:
    R = Rz Ry Rx), unwrapped frame to frame."""
    zyx = unwrap_euler(matrix_to_euler(local_rotations, "ZYX"), "ZYX")
    return np.degrees(zyx[..., ::-1])


def rest_root_m(motion: RigMotion) -> np.ndarray:
    """Where the first joint stands in the rest pose: above the origin, at the height that puts
    the rest pose's lowest joint on the floor (y = 0)."""
    rig = motion.rig
    world = np.zeros((len(rig.joints), 3))
    for i, j in enumerate(rig.joints):
        if j.parent >= 0:
            world[i] = world[j.parent] + motion.offsets_m[i]
    return np.array([0.0, -float(world[:, 1].min()), 0.0])


def _p(name: str, kind: str, label: str, flags: str, *values) -> Node:
    return Node("P", (name, kind, label, flags, *values))


def _vec(name: str, v, flags: str = "A") -> Node:
    return _p(name, name, "", flags, *(float(x) for x in v))


def _global_settings(units: str, fps: float, stop: int) -> Node:
    cm_per_unit = METRES_PER_UNIT[units] * 100.0
    mode = next((m for rate, m in _TIME_MODES.items() if abs(rate - fps) < 1e-6), _CUSTOM_TIME_MODE)
    props = [
        _p("UpAxis", "int", "Integer", "", I32(1)), _p("UpAxisSign", "int", "Integer", "", I32(1)),
        _p("FrontAxis", "int", "Integer", "", I32(2)), _p("FrontAxisSign", "int", "Integer", "", I32(1)),
        _p("CoordAxis", "int", "Integer", "", I32(0)), _p("CoordAxisSign", "int", "Integer", "", I32(1)),
        _p("OriginalUpAxis", "int", "Integer", "", I32(1)), _p("OriginalUpAxisSign", "int", "Integer", "", I32(1)),
        _p("UnitScaleFactor", "double", "Number", "", cm_per_unit),
        _p("OriginalUnitScaleFactor", "double", "Number", "", cm_per_unit),
        _p("TimeMode", "enum", "", "", I32(mode)),
        _p("TimeSpanStart", "KTime", "Time", "", 0), _p("TimeSpanStop", "KTime", "Time", "", stop),
        _p("CustomFrameRate", "double", "Number", "", float(fps)),
    ]
    return Node("GlobalSettings", (), [Node("Version", (I32(1000),)), Node("Properties70", (), props)])


def _header(creator: str) -> list[Node]:
    stamp = Node("CreationTimeStamp", (), [Node("Version", (I32(1000),))] + [
        Node(k, (I32(v),)) for k, v in (("Year", 1970), ("Month", 1), ("Day", 1), ("Hour", 10), ("Minute", 0),
                                        ("Second", 0), ("Millisecond", 0))])
    ext = Node("FBXHeaderExtension", (), [Node("FBXHeaderVersion", (I32(1003),)), Node("FBXVersion", (I32(VERSION),)),
                                          Node("EncryptionType", (I32(0),)), stamp, Node("Creator", (creator,))])
    return [ext, Node("FileId", (Raw(FILE_ID),)), Node("CreationTime", (CREATION_TIME,)), Node("Creator", (creator,))]


class _Ids:
    def __init__(self) -> None:
        self.next = 1_000_000

    def __call__(self) -> int:
        self.next += 1
        return self.next


def _curve(ids: _Ids, times: np.ndarray, values: np.ndarray) -> tuple[int, Node]:
    cid = ids()
    node = Node("AnimationCurve", (cid, object_name("", "AnimCurve"), ""), [
        Node("Default", (float(values[0]),)), Node("KeyVer", (I32(4008),)),
        Node("KeyTime", (times,)), Node("KeyValueFloat", (values.astype(np.float32),)),
        Node("KeyAttrFlags", (np.array([_LINEAR_KEY], np.int32),)),
        Node("KeyAttrDataFloat", (np.zeros(4, np.float32),)),
        Node("KeyAttrRefCount", (np.array([values.shape[0]], np.int32),)),
    ])
    return cid, node


def fbx_nodes(motion: RigMotion, units: str = "cm", creator: str = "Monocap") -> list[Node]:
    """The file's top-level nodes for `motion`, lengths in `units`."""
    fps = check_rate_to_write(motion.fps, "FBX")
    scale = 1.0 / METRES_PER_UNIT[units]
    rig = motion.rig
    t_count = motion.local_rotations.shape[0]
    times = np.round(np.arange(t_count) * (KTIME_PER_S / fps)).astype(np.int64)
    stop = int(times[-1]) if t_count else 0
    ids = _Ids()
    objects: list[Node] = []
    links: list[Node] = []

    def link(kind: str, child: int, parent: int, prop: str | None = None) -> None:
        links.append(Node("C", (kind, child, parent) + ((prop,) if prop else ())))

    def limb(name: str, parent_id: int, translation) -> int:
        mid, aid = ids(), ids()
        objects.append(Node("NodeAttribute", (aid, object_name(name, "NodeAttribute"), "LimbNode"), [
            Node("Properties70", (), [_p("Size", "double", "Number", "", 100.0)]),
            Node("TypeFlags", ("Skeleton",))]))
        objects.append(Node("Model", (mid, object_name(name, "Model"), "LimbNode"), [
            Node("Version", (I32(232),)),
            Node("Properties70", (), [_p("InheritType", "enum", "", "", I32(1)),
                                      _p("DefaultAttributeIndex", "int", "Integer", "", I32(0)),
                                      _vec("Lcl Translation", translation), _vec("Lcl Rotation", (0, 0, 0)),
                                      _vec("Lcl Scaling", (1, 1, 1))]),
            Node("Shading", (True,)), Node("Culling", ("CullingOff",))]))
        link("OO", aid, mid)
        link("OO", mid, parent_id)
        return mid

    stack_id, layer_id = ids(), ids()
    span = [_p(k, "KTime", "Time", "", v) for k, v in (("LocalStart", 0), ("LocalStop", stop),
                                                        ("ReferenceStart", 0), ("ReferenceStop", stop))]
    objects.append(Node("AnimationStack", (stack_id, object_name(TAKE_NAME, "AnimStack"), ""),
                        [Node("Properties70", (), span)]))
    objects.append(Node("AnimationLayer", (layer_id, object_name("BaseLayer", "AnimLayer"), "")))
    link("OO", layer_id, stack_id)

    def animate(model_id: int, prop: str, short: str, values: np.ndarray) -> None:
        cn = ids()
        objects.append(Node("AnimationCurveNode", (cn, object_name(short, "AnimCurveNode"), ""), [
            Node("Properties70", (), [_p(f"d|{a}", "Number", "", "A", float(values[0, k])) for k, a in enumerate("XYZ")])]))
        link("OO", cn, layer_id)
        link("OP", cn, model_id, prop)
        for k, axis in enumerate("XYZ"):
            cid, node = _curve(ids, times, values[:, k])
            objects.append(node)
            link("OP", cid, cn, f"d|{axis}")

    root_rest = rest_root_m(motion)
    top_parent = 0
    if rig.floor_bones:
        top_parent = limb(rig.floor_bones[0], 0, (0.0, 0.0, 0.0))
        for name in rig.floor_bones[1:]:
            limb(name, top_parent, (0.0, 0.0, 0.0))
    euler = fbx_euler_degrees(motion.local_rotations)
    model_ids: list[int] = []
    for i, j in enumerate(rig.joints):
        parent = top_parent if j.parent < 0 else model_ids[j.parent]
        model_ids.append(limb(j.name, parent, (root_rest if j.parent < 0 else motion.offsets_m[i]) * scale))
        if rig.end_bones and j.end is not None:
            limb(f"{j.name}_end", model_ids[i], motion.end_offsets_m[i] * scale)
        if t_count:
            if j.parent < 0:
                animate(model_ids[i], "Lcl Translation", "T", motion.root_m * scale)
            animate(model_ids[i], "Lcl Rotation", "R", euler[:, i])

    counts = {}
    for node in objects:
        counts[node.name] = counts.get(node.name, 0) + 1
    definitions = Node("Definitions", (), [Node("Version", (I32(100),)), Node("Count", (I32(sum(counts.values()) + 1),)),
                                           Node("ObjectType", ("GlobalSettings",), [Node("Count", (I32(1),))])]
                       + [Node("ObjectType", (k,), [Node("Count", (I32(v),))]) for k, v in counts.items()])
    document = Node("Documents", (), [Node("Count", (I32(1),)), Node("Document", (ids(), "", "Scene"), [
        Node("Properties70", (), [_p("SourceObject", "object", "", ""),
                                  _p("ActiveAnimStackName", "KString", "", "", TAKE_NAME)]),
        Node("RootNode", (0,))])])
    takes = Node("Takes", (), [Node("Current", (TAKE_NAME,)), Node("Take", (TAKE_NAME,), [
        Node("FileName", ("Take_001.tak",)), Node("LocalTime", (0, stop)), Node("ReferenceTime", (0, stop))])])
    return (_header(creator) + [_global_settings(units, fps, stop), document, Node("References"), definitions,
                                Node("Objects", (), objects), Node("Connections", (), links), takes])


def write_fbx(motion: RigMotion, path: str | Path, units: str = "cm") -> Path:
    """Writes `motion` to `path` atomically (binary FBX 7.4, lengths in `units`). ValueError on
    non-finite values, OutputError on a rate that is not a plausible positive one."""
    check_rate_to_write(motion.fps, path)
    if units not in FBX_UNITS:
        raise ValueError(f"unknown unit {units!r} for FBX; use one of {', '.join(FBX_UNITS)}")
    if not (np.isfinite(motion.local_rotations).all() and np.isfinite(motion.root_m).all()):
        raise ValueError("refusing to write NaN or infinity into an FBX file")
    data = encode(fbx_nodes(motion, units))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return Path(path)
