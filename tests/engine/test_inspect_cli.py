"""`monocap inspect` and the BVH-reading options of `monocap convert`, run as a user runs them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from engine.animation.formats import read_take, write_take
from tests.conftest import REPO
from tests.engine.humanoid_rigs import families, synthetic_motion, write_family
from tests.engine.test_bvh_export import spin_take

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
