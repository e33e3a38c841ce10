"""BVH export: round trips through an independent reader, file validity, options, bad input."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from engine.animation.bvh_reader import read_bvh
from engine.animation.formats import ExportOptions, read_take, select_frames, write_take
from engine.animation.rig import MIXAMO_RIG, MONOCAP_RIG, Rig
from engine.animation.rig_mappings import to_body_take
from engine.core.errors import NoValidFramesError, OutputError
from engine.core.rotations import EULER_ORDERS
from engine.core.skeletons import MONOCAP_BODY
from engine.core.take import Take
from tests.engine.bvhio_fk import bvhio_positions
from tests.engine.strict_bvh import parse_strict

EXACT = ExportOptions(ground=False, foot_contact=False)
SOURCES = {
    "cmu_iclone": "cmu_iclone/005_01.bvh",
    "cmu_daz": "cmu_daz/martial/03.bvh",
    "cmu_asf": "cmu_asf/01_01.bvh",
}


def rig_point_names(rig: Rig) -> dict[str, str]:
    """MONOCAP_BODY joint -> the name bvhio_positions gives the rig joint or end site there."""
    out = {}
    for body in MONOCAP_BODY.joint_names:
        i = rig.joint_at(body)
        if i is not None:
            out[body] = rig.joints[i].name
        else:
            owner = next(j for j in rig.joints if j.end == body)
            out[body] = owner.name + "_end"
    return out


def round_trip_errors_cm(take: Take, path, rig: Rig, options: ExportOptions) -> np.ndarray:
    """(T, 22) distances between the take's MONOCAP_BODY joints and the written file's, in cm."""
    body = to_body_take(take)
    write_take(body, path, options)
    positions, _, _ = bvhio_positions(path)
    scale = {"cm": 100.0, "m": 1.0, "mm": 1000.0, "in": 1 / 0.0254}[options.units or "cm"]
    names = rig_point_names(rig)
    got = np.stack([positions[names[j]] for j in MONOCAP_BODY.joint_names], axis=1) / scale
    return np.linalg.norm(got - body.joints_m, axis=-1) * 100.0


def source_take(mocap_file, key: str, frames: int = 300) -> Take:
    take = read_take(mocap_file(SOURCES[key]))
    start = min(100, take.num_frames - frames) if take.num_frames > frames else 0
    return take.slice(start, start + frames)


@pytest.mark.parametrize("key", sorted(SOURCES))
def test_round_trip_on_mocap_is_within_a_centimetre(mocap_file, tmp_path, key):
    take = source_take(mocap_file, key)
    err = round_trip_errors_cm(take, tmp_path / "out.bvh", MONOCAP_RIG, EXACT)
    assert err.mean() < 1.0, f"{key}: mean error {err.mean():.2f} cm"
    assert err.mean(axis=1).max() < 3.0, f"{key}: worst frame {err.mean(axis=1).max():.2f} cm"
    assert err.max() < 5.0, f"{key}: worst joint {err.max():.2f} cm"
    text = (tmp_path / "out.bvh").read_text()
    strict = parse_strict(text)
    assert len(strict.frames) == take.num_frames
    assert strict.frame_time == pytest.approx(1.0 / take.fps, rel=1e-5)


def _joint(body: Take, name: str) -> np.ndarray:
    return body.joints_m[body.valid][:, MONOCAP_BODY.index(name)]


def waist_twist_deg(body: Take) -> np.ndarray:
    """(T,) the turn of the shoulders' line against the hips' line about the pelvis-spine axis."""
    up = _joint(body, "spine") - _joint(body, "pelvis")
    up /= np.linalg.norm(up, axis=1, keepdims=True)

    def across(left: str, right: str) -> np.ndarray:
        v = _joint(body, left) - _joint(body, right)
        v -= np.sum(v * up, axis=1, keepdims=True) * up
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    hips, shoulders = across("left_hip", "right_hip"), across("left_shoulder", "right_shoulder")
    return np.degrees(np.arctan2(np.sum(np.cross(hips, shoulders) * up, axis=1), np.sum(hips * shoulders, axis=1)))


def test_round_trip_where_pelvis_waist_and_clavicles_turn_on_their_own(mocap_file, tmp_path):
    """iClone 005_06 turns its pelvis and waist separately (pelvis-spine distance 9.7-15.2 cm) and
    its shoulders' distance from the chest changes by 4.6 cm: the lumbar and clavicle pivots
    must absorb both. (A generated take twists and bends its lower back against the pelvis.)"""
    take = read_take(mocap_file("cmu_iclone/005_06.bvh"))
    body = to_body_take(take)
    assert np.ptp(np.percentile(waist_twist_deg(body), [5, 95])) > 30.0
    chest_to_shoulder = np.linalg.norm(_joint(body, "left_shoulder") - _joint(body, "chest"), axis=1)
    assert np.ptp(chest_to_shoulder) > 0.03
    err = round_trip_errors_cm(take, tmp_path / "rt.bvh", MONOCAP_RIG, EXACT)
    assert err.mean() < 0.6, f"mean error {err.mean():.2f} cm"
    assert err.mean(axis=1).max() < 2.0, f"worst frame {err.mean(axis=1).max():.2f} cm"
    assert err.max() < 3.0, f"worst joint {err.max():.2f} cm"


def test_mixamo_rig_round_trip_in_metres_and_xyz_order(mocap_file, tmp_path):
    take = source_take(mocap_file, "cmu_iclone", 200)
    options = ExportOptions(rig="mixamo", units="m", euler_order="XYZ", ground=False, foot_contact=False)
    err = round_trip_errors_cm(take, tmp_path / "mx.bvh", MIXAMO_RIG, options)
    assert err.mean() < 1.0
    strict = parse_strict((tmp_path / "mx.bvh").read_text())
    names = [n.name for n in strict.nodes]
    for bone in ("Hips", "Spine", "Spine1", "Spine2", "Neck", "Head", "LeftShoulder", "LeftArm", "LeftForeArm",
                 "LeftHand", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RightUpLeg", "RightHand"):
        assert "mixamorig:" + bone in names
    assert strict.nodes[0].channels[3:] == ["Xrotation", "Yrotation", "Zrotation"]


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_every_euler_order_reproduces_the_positions(mocap_file, tmp_path, order):
    take = source_take(mocap_file, "cmu_asf", 60)
    body = to_body_take(take)
    write_take(body, tmp_path / "o.bvh", ExportOptions(euler_order=order, ground=False, foot_contact=False))
    back = to_body_take(read_take(tmp_path / "o.bvh"))
    assert np.abs(back.joints_m - body.joints_m).max() < 0.03
    assert np.linalg.norm(back.joints_m - body.joints_m, axis=-1).mean() < 0.01


def test_hierarchy_channels_and_rest_offsets_are_consistent(mocap_file, tmp_path):
    take = source_take(mocap_file, "cmu_daz", 50)
    write_take(take, tmp_path / "a.bvh", ExportOptions(units="cm"))
    write_take(take, tmp_path / "b.bvh", ExportOptions(units="m"))
    a, b = parse_strict((tmp_path / "a.bvh").read_text()), parse_strict((tmp_path / "b.bvh").read_text())
    assert [n.name for n in a.nodes] == list(MONOCAP_RIG.joint_names)
    assert a.num_channels == 6 + 3 * (len(a.nodes) - 1)
    assert all(len(row) == a.num_channels for row in a.frames)
    off_a = np.array([n.offset for n in a.nodes])
    off_b = np.array([n.offset for n in b.nodes])
    np.testing.assert_allclose(off_a, off_b * 100.0, atol=1e-4)
    # the rest pose is a T-pose: arms along X, legs straight down
    node = {n.name: n for n in a.nodes}
    assert node["left_elbow"].offset[0] > 20 and abs(node["left_elbow"].offset[1]) < 1e-6
    assert node["right_elbow"].offset[0] < -20
    assert node["left_knee"].offset[1] < -30 and abs(node["left_knee"].offset[0]) < 1e-6
    # a real person's proportions in cm
    assert 20 < -node["left_ankle"].offset[1] < 60


def test_file_parses_in_bvhio_with_the_right_frames(mocap_file, tmp_path):
    take = source_take(mocap_file, "cmu_iclone", 120)
    write_take(take, tmp_path / "c.bvh", ExportOptions(start_frame=10, end_frame=70, fps=30.0))
    _, frames, frame_time = bvhio_positions(tmp_path / "c.bvh")
    # 60 frames at 60 fps = 59 frame steps -> 0 .. 0.983 s at 30 fps = 30 frames
    assert frames == 30
    assert frame_time == pytest.approx(1 / 30, rel=1e-6)
    strict = parse_strict((tmp_path / "c.bvh").read_text())
    assert len(strict.frames) == 30


def spin_take(frames: int = 240, fps: float = 30.0, turns: float = 2.0) -> Take:
    """A standing body turning on the spot about Y by `turns` full turns, from real proportions."""
    rest = np.array([
        [0, 1.0, 0], [0, 1.12, -0.01], [0, 1.3, 0], [0, 1.5, 0], [0, 1.6, 0.02], [0, 1.65, 0.1],
        [0.1, 0.95, 0], [0.1, 0.52, 0.02], [0.1, 0.1, 0], [0.1, 0.03, 0.14],
        [-0.1, 0.95, 0], [-0.1, 0.52, 0.02], [-0.1, 0.1, 0], [-0.1, 0.03, 0.14],
        [0.18, 1.42, 0], [0.45, 1.42, 0.02], [0.7, 1.42, 0.05], [0.78, 1.42, 0.06],
        [-0.18, 1.42, 0], [-0.45, 1.42, 0.02], [-0.7, 1.42, 0.05], [-0.78, 1.42, 0.06],
    ])
    angle = np.linspace(0, 2 * np.pi * turns, frames)
    c, s = np.cos(angle), np.sin(angle)
    rot = np.zeros((frames, 3, 3))
    rot[:, 0, 0], rot[:, 0, 2], rot[:, 1, 1], rot[:, 2, 0], rot[:, 2, 2] = c, s, 1, -s, c
    joints = np.einsum("tij,nj->tni", rot, rest)
    return Take(joints, MONOCAP_BODY, fps, np.arange(frames) / fps, np.ones(frames, bool))


def test_channels_are_continuous_through_full_turns(tmp_path):
    take = spin_take()
    # orders whose middle axis is not the turning (Y) axis: with Y in the middle, a turn through
    # 90 degrees is gimbal lock, where any Euler curve must swing
    for order in ("ZXY", "YXZ", "XZY", "YZX"):
        write_take(take, tmp_path / "s.bvh", ExportOptions(euler_order=order, foot_contact=False))
        values = np.array(parse_strict((tmp_path / "s.bvh").read_text()).frames)
        steps = np.abs(np.diff(values[:, 3:], axis=0))
        assert steps.max() < 10.0, f"{order}: a rotation channel jumps by {steps.max():.1f} degrees"
        # the root's turn accumulates beyond 360 instead of wrapping
        assert np.ptp(values[:, 3:6], axis=0).max() > 700


def test_gaps_are_filled_and_never_written_as_nan(tmp_path, caplog):
    take = spin_take(frames=120, turns=0.25)
    joints, valid = take.joints_m.copy(), take.valid.copy()
    valid[10:14] = False  # a short gap: interpolated
    valid[40:90] = False  # 1.7 s: held, with a warning
    joints[~valid] = np.nan
    take = Take(joints, MONOCAP_BODY, take.fps, take.timestamps_s, valid)
    with caplog.at_level(logging.WARNING, logger="monocap.export"):
        write_take(take, tmp_path / "g.bvh", ExportOptions(foot_contact=False, ground=False))
    text = (tmp_path / "g.bvh").read_text()
    assert "nan" not in text.lower()
    strict = parse_strict(text)
    assert len(strict.frames) == 120
    assert any("40-89" in r.getMessage() for r in caplog.records)
    back = read_bvh(tmp_path / "g.bvh").positions(0.01)
    # interpolated frame 12 lies between its neighbours; held frames repeat frame 39
    wrist_rig, wrist_body = MONOCAP_RIG.joint_names.index("left_wrist"), MONOCAP_BODY.index("left_wrist")
    expected = 0.4 * take.joints_m[9, wrist_body] + 0.6 * take.joints_m[14, wrist_body]  # frames 10-13 missing
    assert np.linalg.norm(back[12, wrist_rig] - expected) < 0.005
    assert np.linalg.norm(back[12, wrist_rig] - back[11, wrist_rig]) > 0.002  # it did move
    np.testing.assert_allclose(back[60], back[39], atol=1e-4)


def test_no_valid_frames_is_a_clear_error_and_writes_nothing(tmp_path):
    take = spin_take(frames=20)
    empty = Take(np.full_like(take.joints_m, np.nan), MONOCAP_BODY, 30.0, take.timestamps_s, np.zeros(20, bool))
    with pytest.raises(NoValidFramesError, match="nobody"):
        write_take(empty, tmp_path / "e.bvh")
    assert not (tmp_path / "e.bvh").exists()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_path_is_a_clear_error_without_partial_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        write_take(spin_take(frames=20), blocker / "sub" / "x.bvh")
    # the final rename fails (a folder is in the way): the error names the file, no temp file is left
    folder = tmp_path / "out"
    (folder / "x.bvh").mkdir(parents=True)
    with pytest.raises(OutputError, match="x.bvh"):
        write_take(spin_take(frames=20), folder / "x.bvh")
    assert [p.name for p in folder.iterdir()] == ["x.bvh"]
    if os.geteuid() != 0:  # root can write anywhere
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o500)
        try:
            with pytest.raises(OutputError):
                write_take(spin_take(frames=20), target / "x.bvh")
            assert list(target.iterdir()) == []
        finally:
            target.chmod(0o700)


def test_root_motion_off_and_ground_plane(tmp_path):
    take = spin_take(frames=60, turns=0.1)
    moved = take.with_joints(take.joints_m + np.array([0.0, 0.3, 0.0]) + np.linspace(0, 2, 60)[:, None, None] * [1, 0, 0])
    write_take(moved, tmp_path / "r.bvh", ExportOptions(root_motion=False, foot_contact=False))
    values = np.array(parse_strict((tmp_path / "r.bvh").read_text()).frames)
    assert np.abs(values[:, [0, 2]]).max() < 1e-6
    write_take(moved, tmp_path / "g.bvh", ExportOptions(foot_contact=False))
    pos = read_bvh(tmp_path / "g.bvh").positions(0.01, include_end_sites=True)
    assert np.ptp(pos[:, 0, 0]) > 1.9  # root motion kept
    lowest = pos[..., 1].min(axis=1)
    assert abs(np.percentile(lowest, 2)) < 0.005  # the floor moved to y = 0 (was 0.3 m too high)


def test_select_frames_resamples_time_and_validity():
    take = spin_take(frames=61, fps=60.0)
    valid = take.valid.copy()
    valid[20] = False
    take = Take(take.joints_m, MONOCAP_BODY, 60.0, take.timestamps_s, valid)
    out = select_frames(take, ExportOptions(fps=30.0))
    assert out.num_frames == 31 and out.fps == 30.0
    np.testing.assert_allclose(out.joints_m[5], take.joints_m[10])
    assert not out.valid[10] and out.valid[9] and out.valid[11]
