"""Export rigs: the solver's joint set and the named rigs written to BVH.

The solver works on one fixed set of *solver points* placed at MONOCAP_BODY joints (see
`SOLVER_POINTS`). Points with an orientation rule are *solver joints*: the solver gives each a
global rotation per frame. A `Rig` is what a file shows: named joints, each sitting at a solver
point (or part way along a bone), each turning with one solver joint. Both rigs share the same
motion; they differ in names and in the Mixamo rig's toe joint (its Spine is the lumbar joint).

A joint's offset from its parent turns with the parent's driver, so a point part way along the
bone a->b stays on that bone only when what carries it turns with a: a joint there needs a
parent driven by a, an end site there a joint driven by a (`_build` checks). A Mixamo Spine half
way along the lumbar bone would hang from the pelvis and carry the upper body off wherever the
back bends away from the pelvis.

Orientation rules (see docs/EXPORT.md):
  ("frame", (a, b), (c, d))     a->b exactly, c->d made orthogonal to it (the pelvis: hip to hip,
                                then towards the spine)
  ("aim", target, secondary)    the bone points exactly at `target`; its twist about the bone
                                follows `secondary`:
      None                                   no twist relative to the parent (swing only)
      ("vec", ((a, b), (c, d), ...))         the sum of the unit vectors a->b, c->d ... (rest: +X)
      ("up", (a, b))                         the vector a->b (rest: from the rest pose)
      ("cross", (a, b), (c, d), flex)        the normal of the plane of a->b and c->d (the bend
                                             plane); in the rest pose the child bone is straight, so
                                             the rest normal is cross(rest a->b, flex)
Rest rules, in the rest pose (a T-pose facing +Z, left = +X, Y up):
  ("origin",)                   the root, at 0
  ("median", frame)             the subject's median offset from the parent, measured in the
                                parent's body frame `frame` ("pelvis", "chest" or "head"), scaled
                                to the locked bone length (short bones whose rest direction is the
                                subject's own: hips, spine, shoulders, nose)
  ("pivot", target, frame)      a point carried by the parent, fixed in its body frame `frame`,
                                about which `target` keeps the steadiest distance over the take
                                (the lumbar joint: mocap rigs bend the back about a point above
                                the hip joints' midpoint; the clavicles: the shoulders turn
                                about the collarbones' inner ends); the parent's position when
                                the take does not tell
  ("dir", (x, y, z))            the locked bone length along a fixed direction (limbs, spine)
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.animation.rig_engines import UE5_FLOOR_BONES, ue5_finger_spec, ue5_spec, vrm_finger, vrm_hand, vrm_spec
from engine.core.skeletons import FINGERS, MONOCAP_BODY, MONOCAP_HANDS

_UP = (0.0, 1.0, 0.0)
_DOWN = (0.0, -1.0, 0.0)
_FWD = (0.0, 0.0, 1.0)
_BACK = (0.0, 0.0, -1.0)


@dataclass(frozen=True)
class SolverPoint:
    name: str
    parent: str | None
    source: str | None  # MONOCAP_BODY joint whose position it takes; None: carried by its parent
    rest: tuple
    rule: tuple | None = None  # orientation rule; None for end points


def _side(side: str) -> list[SolverPoint]:
    s = side
    out = "+" if side == "left" else "-"
    x = 1.0 if out == "+" else -1.0
    arm_flex = _FWD  # elbows bend the forearm forwards from the T-pose
    leg_flex = _BACK  # knees bend the shin backwards
    return [
        SolverPoint(f"{s}_clavicle", "chest", None, ("pivot", f"{s}_shoulder", "chest_aim"),
                    ("aim", f"{s}_shoulder", None)),
        SolverPoint(f"{s}_shoulder", f"{s}_clavicle", f"{s}_shoulder", ("median", "chest"),
                    ("aim", f"{s}_elbow", ("cross", (f"{s}_shoulder", f"{s}_elbow"),
                                           (f"{s}_elbow", f"{s}_wrist"), arm_flex))),
        SolverPoint(f"{s}_elbow", f"{s}_shoulder", f"{s}_elbow", ("dir", (x, 0.0, 0.0)),
                    ("aim", f"{s}_wrist", ("cross", (f"{s}_shoulder", f"{s}_elbow"),
                                           (f"{s}_elbow", f"{s}_wrist"), arm_flex))),
        SolverPoint(f"{s}_wrist", f"{s}_elbow", f"{s}_wrist", ("dir", (x, 0.0, 0.0)),
                    ("aim", f"{s}_hand", None)),
        SolverPoint(f"{s}_hand", f"{s}_wrist", f"{s}_hand", ("dir", (x, 0.0, 0.0))),
    ], [
        SolverPoint(f"{s}_hip", "pelvis", f"{s}_hip", ("median", "pelvis"),
                    ("aim", f"{s}_knee", ("cross", (f"{s}_hip", f"{s}_knee"),
                                          (f"{s}_knee", f"{s}_ankle"), leg_flex))),
        SolverPoint(f"{s}_knee", f"{s}_hip", f"{s}_knee", ("dir", _DOWN),
                    ("aim", f"{s}_ankle", ("cross", (f"{s}_hip", f"{s}_knee"),
                                           (f"{s}_knee", f"{s}_ankle"), leg_flex))),
        SolverPoint(f"{s}_ankle", f"{s}_knee", f"{s}_ankle", ("dir", _DOWN),
                    ("aim", f"{s}_toe", ("cross", (f"{s}_knee", f"{s}_ankle"),
                                         (f"{s}_ankle", f"{s}_toe"), None))),
        SolverPoint(f"{s}_toe", f"{s}_ankle", f"{s}_toe", ("dir", _FWD)),
    ]


_LEFT_ARM, _LEFT_LEG = _side("left")
_RIGHT_ARM, _RIGHT_LEG = _side("right")
_SHOULDERS = ("right_shoulder", "left_shoulder")
_HIPS = ("right_hip", "left_hip")

SOLVER_POINTS: tuple[SolverPoint, ...] = tuple([
    # The pelvis turns with the hips alone and the lumbar joint bends the spine away from it, as
    # mocap rigs' separate pelvis and lower-back joints do.
    SolverPoint("pelvis", None, "pelvis", ("origin",), ("frame", _HIPS, ("pelvis", "spine"))),
    SolverPoint("lumbar", "pelvis", None, ("pivot", "spine", "pelvis"), ("aim", "spine", None)),
    SolverPoint("spine", "lumbar", "spine", ("median", "pelvis"),
                ("aim", "chest", ("vec", (_HIPS, _SHOULDERS)))),
    SolverPoint("chest", "spine", "chest", ("dir", _UP), ("aim", "neck", ("vec", (_SHOULDERS,)))),
    SolverPoint("neck", "chest", "neck", ("dir", _UP), ("aim", "head", None)),
    SolverPoint("head", "neck", "head", ("dir", _UP), ("aim", "nose", ("up", ("neck", "head")))),
    SolverPoint("nose", "head", "nose", ("median", "head")),
    *_LEFT_ARM, *_RIGHT_ARM, *_LEFT_LEG, *_RIGHT_LEG,
])
SOLVER_INDEX = {p.name: i for i, p in enumerate(SOLVER_POINTS)}
SOLVER_JOINTS = tuple(p.name for p in SOLVER_POINTS if p.rule is not None)


def _palm_lateral(s: str) -> tuple:
    """Twist from the palm plane: the line across the knuckles, pinky base to index base, which a
    finger's flexion never turns."""
    return ("up", (f"{s}_pinky1", f"{s}_index1"))


def _hand(side: str) -> list[SolverPoint]:
    """The wrist turned by the palm, and three joints and a tip per finger. Rest pose: fingers
    straight along the hand, palm down (the back of the hand up); the finger bases and the thumb
    keep the subject's median offsets in the palm's frame."""
    s = side
    x = 1.0 if side == "left" else -1.0
    palm = f"{s}_palm"
    points = [SolverPoint(f"{s}_wrist", f"{s}_elbow", f"{s}_wrist", ("dir", (x, 0.0, 0.0)),
                          ("aim", f"{s}_hand", _palm_lateral(s)))]
    for finger in FINGERS:
        names = [f"{s}_{finger}{k}" for k in (1, 2, 3)] + [f"{s}_{finger}_tip"]
        thumb = finger == "thumb"
        # the thumb turns across the palm, so its twist follows the palm's normal instead
        twist = (("cross", (f"{s}_wrist", f"{s}_index1"), (f"{s}_wrist", f"{s}_pinky1"), None) if thumb
                 else _palm_lateral(s))
        for k, name in enumerate(names):
            parent = f"{s}_wrist" if k == 0 else names[k - 1]
            rest = ("median", palm) if thumb or k == 0 else ("dir", (x, 0.0, 0.0))
            rule = ("aim", names[k + 1], twist) if k < 3 else None
            points.append(SolverPoint(name, parent, name, rest, rule))
    return points


def _with_hands(points: tuple[SolverPoint, ...]) -> tuple[SolverPoint, ...]:
    hands = {s: _hand(s) for s in ("left", "right")}
    out: list[SolverPoint] = []
    for pt in points:
        side = pt.name.split("_")[0]
        if pt.name == f"{side}_wrist":
            out += hands[side]
        else:
            out.append(pt)
    return tuple(out)


# The solver's points for MONOCAP_HANDS takes: the body's, the wrists turned by the palm, the fingers.
SOLVER_POINTS_HANDS: tuple[SolverPoint, ...] = _with_hands(SOLVER_POINTS)
SOLVER_JOINTS_HANDS = tuple(p.name for p in SOLVER_POINTS_HANDS if p.rule is not None)


def solver_points(hands: bool) -> tuple[SolverPoint, ...]:
    return SOLVER_POINTS_HANDS if hands else SOLVER_POINTS


@dataclass(frozen=True)
class RigJoint:
    """One joint of a written rig.

    at: the solver point it sits at, or (a, b, t): the point (1 - t) a + t b of the rest pose.
    driver: the solver joint whose global rotation it takes (its local rotation is relative to
    its parent's driver). end: where its End Site sits (same forms as `at`), or None.
    """

    name: str
    parent: int
    at: str | tuple[str, str, float]
    driver: str
    end: str | tuple[str, str, float] | None = None


@dataclass(frozen=True)
class Rig:
    name: str
    description: str
    joints: tuple[RigJoint, ...]
    # still bones at the origin, written by the FBX and glTF writers: the first above the first
    # joint (Unreal's `root`), the others its children beside it (Unreal's IK roots); the motion
    # stays on the first joint
    floor_bones: tuple[str, ...] = ()
    # FBX and glTF: each End Site as a still leaf bone `<joint>_end` (the BVH's end sites; Blender
    # and Mixamo files carry such leaves), so readers see where the head, hands and toes end
    end_bones: bool = False

    @property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    @property
    def end_bone_names(self) -> tuple[str, ...]:
        """The still leaf bones FBX and glTF add for the End Sites (none unless end_bones)."""
        return tuple(f"{j.name}_end" for j in self.joints if j.end is not None) if self.end_bones else ()

    def joint_at(self, solver_point: str) -> int | None:
        """Index of the rig joint sitting exactly at a solver point (None if only an end site is)."""
        for i, j in enumerate(self.joints):
            if j.at == solver_point:
                return i
        return None


def _build(name: str, description: str, spec: list[tuple], joints_known: tuple[str, ...] = SOLVER_JOINTS,
           floor_bones: tuple[str, ...] = (), end_bones: bool = False) -> Rig:
    names = [s[0] for s in spec]
    joints = []
    for entry in spec:
        jname, parent, at, driver = entry[:4]
        end = entry[4] if len(entry) > 4 else None
        joints.append(RigJoint(jname, -1 if parent is None else names.index(parent), at, driver, end))
    rig = Rig(name, description, tuple(joints), floor_bones, end_bones)
    for i, j in enumerate(rig.joints):
        if j.parent >= i:
            raise ValueError(f"{name}: parent of {j.name} must come first")
        if j.driver not in joints_known:
            raise ValueError(f"{name}: {j.name} driven by unknown solver joint {j.driver}")
        _check_part_way(rig, j)
    return rig


def _check_part_way(rig: Rig, joint: RigJoint) -> None:
    """A point part way along the bone a->b must be carried by a joint that turns with a."""
    carried = ((joint.at, rig.joints[joint.parent].driver if joint.parent >= 0 else None),
               (joint.end, joint.driver))
    for at, carrier in carried:
        if isinstance(at, tuple) and carrier != at[0]:
            raise ValueError(f"{rig.name}: {joint.name} sits along the bone {at[0]}->{at[1]} "
                             f"but is carried by {carrier}, which does not turn with it")


def _monocap_spec() -> list[tuple]:
    spec: list[tuple] = [
        ("pelvis", None, "pelvis", "pelvis"),
        ("lumbar", "pelvis", "lumbar", "lumbar"),
        ("spine", "lumbar", "spine", "spine"),
        ("chest", "spine", "chest", "chest"),
        ("neck", "chest", "neck", "neck"),
        ("head", "neck", "head", "head", "nose"),
    ]
    for s in ("left", "right"):
        spec += [
            (f"{s}_clavicle", "chest", f"{s}_clavicle", f"{s}_clavicle"),
            (f"{s}_shoulder", f"{s}_clavicle", f"{s}_shoulder", f"{s}_shoulder"),
            (f"{s}_elbow", f"{s}_shoulder", f"{s}_elbow", f"{s}_elbow"),
            (f"{s}_wrist", f"{s}_elbow", f"{s}_wrist", f"{s}_wrist", f"{s}_hand"),
        ]
    for s in ("left", "right"):
        spec += [
            (f"{s}_hip", "pelvis", f"{s}_hip", f"{s}_hip"),
            (f"{s}_knee", f"{s}_hip", f"{s}_knee", f"{s}_knee"),
            (f"{s}_ankle", f"{s}_knee", f"{s}_ankle", f"{s}_ankle", f"{s}_toe"),
        ]
    return spec


def _mixamo_spec() -> list[tuple]:
    p = "mixamorig:"
    spec: list[tuple] = [
        (p + "Hips", None, "pelvis", "pelvis"),
        (p + "Spine", p + "Hips", "lumbar", "lumbar"),
        (p + "Spine1", p + "Spine", "spine", "spine"),
        (p + "Spine2", p + "Spine1", "chest", "chest"),
        (p + "Neck", p + "Spine2", "neck", "neck"),
        (p + "Head", p + "Neck", "head", "head", "nose"),
    ]
    for s, side in (("left", "Left"), ("right", "Right")):
        spec += [
            (f"{p}{side}Shoulder", p + "Spine2", f"{s}_clavicle", f"{s}_clavicle"),
            (f"{p}{side}Arm", f"{p}{side}Shoulder", f"{s}_shoulder", f"{s}_shoulder"),
            (f"{p}{side}ForeArm", f"{p}{side}Arm", f"{s}_elbow", f"{s}_elbow"),
            (f"{p}{side}Hand", f"{p}{side}ForeArm", f"{s}_wrist", f"{s}_wrist", f"{s}_hand"),
        ]
    for s, side in (("left", "Left"), ("right", "Right")):
        spec += [
            (f"{p}{side}UpLeg", p + "Hips", f"{s}_hip", f"{s}_hip"),
            (f"{p}{side}Leg", f"{p}{side}UpLeg", f"{s}_knee", f"{s}_knee"),
            (f"{p}{side}Foot", f"{p}{side}Leg", f"{s}_ankle", f"{s}_ankle"),
            (f"{p}{side}ToeBase", f"{p}{side}Foot", f"{s}_toe", f"{s}_ankle",
             (f"{s}_ankle", f"{s}_toe", 1.3)),
        ]
    return spec


def _unity_humanoid_spec() -> list[tuple]:
    # Unity's HumanBodyBones names. Each bone sits at a solver point (none part way along a
    # bone), so a bone's offset from its parent turns with the parent's driver alone and the
    # pose rebuilt from the local rotations puts every joint where the solver had it.
    spec: list[tuple] = [
        ("Hips", None, "pelvis", "pelvis"),
        ("Spine", "Hips", "lumbar", "lumbar"),
        ("Chest", "Spine", "spine", "spine"),
        ("UpperChest", "Chest", "chest", "chest"),
        ("Neck", "UpperChest", "neck", "neck"),
        ("Head", "Neck", "head", "head", "nose"),
    ]
    for s, side in (("left", "Left"), ("right", "Right")):
        spec += [
            (f"{side}Shoulder", "UpperChest", f"{s}_clavicle", f"{s}_clavicle"),
            (f"{side}UpperArm", f"{side}Shoulder", f"{s}_shoulder", f"{s}_shoulder"),
            (f"{side}LowerArm", f"{side}UpperArm", f"{s}_elbow", f"{s}_elbow"),
            (f"{side}Hand", f"{side}LowerArm", f"{s}_wrist", f"{s}_wrist", f"{s}_hand"),
        ]
    for s, side in (("left", "Left"), ("right", "Right")):
        spec += [
            (f"{side}UpperLeg", "Hips", f"{s}_hip", f"{s}_hip"),
            (f"{side}LowerLeg", f"{side}UpperLeg", f"{s}_knee", f"{s}_knee"),
            (f"{side}Foot", f"{side}LowerLeg", f"{s}_ankle", f"{s}_ankle", f"{s}_toe"),
        ]
    return spec


def _finger_spec(spec: list[tuple], wrist_name, finger_name) -> list[tuple]:
    """The rig's spec with three joints per finger under each wrist (its tip the End Site); the
    wrists lose their own End Site. wrist_name(side), finger_name(side, finger, k) give names."""
    out = [entry[:4] if entry[0] in (wrist_name("left"), wrist_name("right")) else entry for entry in spec]
    for s in ("left", "right"):
        for finger in FINGERS:
            for k in (1, 2, 3):
                parent = wrist_name(s) if k == 1 else finger_name(s, finger, k - 1)
                end = f"{s}_{finger}_tip" if k == 3 else None
                entry = (finger_name(s, finger, k), parent, f"{s}_{finger}{k}", f"{s}_{finger}{k}")
                out.append(entry + ((end,) if end else ()))
    return out


def _mixamo_finger(s: str, finger: str, k: int) -> str:
    return f"mixamorig:{s.capitalize()}Hand{finger.capitalize()}{k}"


_UNITY_FINGERS = {"thumb": "Thumb", "index": "Index", "middle": "Middle", "ring": "Ring", "pinky": "Little"}
_UNITY_PHALANGES = ("Proximal", "Intermediate", "Distal")


def _unity_finger(s: str, finger: str, k: int) -> str:
    """HumanBodyBones' finger names: LeftThumbProximal ... RightLittleDistal (the thumb's
    Proximal is its first joint, the CMC, as Mixamo's Thumb1 and Monocap's thumb1)."""
    return f"{s.capitalize()}{_UNITY_FINGERS[finger]}{_UNITY_PHALANGES[k - 1]}"


MONOCAP_RIG = _build("monocap", "Monocap's body rig: MONOCAP_BODY joint names plus a lumbar joint and clavicles", _monocap_spec(),
                     end_bones=True)
MIXAMO_RIG = _build("mixamo", "Mixamo bone names (mixamorig:Hips ...), recognised by Unity's humanoid "
                    "importer and Blender/MotionBuilder retargeting", _mixamo_spec(), end_bones=True)
# The bones of Unity's humanoid avatar that the solver drives, for live streams (VMC); not a BVH
# export rig.
UNITY_HUMANOID_RIG = _build("unity_humanoid", "Unity HumanBodyBones names (Hips, Spine, Chest, UpperChest, "
                            "LeftUpperArm ...), the bones VMC receivers drive", _unity_humanoid_spec())
# The same with Unity's 30 finger bones, for MONOCAP_HANDS poses.
UNITY_HUMANOID_RIG_FINGERS = _build("unity_humanoid", UNITY_HUMANOID_RIG.description + ", and the 30 finger bones "
                                    "(LeftThumbProximal ... RightLittleDistal)",
                                    _finger_spec(_unity_humanoid_spec(), lambda s: f"{s.capitalize()}Hand",
                                                 _unity_finger), SOLVER_JOINTS_HANDS)
# Game engines' humanoids (engine/animation/rig_engines.py): Unreal Engine 5's mannequin and VRM 1.0.
UE5_RIG = _build("ue5", "the Unreal Engine 5 mannequin's bones (root, pelvis, spine_01..05, neck_01..02, thigh_l ...)",
                 ue5_spec(), floor_bones=UE5_FLOOR_BONES)
VRM_RIG = _build("vrm", "VRM 1.0 humanoid bone names (hips, spine, chest, upperChest, leftUpperArm ...)", vrm_spec())
RIGS: dict[str, Rig] = {r.name: r for r in (MONOCAP_RIG, MIXAMO_RIG, UE5_RIG, VRM_RIG)}
# The same rigs with fingers, for MONOCAP_HANDS takes: Monocap's finger names (left_index1 ...),
# Mixamo's (mixamorig:LeftHandIndex1 ...), UE5's (index_metacarpal_l, index_01_l ...) and VRM's.
RIGS_WITH_FINGERS: dict[str, Rig] = {
    "ue5": _build("ue5", UE5_RIG.description + ", and the fingers with UE5's metacarpals", ue5_finger_spec(),
                  SOLVER_JOINTS_HANDS, floor_bones=UE5_FLOOR_BONES),
    "vrm": _build("vrm", VRM_RIG.description + ", and the 30 finger bones", _finger_spec(vrm_spec(), vrm_hand, vrm_finger),
                  SOLVER_JOINTS_HANDS),
    "monocap": _build("monocap", MONOCAP_RIG.description + ", and three joints per finger",
                      _finger_spec(_monocap_spec(), lambda s: f"{s}_wrist", lambda s, f, k: f"{s}_{f}{k}"),
                      SOLVER_JOINTS_HANDS, end_bones=True),
    "mixamo": _build("mixamo", MIXAMO_RIG.description + ", and three joints per finger",
                     _finger_spec(_mixamo_spec(), lambda s: f"mixamorig:{s.capitalize()}Hand", _mixamo_finger),
                     SOLVER_JOINTS_HANDS, end_bones=True),
}


def get_rig(name: str, fingers: bool = False) -> Rig:
    try:
        return (RIGS_WITH_FINGERS if fingers else RIGS)[name]
    except KeyError:
        raise KeyError(f"unknown rig {name!r}; known: {', '.join(RIGS)}") from None


def _check() -> None:
    for points, skeleton in ((SOLVER_POINTS, MONOCAP_BODY), (SOLVER_POINTS_HANDS, MONOCAP_HANDS)):
        index = {p.name: i for i, p in enumerate(points)}
        for p in points:
            if (p.source is None) != (p.rest[0] == "pivot"):
                raise ValueError(f"solver point {p.name}: only pivot points have no source joint")
            if p.source is not None and p.source not in skeleton.joint_names:
                raise ValueError(f"solver point {p.name} reads unknown joint {p.source}")
            if p.parent is not None and index[p.parent] >= index[p.name]:
                raise ValueError(f"solver point {p.name} must come after its parent")


_check()
