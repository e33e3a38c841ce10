"""Batch at scale: worker processes, a manifest that makes a batch resumable, and a Ray cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.session.batch import MANIFEST_NAME, BatchItem, BatchJob, Manifest, default_jobs, plan_items
from tests.engine.video_helpers import read_frames, write_video

REPO = Path(__file__).resolve().parents[2]
ARRAYS = ("joints_m", "valid", "keypoints_px", "keypoint_scores", "fps", "timestamps_s")


def monocap(*args, **kw):
    return subprocess.run([sys.executable, "-m", "engine.cli", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def clips(tmp_path_factory, sample_clip):
    """Three short good clips (one a repeated name in another folder) and one corrupt file."""
    folder = tmp_path_factory.mktemp("batch_in")
    frames = [cv for cv in read_frames(sample_clip, 36, size=(320, 180))]
    write_video(folder / "a.mp4", frames[:12], fps=24)
    write_video(folder / "b.mp4", frames[12:24], fps=24)
    (folder / "sub").mkdir()
    write_video(folder / "sub" / "a.mp4", frames[24:36], fps=24)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(3000))
    return folder


def _arrays(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in ARRAYS}


def test_stems_are_unique_in_input_order():
    items = plan_items(["x/a.mp4", "y/a.mp4", "b.mov", "z/a.avi"])
    assert [i.stem for i in items] == ["a", "y_a", "b", "z_a"]


def test_a_stem_made_for_a_repeated_name_never_takes_another_inputs_name(tmp_path):
    from engine.cli.batch import expand_inputs

    for name in ("good1.mp4", "good1_2.mp4", "sub/good1.mp4", "sub_good1.mp4"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    items = plan_items(expand_inputs([str(tmp_path)]))
    assert {Path(i.input).relative_to(tmp_path).as_posix(): i.stem for i in items} == {
        "good1.mp4": "good1", "good1_2.mp4": "good1_2", "sub_good1.mp4": "sub_good1",
        "sub/good1.mp4": f"{tmp_path.name}_sub_good1"}


def _file_names(stem: str, people: int = 3) -> set[str]:
    """The names a stem's files take, with --people up to `people`, as a case-blind file system sees them."""
    return {n.casefold() for n in [stem, f"{stem}_people"] + [f"{stem}_p{k}" for k in range(1, people + 1)]}


def test_stems_never_share_a_file_name_whatever_the_inputs_are_called():
    rng = np.random.default_rng(7)
    parts = ["a", "A", "a_2", "a_p1", "a_people", "x_a", "b", "x", "y"]
    for _ in range(300):
        files = [f"{rng.choice(['x', 'y', 'x/x'])}/{rng.choice(parts)}{rng.choice(['.mp4', '.avi'])}"
                 for _ in range(rng.integers(2, 9))]
        files = list(dict.fromkeys(files))
        items = plan_items(files)
        assert plan_items(files) == items  # the same inputs, the same stems: a resumed batch finds its files
        names = [_file_names(i.stem) for i in items]
        for k, mine in enumerate(names):
            others = set().union(*(n for j, n in enumerate(names) if j != k))
            assert not mine & others, (files, [i.stem for i in items])
        assert items[0].stem == Path(files[0]).stem  # the first input keeps its name


def test_default_jobs_counts_cores_and_free_memory():
    assert default_jobs(cpu_count=2, available_bytes=16 * 2**30) == 2
    assert default_jobs(cpu_count=16, available_bytes=4 * 2**30) == 3  # memory-bound: 1.3 GB a worker
    assert default_jobs(cpu_count=8, available_bytes=10**8) == 1  # never zero


@pytest.mark.slow
def test_jobs_2_writes_what_jobs_1_writes_and_a_rerun_skips_done_work(tmp_path, clips):
    one, two = tmp_path / "one", tmp_path / "two"
    r1 = monocap("batch", clips, "-o", one, "--jobs", "1", "-q", "--formats", "npz,csv")
    r2 = monocap("batch", clips, "-o", two, "--jobs", "2", "-q", "--formats", "npz,csv")
    for r in (r1, r2):
        assert r.returncode == 1, r.stderr  # the corrupt file fails the batch, the others are written
        assert "3 of 4 videos processed" in r.stdout and "FAILED" in r.stdout and "broken.mp4" in r.stdout
    for stem in ("a", "sub_a", "b"):
        a, b = _arrays(one / f"{stem}.npz"), _arrays(two / f"{stem}.npz")
        for k in ARRAYS:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{stem}: {k}")
    entries = Manifest(two).read()
    assert {e["stem"]: e["status"] for e in entries.values()} == {
        "a": "done", "sub_a": "done", "b": "done", "broken": "failed"}
    assert all(e["frames"] == 12 for e in entries.values() if e["status"] == "done")
    failed = [e for e in entries.values() if e["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"]

    before = {p.name: p.stat().st_mtime_ns for p in two.glob("*.npz")}
    again = monocap("batch", clips, "-o", two, "--jobs", "2", "-q", "--formats", "npz,csv")
    assert "3 already done, skipped" in again.stdout, again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in two.glob("*.npz")} == before
    (two / "b.csv").unlink()  # an incomplete set is redone
    third = monocap("batch", clips, "-o", two, "-q", "--formats", "npz,csv")
    assert "2 already done, skipped" in third.stdout and (two / "b.csv").is_file()


def test_a_killed_batch_resumes_where_it_stopped(tmp_path, clips):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", str(clips), "-o", str(out), "--jobs", "1",
                             "-q", "--formats", "npz"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    manifest = out / MANIFEST_NAME
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (manifest.exists() and manifest.read_text().count("\n") >= 1):
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    done_first = [e for e in Manifest(out).read().values() if e["status"] == "done"]
    assert 1 <= len(done_first) < 3
    resumed = monocap("batch", clips, "-o", out, "--jobs", "1", "-q", "--formats", "npz")
    assert f"{len(done_first)} already done, skipped" in resumed.stdout, resumed.stdout
    assert sorted(p.name for p in out.glob("*.npz")) == ["a.npz", "b.npz", "sub_a.npz"]
    assert not list(out.glob("*.part")) and not list(out.glob(".*.part"))


def test_manifest_ignores_a_line_cut_short(tmp_path):
    m = Manifest(tmp_path)
    m.path.write_text(json.dumps({"input": "x.mp4", "stem": "x", "status": "done", "outputs": {}}) + "\n{\"inp")
    assert list(m.read()) == ["x.mp4"]
    assert not m.is_complete(m.read()["x.mp4"], BatchItem("x.mp4", "x"))  # no outputs listed: not complete


def _line(name: str, **fields) -> str:
    return json.dumps({"input": f"{name}.mp4", "stem": name, "status": "done", "frames": 12, "valid_frames": 12,
                       "outputs": {f"{name}.npz": 3}} | fields)


def test_a_batch_resumes_over_damaged_manifest_lines(tmp_path):
    from engine.session.batch import ItemResult, run_batch

    for name in ("good", "listed", "garbage", "cut"):
        (tmp_path / f"{name}.npz").write_bytes(b"abc")
    manifest = tmp_path / MANIFEST_NAME
    manifest.write_text("\n".join([_line("good"), "\x00\xff not json {", _line("listed", outputs=["listed.npz"]),
                                   "[1, 2]", _line("garbage", frames="many"), _line("cut")[:25]]))
    ran = []

    def executor(items, job, record, cancelled):
        for item in items:
            ran.append(item.stem)
            record(ItemResult(item.input, item.stem, "done", frames=12, outputs={f"{item.stem}.npz": 3}))

    items = [BatchItem(f"{n}.mp4", n) for n in ("good", "listed", "garbage", "cut")]
    job = BatchJob(str(tmp_path), config=None)
    summary = run_batch(items, job, executor=executor)
    assert [r.status for r in summary.results] == ["skipped", "done", "done", "done"]
    assert ran == ["listed", "garbage", "cut"]
    again = run_batch(items, job, executor=executor)  # every line written after the damage is read back
    assert [r.status for r in again.results] == ["skipped"] * 4


def test_a_folder_where_the_manifest_goes_is_a_one_line_error(tmp_path, clips):
    (tmp_path / "o" / MANIFEST_NAME).mkdir(parents=True)
    r = monocap("batch", clips / "a.mp4", "-o", tmp_path / "o", "-q")
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert f"{MANIFEST_NAME}: is a folder" in r.stderr


def test_bad_jobs_and_unreachable_cluster_are_one_line_errors(tmp_path, clips):
    r = monocap("batch", clips, "-o", tmp_path / "o", "--jobs", "0")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--jobs 0" in r.stderr
    r = monocap("batch", clips, "-o", tmp_path / "o", "--ray", "127.0.0.1:9")
    assert r.returncode == 2 and "--ray 127.0.0.1:9" in r.stderr and "Traceback" not in r.stderr, r.stderr


def _ray_task_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"process_on_node" in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


@pytest.mark.slow
def test_ray_cluster_runs_the_batch_survives_a_killed_worker_and_matches_jobs_1(tmp_path, clips):
    ray = pytest.importorskip("ray")
    import threading

    from engine.cli import build_parser
    from engine.cli.export_arguments import export_options_from_args
    from engine.cli.run_arguments import config_from_args
    from engine.session.batch import BatchJob, run_batch
    from engine.session.ray_batch import ray_executor

    serial = tmp_path / "serial"
    assert monocap("batch", clips, "-o", serial, "--jobs", "1", "-q", "--formats", "npz").returncode == 1
    args = build_parser().parse_args(["batch", str(clips), "-o", str(tmp_path / "ray"), "--formats", "npz"])
    job = BatchJob(str(tmp_path / "ray"), config_from_args(args), ("npz",), export_options_from_args(args))
    from engine.cli.batch import expand_inputs

    items = plan_items(expand_inputs([str(clips)]))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    killed = []

    def kill_one_worker():
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not killed:
            pids = _ray_task_pids()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    try:
        summary = run_batch(items, job, executor=ray_executor("auto", retries=2))
    finally:
        ray.shutdown()
    killer.join(5)
    assert killed, "no Ray task process was seen to kill"
    assert sorted(Path(r.input).name for r in summary.done) == ["a.mp4", "a.mp4", "b.mp4"]
    assert [Path(r.input).name for r in summary.failed] == ["broken.mp4"]
    for stem in ("a", "sub_a", "b"):
        a, b = _arrays(serial / f"{stem}.npz"), _arrays(tmp_path / "ray" / f"{stem}.npz")
        for k in ARRAYS:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{stem}: {k}")
