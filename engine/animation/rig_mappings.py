"""Maps the joints of skeletons from elsewhere (BVH files) onto MONOCAP_BODY, so that their
motion can be solved onto an export rig.

A mapping gives, for every MONOCAP_BODY joint, candidates tried in turn: a source joint name or
("mid", a, b), the midpoint of two source joints. Names are compared after dropping a namespace
prefix ("mixamorig:Hips" -> "Hips"); end sites are named "<joint>_end" as engine/bvh_reader
names them. The pelvis is the midpoint of the hip joints for every source, so the hips sit
symmetrically about it as they do in Monocap's own takes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.core.errors import InputError
from engine.core.skeletons import MONOCAP_BODY, Skeleton
from engine.core.take import Take

Candidate = str | tuple[str, str, str]


def _limbs(hip, knee, ankle, toe, shoulder, elbow, wrist, hand) -> dict[str, tuple[Candidate, ...]]:
    out: dict[str, tuple[Candidate, ...]] = {}
    for side, code in (("left", "L"), ("right", "R")):
        for joint, names in (("hip", hip), ("knee", knee), ("ankle", ankle), ("toe", toe),
                             ("shoulder", shoulder), ("elbow", elbow), ("wrist", wrist), ("hand", hand)):
            out[f"{side}_{joint}"] = tuple(n.format(S=code, s=code.lower(), Side=side.capitalize(), side=side)
                                           for n in names)
    return out


def _mid(a: str, b: str) -> tuple[str, str, str]:
    return ("mid", a, b)


MAPPINGS: dict[str, dict[str, tuple[Candidate, ...]]] = {
    # iClone / Character Creator (CC_Base_*), e.g. the cmu_iclone conversions
    "iclone": {
        "pelvis": (_mid("CC_Base_L_Thigh", "CC_Base_R_Thigh"),),
        "spine": ("CC_Base_Spine01",),
        "chest": ("CC_Base_Spine02",),
        "neck": ("CC_Base_NeckTwist01",),
        "head": ("CC_Base_Head",),
        "nose": (_mid("CC_Base_L_Eye", "CC_Base_R_Eye"),),
        **_limbs(("CC_Base_{S}_Thigh",), ("CC_Base_{S}_Calf",), ("CC_Base_{S}_Foot",), ("CC_Base_{S}_ToeBase",),
                 ("CC_Base_{S}_Upperarm",), ("CC_Base_{S}_Forearm",), ("CC_Base_{S}_Hand",), ("CC_Base_{S}_Mid1",)),
    },
    # DAZ / Poser (hip, abdomen, chest, lShldr ...), e.g. the cmu_daz conversions
    "daz": {
        "pelvis": (_mid("lThigh", "rThigh"),),
        "spine": ("abdomen",),
        "chest": ("chest",),
        "neck": ("neck",),
        "head": ("head",),
        "nose": (_mid("leftEye", "rightEye"), "head_end"),
        **_limbs(("{s}Thigh",), ("{s}Shin",), ("{s}Foot",), ("{s}Foot_end", "{s}Toe"),
                 ("{s}Shldr",), ("{s}ForeArm",), ("{s}Hand",), ("{s}Mid1", "{s}Hand_end")),
    },
    # the CMU ASF skeleton as BVH (Hips, LowerBack, Spine, Spine1, Neck1, LeftUpLeg ...)
    "cmu_asf": {
        "pelvis": (_mid("LeftUpLeg", "RightUpLeg"),),
        "spine": ("Spine",),
        "chest": ("Spine1",),
        "neck": ("Neck1",),
        "head": ("Head",),
        "nose": ("Head_end",),
        **_limbs(("{Side}UpLeg",), ("{Side}Leg",), ("{Side}Foot",), ("{Side}ToeBase",),
                 ("{Side}Arm",), ("{Side}ForeArm",), ("{Side}Hand",), ("{S}Fingers",)),
    },
    # Mixamo (mixamorig:Hips, Spine, Spine1, Spine2 ...), Monocap's mixamo rig included
    "mixamo": {
        "pelvis": (_mid("LeftUpLeg", "RightUpLeg"),),
        "spine": ("Spine",),
        "chest": ("Spine2", "Spine1"),
        "neck": ("Neck",),
        "head": ("Head",),
        "nose": ("Head_end", "HeadTop_End"),
        **_limbs(("{Side}UpLeg",), ("{Side}Leg",), ("{Side}Foot",), ("{Side}ToeBase",),
                 ("{Side}Arm",), ("{Side}ForeArm",), ("{Side}Hand",), ("{Side}Hand_end", "{Side}HandMiddle1")),
    },
    # Monocap's own body rig (engine/animation/rig.py MONOCAP_RIG) read back from BVH
    "monocap_rig": {
        **{n: (n,) for n in MONOCAP_BODY.joint_names},
        "nose": ("head_end", "nose"),
        "left_toe": ("left_ankle_end", "left_toe"),
        "right_toe": ("right_ankle_end", "right_toe"),
        "left_hand": ("left_wrist_end", "left_hand"),
        "right_hand": ("right_wrist_end", "right_hand"),
    },
}


def _strip(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _resolve(mapping: dict[str, tuple[Candidate, ...]], names: dict[str, int]):
    """-> {body joint: (source index, source index)} or None when a joint has no candidate."""
    out = {}
    for joint in MONOCAP_BODY.joint_names:
        found = None
        for cand in mapping[joint]:
            if isinstance(cand, str):
                if cand in names:
                    found = (names[cand], names[cand])
            elif cand[1] in names and cand[2] in names:
                found = (names[cand[1]], names[cand[2]])
            if found is not None:
                break
        if found is None:
            return None
        out[joint] = found
    return out


def find_mapping(skeleton: Skeleton) -> tuple[str, np.ndarray] | None:
    """-> (mapping name, (22, 2) source indices whose midpoint gives each MONOCAP_BODY joint)."""
    names = {}
    for i, n in enumerate(skeleton.joint_names):
        names.setdefault(_strip(n), i)
    for mname, mapping in MAPPINGS.items():
        resolved = _resolve(mapping, names)
        if resolved is not None:
            return mname, np.array([resolved[j] for j in MONOCAP_BODY.joint_names])
    return None


def to_body_take(take: Take, what: str = "take") -> Take:
    """A take of any recognised skeleton -> the same motion on MONOCAP_BODY joints."""
    if take.skeleton.joint_names == MONOCAP_BODY.joint_names:
        return take if take.skeleton is MONOCAP_BODY else replace(take, skeleton=MONOCAP_BODY)
    found = find_mapping(take.skeleton)
    if found is None:
        raise InputError(f"{what}: its skeleton ({take.skeleton.name}, joints {', '.join(take.skeleton.joint_names[:4])}"
                         f"...) is not one Monocap can map onto a rig (known: {', '.join(MAPPINGS)}); "
                         "export it as CSV, TRC or NPZ instead")
    mname, idx = found
    joints = 0.5 * (take.joints_m[:, idx[:, 0]] + take.joints_m[:, idx[:, 1]])
    metadata = dict(take.metadata)
    metadata["mapped_from"] = f"{take.skeleton.name} ({mname})"
    return replace(take, joints_m=joints, skeleton=MONOCAP_BODY, metadata=metadata,
                   keypoints_px=None, keypoint_scores=None, keypoint_skeleton=None)
