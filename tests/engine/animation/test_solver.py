"""The solver and its helpers: Euler conversion and unwrapping, limb twist, gaps, foot contact."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.animation.rig import MONOCAP_RIG, SOLVER_JOINTS
from engine.animation.solver import SolverOptions, forward_kinematics, rig_motion, solve
from engine.core.errors import NoValidFramesError
from engine.core.rotations import EULER_ORDERS, euler_to_matrix, matrix_to_euler, swing_rotation, unwrap_euler
from engine.core.skeletons import MONOCAP_BODY
from engine.core.take import Take
from engine.motion.foot_contact import detect_contacts, pin_feet
from engine.motion.gaps import fill_gaps
from tests.engine.animation.test_bvh_export import spin_take

J = MONOCAP_BODY.index


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_matrix_to_euler_inverts_euler_to_matrix(order):
    rng = np.random.default_rng(1)
    angles = rng.uniform(-np.pi, np.pi, (200, 3))
    m = euler_to_matrix(angles, order)
    np.testing.assert_allclose(euler_to_matrix(matrix_to_euler(m, order), order), m, atol=1e-12)


def test_unwrap_makes_angles_continuous_and_keeps_rotations():
    t = np.linspace(0, 4 * np.pi, 400)
    angles = np.stack([t, 0.3 * np.sin(t), 0.2 * np.cos(t)], -1)
    m = euler_to_matrix(angles, "YXZ")
    wrapped = matrix_to_euler(m, "YXZ")
    assert np.abs(np.diff(wrapped, axis=0)).max() > 6  # the principal values jump
    un = unwrap_euler(wrapped, "YXZ")
    assert np.abs(np.diff(un, axis=0)).max() < 0.1
    np.testing.assert_allclose(euler_to_matrix(un, "YXZ"), m, atol=1e-10)


def test_swing_recovers_directions():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    s = swing_rotation(a, b)
    got = np.einsum("tij,tj->ti", s, a / np.linalg.norm(a, axis=1, keepdims=True))
    np.testing.assert_allclose(got, b / np.linalg.norm(b, axis=1, keepdims=True), atol=1e-9)
    np.testing.assert_allclose(swing_rotation(a, -a) @ a[..., None], -a[..., None], atol=1e-9)


def local_rotation(take: Take, joint: str) -> np.ndarray:
    motion = rig_motion(solve(take, SolverOptions(foot_contact=False, ground=False)), MONOCAP_RIG)
    return motion.local_rotations[:, MONOCAP_RIG.joint_names.index(joint)]


def bend_elbow(take: Take, angles_rad: np.ndarray, twist_axis=(0.0, 1.0, 0.0)) -> Take:
    """Bends the left forearm of a T-posed take by the given angles about `twist_axis`."""
    joints = take.joints_m.copy()
    e, w, h = J("left_elbow"), J("left_wrist"), J("left_hand")
    axis = np.asarray(twist_axis) / np.linalg.norm(twist_axis)
    from engine.core.rotations import axis_angle_matrix

    r = axis_angle_matrix(np.broadcast_to(axis, (len(angles_rad), 3)), angles_rad)
    for k in (w, h):
        joints[:, k] = joints[:, e] + np.einsum("tij,tj->ti", r, joints[:, k] - joints[:, e])
    return take.with_joints(joints)


def test_knee_and_elbow_are_hinges_in_their_bend_plane():
    base = spin_take(frames=90, turns=0.0)
    angles = np.radians(np.linspace(0, 120, 90))
    take = bend_elbow(base, -angles)  # forearm swings forwards (+Z), a flexion
    elbow = local_rotation(take, "left_elbow")
    # the elbow turns about one fixed axis (the bend-plane normal), by the bend angle
    rotvec_axis = np.stack([elbow[:, 2, 1] - elbow[:, 1, 2], elbow[:, 0, 2] - elbow[:, 2, 0],
                            elbow[:, 1, 0] - elbow[:, 0, 1]], -1)[30:]
    rotvec_axis /= np.linalg.norm(rotvec_axis, axis=1, keepdims=True)
    assert np.abs(rotvec_axis - rotvec_axis[0]).max() < 1e-3
    turned = np.degrees(np.arccos(np.clip((np.trace(elbow, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    np.testing.assert_allclose(turned[-1], 120, atol=3)


def test_straightening_arm_does_not_flip_its_twist():
    base = spin_take(frames=121, turns=0.0)
    angles = np.radians(np.concatenate([np.linspace(60, 0, 60), np.linspace(0, 60, 61)]))
    take = bend_elbow(base, -angles)
    for joint in ("left_shoulder", "left_elbow", "left_wrist"):
        r = local_rotation(take, joint)
        step = np.einsum("tji,tjk->tik", r[:-1], r[1:])
        step_deg = np.degrees(np.arccos(np.clip((np.trace(step, axis1=1, axis2=2) - 1) / 2, -1, 1)))
        assert step_deg.max() < 3.0, f"{joint} turns {step_deg.max():.1f} degrees in one frame"


def test_solution_reproduces_positions_with_locked_lengths():
    take = spin_take(frames=40, turns=0.5)
    motion = rig_motion(solve(take, SolverOptions(foot_contact=False, ground=False)), MONOCAP_RIG)
    fk = forward_kinematics(motion)
    for name in ("left_wrist", "right_ankle", "head", "left_knee"):
        np.testing.assert_allclose(fk[:, MONOCAP_RIG.joint_names.index(name)], take.joints_m[:, J(name)], atol=1e-6)
    assert {"pelvis", "lumbar", "spine", "chest"} <= set(SOLVER_JOINTS)


def test_lumbar_pivot_reproduces_a_back_bending_above_the_hips():
    """Mocap rigs bend the back about a point above the hip joints' midpoint, so the pelvis-spine
    distance changes as the body leans sideways; the rig's lumbar joint finds that point and
    reproduces the upper body. (Leaning forwards cannot be told from a pelvic tilt: the hips give
    no tilt, so the lumbar takes it all.)"""
    take = spin_take(frames=60, turns=0.0)
    joints = take.joints_m.copy()
    pivot = joints[:, J("pelvis")] + np.array([0.0, 0.08, 0.0])
    upper = [J(n) for n in MONOCAP_BODY.joint_names if not n.endswith(("hip", "knee", "ankle", "toe")) and n != "pelvis"]
    angle = np.radians(45.0) * np.sin(np.linspace(0, 2 * np.pi, joints.shape[0]))
    c, s = np.cos(angle), np.sin(angle)
    bend = np.zeros((joints.shape[0], 3, 3))
    bend[:, 2, 2] = 1.0
    bend[:, 0, 0], bend[:, 0, 1], bend[:, 1, 0], bend[:, 1, 1] = c, -s, s, c  # leaning left and right
    joints[:, upper] = pivot[:, None] + np.einsum("tij,tnj->tni", bend, joints[:, upper] - pivot[:, None])
    spine_dist = np.linalg.norm(joints[:, J("spine")] - joints[:, J("pelvis")], axis=-1)
    assert np.ptp(spine_dist) > 0.006  # the pelvis-spine distance does change
    take = replace(take, joints_m=joints)
    motion = rig_motion(solve(take, SolverOptions(foot_contact=False, ground=False)), MONOCAP_RIG)
    fk = forward_kinematics(motion)
    lumbar = motion.offsets_m[MONOCAP_RIG.joint_names.index("lumbar")]
    assert lumbar[1] == pytest.approx(0.08, abs=0.01)
    for name in ("spine", "head", "left_wrist", "right_ankle"):
        np.testing.assert_allclose(fk[:, MONOCAP_RIG.joint_names.index(name)], joints[:, J(name)], atol=1.5e-3)


def test_fill_gaps_interpolates_short_and_holds_long():
    t = np.arange(100, dtype=float)
    joints = np.repeat(t[:, None, None], 3, axis=2).repeat(2, axis=1)
    valid = np.ones(100, bool)
    valid[[0, 1]] = False
    valid[20:23] = False
    valid[50:80] = False
    joints[~valid] = np.nan
    f = fill_gaps(joints, valid, fps=10.0, max_gap_s=0.5)
    assert np.isfinite(f.joints_m).all()
    np.testing.assert_allclose(f.joints_m[20:23, 0, 0], [20, 21, 22])
    assert f.interpolated[20:23].all() and not f.held[20:23].any()
    assert (f.joints_m[50:80, 0, 0] == 49).all() and f.held[50:80].all()
    assert (f.joints_m[:2, 0, 0] == 2).all()
    assert f.held_ranges == [(0, 2), (50, 80)]
    with pytest.raises(NoValidFramesError):
        fill_gaps(np.full((5, 2, 3), np.nan), np.zeros(5, bool), 10.0)


def walking_feet(fps: float = 60.0, seconds: float = 3.0, slide_m_s: float = 0.05) -> Take:
    """A body stepping in place: each foot alternates 0.5 s planted (sliding slowly, as a noisy
    estimate would) and 0.5 s lifted 15 cm."""
    base = spin_take(frames=int(fps * seconds), fps=fps, turns=0.0)
    joints = base.joints_m.copy()
    t = np.arange(joints.shape[0]) / fps
    for side, phase in (("left", 0.0), ("right", 0.5)):
        swing = ((t + phase) % 1.0) >= 0.5
        lift = np.where(swing, 0.15 * np.sin(np.pi * (((t + phase) % 1.0) - 0.5) / 0.5), 0.0)
        for joint in ("ankle", "toe"):
            joints[:, J(f"{side}_{joint}"), 1] += lift
            joints[:, J(f"{side}_{joint}"), 0] += slide_m_s * t
        joints[:, J(f"{side}_knee"), 1] += 0.5 * lift
        joints[:, J(f"{side}_knee"), 0] += slide_m_s * t
    return base.with_joints(joints)


def test_foot_contact_detects_stance_and_pins_the_planted_foot():
    take = walking_feet()
    contacts = detect_contacts(take.joints_m, take.fps, floor_y=0.0)
    t = np.arange(take.num_frames) / take.fps
    stance_left = (t % 1.0) < 0.5
    agree = (contacts[:, 0] == stance_left).mean()
    assert agree > 0.85
    pinned = pin_feet(take.joints_m, contacts, take.fps)
    ankle = J("left_ankle")
    for a in range(3):
        inner = contacts[:, 0] & (t >= a + 0.15) & (t < a + 0.35)
        before = np.ptp(take.joints_m[inner, ankle, 0])
        after = np.ptp(pinned[inner, ankle, 0])
        assert after < 0.2 * before, "the planted foot still slides"
    lengths = np.linalg.norm(pinned[:, J("left_knee")] - pinned[:, J("left_hip")], axis=1)
    thigh = take.joints_m[:, J("left_knee")] - take.joints_m[:, J("left_hip")]
    np.testing.assert_allclose(lengths, np.linalg.norm(thigh, axis=1), atol=1e-6)


def test_swing_rotation_of_a_zero_vector_is_no_turn():
    from engine.core.rotations import swing_rotation

    out = swing_rotation(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]))
    np.testing.assert_allclose(out[0], np.eye(3))
    np.testing.assert_allclose(out[1] @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)
