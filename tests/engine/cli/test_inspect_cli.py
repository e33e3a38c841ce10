"""`monocap inspect` and the BVH-reading options of `monocap convert`, run as a user runs them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from engine.animation.formats import ExportOptions, read_take, write_take
from tests.conftest import REPO
from tests.engine.animation.test_bvh_export import spin_take
from tests.engine.animation.test_bvh_fingers_convert import CONVENTIONS, rename, two_joint_fingers, write_curled
from tests.engine.humanoid_rigs import families, synthetic_motion, write_family
from tests.engine.synthetic_hands import hands_take

FAMILIES = {f.name: f for f in families()}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_inspect_a_bvh_from_elsewhere(tmp_path):
    written = write_family(FAMILIES["xsens"], synthetic_motion(frames=60), tmp_path / "mvn.bvh")
    done = run_cli("inspect", str(written.path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "60 frames" in out and "30 fps" in out and "units: cm (guessed" in out
    assert "RightUpperLeg" in out and "confidence 1.00" in out
    assert "left_shoulder   <- LeftUpperArm  [name]" in out
    forced = run_cli("inspect", str(written.path), "--units", "mm")
    assert "units: mm; rest pose 0.18 m across" in forced.stdout


def test_inspect_npz_csv_trc(tmp_path):
    take = spin_take(frames=12)
    for ext in ("npz", "csv", "trc"):
        path = write_take(take, tmp_path / f"t.{ext}")
        done = run_cli("inspect", str(path))
        assert done.returncode == 0, done.stderr
        assert "12 frames" in done.stdout and "Monocap's own body" in done.stdout, ext
    assert "units: mm" in run_cli("inspect", str(tmp_path / "t.trc")).stdout


def test_inspect_a_rig_that_cannot_be_mapped(tmp_path):
    bvh = tmp_path / "arm.bvh"
    bvh.write_text("HIERARCHY\nROOT a\n{\n OFFSET 0 0 0\n CHANNELS 3 Zrotation Xrotation Yrotation\n JOINT b\n {\n"
                   "  OFFSET 0 30 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 30 0\n  }\n"
                   " }\n}\nMOTION\nFrames: 2\nFrame Time: 0.04\n0 0 0 0 0 0\n10 0 0 0 0 0\n")
    done = run_cli("inspect", str(bvh))
    assert done.returncode == 1
    assert "mapping onto Monocap's body: none:" in done.stdout and "cannot place pelvis" in done.stdout
    failed = run_cli("convert", str(bvh), str(tmp_path / "out.bvh"))
    assert failed.returncode == 2 and len(failed.stderr.strip().splitlines()) == 1
    assert "cannot place" in failed.stderr and not (tmp_path / "out.bvh").exists()


def test_convert_with_a_joint_map_and_the_source_unit(tmp_path):
    written = write_family(FAMILIES["mixamo"], synthetic_motion(frames=30), tmp_path / "m.bvh")
    joint_map = tmp_path / "map.json"
    joint_map.write_text('{"mixamorig:Spine1": "spine"}')
    out = tmp_path / "o.npz"
    done = run_cli("convert", str(written.path), str(out), "--map", str(joint_map), "--in-units", "mm")
    assert done.returncode == 0, done.stderr
    back = read_take(out)
    assert back.metadata["source_units"] == "mm" and back.metadata["joint_map"] == {"mixamorig:Spine1": "spine"}
    np.testing.assert_allclose(back.joints_m, read_take(written.path).joints_m / 10.0, atol=1e-6)
    bvh_out = tmp_path / "o.bvh"
    assert run_cli("convert", str(written.path), str(bvh_out), "--map", str(joint_map)).returncode == 0
    missing = run_cli("convert", str(written.path), str(bvh_out), "--map", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "nope.toml: cannot read the joint map" in missing.stderr


def test_inspect_says_how_the_fingers_of_a_bvh_from_elsewhere_map(tmp_path):
    _, _, mixamo = write_curled(tmp_path / "mixamo.bvh", frames=12)
    done = run_cli("inspect", str(mixamo))
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    start = out.index("fingers onto Monocap's 15 finger joints a hand (joints 1, 2, 3; tip):")
    rows = out[start + 1:]
    assert len(rows) == 12 and sum("1..3" in r for r in rows) == 10
    assert ("  left_thumb1..3    <- mixamorig:LeftHandThumb1, mixamorig:LeftHandThumb2, mixamorig:LeftHandThumb3; "
            "tip mixamorig:LeftHandThumb3_end") in rows
    assert "  right_hand        <- mid(mixamorig:RightHandIndex1, mixamorig:RightHandPinky1)" in "\n".join(rows)
    # Unreal's names (index_01_l ...): the same fingers, read from another convention
    unreal = run_cli("inspect", str(rename(mixamo, CONVENTIONS["unreal"], tmp_path / "unreal.bvh"))).stdout
    assert "  right_pinky1..3   <- pinky_01_r, pinky_02_r, pinky_03_r; tip pinky_03_r_end" in unreal


def test_inspect_gives_the_convert_note_for_a_partial_hand(tmp_path):
    _, _, mixamo = write_curled(tmp_path / "mixamo.bvh", frames=12)
    partial = two_joint_fingers(rename(mixamo, CONVENTIONS["plain"], tmp_path / "plain.bvh"), tmp_path / "partial.bvh")
    done = run_cli("inspect", str(partial))
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stdout.splitlines() if "finger" in line and not line.startswith("joints")]
    warned = [line for line in run_cli("convert", str(partial), str(tmp_path / "o.bvh")).stderr.splitlines()
              if "fingers" in line]
    assert len(said) == 1 and len(warned) == 1 and said[0].startswith("note: written without fingers")
    assert warned[0].endswith(said[0][len("note: "):]) and "index 2" in said[0]


def test_a_joint_map_naming_a_finger_is_a_one_line_error(tmp_path):
    _, _, mixamo = write_curled(tmp_path / "mixamo.bvh", frames=6)
    joint_map = tmp_path / "map.json"
    joint_map.write_text('{"mixamorig:LeftHandIndex1": "left_index1"}')
    done = run_cli("inspect", str(mixamo), "--map", str(joint_map))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "left_index1: a joint map places body joints only" in done.stderr


def test_inspect_a_take_with_fingers_and_a_body_without(tmp_path):
    hands = write_take(hands_take(spin_take(frames=6), np.full(6, 30.0)), tmp_path / "hands.npz")
    done = run_cli("inspect", str(hands))
    assert done.returncode == 0 and "Monocap's own body with fingers (15 finger joints a hand)" in done.stdout
    assert "mapping onto" not in done.stdout
    body = write_take(spin_take(frames=6), tmp_path / "body.bvh", ExportOptions(rig="mixamo"))
    assert "finger" not in run_cli("inspect", str(body)).stdout.split("mapping onto")[1]
