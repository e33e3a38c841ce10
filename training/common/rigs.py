"""The motion-capture rigs training reads, and where the detector's keypoints sit on them.

Each rig is reduced to the body joints training uses (a `Skeleton` whose parents are the nearest
kept ancestors), and names `anchors`: affine combinations of those joints for the body points
every format shares (hip, knee, ankle, toe, shoulder, elbow, wrist, hand points, neck, head,
eyes). The anchors give the detector-like 33 keypoints (`synth.detector_points`) and Monocap's
own body skeleton for every rig, so one training sample supervises several formats at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.skeletons import Skeleton


@dataclass(frozen=True)
class Rig:
    name: str  # the format's skeleton name, e.g. "cmu_iclone"
    joints: tuple[str, ...]  # source joint names kept (parents before children)
    anchors: dict  # anchor name -> {joint name: weight}; weights sum to one
    has_eyes: bool


def _sides(pattern: dict[str, str], left: str, right: str) -> dict[str, str]:
    out = {}
    for anchor, joint in pattern.items():
        out[f"left_{anchor}"] = joint.format(s=left)
        out[f"right_{anchor}"] = joint.format(s=right)
    return out


def _one(names: dict[str, str]) -> dict[str, dict[str, float]]:
    return {k: {v: 1.0} for k, v in names.items()}


def _rig(name: str, central: dict[str, str], sided: dict[str, str], left: str, right: str,
         joint_order: list[str], has_eyes: bool, pelvis: tuple[str, str]) -> Rig:
    anchors = _one(central) | _one(_sides(sided, left, right))
    anchors["pelvis"] = {pelvis[0]: 0.5, pelvis[1]: 0.5}
    return Rig(name, tuple(joint_order), anchors, has_eyes)


def _expand(order: list[str], left: str, right: str) -> list[str]:
    out = []
    for n in order:
        if "{s}" in n:
            out += [n.format(s=left), n.format(s=right)]
        else:
            out.append(n)
    return out


ICLONE = _rig(
    "cmu_iclone",
    {"neck": "CC_Base_NeckTwist01", "head": "CC_Base_Head", "spine": "CC_Base_Spine01",
     "chest": "CC_Base_Spine02"},
    {"hip": "CC_Base_{s}_Thigh", "knee": "CC_Base_{s}_Calf", "ankle": "CC_Base_{s}_Foot",
     "toe": "CC_Base_{s}_BigToe1_end", "shoulder": "CC_Base_{s}_Upperarm", "elbow": "CC_Base_{s}_Forearm",
     "wrist": "CC_Base_{s}_Hand", "index": "CC_Base_{s}_Index1", "pinky": "CC_Base_{s}_Pinky1",
     "thumb": "CC_Base_{s}_Thumb2", "eye": "CC_Base_{s}_Eye"},
    "L", "R",
    [],  # filled below
    True, ("CC_Base_L_Thigh", "CC_Base_R_Thigh"),
)
ICLONE = Rig(ICLONE.name, tuple(_expand([
    "CC_Base_Hip", "CC_Base_{s}_Thigh", "CC_Base_{s}_Calf", "CC_Base_{s}_Foot", "CC_Base_{s}_ToeBase",
    "CC_Base_{s}_BigToe1_end", "CC_Base_Waist", "CC_Base_Spine01", "CC_Base_Spine02", "CC_Base_NeckTwist01",
    "CC_Base_Head", "CC_Base_{s}_Eye", "CC_Base_{s}_Clavicle", "CC_Base_{s}_Upperarm", "CC_Base_{s}_Forearm",
    "CC_Base_{s}_Hand", "CC_Base_{s}_Index1", "CC_Base_{s}_Pinky1", "CC_Base_{s}_Thumb2",
], "L", "R")), ICLONE.anchors, True)

DAZ = _rig(
    "cmu_daz",
    {"neck": "neck", "head": "head", "spine": "abdomen", "chest": "chest"},
    {"hip": "{s}Thigh", "knee": "{s}Shin", "ankle": "{s}Foot", "toe": "{s}Foot_end", "shoulder": "{s}Shldr",
     "elbow": "{s}ForeArm", "wrist": "{s}Hand", "index": "{s}Index1", "pinky": "{s}Pinky1", "thumb": "{s}Thumb2"},
    "l", "r", [], True, ("lThigh", "rThigh"),
)
DAZ.anchors.update({"left_eye": {"leftEye": 1.0}, "right_eye": {"rightEye": 1.0}})
DAZ = Rig(DAZ.name, tuple(_expand([
    "hip", "abdomen", "chest", "neck", "head", "leftEye", "rightEye", "{s}Collar", "{s}Shldr", "{s}ForeArm",
    "{s}Hand", "{s}Thumb2", "{s}Index1", "{s}Pinky1", "{s}Thigh", "{s}Shin", "{s}Foot", "{s}Foot_end",
], "l", "r")), DAZ.anchors, True)

ASF = _rig(
    "cmu_asf",
    {"neck": "lowerneck", "head": "upperneck", "head_top": "head", "spine": "lowerback", "chest": "upperback"},
    {"hip": "{s}hipjoint", "knee": "{s}femur", "ankle": "{s}tibia", "toe": "{s}toes", "shoulder": "{s}clavicle",
     "elbow": "{s}humerus", "wrist": "{s}radius", "index": "{s}hand", "pinky": "{s}hand", "thumb": "{s}thumb"},
    "l", "r", [], False, ("lhipjoint", "rhipjoint"),
)
ASF = Rig(ASF.name, tuple(_expand([
    "root", "{s}hipjoint", "{s}femur", "{s}tibia", "{s}foot", "{s}toes", "lowerback", "upperback", "thorax",
    "lowerneck", "upperneck", "head", "{s}clavicle", "{s}humerus", "{s}radius", "{s}wrist", "{s}hand", "{s}thumb",
], "l", "r")), ASF.anchors, False)

RIGS: dict[str, Rig] = {r.name: r for r in (ICLONE, DAZ, ASF)}


def reduce_skeleton(rig: Rig, full: Skeleton) -> tuple[Skeleton, np.ndarray]:
    """The rig's kept joints as a Skeleton (parents: nearest kept ancestors) and their indices in `full`."""
    from engine.core.skeletons import guess_mirror_pairs

    keep = [full.index(n) for n in rig.joints]
    order = np.argsort(keep)
    keep = [keep[i] for i in order]
    names = tuple(full.joint_names[i] for i in keep)
    pos = {k: i for i, k in enumerate(keep)}
    parents = []
    for k in keep:
        p = full.parents[k]
        while p >= 0 and p not in pos:
            p = full.parents[p]
        parents.append(pos[p] if p >= 0 else -1)
    if parents.count(-1) != 1:
        raise ValueError(f"{rig.name}: the kept joints must form one tree")
    return Skeleton(rig.name, names, tuple(parents), guess_mirror_pairs(names)), np.array(keep)


def anchor_matrix(rig: Rig, skeleton: Skeleton, anchor_names: tuple[str, ...]) -> np.ndarray:
    """(A, J) affine weights of the named anchors over the reduced skeleton's joints (rows sum to one)."""
    m = np.zeros((len(anchor_names), skeleton.num_joints))
    for a, name in enumerate(anchor_names):
        for joint, w in rig.anchors[name].items():
            m[a, skeleton.index(joint)] += w
    return m
