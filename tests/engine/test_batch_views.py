"""`monocap batch` over multi-camera takes (a folder each, holding its cameras' videos; the sample
clip and a second camera's view beside it, tests/app/rig_footage.py): the files `monocap process A B
--calibration` writes, a take's own calibration winning over --calibration, a second run skipping
what is done, one line for each bad take while the others go on, one line for a bad batch, and an
interrupted batch keeping the earlier files."""

from __future__ import annotations

import shutil
import signal

import numpy as np
import pytest

from engine.cli import main
from engine.core.skeletons import MONOCAP_BODY
from engine.core.take import load_npz
from engine.session.outputs import DEFAULT_FORMATS, write_outputs
from tests.app.rig_footage import write_pair
from tests.conftest import SHARED_DATA, shared_missing
from tests.engine.streaming.test_stream_views import wider_baseline
from tests.engine.take_samples import body_take
from tests.engine.test_batch_interrupts import (
    LINE,
    STOP_LIMIT_S,
    frames_in_set,
    launch,  # noqa: F401 - the fixture that starts and watches a run
    leftovers,
    manifest_lines,
    snapshot,
    wait_until_gone,
)

FRAMES = 24
POSE2SIM = SHARED_DATA / "truth" / "pose2sim_single"


@pytest.fixture(scope="module")
def takes(tmp_path_factory):
    """TAKES/walk (cam1.mp4, cam2.mp4) and TAKES/jump (the same, with its own calibration: the
    cameras twice as far apart), and rig.toml beside TAKES for --calibration."""
    root = tmp_path_factory.mktemp("rig")
    cam1, cam2, rig = write_pair(root, frames=FRAMES)
    for name in ("walk", "jump"):
        (root / "takes" / name).mkdir(parents=True)
        for video in (cam1, cam2):
            shutil.copy(video, root / "takes" / name / video.name)
    wider_baseline(rig, root / "takes" / "jump" / "calibration.toml", 2.0)
    return root


def _height(take) -> float:
    j = take.joints_m[take.valid]
    return float(np.median(j[:, MONOCAP_BODY.index("head"), 1] - j[:, MONOCAP_BODY.index("left_ankle"), 1]))


def test_a_batch_of_takes_writes_what_process_writes_and_skips_them_the_next_time(tmp_path, takes, capsys):
    out = tmp_path / "out"
    assert main(["batch", str(takes / "takes"), "--calibration", str(takes / "rig.toml"), "-o", str(out), "-q",
                 "--jobs", "2"]) == 0
    assert "batch: 2 of 2 takes processed" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{t}.{f}" for t in ("walk", "jump") for f in (*DEFAULT_FORMATS, "json")] + ["batch_manifest.jsonl"])
    by_process = tmp_path / "by_process"
    walk = takes / "takes" / "walk"
    assert main(["process", str(walk / "cam1.mp4"), str(walk / "cam2.mp4"), "--calibration", str(takes / "rig.toml"),
                 "-o", str(by_process), "-q"]) == 0
    batched, processed = load_npz(out / "walk.npz"), load_npz(by_process / "cam1_cam2.npz")
    assert batched.num_frames == FRAMES and batched.valid.mean() > 0.8
    np.testing.assert_array_equal(batched.joints_m, processed.joints_m)
    for fmt in ("bvh", "csv"):  # the same files, byte for byte
        assert (out / f"walk.{fmt}").read_bytes() == (by_process / f"cam1_cam2.{fmt}").read_bytes(), fmt
    # jump's own calibration (cameras twice as far apart) won over --calibration: twice the size
    assert 1.2 < _height(batched) < 2.2
    assert _height(load_npz(out / "jump.npz")) == pytest.approx(2 * _height(batched), rel=0.1)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != "batch_manifest.jsonl"}
    assert main(["batch", str(takes / "takes"), "--calibration", str(takes / "rig.toml"), "-o", str(out), "-q"]) == 0
    assert "(2 already done, skipped)" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != "batch_manifest.jsonl"} == before


def test_each_bad_take_is_one_line_and_the_others_go_on(tmp_path, takes, capsys):
    bad = tmp_path / "bad"
    (bad / "single").mkdir(parents=True)
    shutil.copy(takes / "cam1.mp4", bad / "single" / "cam1.mp4")
    (bad / "no_calibration").mkdir()
    for video in ("cam1.mp4", "cam2.mp4"):
        shutil.copy(takes / video, bad / "no_calibration" / video)
    shutil.copytree(bad / "no_calibration", bad / "two_calibrations")
    for name in ("a.toml", "b.toml"):
        shutil.copy(takes / "rig.toml", bad / "two_calibrations" / name)
    (bad / "cropped").mkdir()
    write_pair(bad / "cropped", frames=6, size_delta=40)  # cam2.mp4 40 px short of its calibrated size
    shutil.copytree(takes / "takes" / "jump", bad / "good")
    out = tmp_path / "out"
    assert main(["batch", str(bad), "--multi-camera", "-o", str(out), "-q", "--jobs", "1"]) == 1
    printed = capsys.readouterr().out
    assert "batch: 1 of 5 takes processed" in printed and "; 4 failed:" in printed
    failed = {line.split(":")[0].split("/")[-1]: line for line in printed.splitlines() if "FAILED" in line}
    assert sorted(failed) == ["cropped", "no_calibration", "single", "two_calibrations"]
    assert "holds one video (cam1.mp4)" in failed["single"]
    assert "no calibration" in failed["no_calibration"] and "--calibration FILE" in failed["no_calibration"]
    assert "2 calibration files (a.toml, b.toml)" in failed["two_calibrations"]
    assert "cam2.mp4: the video is 600x320 but camera cam2 was calibrated at 640x360" in failed["cropped"]
    statuses = {e["stem"]: e["status"] for e in manifest_lines(out)}
    assert statuses == {"single": "failed", "no_calibration": "failed", "two_calibrations": "failed",
                        "cropped": "failed", "good": "done"}
    assert load_npz(out / "good.npz").num_frames == FRAMES


def test_a_batch_of_takes_with_people_all_writes_what_process_writes_for_everyone(tmp_path, takes, capsys):
    out, by_process = tmp_path / "out", tmp_path / "by_process"
    walk = takes / "takes" / "walk"
    assert main(["batch", str(walk), "--calibration", str(takes / "rig.toml"), "--people", "all", "-o", str(out),
                 "-q", "--formats", "npz,bvh"]) == 0
    assert main(["process", str(walk / "cam1.mp4"), str(walk / "cam2.mp4"), "--calibration", str(takes / "rig.toml"),
                 "--people", "all", "-o", str(by_process), "-q", "--formats", "npz,bvh"]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["batch_manifest.jsonl", "walk_p1.bvh", "walk_p1.json",
                                                     "walk_p1.npz", "walk_people.json"]
    assert (out / "walk_p1.bvh").read_bytes() == (by_process / "cam1_cam2_p1.bvh").read_bytes()
    assert load_npz(out / "walk_p1.npz").metadata["three_d"] == "triangulated from calibrated cameras"


def test_what_is_wrong_with_the_whole_batch_is_one_line(tmp_path, takes, capsys):
    def error(*args) -> str:
        assert main(["batch", *map(str, args), "-o", str(tmp_path / "out"), "-q"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        return err

    folder = takes / "takes"
    assert "missing.toml: no such calibration file" in error(folder, "--calibration", tmp_path / "missing.toml")
    assert "give the folder of takes" in error(takes / "cam1.mp4", "--calibration", takes / "rig.toml")
    (tmp_path / "empty").mkdir()
    assert "no take folders" in error(tmp_path / "empty", "--multi-camera")
    assert "nowhere: no such folder" in error(tmp_path / "nowhere", "--multi-camera")
    for option in (["--hands"], ["--face"]):
        assert "without --hands or --face" in error(folder, "--calibration", takes / "rig.toml", *option)
    assert "--person N takes one camera's video" in error(folder, "--calibration", takes / "rig.toml", "--person", "2")
    assert not (tmp_path / "out" / "batch_manifest.jsonl").exists()


def test_ctrl_c_in_a_batch_of_takes_keeps_the_earlier_files(tmp_path, takes, launch):  # noqa: F811
    out = tmp_path / "out"
    write_outputs(body_take(12), out, "walk", DEFAULT_FORMATS)  # an earlier run's walk
    before = snapshot(out, "walk")
    watch = launch(out, "batch", takes / "takes", "--calibration", takes / "rig.toml", "--no-resume", "-o", out, "-q",
                   "--jobs", "2")
    assert watch.until_detecting(), watch.finish()
    sent = watch.signal(signal.SIGINT)
    code, err, ended = watch.finish()
    assert (code, err) == (130, LINE)
    assert ended - sent < STOP_LIMIT_S
    assert not wait_until_gone(watch.workers, 0.5)
    assert snapshot(out, "walk") == before and not (out / "jump.npz").exists()
    assert leftovers(out) == [] and [e for e in manifest_lines(out) if e["status"] == "done"] == []


def test_sigterm_while_a_take_is_written_keeps_the_earlier_files_or_the_new_ones_whole(tmp_path, takes, launch):  # noqa: F811
    out = tmp_path / "out"
    write_outputs(body_take(12), out, "walk", DEFAULT_FORMATS)
    before = snapshot(out, "walk")
    watch = launch(out, "batch", takes / "takes" / "walk", "--calibration", takes / "rig.toml", "-o", out, "-q",
                   "--jobs", "2")
    assert watch.until_writing(), watch.finish()
    watch.signal(signal.SIGTERM, group=True)
    code, err, _ = watch.finish()
    assert not wait_until_gone(watch.workers, 0.5)
    assert leftovers(out) == []
    if snapshot(out, "walk") != before:  # the signal came once the renames had begun: the new set, whole
        assert set(frames_in_set(out, "walk").values()) == {FRAMES}
    assert (code, err) in ((130, LINE), (0, ""))


def test_take_folders_are_named_by_their_whole_name_and_kept_apart():
    from engine.session.batch_names import plan_items

    items = plan_items(["a/take.01", "b/take.01", "c/walk"], folders=True)
    assert [i.stem for i in items] == ["take.01", "b_take.01", "walk"]
    assert [i.stem for i in plan_items(["a/take.01.mp4"])] == ["take.01"]  # one camera's files: as before


@pytest.mark.slow
@pytest.mark.skipif(not (POSE2SIM / "videos").is_dir(), reason=shared_missing("pose2sim_single"))
def test_a_take_of_real_cameras_with_its_qualisys_calibration_against_the_truth(tmp_path, capsys):
    """pose2sim_single's cam01 + cam03 as a take folder holding its Calib.qca.txt: the take as
    accurate as `process` makes it, and cam01's decoder's crop said in the batch's warnings."""
    from tests.engine.multiview.test_multiview_real import PA_MAX_MM, RIGID_MAX_MM
    from training.common.metrics import rigid_mpjpe_mm
    from training.common.real_truth import load_truth_clip, score_take, take_joints_cam

    take_dir = tmp_path / "takes" / "kick"
    take_dir.mkdir(parents=True)
    for source in (POSE2SIM / "videos" / "cam01.mp4", POSE2SIM / "videos" / "cam03.mp4", POSE2SIM / "Calib.qca.txt"):
        (take_dir / source.name).symlink_to(source)
    out = tmp_path / "out"
    assert main(["batch", str(tmp_path / "takes"), "--multi-camera", "-o", str(out), "-q", "--jobs", "1"]) == 0
    assert "cam01.mp4: decoded 1080x1920, calibrated 1088x1920" in capsys.readouterr().err
    take = load_npz(out / "kick.npz")
    clip = load_truth_clip(POSE2SIM)
    score = score_take(take, clip, 0)
    rigid = rigid_mpjpe_mm(take_joints_cam(take, clip.joint_names), clip.joints_cam[0])
    assert score["pa_mpjpe_mm"] <= PA_MAX_MM and rigid <= RIGID_MAX_MM, (score, rigid)


def test_a_take_folder_holding_easymocaps_calibration_uses_it(tmp_path, takes):
    from engine.multiview.calibration_files import read_calibration, write_calibration
    from engine.session.batch_views import take_inputs

    folder = tmp_path / "take"
    shutil.copytree(takes / "takes" / "walk", folder)
    write_calibration(read_calibration(takes / "rig.toml"), folder, fmt="easymocap")  # intri.yml + extri.yml
    videos, calibration = take_inputs(folder, str(takes / "rig.toml"))
    assert [v.name for v in videos] == ["cam1.mp4", "cam2.mp4"] and calibration == folder
    assert read_calibration(calibration).names == ("cam1", "cam2")
