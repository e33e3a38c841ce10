"""The game-engine rigs: the Unreal Engine 5 mannequin's and the VRM humanoid's bone names and
hierarchy, the T-pose every rig rests in, and the motion they carry being the solver's."""

from __future__ import annotations

import numpy as np
import pytest

from engine.animation.rig import get_rig
from engine.animation.solver import SolverOptions, forward_kinematics, rig_motion, solve
from engine.core.skeletons import MONOCAP_HANDS
from tests.engine.animation.rig_takes import FINGER_JOINTS, LIMBS, real_take


def _parents(rig) -> dict[str, str | None]:
    return {j.name: (rig.joints[j.parent].name if j.parent >= 0 else None) for j in rig.joints}


def test_the_ue5_rig_is_the_mannequins_hierarchy():
    rig = get_rig("ue5", fingers=True)
    parent = _parents(rig)
    chain = ["pelvis", "spine_01", "spine_02", "spine_03", "spine_04", "spine_05", "neck_01", "neck_02", "head"]
    assert rig.floor_bones == ("root", "ik_foot_root", "ik_hand_root") and parent["pelvis"] is None
    assert all(parent[b] == a for a, b in zip(chain, chain[1:]))
    for x in ("l", "r"):
        for a, b in (("spine_05", f"clavicle_{x}"), (f"clavicle_{x}", f"upperarm_{x}"), (f"upperarm_{x}", f"lowerarm_{x}"),
                     (f"lowerarm_{x}", f"hand_{x}"), ("pelvis", f"thigh_{x}"), (f"thigh_{x}", f"calf_{x}"),
                     (f"calf_{x}", f"foot_{x}"), (f"foot_{x}", f"ball_{x}"), (f"hand_{x}", f"thumb_01_{x}"),
                     (f"thumb_02_{x}", f"thumb_03_{x}")):
            assert parent[b] == a, (a, b)
        for finger in ("index", "middle", "ring", "pinky"):
            assert parent[f"{finger}_metacarpal_{x}"] == f"hand_{x}"
            assert parent[f"{finger}_01_{x}"] == f"{finger}_metacarpal_{x}"
            assert parent[f"{finger}_03_{x}"] == f"{finger}_02_{x}"
    assert len(rig.joints) == 9 + 2 * (4 + 4 + 3 + 4 * 4) and len(get_rig("ue5").joints) == 25


def test_the_vrm_rig_has_every_required_humanoid_bone_under_its_parent():
    rig = get_rig("vrm", fingers=True)
    parent = _parents(rig)
    required = {"hips": None, "spine": "hips", "chest": "spine", "upperChest": "chest", "neck": "upperChest",
                "head": "neck"}
    for s in ("left", "right"):
        required |= {f"{s}UpperLeg": "hips", f"{s}LowerLeg": f"{s}UpperLeg", f"{s}Foot": f"{s}LowerLeg",
                     f"{s}Toes": f"{s}Foot", f"{s}Shoulder": "upperChest", f"{s}UpperArm": f"{s}Shoulder",
                     f"{s}LowerArm": f"{s}UpperArm", f"{s}Hand": f"{s}LowerArm",
                     f"{s}ThumbMetacarpal": f"{s}Hand", f"{s}ThumbProximal": f"{s}ThumbMetacarpal",
                     f"{s}ThumbDistal": f"{s}ThumbProximal", f"{s}IndexProximal": f"{s}Hand",
                     f"{s}LittleDistal": f"{s}LittleIntermediate"}
    for bone, up in required.items():
        assert parent[bone] == up, bone
    assert len(rig.joints) == 22 + 30


@pytest.mark.parametrize("rig_name", ["monocap", "mixamo", "ue5", "vrm"])
def test_every_rig_rests_in_a_t_pose_facing_forward_and_carries_the_solvers_motion(rig_name):
    take = real_take(hands=True)
    motion = rig_motion(solve(take, SolverOptions(ground=False, foot_contact=False)), get_rig(rig_name, fingers=True))
    rig = motion.rig
    rest = np.zeros((len(rig.joints), 3))
    for i, j in enumerate(rig.joints):
        rest[i] = rest[j.parent] + motion.offsets_m[i] if j.parent >= 0 else 0.0

    def at(joint: str) -> np.ndarray:
        return rest[rig.joint_at(joint)]

    for s, x in (("left", 1.0), ("right", -1.0)):
        arm = at(f"{s}_wrist") - at(f"{s}_shoulder")
        leg = at(f"{s}_ankle") - at(f"{s}_hip")
        assert np.dot(arm / np.linalg.norm(arm), [x, 0, 0]) > 0.999, f"{s} arm is not along {x:+.0f}X"
        assert np.dot(leg / np.linalg.norm(leg), [0, -1, 0]) > 0.999, f"{s} leg does not hang down"
        ankle = rig.joint_at(f"{s}_ankle")
        children = [i for i, j in enumerate(rig.joints) if j.parent == ankle]
        toe = motion.offsets_m[children[0]] if children else motion.end_offsets_m[ankle]
        assert toe[2] > 0.0, f"{s} foot does not point forward (+Z)"
    assert np.abs(motion.local_rotations[0]).sum() > 0  # the motion is not the rest pose
    fk = forward_kinematics(motion)
    for joint in LIMBS + FINGER_JOINTS:
        err = np.linalg.norm(fk[:, rig.joint_at(joint)] - take.joints_m[:, MONOCAP_HANDS.index(joint)], axis=-1)
        assert err.max() < 0.01, f"{joint}: {err.max() * 100:.2f} cm"
