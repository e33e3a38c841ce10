import numpy as np
import pytest

from engine.core.joint_angles import available_angles, joint_angle, joint_angles
from engine.core.skeletons import MEDIAPIPE_33, MONOCAP_BODY


def _pose(knee_bend_deg: float) -> np.ndarray:
    j = np.zeros((MONOCAP_BODY.num_joints, 3))
    s = MONOCAP_BODY.index
    j[s("pelvis")] = [0, 1.0, 0]
    j[s("spine")] = [0, 1.2, 0]
    j[s("chest")] = [0, 1.4, 0]
    for side, x in (("left", 0.1), ("right", -0.1)):
        j[s(f"{side}_hip")] = [x, 1.0, 0]
        j[s(f"{side}_knee")] = [x, 0.55, 0]
        a = np.radians(knee_bend_deg)
        j[s(f"{side}_ankle")] = [x, 0.55 - 0.45 * np.cos(a), -0.45 * np.sin(a)]
        j[s(f"{side}_shoulder")] = [x, 1.5, 0]
        j[s(f"{side}_elbow")] = [x + np.sign(x) * 0.3, 1.5, 0]  # arm out horizontally
        j[s(f"{side}_wrist")] = [x + np.sign(x) * 0.3, 1.5, 0.3]  # forearm forward: 90 flexion
    return j


@pytest.mark.parametrize("bend", [0.0, 30.0, 90.0])
def test_knee_flexion_matches_construction(bend):
    assert joint_angle(_pose(bend), MONOCAP_BODY, "left_knee") == pytest.approx(bend, abs=1e-6)


def test_elbow_shoulder_hip_and_time_axis():
    poses = np.stack([_pose(0.0), _pose(45.0)])
    angles = joint_angles(poses, MONOCAP_BODY)
    assert angles["left_knee"] == pytest.approx([0.0, 45.0], abs=1e-6)
    assert angles["right_elbow"] == pytest.approx([90.0, 90.0], abs=1e-6)
    assert angles["left_shoulder"] == pytest.approx([90.0, 90.0], abs=1e-6)
    assert angles["left_hip"] == pytest.approx([0.0, 0.0], abs=1e-6)


def test_nan_joints_give_nan_and_names_follow_skeleton():
    p = _pose(10.0)
    p[MONOCAP_BODY.index("left_ankle")] = np.nan
    assert np.isnan(joint_angle(p, MONOCAP_BODY, "left_knee"))
    assert "left_knee" in available_angles(MONOCAP_BODY)
    assert "left_hip" not in available_angles(MEDIAPIPE_33)  # no spine joint there
