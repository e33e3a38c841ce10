"""Bone lengths measured on the joints the detector saw well (engine/motion/bones.py)."""

import numpy as np

from engine.core.skeletons import MONOCAP_BODY
from engine.motion.bones import estimate_bone_lengths


def _straight_down(t: int, shin_m: float) -> np.ndarray:
    """Every joint at the origin but the left ankle, shin_m below the left knee."""
    joints = np.zeros((t, MONOCAP_BODY.num_joints, 3))
    joints[:, MONOCAP_BODY.joint_names.index("left_ankle"), 1] = -shin_m
    return joints


def test_a_limb_hidden_in_most_frames_keeps_the_length_it_had_when_seen():
    joints = np.concatenate([_straight_down(10, 0.40), _straight_down(30, 0.25)])  # guessed short when hidden
    confidence = np.ones((40, MONOCAP_BODY.num_joints))
    ankle = MONOCAP_BODY.joint_names.index("left_ankle")
    confidence[10:, ankle] = 0.2
    valid = np.ones(40, bool)
    plain = estimate_bone_lengths(joints, valid, MONOCAP_BODY, symmetric=False)
    seen = estimate_bone_lengths(joints, valid, MONOCAP_BODY, symmetric=False, confidence=confidence)
    assert np.isclose(plain[ankle], 0.25) and np.isclose(seen[ankle], 0.40)
    confidence[:, ankle] = 0.2  # never seen well: every frame counts
    assert np.isclose(estimate_bone_lengths(joints, valid, MONOCAP_BODY, symmetric=False,
                                            confidence=confidence)[ankle], 0.25)
