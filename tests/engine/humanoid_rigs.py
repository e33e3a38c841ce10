"""BVH files of humanoid rigs from elsewhere, written for the tests: each family's joint names,
hierarchy, rest pose (T, A or arms-down), units, channel layout and text quirks, moving the way
a real CMU take moves.

Motion: every joint that starts a body segment (thigh, shin, upper arm ...) turns with that
segment; the segment rotations come from the shared CMU take when there is one (its bones'
global rotations, re-expressed against a canonical T-pose), from segments turning at random
(`synthetic_motion`), or from generated motions the CMU take never makes (`GENERATED_MOTIONS`:
arms above the head with forearms twisting, a deep squat and lying down). Twist helpers,
fingers and extra spine joints keep their parent's orientation. The truth is this module's own
forward kinematics of the generated rotations, in metres.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.core.rotations import axis_rotation, matrix_to_euler, swing_rotation

# canonical landmarks of the left side and the middle, metres, T-pose facing +Z, left = +X
LANDMARKS = {
    "floor": (0, 0, 0), "pelvis": (0, 0.95, 0), "lumbar": (0, 1.03, -0.01), "spine1": (0, 1.12, -0.01),
    "spine2": (0, 1.22, 0), "chest": (0, 1.33, 0), "upperchest": (0, 1.41, 0), "neck": (0, 1.49, 0),
    "neck2": (0, 1.555, 0.01), "head": (0, 1.62, 0.01), "headtop": (0, 1.78, 0.02), "eye": (0.032, 1.69, 0.09),
    "hipjoint": (0.0, 0.95, 0), "hip": (0.09, 0.92, 0), "thighmid": (0.09, 0.71, 0.005), "knee": (0.09, 0.50, 0.01),
    "shinmid": (0.09, 0.29, -0.005), "ankle": (0.09, 0.08, -0.02), "midfoot": (0.09, 0.04, 0.06),
    "ball": (0.09, 0.015, 0.13), "toetip": (0.09, 0.01, 0.19), "pelvisside": (0.10, 1.0, 0.03),
    "clav": (0.03, 1.44, 0.02), "shoulder": (0.18, 1.445, 0), "uarmmid": (0.325, 1.445, 0),
    "elbow": (0.47, 1.445, 0), "farmmid": (0.595, 1.445, 0), "wrist": (0.72, 1.445, 0),
    "palm": (0.765, 1.445, 0), "knuckle": (0.81, 1.445, 0), "finger2": (0.85, 1.445, 0),
    "fingertip": (0.905, 1.445, 0), "thumb": (0.75, 1.43, 0.04), "thumbtip": (0.80, 1.42, 0.07),
}
# the segment each landmark's joint turns with (None: keeps its parent's orientation)
SEGMENT = {
    "pelvis": "pelvis", "lumbar": "lumbar", "spine1": "lumbar", "spine2": "spine", "chest": "chest",
    "upperchest": None, "neck": "neck", "neck2": None, "head": "head", "hip": "thigh", "hipjoint": None,
    "knee": "shin", "ankle": "foot", "ball": "toe", "clav": "clavicle", "shoulder": "upperarm",
    "elbow": "forearm", "wrist": "hand",
}
ARM_KEYS = ("shoulder", "uarmmid", "elbow", "farmmid", "wrist", "palm", "knuckle", "finger2", "fingertip",
            "thumb", "thumbtip")
LIMB_TRUTH = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")


@dataclass
class Joint:
    name: str
    parent: str | None
    at: str  # landmark key
    side: str = ""  # "L", "R" or ""
    end_site: bool = False  # an End Site (no channels), child of `parent`


@dataclass
class Family:
    name: str
    joints: list[Joint]
    truth: dict[str, str]  # Monocap limb joint ("left_knee") -> source joint name
    units: str = "cm"
    arm_drop_deg: float = 0.0  # 0 T-pose, 45 A-pose, 80 arms down
    positions_everywhere: bool = False
    order: str = "ZXY"  # or "mixed": a different rotation order on each joint
    crlf: bool = False
    tabs: bool = False
    frame_time_text: str | None = None
    z_up: bool = False  # written Z up (facing -Y), as Z-up tools write it


UNIT_M = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "ft": 0.3048, "cmu": 0.0254 / 0.45}


def _position(key: str, side: str, drop_deg: float) -> np.ndarray:
    p = np.array(LANDMARKS[key], dtype=float)
    if key in ARM_KEYS and drop_deg:
        shoulder = np.array(LANDMARKS["shoulder"])
        p = shoulder + axis_rotation("Z", np.radians(-drop_deg)) @ (p - shoulder)
    if side == "R":
        p = p * np.array([-1.0, 1.0, 1.0])
    return p


def _sided(names_by_side, spec):
    """spec: [(name with {S}/{s}/{Side}, parent with the same, landmark, end)] for both sides."""
    out = []
    for side in ("L", "R"):
        for name, parent, at, end in spec:
            fill = names_by_side(side)
            out.append(Joint(name.format(**fill), parent.format(**fill) if parent else None, at, side, end))
    return out


def _side_names(side: str) -> dict[str, str]:
    return {"S": side, "s": side.lower(), "Side": "Left" if side == "L" else "Right",
            "side": "left" if side == "L" else "right"}


def _truth(pattern: dict[str, str]) -> dict[str, str]:
    out = {}
    for side in ("L", "R"):
        fill = _side_names(side)
        for joint, name in pattern.items():
            out[f"{fill['side']}_{joint}"] = name.format(**fill)
    return out


def _mid(names: list[tuple[str, str | None, str]]) -> list[Joint]:
    return [Joint(n, p, at) for n, p, at in names]


def families() -> list[Family]:
    fams = []
    # Mixamo
    p = "mixamorig:"
    fams.append(Family("mixamo", _mid([(p + "Hips", None, "pelvis"), (p + "Spine", p + "Hips", "lumbar"),
                                       (p + "Spine1", p + "Spine", "spine2"), (p + "Spine2", p + "Spine1", "chest"),
                                       (p + "Neck", p + "Spine2", "neck"), (p + "Head", p + "Neck", "head"),
                                       (p + "HeadTop_End", p + "Head", "headtop")]) + _sided(_side_names, [
        (p + "{Side}UpLeg", p + "Hips", "hip", False), (p + "{Side}Leg", p + "{Side}UpLeg", "knee", False),
        (p + "{Side}Foot", p + "{Side}Leg", "ankle", False), (p + "{Side}ToeBase", p + "{Side}Foot", "ball", False),
        (p + "{Side}Toe_End", p + "{Side}ToeBase", "toetip", False),
        (p + "{Side}Shoulder", p + "Spine2", "clav", False), (p + "{Side}Arm", p + "{Side}Shoulder", "shoulder", False),
        (p + "{Side}ForeArm", p + "{Side}Arm", "elbow", False), (p + "{Side}Hand", p + "{Side}ForeArm", "wrist", False),
        (p + "{Side}HandMiddle1", p + "{Side}Hand", "knuckle", False),
        (p + "{Side}HandMiddle2", p + "{Side}HandMiddle1", "finger2", False),
        (p + "{Side}HandThumb1", p + "{Side}Hand", "thumb", False)]),
        _truth({"hip": p + "{Side}UpLeg", "knee": p + "{Side}Leg", "ankle": p + "{Side}Foot",
                "shoulder": p + "{Side}Arm", "elbow": p + "{Side}ForeArm", "wrist": p + "{Side}Hand"})))
    # CMU conversion with ASF-like names: LeftShoulder is the shoulder joint, LeftCollar the clavicle
    fams.append(Family("cmu_collar", _mid([("Hips", None, "pelvis"), ("lowerback", "Hips", "lumbar"),
                                           ("Chest", "lowerback", "spine2"), ("Chest2", "Chest", "chest"),
                                           ("lowerneck", "Chest2", "neck"), ("Neck", "lowerneck", "neck2"),
                                           ("Head", "Neck", "head")]) + [Joint("Head_end", "Head", "headtop", "", True)]
        + _sided(_side_names, [
            ("{S}HipJoint", "Hips", "hipjoint", False), ("{Side}Hip", "{S}HipJoint", "hip", False),
            ("{Side}Knee", "{Side}Hip", "knee", False), ("{Side}Ankle", "{Side}Knee", "ankle", False),
            ("{Side}Toe", "{Side}Ankle", "ball", False), ("{Side}Toe_end", "{Side}Toe", "toetip", True),
            ("{Side}Collar", "Chest2", "clav", False), ("{Side}Shoulder", "{Side}Collar", "shoulder", False),
            ("{Side}Elbow", "{Side}Shoulder", "elbow", False), ("{Side}Wrist", "{Side}Elbow", "wrist", False),
            ("{s}hand", "{Side}Wrist", "palm", False), ("{S}Fingers", "{s}hand", "knuckle", False),
            ("{S}Fingers_end", "{S}Fingers", "fingertip", True), ("{S}Thumb", "{s}hand", "thumb", False)]),
        _truth({"hip": "{Side}Hip", "knee": "{Side}Knee", "ankle": "{Side}Ankle", "shoulder": "{Side}Shoulder",
                "elbow": "{Side}Elbow", "wrist": "{Side}Wrist"}), units="in", tabs=True))
    # the other CMU conversion (LeftUpLeg, LowerBack, Spine1, Neck1, LeftArm), in the ASF unit
    fams.append(Family("cmu_upleg", _mid([("Hips", None, "pelvis"), ("LowerBack", "Hips", "lumbar"),
                                          ("Spine", "LowerBack", "spine2"), ("Spine1", "Spine", "chest"),
                                          ("Neck", "Spine1", "neck"), ("Neck1", "Neck", "neck2"),
                                          ("Head", "Neck1", "head")]) + [Joint("Head_end", "Head", "headtop", "", True)]
        + _sided(_side_names, [
            ("{S}HipJoint", "Hips", "hipjoint", False), ("{Side}UpLeg", "{S}HipJoint", "hip", False),
            ("{Side}Leg", "{Side}UpLeg", "knee", False), ("{Side}Foot", "{Side}Leg", "ankle", False),
            ("{Side}ToeBase", "{Side}Foot", "ball", False), ("{Side}ToeBase_end", "{Side}ToeBase", "toetip", True),
            ("{Side}Shoulder", "Spine1", "clav", False), ("{Side}Arm", "{Side}Shoulder", "shoulder", False),
            ("{Side}ForeArm", "{Side}Arm", "elbow", False), ("{Side}Hand", "{Side}ForeArm", "wrist", False),
            ("{Side}FingerBase", "{Side}Hand", "palm", False), ("{S}Fingers", "{Side}FingerBase", "knuckle", False),
            ("{S}Fingers_end", "{S}Fingers", "fingertip", True), ("{S}Thumb", "{Side}Hand", "thumb", False)]),
        _truth({"hip": "{Side}UpLeg", "knee": "{Side}Leg", "ankle": "{Side}Foot", "shoulder": "{Side}Arm",
                "elbow": "{Side}ForeArm", "wrist": "{Side}Hand"}), units="cmu", frame_time_text=".0333333"))
    # a game-studio research set: a floor root, a position channel on every joint
    fams.append(Family("studio", _mid([("joint_Root", None, "floor"), ("Hips", "joint_Root", "pelvis"),
                                       ("Spine", "Hips", "lumbar"), ("Chest", "Spine", "chest"),
                                       ("Neck", "Chest", "neck"), ("Head", "Neck", "head")])
        + [Joint("Head_end", "Head", "headtop", "", True)] + _sided(_side_names, [
            ("UpperLeg_{S}", "Hips", "hip", False), ("LowerLeg_{S}", "UpperLeg_{S}", "knee", False),
            ("Foot_{S}", "LowerLeg_{S}", "ankle", False), ("Toes_{S}", "Foot_{S}", "ball", False),
            ("Toes_{S}_end", "Toes_{S}", "toetip", True), ("Shoulder_{S}", "Chest", "clav", False),
            ("UpperArm_{S}", "Shoulder_{S}", "shoulder", False), ("LowerArm_{S}", "UpperArm_{S}", "elbow", False),
            ("Hand_{S}", "LowerArm_{S}", "wrist", False), ("Hand_{S}_end", "Hand_{S}", "knuckle", True)]),
        _truth({"hip": "UpperLeg_{S}", "knee": "LowerLeg_{S}", "ankle": "Foot_{S}", "shoulder": "UpperArm_{S}",
                "elbow": "LowerArm_{S}", "wrist": "Hand_{S}"}), positions_everywhere=True, crlf=True))
    # the Unreal mannequin: floor root, twist bones, A-pose
    fams.append(Family("unreal", _mid([("root", None, "floor"), ("pelvis", "root", "pelvis"),
                                       ("spine_01", "pelvis", "lumbar"), ("spine_02", "spine_01", "spine2"),
                                       ("spine_03", "spine_02", "chest"), ("neck_01", "spine_03", "neck"),
                                       ("head", "neck_01", "head")]) + [Joint("head_end", "head", "headtop", "", True)]
        + _sided(_side_names, [
            ("thigh_{s}", "pelvis", "hip", False), ("thigh_twist_01_{s}", "thigh_{s}", "thighmid", False),
            ("calf_{s}", "thigh_{s}", "knee", False), ("calf_twist_01_{s}", "calf_{s}", "shinmid", False),
            ("foot_{s}", "calf_{s}", "ankle", False), ("ball_{s}", "foot_{s}", "ball", False),
            ("ball_{s}_end", "ball_{s}", "toetip", True),
            ("clavicle_{s}", "spine_03", "clav", False), ("upperarm_{s}", "clavicle_{s}", "shoulder", False),
            ("upperarm_twist_01_{s}", "upperarm_{s}", "uarmmid", False), ("lowerarm_{s}", "upperarm_{s}", "elbow", False),
            ("lowerarm_twist_01_{s}", "lowerarm_{s}", "farmmid", False), ("hand_{s}", "lowerarm_{s}", "wrist", False),
            ("middle_01_{s}", "hand_{s}", "knuckle", False), ("middle_02_{s}", "middle_01_{s}", "finger2", False),
            ("thumb_01_{s}", "hand_{s}", "thumb", False)])
        + [Joint("ik_foot_root", "root", "floor"), Joint("ik_foot_l", "ik_foot_root", "ankle", "L"),
           Joint("ik_foot_r", "ik_foot_root", "ankle", "R"), Joint("ik_hand_root", "root", "floor"),
           Joint("ik_hand_gun", "ik_hand_root", "wrist", "R"), Joint("ik_hand_r", "ik_hand_gun", "wrist", "R"),
           Joint("ik_hand_l", "ik_hand_gun", "wrist", "L")],
        _truth({"hip": "thigh_{s}", "knee": "calf_{s}", "ankle": "foot_{s}", "shoulder": "upperarm_{s}",
                "elbow": "lowerarm_{s}", "wrist": "hand_{s}"}), arm_drop_deg=45, order="XYZ", z_up=True))
    # Unity / VRM humanoid (UniVRM bone names), metres
    j = "J_Bip_"
    fams.append(Family("vrm", _mid([(j + "C_Hips", None, "pelvis"), (j + "C_Spine", j + "C_Hips", "lumbar"),
                                    (j + "C_Chest", j + "C_Spine", "spine2"), (j + "C_UpperChest", j + "C_Chest", "chest"),
                                    (j + "C_Neck", j + "C_UpperChest", "neck"), (j + "C_Head", j + "C_Neck", "head")])
        + [Joint("J_Adj_C_HeadTop", j + "C_Head", "headtop", "", True)] + _sided(_side_names, [
            (j + "{S}_UpperLeg", j + "C_Hips", "hip", False), (j + "{S}_LowerLeg", j + "{S}_UpperLeg", "knee", False),
            (j + "{S}_Foot", j + "{S}_LowerLeg", "ankle", False), (j + "{S}_ToeBase", j + "{S}_Foot", "ball", False),
            (j + "{S}_ToeBase_end", j + "{S}_ToeBase", "toetip", True),
            (j + "{S}_Shoulder", j + "C_UpperChest", "clav", False), (j + "{S}_UpperArm", j + "{S}_Shoulder", "shoulder", False),
            (j + "{S}_LowerArm", j + "{S}_UpperArm", "elbow", False), (j + "{S}_Hand", j + "{S}_LowerArm", "wrist", False),
            (j + "{S}_Middle1", j + "{S}_Hand", "knuckle", False),
            (j + "{S}_Middle1_end", j + "{S}_Middle1", "fingertip", True)]),
        _truth({"hip": j + "{S}_UpperLeg", "knee": j + "{S}_LowerLeg", "ankle": j + "{S}_Foot",
                "shoulder": j + "{S}_UpperArm", "elbow": j + "{S}_LowerArm", "wrist": j + "{S}_Hand"}), units="m"))
    # Xsens MVN: arms down in the rest pose
    fams.append(Family("xsens", _mid([("Pelvis", None, "pelvis"), ("L5", "Pelvis", "lumbar"), ("L3", "L5", "spine1"),
                                      ("T12", "L3", "spine2"), ("T8", "T12", "chest"), ("Neck", "T8", "neck"),
                                      ("Head", "Neck", "head")]) + [Joint("Head_end", "Head", "headtop", "", True)]
        + _sided(_side_names, [
            ("{Side}UpperLeg", "Pelvis", "hip", False), ("{Side}LowerLeg", "{Side}UpperLeg", "knee", False),
            ("{Side}Foot", "{Side}LowerLeg", "ankle", False), ("{Side}Toe", "{Side}Foot", "ball", False),
            ("{Side}Toe_end", "{Side}Toe", "toetip", True), ("{Side}Shoulder", "T8", "clav", False),
            ("{Side}UpperArm", "{Side}Shoulder", "shoulder", False), ("{Side}ForeArm", "{Side}UpperArm", "elbow", False),
            ("{Side}Hand", "{Side}ForeArm", "wrist", False), ("{Side}Hand_end", "{Side}Hand", "fingertip", True)]),
        _truth({"hip": "{Side}UpperLeg", "knee": "{Side}LowerLeg", "ankle": "{Side}Foot", "shoulder": "{Side}UpperArm",
                "elbow": "{Side}ForeArm", "wrist": "{Side}Hand"}), arm_drop_deg=80, order="ZXY"))
    # OptiTrack Motive
    fams.append(Family("optitrack", _mid([("Hip", None, "pelvis"), ("Ab", "Hip", "spine1"), ("Chest", "Ab", "chest"),
                                          ("Neck", "Chest", "neck"), ("Head", "Neck", "head")])
        + [Joint("Head_end", "Head", "headtop", "", True)] + _sided(_side_names, [
            ("{S}Thigh", "Hip", "hip", False), ("{S}Shin", "{S}Thigh", "knee", False), ("{S}Foot", "{S}Shin", "ankle", False),
            ("{S}Toe", "{S}Foot", "ball", False), ("{S}Toe_end", "{S}Toe", "toetip", True),
            ("{S}Shoulder", "Chest", "clav", False), ("{S}UArm", "{S}Shoulder", "shoulder", False),
            ("{S}FArm", "{S}UArm", "elbow", False), ("{S}Hand", "{S}FArm", "wrist", False),
            ("{S}Hand_end", "{S}Hand", "knuckle", True)]),
        _truth({"hip": "{S}Thigh", "knee": "{S}Shin", "ankle": "{S}Foot", "shoulder": "{S}UArm", "elbow": "{S}FArm",
                "wrist": "{S}Hand"}), units="m", order="YXZ"))
    # Perception Neuron (Axis Neuron, displacement on every joint)
    fams.append(Family("neuron", _mid([("Hips", None, "pelvis"), ("Spine", "Hips", "lumbar"), ("Spine1", "Spine", "spine1"),
                                       ("Spine2", "Spine1", "spine2"), ("Spine3", "Spine2", "chest"),
                                       ("Neck", "Spine3", "neck"), ("Head", "Neck", "head")])
        + [Joint("Head_end", "Head", "headtop", "", True)] + _sided(_side_names, [
            ("{Side}UpLeg", "Hips", "hip", False), ("{Side}Leg", "{Side}UpLeg", "knee", False),
            ("{Side}Foot", "{Side}Leg", "ankle", False), ("{Side}Foot_end", "{Side}Foot", "ball", True),
            ("{Side}Shoulder", "Spine3", "clav", False), ("{Side}Arm", "{Side}Shoulder", "shoulder", False),
            ("{Side}ForeArm", "{Side}Arm", "elbow", False), ("{Side}Hand", "{Side}ForeArm", "wrist", False),
            ("{Side}HandThumb1", "{Side}Hand", "thumb", False), ("{Side}InHandMiddle", "{Side}Hand", "palm", False),
            ("{Side}HandMiddle1", "{Side}InHandMiddle", "knuckle", False),
            ("{Side}HandMiddle2", "{Side}HandMiddle1", "finger2", False)]),
        _truth({"hip": "{Side}UpLeg", "knee": "{Side}Leg", "ankle": "{Side}Foot", "shoulder": "{Side}Arm",
                "elbow": "{Side}ForeArm", "wrist": "{Side}Hand"}), positions_everywhere=True, order="YXZ"))
    # Blender Rigify deform bones, metres, arms 30 degrees down
    fams.append(Family("rigify", _mid([("DEF-spine", None, "pelvis"), ("DEF-spine.001", "DEF-spine", "lumbar"),
                                       ("DEF-spine.002", "DEF-spine.001", "spine2"),
                                       ("DEF-spine.003", "DEF-spine.002", "chest"),
                                       ("DEF-spine.004", "DEF-spine.003", "neck"),
                                       ("DEF-spine.005", "DEF-spine.004", "neck2"),
                                       ("DEF-spine.006", "DEF-spine.005", "head")])
        + [Joint("DEF-spine.006_end", "DEF-spine.006", "headtop", "", True)] + _sided(_side_names, [
            ("DEF-pelvis.{S}", "DEF-spine", "pelvisside", False),
            ("DEF-thigh.{S}", "DEF-spine", "hip", False), ("DEF-thigh.{S}.001", "DEF-thigh.{S}", "thighmid", False),
            ("DEF-shin.{S}", "DEF-thigh.{S}.001", "knee", False), ("DEF-shin.{S}.001", "DEF-shin.{S}", "shinmid", False),
            ("DEF-foot.{S}", "DEF-shin.{S}.001", "ankle", False), ("DEF-toe.{S}", "DEF-foot.{S}", "ball", False),
            ("DEF-toe.{S}_end", "DEF-toe.{S}", "toetip", True),
            ("DEF-shoulder.{S}", "DEF-spine.003", "clav", False), ("DEF-upper_arm.{S}", "DEF-shoulder.{S}", "shoulder", False),
            ("DEF-upper_arm.{S}.001", "DEF-upper_arm.{S}", "uarmmid", False),
            ("DEF-forearm.{S}", "DEF-upper_arm.{S}.001", "elbow", False),
            ("DEF-forearm.{S}.001", "DEF-forearm.{S}", "farmmid", False),
            ("DEF-hand.{S}", "DEF-forearm.{S}.001", "wrist", False), ("DEF-hand.{S}_end", "DEF-hand.{S}", "knuckle", True)]),
        _truth({"hip": "DEF-thigh.{S}", "knee": "DEF-shin.{S}", "ankle": "DEF-foot.{S}", "shoulder": "DEF-upper_arm.{S}",
                "elbow": "DEF-forearm.{S}", "wrist": "DEF-hand.{S}"}), units="m", arm_drop_deg=30, order="XYZ"))
    # Kinect-style skeleton
    fams.append(Family("kinect", _mid([("SpineBase", None, "pelvis"), ("SpineMid", "SpineBase", "spine2"),
                                       ("SpineShoulder", "SpineMid", "upperchest"), ("Neck", "SpineShoulder", "neck2"),
                                       ("Head", "Neck", "head")]) + [Joint("Head_end", "Head", "headtop", "", True)]
        + _sided(lambda s: {"Side": "Left" if s == "L" else "Right"}, [
            ("Hip{Side}", "SpineBase", "hip", False), ("Knee{Side}", "Hip{Side}", "knee", False),
            ("Ankle{Side}", "Knee{Side}", "ankle", False), ("Foot{Side}", "Ankle{Side}", "ball", False),
            ("Shoulder{Side}", "SpineShoulder", "shoulder", False), ("Elbow{Side}", "Shoulder{Side}", "elbow", False),
            ("Wrist{Side}", "Elbow{Side}", "wrist", False), ("Hand{Side}", "Wrist{Side}", "knuckle", False),
            ("HandTip{Side}", "Hand{Side}", "fingertip", False), ("Thumb{Side}", "Wrist{Side}", "thumb", False)]),
        {f"{s}_{j}": f"{n}{s.capitalize()}" for s in ("left", "right")
         for j, n in (("hip", "Hip"), ("knee", "Knee"), ("ankle", "Ankle"), ("shoulder", "Shoulder"), ("elbow", "Elbow"),
                      ("wrist", "Wrist"))}, units="m"))
    # DAZ Genesis: bend and twist bones, eyes, A-pose
    fams.append(Family("daz_genesis", _mid([("hip", None, "pelvis"), ("pelvis", "hip", "hipjoint"),
                                            ("abdomenLower", "hip", "lumbar"), ("abdomenUpper", "abdomenLower", "spine1"),
                                            ("chestLower", "abdomenUpper", "spine2"), ("chestUpper", "chestLower", "chest"),
                                            ("neckLower", "chestUpper", "neck"), ("neckUpper", "neckLower", "neck2"),
                                            ("head", "neckUpper", "head")]) + [Joint("head_end", "head", "headtop", "", True)]
        + _sided(_side_names, [
            ("{s}Eye", "head", "eye", False), ("{s}Eye_end", "{s}Eye", "eye", True),
            ("{s}ThighBend", "pelvis", "hip", False), ("{s}ThighTwist", "{s}ThighBend", "thighmid", False),
            ("{s}Shin", "{s}ThighTwist", "knee", False), ("{s}Foot", "{s}Shin", "ankle", False),
            ("{s}Metatarsals", "{s}Foot", "midfoot", False), ("{s}Toe", "{s}Metatarsals", "ball", False),
            ("{s}Toe_end", "{s}Toe", "toetip", True),
            ("{s}Collar", "chestUpper", "clav", False), ("{s}ShldrBend", "{s}Collar", "shoulder", False),
            ("{s}ShldrTwist", "{s}ShldrBend", "uarmmid", False), ("{s}ForearmBend", "{s}ShldrTwist", "elbow", False),
            ("{s}ForearmTwist", "{s}ForearmBend", "farmmid", False), ("{s}Hand", "{s}ForearmTwist", "wrist", False),
            ("{s}Carpal2", "{s}Hand", "palm", False), ("{s}Mid1", "{s}Carpal2", "knuckle", False),
            ("{s}Mid2", "{s}Mid1", "finger2", False)]),
        _truth({"hip": "{s}ThighBend", "knee": "{s}Shin", "ankle": "{s}Foot", "shoulder": "{s}ShldrBend",
                "elbow": "{s}ForearmBend", "wrist": "{s}Hand"}), arm_drop_deg=45, order="mixed"))
    # iClone / Character Creator
    c = "CC_Base_"
    fams.append(Family("iclone", _mid([(c + "BoneRoot", None, "floor"), (c + "Hip", c + "BoneRoot", "pelvis"),
                                       (c + "Pelvis", c + "Hip", "hipjoint"), (c + "Waist", c + "Hip", "lumbar"),
                                       (c + "Spine01", c + "Waist", "spine2"), (c + "Spine02", c + "Spine01", "chest"),
                                       (c + "NeckTwist01", c + "Spine02", "neck"),
                                       (c + "NeckTwist02", c + "NeckTwist01", "neck2"),
                                       (c + "Head", c + "NeckTwist02", "head")])
        + [Joint(c + "Head_end", c + "Head", "headtop", "", True)] + _sided(_side_names, [
            (c + "{S}_Eye", c + "Head", "eye", False),
            (c + "{S}_Thigh", c + "Pelvis", "hip", False), (c + "{S}_ThighTwist01", c + "{S}_Thigh", "thighmid", False),
            (c + "{S}_Calf", c + "{S}_Thigh", "knee", False), (c + "{S}_Foot", c + "{S}_Calf", "ankle", False),
            (c + "{S}_ToeBase", c + "{S}_Foot", "ball", False), (c + "{S}_ToeBase_end", c + "{S}_ToeBase", "toetip", True),
            (c + "{S}_Clavicle", c + "Spine02", "clav", False), (c + "{S}_Upperarm", c + "{S}_Clavicle", "shoulder", False),
            (c + "{S}_UpperarmTwist01", c + "{S}_Upperarm", "uarmmid", False),
            (c + "{S}_Forearm", c + "{S}_Upperarm", "elbow", False), (c + "{S}_Hand", c + "{S}_Forearm", "wrist", False),
            (c + "{S}_Mid1", c + "{S}_Hand", "knuckle", False), (c + "{S}_Mid2", c + "{S}_Mid1", "finger2", False)]),
        _truth({"hip": c + "{S}_Thigh", "knee": c + "{S}_Calf", "ankle": c + "{S}_Foot",
                "shoulder": c + "{S}_Upperarm", "elbow": c + "{S}_Forearm", "wrist": c + "{S}_Hand"})))
    # 3ds Max Biped: names with spaces, thighs on the spine, clavicles on the neck
    b = "Bip01 "
    fams.append(Family("biped", _mid([("Bip01", None, "pelvis"), (b + "Pelvis", "Bip01", "hipjoint"),
                                      (b + "Spine", b + "Pelvis", "lumbar"), (b + "Spine1", b + "Spine", "spine2"),
                                      (b + "Spine2", b + "Spine1", "chest"), (b + "Neck", b + "Spine2", "neck"),
                                      (b + "Head", b + "Neck", "head"), (b + "HeadNub", b + "Head", "headtop")])
        + _sided(_side_names, [
            (b + "{S} Thigh", b + "Spine", "hip", False), (b + "{S} Calf", b + "{S} Thigh", "knee", False),
            (b + "{S} Foot", b + "{S} Calf", "ankle", False), (b + "{S} Toe0", b + "{S} Foot", "ball", False),
            (b + "{S} Toe0Nub", b + "{S} Toe0", "toetip", False),
            (b + "{S} Clavicle", b + "Neck", "clav", False), (b + "{S} UpperArm", b + "{S} Clavicle", "shoulder", False),
            (b + "{S} Forearm", b + "{S} UpperArm", "elbow", False), (b + "{S} Hand", b + "{S} Forearm", "wrist", False),
            (b + "{S} Finger2", b + "{S} Hand", "knuckle", False), (b + "{S} Finger21", b + "{S} Finger2", "finger2", False),
            (b + "{S} Finger0", b + "{S} Hand", "thumb", False)]),
        {k: v.replace(" ", "_") for k, v in _truth({
            "hip": b + "{S} Thigh", "knee": b + "{S} Calf", "ankle": b + "{S} Foot", "shoulder": b + "{S} UpperArm",
            "elbow": b + "{S} Forearm", "wrist": b + "{S} Hand"}).items()}, order="YXZ"))
    # SMPL as exported for Unity (m_avg_ prefix), metres: L_Foot is the toe, L_Hand the knuckles
    m = "m_avg_"
    fams.append(Family("smpl", _mid([(m + "Pelvis", None, "pelvis"), (m + "Spine1", m + "Pelvis", "lumbar"),
                                     (m + "Spine2", m + "Spine1", "spine2"), (m + "Spine3", m + "Spine2", "chest"),
                                     (m + "Neck", m + "Spine3", "neck"), (m + "Head", m + "Neck", "head")])
        + [Joint(m + "Head_end", m + "Head", "headtop", "", True)] + _sided(_side_names, [
            (m + "{S}_Hip", m + "Pelvis", "hip", False), (m + "{S}_Knee", m + "{S}_Hip", "knee", False),
            (m + "{S}_Ankle", m + "{S}_Knee", "ankle", False), (m + "{S}_Foot", m + "{S}_Ankle", "ball", False),
            (m + "{S}_Foot_end", m + "{S}_Foot", "toetip", True),
            (m + "{S}_Collar", m + "Spine3", "clav", False), (m + "{S}_Shoulder", m + "{S}_Collar", "shoulder", False),
            (m + "{S}_Elbow", m + "{S}_Shoulder", "elbow", False), (m + "{S}_Wrist", m + "{S}_Elbow", "wrist", False),
            (m + "{S}_Hand", m + "{S}_Wrist", "knuckle", False), (m + "{S}_Hand_end", m + "{S}_Hand", "fingertip", True)]),
        _truth({"hip": m + "{S}_Hip", "knee": m + "{S}_Knee", "ankle": m + "{S}_Ankle", "shoulder": m + "{S}_Shoulder",
                "elbow": m + "{S}_Elbow", "wrist": m + "{S}_Wrist"}), units="m", order="XYZ"))
    # MotionBuilder HumanIK: a Character1_ namespace prefix and roll bones
    h = "Character1_"
    fams.append(Family("humanik", _mid([(h + "Hips", None, "pelvis"), (h + "Spine", h + "Hips", "lumbar"),
                                        (h + "Spine1", h + "Spine", "spine2"), (h + "Spine2", h + "Spine1", "chest"),
                                        (h + "Neck", h + "Spine2", "neck"), (h + "Head", h + "Neck", "head")])
        + [Joint(h + "Head_end", h + "Head", "headtop", "", True)] + _sided(_side_names, [
            (h + "{Side}UpLeg", h + "Hips", "hip", False), (h + "{Side}UpLegRoll", h + "{Side}UpLeg", "thighmid", False),
            (h + "{Side}Leg", h + "{Side}UpLeg", "knee", False), (h + "{Side}LegRoll", h + "{Side}Leg", "shinmid", False),
            (h + "{Side}Foot", h + "{Side}Leg", "ankle", False), (h + "{Side}ToeBase", h + "{Side}Foot", "ball", False),
            (h + "{Side}ToeBase_end", h + "{Side}ToeBase", "toetip", True),
            (h + "{Side}Shoulder", h + "Spine2", "clav", False), (h + "{Side}Arm", h + "{Side}Shoulder", "shoulder", False),
            (h + "{Side}ArmRoll", h + "{Side}Arm", "uarmmid", False), (h + "{Side}ForeArm", h + "{Side}ArmRoll", "elbow", False),
            (h + "{Side}ForeArmRoll", h + "{Side}ForeArm", "farmmid", False),
            (h + "{Side}Hand", h + "{Side}ForeArmRoll", "wrist", False),
            (h + "{Side}HandMiddle1", h + "{Side}Hand", "knuckle", False),
            (h + "{Side}HandMiddle1_end", h + "{Side}HandMiddle1", "fingertip", True)]),
        _truth({"hip": h + "{Side}UpLeg", "knee": h + "{Side}Leg", "ankle": h + "{Side}Foot",
                "shoulder": h + "{Side}Arm", "elbow": h + "{Side}ForeArm", "wrist": h + "{Side}Hand"}),
        units="in", arm_drop_deg=20))
    # no names at all: Joint1..JointN on a Mixamo-like tree, millimetres, mixed orders, tabs, CRLF
    mix = fams[0]  # Mixamo
    rename = {jt.name: f"Joint{k + 1}" for k, jt in enumerate(j for j in mix.joints if not j.end_site)}
    unnamed = [Joint(rename.get(jt.name, f"Site{k}"), rename.get(jt.parent) if jt.parent else None, jt.at, jt.side,
                     jt.end_site) for k, jt in enumerate(mix.joints)]
    fams.append(Family("unnamed", unnamed, {k: rename[v] for k, v in mix.truth.items()}, units="mm",
                       order="mixed", tabs=True, crlf=True, frame_time_text="0.0333"))
    return fams


# ---------------------------------------------------------------------------------------------
# motion

CANONICAL_DIRECTION = {
    "lumbar": (0, 1, 0), "spine": (0, 1, 0), "chest": (0, 1, 0), "neck": (0, 1, 0), "head": (0, 1, 0),
    "thigh": (0, -1, 0), "shin": (0, -1, 0), "foot": (0, -0.45, 1), "toe": (0, 0, 1),
    "clavicle": (1, 0, 0), "upperarm": (1, 0, 0), "forearm": (1, 0, 0), "hand": (1, 0, 0),
}
# segment -> (CMU joint, its child) in the shared CMU take (cmu_asf/01_01.bvh), left side
CMU_SEGMENTS = {
    "lumbar": ("LowerBack", "Spine"), "spine": ("Spine", "Spine1"), "chest": ("Spine1", "Neck"),
    "neck": ("Neck", "Neck1"), "head": ("Head", "Head_end"), "thigh": ("{Side}UpLeg", "{Side}Leg"),
    "shin": ("{Side}Leg", "{Side}Foot"), "foot": ("{Side}Foot", "{Side}ToeBase"),
    "toe": ("{Side}ToeBase", "{Side}ToeBase_end"), "clavicle": ("{Side}Shoulder", "{Side}Arm"),
    "upperarm": ("{Side}Arm", "{Side}ForeArm"), "forearm": ("{Side}ForeArm", "{Side}Hand"),
    "hand": ("{Side}Hand", "{S}Fingers"),
}


@dataclass
class SegmentMotion:
    rotations: dict[tuple[str, str], np.ndarray]  # (segment, side) -> (T, 3, 3), canonical T-pose based
    root_m: np.ndarray  # (T, 3) pelvis position
    fps: float


def cmu_motion(path: Path, frames: int = 120, step: int = 4) -> SegmentMotion:
    from engine.animation.bvh_reader import guess_scale_to_m, read_bvh

    motion = read_bvh(path)
    scale = guess_scale_to_m(motion)
    g = motion.global_transforms()[200:200 + frames * step:step]
    names = [j.name for j in motion.joints]
    rest = motion.rest_positions(include_end_sites=True)
    rotations = {("pelvis", ""): g[:, names.index("Hips"), :3, :3]}
    for seg, (a, b) in CMU_SEGMENTS.items():
        for side in (("L", "R") if "{" in a else ("",)):
            fill = _side_names(side or "L")
            ja, jb = names.index(a.format(**fill)), names.index(b.format(**fill))
            d_canon = np.array(CANONICAL_DIRECTION[seg], dtype=float)
            if side == "R":
                d_canon = d_canon * np.array([-1.0, 1, 1])
            q = swing_rotation(d_canon, rest[jb] - rest[ja])
            rotations[(seg, side)] = g[:, ja, :3, :3] @ q
    root = g[:, names.index("Hips"), :3, 3] * scale
    return SegmentMotion(rotations, root, motion.fps / step)


def synthetic_motion(frames: int = 120, fps: float = 30.0) -> SegmentMotion:
    t = np.arange(frames) / fps
    rotations = {}
    rng = np.random.default_rng(7)
    for seg in ["pelvis"] + list(CANONICAL_DIRECTION):
        for side in (("",) if seg in ("pelvis", "lumbar", "spine", "chest", "neck", "head") else ("L", "R")):
            m = np.tile(np.eye(3), (frames, 1, 1))
            for axis in "XYZ":
                amp, freq, phase = rng.uniform(0.1, 0.6), rng.uniform(0.3, 1.2), rng.uniform(0, 6.3)
                m = m @ axis_rotation(axis, amp * np.sin(2 * np.pi * freq * t + phase))
            rotations[(seg, side)] = m
    root = np.stack([0.3 * np.sin(t), 0.95 + 0.03 * np.sin(3 * t), 0.5 * t], axis=-1)
    return SegmentMotion(rotations, root, fps)


# ---------------------------------------------------------------------------------------------
# generated motions: poses the shared take never reaches, built joint by joint like a body

MIDDLE_SEGMENTS = ("lumbar", "spine", "chest", "neck", "head")
LIMB_SEGMENTS = ("clavicle", "upperarm", "forearm", "hand", "thigh", "shin", "foot", "toe")
SEGMENT_PARENT = {
    "lumbar": "pelvis", "spine": "lumbar", "chest": "spine", "neck": "chest", "head": "neck",
    "clavicle": "chest", "upperarm": "clavicle", "forearm": "upperarm", "hand": "forearm",
    "thigh": "pelvis", "shin": "thigh", "foot": "shin", "toe": "foot",
}
MIRROR_X = np.diag([-1.0, 1.0, 1.0])


def _ease(u: np.ndarray, start: float, end: float) -> np.ndarray:
    """0 before `start`, 1 after `end`, a smooth step between."""
    x = np.clip((u - start) / (end - start), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _wave(u: np.ndarray, cycles: float, phase: float = 0.0) -> np.ndarray:
    return np.sin(2.0 * np.pi * (cycles * u + phase))


def _turn(*turns: tuple[str, np.ndarray]) -> np.ndarray:
    """(axis, angles (T,)) ... -> (T, 3, 3): the first turn outermost, each next one about the
    axes the previous ones left."""
    out = axis_rotation(*turns[0])
    for axis, angle in turns[1:]:
        out = out @ axis_rotation(axis, angle)
    return out


def _from_locals(pelvis: np.ndarray, middle: dict[str, np.ndarray],
                 limbs: dict[str, dict[str, np.ndarray]]) -> dict[tuple[str, str], np.ndarray]:
    """Global segment rotations from each segment's rotation relative to its parent segment.
    limbs: side -> segment -> the left side's local rotation (the right one's is mirrored)."""
    rotations = {("pelvis", ""): pelvis}
    for seg in MIDDLE_SEGMENTS:
        rotations[(seg, "")] = rotations[(SEGMENT_PARENT[seg], "")] @ middle[seg]
    for side, local in limbs.items():
        for seg in LIMB_SEGMENTS:
            parent = SEGMENT_PARENT[seg]
            parent_key = (parent, side) if parent in LIMB_SEGMENTS else (parent, "")
            turn = local[seg] if side == "L" else MIRROR_X @ local[seg] @ MIRROR_X
            rotations[(seg, side)] = rotations[parent_key] @ turn
    return rotations


def _reaching_arm(u: np.ndarray, phase: float) -> dict[str, np.ndarray]:
    """A left arm that goes from the T-pose to straight above the head and back, its elbow
    bending and its forearm turning palm up to palm down and back."""
    raised = 0.5 - 0.5 * np.cos(2.0 * np.pi * (u + phase))
    elbow = 0.2 + 0.6 * (1.0 - _wave(u, 2.0, phase))
    return {
        "clavicle": _turn(("Z", 0.35 * raised), ("Y", -0.15 * _wave(u, 1.0, phase))),
        "upperarm": _turn(("Z", 1.45 * raised), ("Y", -0.4 * _wave(u, 1.5, phase)), ("X", 0.6 * _wave(u, 2.0, phase))),
        "forearm": _turn(("Y", -elbow), ("X", 1.45 * _wave(u, 1.7, phase))),
        "hand": _turn(("Z", 0.5 * _wave(u, 2.3, phase)), ("Y", 0.3 * _wave(u, 1.1, phase))),
    }


def _standing_leg(u: np.ndarray, phase: float) -> dict[str, np.ndarray]:
    knee = 0.15 + 0.1 * _wave(u, 1.0, phase)
    return {"thigh": _turn(("X", -0.6 * knee)), "shin": _turn(("X", knee)), "foot": _turn(("X", -0.4 * knee)),
            "toe": _turn(("X", 0.2 * knee))}


def reach_and_twist_motion(frames: int = 90, fps: float = 30.0) -> SegmentMotion:
    """Standing, the arms in turn straight above the head, the forearms twisting through more than
    160 degrees, the back arching and the trunk twisting."""
    u = np.arange(frames) / frames
    raised = 0.5 - 0.5 * np.cos(2.0 * np.pi * (u + 0.125))
    pelvis = _turn(("Y", 0.5 * _wave(u, 0.5)), ("X", 0.06 * _wave(u, 1.0)))
    middle = {"lumbar": _turn(("X", -0.45 * raised), ("Z", 0.4 * _wave(u, 1.0)), ("Y", 0.15 * _wave(u, 1.5))),
              "spine": _turn(("Y", 0.35 * _wave(u, 1.3)), ("X", -0.1 * raised)),
              "chest": _turn(("X", -0.1 * raised), ("Z", 0.1 * _wave(u, 0.7))),
              "neck": _turn(("X", -0.3 * raised)), "head": _turn(("Y", 0.4 * _wave(u, 0.9)), ("X", -0.2 * raised))}
    limbs = {side: _reaching_arm(u, phase) | _standing_leg(u, phase) for side, phase in (("L", 0.0), ("R", 0.25))}
    root = np.stack([0.05 * _wave(u, 1.0), 0.93 + 0.02 * _wave(u, 2.0), 0.1 * u], axis=-1)
    return SegmentMotion(_from_locals(pelvis, middle, limbs), root, fps)


SQUAT_PELVIS_TILT = 0.2  # rad forwards at the bottom of the squat, where the lower back rounds


def _squatting_then_lying_limbs(u: np.ndarray, squat: np.ndarray, lying: np.ndarray, phase: float) -> dict:
    """A left leg that folds into a deep squat (hip 115 degrees, knee 130, knee out), then
    pedals in the air lying down; the arm reaches forwards, then sweeps over the head."""
    pedal = lying * _ease(u, 0.5, 0.6)
    hip = 2.0 * squat + pedal * (0.8 + 0.5 * _wave(u, 2.0, phase))
    knee = 2.3 * squat + pedal * (1.0 + 0.8 * _wave(u, 2.0, phase + 0.2))
    sweep = lying * (0.5 - 0.5 * np.cos(2.0 * np.pi * (1.5 * u + phase)))
    return {
        "thigh": _turn(("X", -hip), ("Z", 0.25 * squat)),
        "shin": _turn(("X", knee)),
        "foot": _turn(("X", -(SQUAT_PELVIS_TILT * squat + knee - hip) * (1.0 - lying) - 0.3 * pedal)),
        "toe": _turn(("X", 0.2 * squat)),
        "clavicle": _turn(("Z", 0.3 * sweep)),
        "upperarm": _turn(("Y", -1.3 * squat), ("Z", 2.3 * sweep - 1.0 * lying * (1.0 - sweep))),
        "forearm": _turn(("Y", -(0.3 + 4.0 * sweep * (1.0 - sweep))), ("X", 0.8 * _wave(u, 1.3, phase))),
        "hand": _turn(("Z", 0.3 * _wave(u, 1.7, phase))),
    }


def squat_and_lie_down_motion(frames: int = 120, fps: float = 30.0) -> SegmentMotion:
    """A deep squat, then down onto the back, lying flat (the body horizontal) rolling a little
    from side to side and pedalling, then a sit-up crunch."""
    u = np.arange(frames) / frames
    squat = _ease(u, 0.0, 0.2) * (1.0 - _ease(u, 0.35, 0.5))
    lying = _ease(u, 0.3, 0.5)
    crunch = 0.7 * np.where(u > 0.8, np.sin(np.pi * (u - 0.8) / 0.2) ** 2, 0.0)
    roll = 0.25 * lying * _wave(u, 1.5)
    pelvis = _turn(("Y", 0.3 * np.sin(np.pi * u)), ("X", SQUAT_PELVIS_TILT * squat - 0.5 * np.pi * lying), ("Y", roll))
    middle = {"lumbar": _turn(("X", 0.6 * squat + crunch), ("Z", (0.2 + 0.3 * lying) * _wave(u, 1.1))),
              "spine": _turn(("X", 0.1 * squat + 0.3 * crunch), ("Y", 0.3 * _wave(u, 1.4))),
              "chest": _turn(("Z", 0.1 * _wave(u, 0.8))),
              "neck": _turn(("X", 0.3 * crunch - 0.3 * squat)), "head": _turn(("Y", 0.5 * _wave(u, 1.2)))}
    limbs = {side: _squatting_then_lying_limbs(u, squat, lying, phase) for side, phase in (("L", 0.0), ("R", 0.5))}
    height = (0.95 - 0.5 * squat) * (1.0 - lying) + 0.15 * lying
    root = np.stack([0.1 * _wave(u, 0.5), height, -0.4 * lying], axis=-1)
    return SegmentMotion(_from_locals(pelvis, middle, limbs), root, fps)


# generated motions by name, each deterministic
GENERATED_MOTIONS = {
    "random_segments": synthetic_motion,
    "reach_and_twist": reach_and_twist_motion,
    "squat_and_lie_down": squat_and_lie_down_motion,
}


# ---------------------------------------------------------------------------------------------
# writing


@dataclass
class Written:
    path: Path
    family: Family
    truth_m: dict[str, np.ndarray]  # joint name -> (T, 3) metres, Y up


def _orders(family: Family, count: int) -> list[str]:
    if family.order != "mixed":
        return [family.order] * count
    cycle = ("ZXY", "XYZ", "YZX", "ZYX", "YXZ", "XZY")
    return [cycle[k % len(cycle)] for k in range(count)]


def write_family(family: Family, motion: SegmentMotion, path: Path) -> Written:
    joints = family.joints
    names = [j.name for j in joints]
    parents = [names.index(j.parent) if j.parent else -1 for j in joints]
    rest = np.stack([_position(j.at, j.side, family.arm_drop_deg) for j in joints])
    drop = {"L": axis_rotation("Z", np.radians(-family.arm_drop_deg)),
            "R": axis_rotation("Z", np.radians(family.arm_drop_deg))}
    t_count = motion.root_m.shape[0]
    glob = np.zeros((len(joints), t_count, 3, 3))
    pos = np.zeros((len(joints), t_count, 3))
    for k, j in enumerate(joints):
        seg = SEGMENT.get(j.at) if not j.end_site else None
        if parents[k] < 0 and j.at == "floor":
            glob[k] = np.eye(3)
        elif seg == "pelvis" or (parents[k] < 0):
            glob[k] = motion.rotations[("pelvis", "")]
        elif seg is not None:
            side = j.side if seg in ("thigh", "shin", "foot", "toe", "clavicle", "upperarm", "forearm", "hand") else ""
            g = motion.rotations[(seg, side)]
            if j.at in ARM_KEYS and family.arm_drop_deg:
                g = g @ drop[j.side].T
            glob[k] = g
        else:
            glob[k] = glob[parents[k]]
        if parents[k] < 0:  # a floor root carries the pelvis's travel
            pos[k] = motion.root_m - (np.array(LANDMARKS["pelvis"]) if j.at == "floor" else 0.0)
        else:
            offset = rest[k] - rest[parents[k]]
            pos[k] = pos[parents[k]] + np.einsum("tij,j->ti", glob[parents[k]], offset)
    truth = {j.name: pos[k] for k, j in enumerate(joints)}
    if family.z_up:
        to_z_up = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
        rest, pos = rest @ to_z_up.T, pos @ to_z_up.T
        glob = to_z_up @ glob @ to_z_up.T
    root_k = 0
    unit = UNIT_M[family.units]
    channel_joints = [k for k, j in enumerate(joints) if not j.end_site]
    orders = _orders(family, len(channel_joints))
    lines = ["HIERARCHY"]
    order_of = dict(zip(channel_joints, orders))

    def write(k: int, depth: int) -> None:
        ind = "\t" * depth if family.tabs else "  " * depth
        j = joints[k]
        offset = (rest[k] - (rest[parents[k]] if parents[k] >= 0 else 0.0)) / unit
        if j.end_site:
            lines.extend([f"{ind}End Site", f"{ind}{{", f"{ind}  OFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}",
                          f"{ind}}}"])
            return
        kind = "ROOT" if parents[k] < 0 else "JOINT"
        order = order_of[k]
        rot = " ".join(f"{a}rotation" for a in order)
        six = parents[k] < 0 or family.positions_everywhere
        chans = f"CHANNELS 6 Xposition Yposition Zposition {rot}" if six else f"CHANNELS 3 {rot}"
        lines.extend([f"{ind}{kind} {j.name}", f"{ind}{{", f"{ind}  OFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}",
                      f"{ind}  {chans}"])
        for c in (c for c in range(len(joints)) if parents[c] == k):
            write(c, depth + 1)
        lines.append(f"{ind}}}")

    write(root_k, 0)
    frame_time = 1.0 / motion.fps
    lines += ["MOTION", f"Frames: {t_count}", f"Frame Time: {family.frame_time_text or f'{frame_time:.6f}'}"]
    columns = []
    for k in _file_order(parents):
        if joints[k].end_site:
            continue
        local = glob[k] if parents[k] < 0 else np.swapaxes(glob[parents[k]], 1, 2) @ glob[k]
        angles = np.degrees(_euler_angles(local, order_of[k]))
        if parents[k] < 0 or family.positions_everywhere:
            p = pos[k] / unit if parents[k] < 0 else np.tile((rest[k] - rest[parents[k]]) / unit, (t_count, 1))
            columns.append(p)
        columns.append(angles)
    data = np.concatenate(columns, axis=1)
    lines += [" ".join(f"{v:.5f}" for v in row) for row in data]
    newline = "\r\n" if family.crlf else "\n"
    path.write_bytes((newline.join(lines) + newline).encode())
    return Written(path, family, {name.replace(" ", "_"): p for name, p in truth.items()})


def _euler_angles(local: np.ndarray, order: str) -> np.ndarray:
    """Lying flat puts some orders at gimbal lock, where any split of the first and third angle
    gives the same rotation."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Gimbal lock", UserWarning)
        return matrix_to_euler(local, order)


def _file_order(parents: list[int]) -> list[int]:
    """Depth-first order from the root, children in list order (the order `write` emits)."""
    out: list[int] = []

    def visit(k: int) -> None:
        out.append(k)
        for c in (c for c in range(len(parents)) if parents[c] == k):
            visit(c)

    visit(0)
    return out
