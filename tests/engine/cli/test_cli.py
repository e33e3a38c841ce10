"""The command line as a user runs it: files out, one clear line for every bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.lift.modes import DEFAULT_MODE
from tests.engine.video_helpers import read_frames, write_video

REPO = Path(__file__).resolve().parents[3]


def monocap(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "engine.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=300)


def _assert_one_clear_line(result, *words):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    err = [line for line in result.stderr.strip().splitlines() if line.startswith("monocap:")]
    assert len(err) == 1, result.stderr
    for w in words:
        assert w in err[0], err[0]


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory, sample_clip):
    folder = tmp_path_factory.mktemp("clips")
    return write_video(folder / "short take.mp4", read_frames(sample_clip, 40), fps=24)


def test_process_writes_take_csv_and_settings(tmp_path, short_clip):
    result = monocap("process", short_clip, "-o", tmp_path / "out", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    out = tmp_path / "out"
    data = np.load(out / "short take.npz")
    assert data["joints_m"].shape == (40, 22, 3)
    assert data["keypoints_px"].shape == (40, 33, 2)
    assert float(data["fps"]) == pytest.approx(24, rel=0.01)
    assert np.isfinite(data["joints_m"][data["valid"]]).all()
    header = (out / "short take.csv").read_text().splitlines()[0]
    assert header.startswith("frame,time_s,pelvis_x_m")
    meta = json.loads((out / "short take.json").read_text())
    assert meta["settings"]["smoothing"] == 0.5 and "mediapipe" in meta["versions"]
    assert meta["settings"]["mode"] == DEFAULT_MODE and meta["take"]["config"]["lift"]["mode"] == DEFAULT_MODE
    assert not list(out.glob("*.part"))


def test_process_with_hands_writes_finger_columns_and_joints(tmp_path, short_clip):
    result = monocap("process", short_clip, "-o", tmp_path / "out", "--quiet", "--hands", "--rig", "mixamo",
                     "--formats", "npz,csv,bvh")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    data = np.load(out / "short take.npz")
    assert data["joints_m"].shape == (40, 62, 3) and str(data["skeleton_name"]) == "monocap_hands"
    assert data["hand_keypoints_px"].shape == (40, 2, 21, 2)
    assert "left_index1_x_m" in (out / "short take.csv").read_text().splitlines()[0]
    bvh = (out / "short take.bvh").read_text()
    assert bvh.count("JOINT mixamorig:LeftHandIndex") == 3 and bvh.count("JOINT mixamorig:RightHandThumb") == 3
    assert json.loads((out / "short take.json").read_text())["take"]["config"]["hands"] is True


def test_bad_inputs_give_one_line(tmp_path):
    junk = tmp_path / "holiday.mp4"
    junk.write_bytes(b"\x00" * 5000)
    _assert_one_clear_line(monocap("process", junk, "-o", tmp_path), "holiday.mp4")
    _assert_one_clear_line(monocap("process", tmp_path / "missing.mp4", "-o", tmp_path), "missing.mp4", "no such file")
    _assert_one_clear_line(monocap("process", "--camera", "42", "-o", tmp_path), "camera 42")
    empty = tmp_path / "zero.avi"
    cv2 = pytest.importorskip("cv2")
    cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48)).release()
    _assert_one_clear_line(monocap("process", empty, "-o", tmp_path), "zero.avi")
    _assert_one_clear_line(monocap("process", junk, "--smoothing", "3", "-o", tmp_path), "from 0 (raw) to 1")


def test_unwritable_output_folder(tmp_path, short_clip):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _assert_one_clear_line(monocap("process", short_clip, "-o", blocker / "sub"), str(blocker / "sub"))


def test_batch_continues_past_a_bad_file_and_fails_overall(tmp_path, short_clip):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.mp4").write_bytes(b"garbage" * 1000)
    (folder / "notes.txt").write_text("not a video, not picked up from a folder")
    result = monocap("batch", folder, short_clip, "-o", tmp_path / "out")
    assert result.returncode == 1
    assert "1 of 2 videos processed" in result.stdout
    assert "FAILED" in result.stdout and "broken.mp4" in result.stdout
    assert (tmp_path / "out" / "short take.npz").exists()
    assert not (tmp_path / "out" / "broken.npz").exists()


def test_batch_glob_all_good(tmp_path, short_clip):
    result = monocap("batch", str(short_clip.parent / "*.mp4"), "-o", tmp_path / "o", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 of 1 videos processed" in result.stdout
