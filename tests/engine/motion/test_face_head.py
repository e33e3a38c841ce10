"""The head turned by the face: the face's yaw, pitch and roll reach the head and nose points and,
through the solver, the BVH file's head."""

from __future__ import annotations

import numpy as np
import pytest

from engine.animation.formats import read_take_as_body, write_take
from engine.core.skeletons import MONOCAP_BODY
from engine.motion.face_expressions import FACE_CURVES, FACE_INDEX, head_rotation_world
from engine.motion.face_head import FaceHead
from tests.engine.animation.test_bvh_export import spin_take


def _face(yaw=0.0, pitch=0.0, roll=0.0) -> np.ndarray:
    values = np.zeros(len(FACE_CURVES))
    values[[FACE_INDEX["head_yaw_deg"], FACE_INDEX["head_pitch_deg"], FACE_INDEX["head_roll_deg"]]] = yaw, pitch, roll
    return values


def _nose_yaw_pitch(joints: np.ndarray) -> tuple[float, float]:
    j = MONOCAP_BODY.index
    d = joints[j("nose")] - joints[j("head")]
    return float(np.degrees(np.arctan2(d[0], d[2]))), float(np.degrees(np.arctan2(-d[1], np.hypot(d[0], d[2]))))


def test_the_face_angles_turn_the_head_as_they_say():
    joints = spin_take(frames=1, turns=0.0).joints_m[0]
    head = FaceHead(MONOCAP_BODY)
    yaw0, pitch0 = _nose_yaw_pitch(head.apply(joints, _face()))
    yaw, _ = _nose_yaw_pitch(head.apply(joints, _face(yaw=30.0)))
    assert yaw - yaw0 == pytest.approx(30.0, abs=0.5)  # + turns to the person's left (+X, the camera's right)
    _, pitch = _nose_yaw_pitch(head.apply(joints, _face(pitch=20.0)))
    assert pitch - pitch0 == pytest.approx(20.0, abs=0.5)  # + looks down
    tilted = head.apply(joints, _face(roll=15.0))
    j = MONOCAP_BODY.index
    up = tilted[j("head")] - tilted[j("neck")]
    assert np.degrees(np.arctan2(-up[0], up[1])) == pytest.approx(15.0, abs=0.5)  # towards the right shoulder (-X)
    for k in range(MONOCAP_BODY.num_joints):  # nothing but the head and the nose moves
        if MONOCAP_BODY.joint_names[k] not in ("head", "nose"):
            np.testing.assert_array_equal(tilted[k], joints[k])
    np.testing.assert_allclose(head_rotation_world(_face()), np.eye(3), atol=1e-12)


def test_the_bvh_head_follows_the_face(tmp_path):
    take = spin_take(frames=60, turns=0.0)
    yaw = 40.0 * np.sin(np.linspace(0, 2 * np.pi, 60))
    head = FaceHead(MONOCAP_BODY)
    joints = np.array([head.apply(take.joints_m[i], _face(yaw=yaw[i])) for i in range(60)])
    back = read_take_as_body(write_take(take.with_joints(joints), tmp_path / "face.bvh"))
    got = np.array([_nose_yaw_pitch(back.joints_m[i])[0] for i in range(60)])
    assert np.abs((got - got[0]) - (yaw - yaw[0])).max() < 2.0
