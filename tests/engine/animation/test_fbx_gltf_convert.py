"""FBX and glTF through the command line: `process --formats npz,fbx,glb`, `convert` from any
take (a BVH from another rig included) and `inspect`, which read FBX and glTF back; a damaged
file is one line."""

from __future__ import annotations

import numpy as np
import pytest

from engine.animation.formats import read_take, write_take
from engine.animation.rig_mappings import to_body_take
from engine.core.errors import InputError
from engine.core.skeletons import MONOCAP_BODY
from engine.session.outputs import write_outputs
from tests.engine.animation.export_clients import assert_valid_gltf, ufbx_read
from tests.engine.animation.rig_takes import LIMBS, options, real_take
from tests.engine.cli.test_cli import _assert_one_clear_line, monocap
from tests.engine.video_helpers import read_frames, write_video


@pytest.mark.parametrize("rig", ["monocap", "mixamo", "ue5", "vrm"])
@pytest.mark.parametrize("ext", ["fbx", "glb", "gltf"])
def test_monocap_reads_its_own_files_back_onto_its_body(tmp_path, rig, ext):
    take = real_take(hands=True)
    back = to_body_take(read_take(write_take(take, tmp_path / f"t.{ext}", options(rig))))
    assert back.num_frames == take.num_frames and back.fps == pytest.approx(take.fps, rel=1e-4)
    idx = [MONOCAP_BODY.index(j) for j in LIMBS]
    err = np.linalg.norm(back.joints_m[:, idx] - take.joints_m[:, idx], axis=-1) * 100
    assert err.max() < 1.0, f"worst {err.max():.2f} cm"


def test_convert_puts_a_bvh_from_another_rig_into_fbx_and_gltf(tmp_path, mocap_file):
    source = mocap_file("cmu_iclone/005_06.bvh")
    body = to_body_take(read_take(source))
    for ext in ("fbx", "glb"):
        out = tmp_path / f"iclone.{ext}"
        result = monocap("convert", source, out, "--rig", "ue5", "--frame-range", "0:60", "--no-ground",
                         "--no-foot-contact")
        assert result.returncode == 0, result.stderr
        back = to_body_take(read_take(out))
        idx = [MONOCAP_BODY.index(j) for j in LIMBS]
        err = np.linalg.norm(back.joints_m[:, idx] - body.joints_m[:60, idx], axis=-1) * 100
        assert back.num_frames == 60 and err.mean() < 1.0, f"{ext}: mean {err.mean():.2f} cm"
    assert_valid_gltf(tmp_path / "iclone.glb")
    assert len(ufbx_read(tmp_path / "iclone.fbx").positions["pelvis"]) == 60


def test_process_writes_fbx_and_glb_beside_the_take(tmp_path, sample_clip):
    clip = write_video(tmp_path / "clip.mp4", read_frames(sample_clip, 12), fps=24)
    result = monocap("process", clip, "-o", tmp_path / "out", "--quiet", "--formats", "npz,fbx,glb", "--rig", "ue5")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["clip.fbx", "clip.glb", "clip.json", "clip.npz"]
    assert_valid_gltf(out / "clip.glb")
    assert ufbx_read(out / "clip.fbx").fps == pytest.approx(24, rel=0.01)


def _damaged(tmp_path, good, how: str):
    data = good.read_bytes()
    bad = tmp_path / f"bad_{how}{good.suffix}"
    if how == "cut":
        bad.write_bytes(data[: len(data) // 2])
    elif how == "header":
        bad.write_bytes(data[:20])
    elif how == "flipped":
        noisy = bytearray(data)
        rng = np.random.default_rng(7)
        for i in rng.integers(len(data) // 10, len(data), 40):
            noisy[i] ^= 0xFF
        bad.write_bytes(bytes(noisy))
    elif how == "empty":
        bad.write_bytes(b"")
    else:
        bad.write_bytes(b"; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n" if good.suffix == ".fbx" else b"{\"asset\": 3")
    return bad


@pytest.mark.parametrize("ext", ["fbx", "glb", "gltf"])
@pytest.mark.parametrize("how", ["cut", "header", "flipped", "empty", "text"])
def test_a_damaged_file_is_an_input_error_of_one_line(tmp_path, ext, how):
    good = write_take(real_take(), tmp_path / f"good.{ext}", options("mixamo"))
    bad = _damaged(tmp_path, good, how)
    try:
        take = read_take(bad)
    except InputError as exc:
        assert str(exc).startswith(str(bad)) and "\n" not in str(exc), str(exc)
        return
    assert how == "flipped", "a damaged file was read"  # flipped bytes that only change values still read
    assert np.isfinite(take.joints_m).all()


@pytest.mark.parametrize("ext", ["fbx", "glb"])
def test_convert_and_inspect_say_so_in_one_line(tmp_path, ext):
    bad = _damaged(tmp_path, write_take(real_take(), tmp_path / f"good.{ext}", options("mixamo")), "cut")
    _assert_one_clear_line(monocap("convert", bad, tmp_path / "out.bvh"), bad.name,
                           "not a readable " + {"fbx": "FBX", "glb": "glTF"}[ext])
    _assert_one_clear_line(monocap("inspect", bad), bad.name)
    assert not (tmp_path / "out.bvh").exists()


def test_a_set_of_files_carries_one_motion_in_bvh_fbx_and_gltf(tmp_path):
    take = real_take(hands=True)
    written = write_outputs(take, tmp_path, "set", ("npz", "bvh", "fbx", "glb", "gltf"), options=options("mixamo"))
    assert sorted(p.name for p in written) == ["set.bvh", "set.fbx", "set.glb", "set.gltf", "set.json", "set.npz"]
    bvh = read_take(tmp_path / "set.bvh")
    names = bvh.skeleton.joint_names
    for ext in ("fbx", "glb", "gltf"):
        other = read_take(tmp_path / f"set.{ext}")
        for k, name in enumerate(names):
            if name.endswith("_end") and name not in other.skeleton.joint_names:
                continue  # the BVH's end sites of the finger tips have no bones in FBX/glTF
            diff = np.abs(other.joints_m[:, other.skeleton.index(name)] - bvh.joints_m[:, k]).max()
            assert diff < 1e-4, f"{ext}: {name} is {diff * 100:.3f} cm from the BVH's"
