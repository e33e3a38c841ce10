"""FBX export checked by the clients that read it: ufbx (the strict reader newer game engines
use), Blender's own FBX importer and Assimp, on a real take; the motion is the BVH's; and
Blender's own FBX export of the same take (from the BVH) read the same way, as the reference of a
file engines accept."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine.animation.formats import write_take
from engine.animation.rig import get_rig
from engine.core.skeletons import MONOCAP_BODY
from tests.engine.animation.export_clients import assimp_read, blender_heads, ufbx_read
from tests.engine.animation.rig_takes import (
    FINGER_JOINTS,
    assert_same_motion,
    bvh_positions,
    limb_errors_cm,
    options,
    real_take,
)
from tests.engine.animation.test_blender_import import blender_python

RIGS = ("monocap", "mixamo", "ue5", "vrm")
REFERENCE_SCRIPT = Path(__file__).resolve().parents[1] / "blender_fbx_reference.py"
Y_UP = (0, 2, 4)  # ufbx.CoordinateAxis: +X right, +Y up, +Z front


@pytest.mark.parametrize("rig", RIGS)
@pytest.mark.parametrize("hands", [False, True])
def test_ufbx_reads_every_bone_at_every_frame_where_the_take_has_it(tmp_path, rig, hands):
    take = real_take(hands)
    path = write_take(take, tmp_path / "take.fbx", options(rig))
    scene = ufbx_read(path)
    bones = get_rig(rig, fingers=hands)
    assert set(scene.positions) == set(bones.joint_names) | set(bones.floor_bones) | set(bones.end_bone_names)
    assert scene.stacks == 1 and scene.fps == pytest.approx(take.fps)
    assert scene.axes == Y_UP and scene.unit_meters == pytest.approx(0.01)  # Y up, centimetres
    err = limb_errors_cm(take, rig, scene.positions)
    assert err.max() < 1.0, f"worst {err.max():.2f} cm"
    if hands:
        assert limb_errors_cm(take, rig, scene.positions, FINGER_JOINTS).max() < 1.0
    assert_same_motion(scene.positions, bvh_positions(take, rig, tmp_path), rig, hands)
    for still in bones.floor_bones:
        assert np.abs(scene.positions[still]).max() < 1e-9


@pytest.mark.parametrize("units, metres", [("m", 1.0), ("in", 0.0254)])
def test_the_unit_is_the_files_own_and_the_size_stays(tmp_path, units, metres):
    take = real_take()
    scene = ufbx_read(write_take(take, tmp_path / "take.fbx", options("mixamo", units=units)))
    assert scene.unit_meters == pytest.approx(metres)
    assert limb_errors_cm(take, "mixamo", scene.positions).max() < 1.0


@pytest.mark.parametrize("rig", RIGS)
def test_blender_imports_the_bones_every_frame_and_the_rate(tmp_path, rig):
    take = real_take(hands=True)
    path = write_take(take, tmp_path / "take.fbx", options(rig))
    heads, fps = blender_heads(path)
    assert fps == pytest.approx(take.fps, rel=1e-4)
    assert {j.name for j in get_rig(rig, fingers=True).joints} <= set(heads)
    err = limb_errors_cm(take, rig, heads)
    assert err.max() < 1.0, f"worst {err.max():.2f} cm"
    fingers = limb_errors_cm(take, rig, heads, FINGER_JOINTS)
    assert fingers.max() < 1.0, f"fingers: worst {fingers.max():.2f} cm"


@pytest.mark.parametrize("fps", [24.0, 29.97, 50.0])
def test_blender_and_ufbx_read_the_rate_the_take_is_written_at(tmp_path, fps):
    take = real_take()
    path = write_take(take, tmp_path / "take.fbx", options("ue5", fps=fps))
    frames = int((take.num_frames - 1) / take.fps * fps + 1e-9) + 1
    scene = ufbx_read(path)
    assert scene.fps == pytest.approx(fps, rel=1e-6) and len(scene.positions["pelvis"]) == frames
    heads, got = blender_heads(path)
    assert got == pytest.approx(fps, rel=1e-4) and len(heads["pelvis"]) == frames


def test_assimp_reads_one_animation_with_a_channel_per_bone(tmp_path):
    take = real_take(hands=True)
    path = write_take(take, tmp_path / "take.fbx", options("ue5"))
    scene = assimp_read(path, tmp_path)
    rig = get_rig("ue5", fingers=True)
    assert set(rig.joint_names) | set(rig.floor_bones) <= set(scene.nodes)
    assert len(scene.animations) == 1
    _, channels = scene.animations[0]
    assert set(channels) == set(rig.joint_names)
    assert all(c["rotations"] == take.num_frames for c in channels.values())
    pelvis = channels["pelvis"]["positions"] / 100.0  # centimetres in the file
    np.testing.assert_allclose(pelvis, take.joints_m[:, MONOCAP_BODY.index("pelvis")], atol=1e-4)


def test_in_place_keeps_the_hips_above_the_origin(tmp_path):
    take = real_take()
    scene = ufbx_read(write_take(take, tmp_path / "take.fbx", options("ue5", root_motion=False)))
    pelvis = scene.positions["pelvis"]
    assert np.abs(pelvis[:, [0, 2]]).max() < 1e-6
    np.testing.assert_allclose(pelvis[:, 1], take.joints_m[:, MONOCAP_BODY.index("pelvis"), 1], atol=1e-5)


def test_blenders_own_fbx_of_the_same_take_reads_back_the_same_in_every_client(tmp_path):
    """The reference: the same take as BVH, imported by Blender and exported by Blender's own FBX
    exporter; ufbx, Assimp and Blender read Monocap's FBX as they read that one."""
    take = real_take(hands=True)
    bvh = write_take(take, tmp_path / "take.bvh", options("mixamo", units="cm"))
    ours = write_take(take, tmp_path / "ours.fbx", options("mixamo"))
    reference = tmp_path / "blender.fbx"
    run = subprocess.run([blender_python(), str(REFERENCE_SCRIPT), str(bvh), str(reference), "0.01"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and reference.is_file(), run.stderr[-2000:]
    names = get_rig("mixamo", fingers=True).joint_names
    ref, got = ufbx_read(reference), ufbx_read(ours)
    assert ref.stacks == got.stacks == 1 and ref.fps == pytest.approx(got.fps)
    for n in names:
        diff = np.linalg.norm(ref.positions[n][:take.num_frames] - got.positions[n], axis=-1).max() * 100
        assert diff < 0.05, f"ufbx: {n} is {diff:.3f} cm from where Blender's own FBX puts it"
    ref_heads, _ = blender_heads(reference)
    our_heads, _ = blender_heads(ours)
    for n in names:
        diff = np.linalg.norm(ref_heads[n][:take.num_frames] - our_heads[n], axis=-1).max() * 100
        assert diff < 0.05, f"Blender: {n} is {diff:.3f} cm from where Blender's own FBX puts it"
    for path in (reference, ours):
        scene = assimp_read(path, tmp_path)
        assert len(scene.animations) == 1 and set(names) <= set(scene.animations[0][1]), path.name

