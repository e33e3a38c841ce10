"""The live solver: one frame at a time, the same rotations as the BVH export's solver; bone
lengths are each frame's own; the rest pose is learnt in the warm-up and then held."""

from __future__ import annotations

import numpy as np

from engine.animation.live_solver import LiveSolver
from engine.animation.rig import UNITY_HUMANOID_RIG
from engine.animation.solver import RigMotion, SolverOptions, forward_kinematics, rig_motion, solve
from engine.core.skeletons import MONOCAP_BODY
from tests.engine.animation.test_bvh_export import spin_take
from tests.engine.streaming.test_vmc_stream import moving_take


def test_rotations_match_the_export_solver_after_the_warm_up():
    poses = moving_take(90)
    joints = np.array([p.joints_m for p in poses])
    take = spin_take(frames=90).with_joints(joints)
    offline = rig_motion(solve(take, SolverOptions(foot_contact=False, ground=False)), UNITY_HUMANOID_RIG)
    live = LiveSolver(UNITY_HUMANOID_RIG, warmup_s=1.0)
    got = [live.solve(p.joints_m, p.timestamp_s) for p in poses]
    assert live.calibrated and not got[0].calibrated and got[-1].calibrated
    feet = [UNITY_HUMANOID_RIG.joint_names.index(n) for n in ("LeftFoot", "RightFoot", "LeftLowerLeg", "RightLowerLeg")]
    others = [i for i in range(len(UNITY_HUMANOID_RIG.joints)) if i not in feet]
    for t in range(40, 90):
        # the feet rest at the standing pitch live (toes flat), at a horizontal toe in the export
        np.testing.assert_allclose(got[t].local_rotations[others], offline.local_rotations[t, others], atol=1e-6)


def test_bone_lengths_are_each_frames_own():
    poses = moving_take(40)
    live = LiveSolver(UNITY_HUMANOID_RIG, warmup_s=0.3)
    j = MONOCAP_BODY.index
    for p in poses:
        joints = p.joints_m.copy()
        scale = 1.0 + 0.1 * np.sin(p.index)  # a forearm that grows and shrinks
        joints[j("left_wrist")] = joints[j("left_elbow")] + scale * (joints[j("left_wrist")] - joints[j("left_elbow")])
        joints[j("left_hand")] = joints[j("left_wrist")] + (p.joints_m[j("left_hand")] - p.joints_m[j("left_wrist")])
        pose = live.solve(joints, p.timestamp_s)
        motion = RigMotion(UNITY_HUMANOID_RIG, pose.offsets_m, pose.offsets_m * np.nan, pose.local_rotations[None],
                           pose.root_m[None], 30.0)
        rebuilt = forward_kinematics(motion)[0]
        np.testing.assert_allclose(rebuilt[UNITY_HUMANOID_RIG.joint_names.index("LeftHand")], joints[j("left_wrist")],
                                   atol=1e-9)


def test_missing_joints_give_no_pose_and_the_warm_up_stays_bounded(monkeypatch):
    import engine.animation.live_solver as live_solver

    monkeypatch.setattr(live_solver, "_WARMUP_FRAMES_MAX", 20)
    live = LiveSolver(UNITY_HUMANOID_RIG, warmup_s=1e9)
    frame = spin_take(frames=2).joints_m[0]
    broken = frame.copy()
    broken[3] = np.nan
    assert live.solve(broken, 0.0) is None
    for i in range(40):
        live.solve(frame, i / 30.0)
    assert len(live._warmup) == 20 and not live.calibrated


def test_a_new_source_starts_a_new_warm_up():
    poses = moving_take(20)
    live = LiveSolver(UNITY_HUMANOID_RIG, warmup_s=0.2)
    for p in poses:
        live.solve(p.joints_m, p.timestamp_s)
    assert live.calibrated
    assert not live.solve(poses[0].joints_m, 0.0).calibrated  # time went back to 0


def test_finger_rotations_match_the_export_solver():
    from engine.animation.rig import UNITY_HUMANOID_RIG_FINGERS as rig
    from engine.core.skeletons import MONOCAP_HANDS
    from tests.engine.streaming.test_vmc_fingers import finger_poses

    poses, _ = finger_poses(90)  # both hands seen throughout the first 100 frames
    take = spin_take(frames=90).with_joints(np.array([p.joints_m for p in poses]), skeleton=MONOCAP_HANDS)
    assert take.skeleton is MONOCAP_HANDS
    live = LiveSolver(rig, warmup_s=1.0, skeleton=MONOCAP_HANDS)
    got = [live.solve(p.joints_m, p.timestamp_s) for p in poses]
    # the thumbs' rest is the subject's median over the frames: the warm-up's, the same offline
    offline = rig_motion(solve(take, SolverOptions(foot_contact=False, ground=False), rest_m=live._rest), rig)
    hands = [i for i, j in enumerate(rig.joints) if j.driver.startswith(("left_", "right_"))
             and any(f in j.driver for f in ("wrist", "thumb", "index", "middle", "ring", "pinky"))]
    assert len(hands) == 32
    for t in range(40, 90):
        np.testing.assert_allclose(got[t].local_rotations[hands], offline.local_rotations[t, hands], atol=1e-6)
