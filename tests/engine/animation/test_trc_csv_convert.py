"""TRC and CSV files, format dispatch, and `monocap convert` as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.animation.formats import ExportOptions, read_take, write_take
from engine.animation.trc import METADATA_KEYS
from engine.core.errors import InputError, OutputError
from engine.core.skeletons import MONOCAP_BODY
from engine.core.take import Take
from engine.session.outputs import write_outputs
from tests.engine.animation.test_bvh_export import spin_take

REPO = Path(__file__).resolve().parents[3]


def test_trc_is_what_opensim_reads(tmp_path):
    take = spin_take(frames=30, fps=30.0)
    valid = take.valid.copy()
    valid[5] = False
    joints = take.joints_m.copy()
    joints[5] = np.nan
    take = Take(joints, MONOCAP_BODY, 30.0, take.timestamps_s, valid)
    write_take(take, tmp_path / "t.trc")
    lines = (tmp_path / "t.trc").read_text().split("\n")
    assert lines[0].split("\t")[:3] == ["PathFileType", "4", "(X/Y/Z)"]
    assert lines[1].split("\t") == list(METADATA_KEYS)
    meta = dict(zip(METADATA_KEYS, lines[2].split("\t")))
    assert float(meta["DataRate"]) == 30.0 and meta["NumFrames"] == "30" and meta["NumMarkers"] == "22"
    assert meta["Units"] == "mm"
    labels = [x for x in lines[3].split("\t") if x]
    assert labels == ["Frame#", "Time", *MONOCAP_BODY.joint_names]
    xyz = [x for x in lines[4].split("\t") if x]
    assert xyz[:3] == ["X1", "Y1", "Z1"] and xyz[-1] == "Z22"
    assert lines[5] == ""
    rows = [r.split("\t") for r in lines[6:] if r]
    assert len(rows) == 30 and all(len(r) == 2 + 66 for r in rows)
    assert rows[0][0] == "1" and float(rows[1][1]) == pytest.approx(1 / 30, abs=1e-6)
    assert rows[5][2:] == [""] * 66  # nobody in view: empty fields, which OpenSim reads as missing
    head_y_mm = float(rows[0][2 + 3 * MONOCAP_BODY.index("head") + 1])
    assert head_y_mm == pytest.approx(take.joints_m[0, MONOCAP_BODY.index("head"), 1] * 1000, abs=0.01)
    back = read_take(tmp_path / "t.trc")
    assert back.skeleton.joint_names == MONOCAP_BODY.joint_names and not back.valid[5]
    np.testing.assert_allclose(back.joints_m[take.valid], take.joints_m[take.valid], atol=1e-6)
    write_take(take, tmp_path / "m.trc", ExportOptions(units="m"))
    assert (tmp_path / "m.trc").read_text().split("\n")[2].split("\t")[4] == "m"


def test_csv_header_units_and_rate(tmp_path):
    take = spin_take(frames=12, fps=24.0)
    write_take(take, tmp_path / "c.csv")
    lines = (tmp_path / "c.csv").read_text().splitlines()
    assert lines[0].split(",")[:5] == ["frame", "time_s", "pelvis_x_m", "pelvis_y_m", "pelvis_z_m"]
    back = read_take(tmp_path / "c.csv")
    assert back.fps == pytest.approx(24.0, rel=1e-4)
    np.testing.assert_allclose(back.joints_m, take.joints_m, atol=1e-5)


def test_bvh_from_elsewhere_converts_to_every_format(mocap_file, tmp_path):
    src = mocap_file("cmu_daz/salsa/02.bvh")
    take = read_take(src)
    assert "lShldr" in take.skeleton.joint_names and "lFoot_end" in take.skeleton.joint_names
    short = take.slice(0, 40)
    written = write_outputs(short, tmp_path, "s", ("npz", "csv", "bvh", "trc"), options=ExportOptions())
    assert [p.name for p in written] == ["s.npz", "s.csv", "s.bvh", "s.trc", "s.json"]
    # CSV, TRC and NPZ keep the source's joints; BVH is on Monocap's rig
    assert read_take(tmp_path / "s.csv").skeleton.joint_names == take.skeleton.joint_names
    assert read_take(tmp_path / "s.trc").skeleton.joint_names == take.skeleton.joint_names
    assert read_take(tmp_path / "s.npz").skeleton.joint_names == take.skeleton.joint_names
    assert "left_clavicle" in read_take(tmp_path / "s.bvh").skeleton.joint_names
    np.testing.assert_allclose(read_take(tmp_path / "s.npz").joints_m, short.joints_m, atol=1e-5)


def test_unknown_formats_and_skeletons_are_clear_errors(tmp_path):
    take = spin_take(frames=5)
    with pytest.raises(OutputError, match="unknown output format"):
        write_take(take, tmp_path / "x.obj")
    odd = Take(take.joints_m, type(MONOCAP_BODY)("odd", tuple(f"j{i}" for i in range(22)), (-1,) * 22),
               30.0, take.timestamps_s, take.valid)
    with pytest.raises(InputError, match="cannot place pelvis, spine"):
        write_take(odd, tmp_path / "x.bvh")
    assert not (tmp_path / "x.bvh").exists()
    with pytest.raises(InputError):
        read_take(tmp_path / "missing.bvh")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_cli_convert_mocap_bvh_and_corrupt_file(mocap_file, tmp_path):
    src = mocap_file("cmu_asf/01_01.bvh")
    out = tmp_path / "o.bvh"
    done = run_cli("convert", str(src), str(out), "--rig", "mixamo", "--frame-range", "0:120", "--fps", "30")
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "mixamorig:Hips" in text and "Frames: 30\n" in text
    bad = tmp_path / "bad.bvh"
    bad.write_text("HIERARCHY\nROOT x\n{\n OFFSET 0 0\n")
    failed = run_cli("convert", str(bad), str(tmp_path / "never.bvh"))
    assert failed.returncode != 0
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.bvh" in lines[0] and "Traceback" not in failed.stderr
    assert not (tmp_path / "never.bvh").exists()
