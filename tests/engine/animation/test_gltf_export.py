"""glTF export (.glb, .gltf) checked by the clients that read it: the Khronos glTF validator on
every file, Blender's own glTF importer and Assimp; the motion is the BVH's."""

from __future__ import annotations

import numpy as np
import pygltflib
import pytest

from engine.animation.formats import read_take, write_take
from engine.animation.rig import get_rig
from engine.animation.rig_mappings import to_body_take
from engine.core.skeletons import MONOCAP_BODY
from tests.engine.animation.export_clients import assert_valid_gltf, assimp_read, blender_heads
from tests.engine.animation.rig_takes import (
    FINGER_JOINTS,
    LIMBS,
    assert_same_motion,
    bvh_positions,
    limb_errors_cm,
    options,
    real_take,
)

RIGS = ("monocap", "mixamo", "ue5", "vrm")


@pytest.mark.parametrize("rig", RIGS)
@pytest.mark.parametrize("hands", [False, True])
def test_every_gltf_is_valid_and_holds_one_armature_and_one_animation(tmp_path, rig, hands):
    take = real_take(hands)
    files = [write_take(take, tmp_path / f"t.{ext}", options(rig)) for ext in ("glb", "gltf")]
    reports = assert_valid_gltf(*files)
    assert all(r["warnings"] == 0 for r in reports), reports
    doc = pygltflib.GLTF2().load(str(files[0]))
    bones = get_rig(rig, fingers=hands)
    names = [n.name for n in doc.nodes]
    assert set(j.name for j in bones.joints) <= set(names)
    assert len(doc.skins) == 1 and len(doc.skins[0].joints) == len(names) and len(doc.animations) == 1
    anim = doc.animations[0]
    rotated = {names[c.target.node] for c in anim.channels if c.target.path == "rotation"}
    moved = [names[c.target.node] for c in anim.channels if c.target.path == "translation"]
    assert rotated == {j.name for j in bones.joints} and moved == [bones.joints[0].name]
    times = doc.accessors[anim.samplers[0].input]
    assert times.count == take.num_frames and times.max[0] == pytest.approx((take.num_frames - 1) / take.fps)


@pytest.mark.parametrize("rig", RIGS)
def test_blender_reads_every_frame_with_the_limbs_within_a_centimetre_of_the_take(tmp_path, rig):
    take = real_take(hands=True)
    path = write_take(take, tmp_path / "take.glb", options(rig))
    heads, _ = blender_heads(path, take.fps)
    assert {j.name for j in get_rig(rig, fingers=True).joints} <= set(heads)
    err = limb_errors_cm(take, rig, heads)
    assert err.max() < 1.0, f"worst {err.max():.2f} cm"
    fingers = limb_errors_cm(take, rig, heads, FINGER_JOINTS)
    assert fingers.max() < 1.0, f"fingers: worst {fingers.max():.2f} cm"
    assert_same_motion(heads, bvh_positions(take, rig, tmp_path), rig, hands=True)


@pytest.mark.parametrize("ext", ["glb", "gltf"])
def test_assimp_reads_one_animation_with_a_channel_per_bone(tmp_path, ext):
    take = real_take(hands=True)
    path = write_take(take, tmp_path / f"take.{ext}", options("mixamo"))
    scene = assimp_read(path, tmp_path)
    rig = get_rig("mixamo", fingers=True)
    assert set(rig.joint_names) <= set(scene.nodes)
    assert next(n for n in scene.nodes if n in rig.joint_names) == "mixamorig:Hips"  # the top of the hierarchy
    assert len(scene.animations) == 1
    _, channels = scene.animations[0]
    assert set(channels) == set(rig.joint_names)
    assert all(c["rotations"] == take.num_frames for c in channels.values())
    hips = channels["mixamorig:Hips"]["positions"]
    np.testing.assert_allclose(hips, take.joints_m[:, MONOCAP_BODY.index("pelvis")], atol=1e-4)  # metres


def test_in_place_keeps_the_hips_above_the_origin_and_the_frame_range_and_rate_apply(tmp_path):
    take = real_take()
    doc_path = write_take(take, tmp_path / "t.glb", options("vrm", root_motion=False, start_frame=5, end_frame=35,
                                                                fps=20.0))
    assert_valid_gltf(doc_path)
    doc = pygltflib.GLTF2().load(str(doc_path))
    anim = doc.animations[0]
    times = doc.accessors[anim.samplers[0].input]
    assert times.count == 20 and times.max[0] == pytest.approx(19 / 20.0)  # 30 frames at 30 fps -> 1 s at 20 fps
    hips = next(c for c in anim.channels if c.target.path == "translation")
    acc = doc.accessors[doc.animations[0].samplers[hips.sampler].output]
    view = doc.bufferViews[acc.bufferView]
    values = np.frombuffer(doc.binary_blob()[view.byteOffset:view.byteOffset + view.byteLength], "<f4").reshape(-1, 3)
    assert np.abs(values[:, [0, 2]]).max() == 0.0 and values[:, 1].min() > 0.5


def test_a_vrm_animation_names_every_humanoid_bone_and_rests_in_a_t_pose(tmp_path):
    take = real_take(hands=True)
    path = write_take(take, tmp_path / "take.vrma", options("ue5"))  # a VRM Animation is on VRM's rig whatever --rig says
    assert_valid_gltf(path)
    doc = pygltflib.GLTF2().load_binary(str(path))
    assert doc.extensionsUsed == ["VRMC_vrm_animation"]
    ext = doc.extensions["VRMC_vrm_animation"]
    assert ext["specVersion"] == "1.0"
    bones = ext["humanoid"]["humanBones"]
    rig = get_rig("vrm", fingers=True)
    assert set(bones) == set(rig.joint_names)
    assert all(doc.nodes[b["node"]].name == name for name, b in bones.items())
    assert all(n.rotation in (None, [0, 0, 0, 1]) for n in doc.nodes)  # the rest pose: every rotation zero
    upper, lower = (np.array(doc.nodes[bones[b]["node"]].translation) for b in ("leftLowerArm", "leftHand"))
    for bone in (upper, lower):  # the left arm along +X
        assert bone[0] > 0.15 and abs(bone[1]) < 1e-9 and abs(bone[2]) < 1e-9
    back = to_body_take(read_take(path))
    idx = [MONOCAP_BODY.index(j) for j in LIMBS]
    assert np.abs(back.joints_m[:, idx] - take.joints_m[:, idx]).max() < 0.01
