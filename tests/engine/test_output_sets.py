"""A take's files are one set: a failed, interrupted, killed or concurrent run never leaves a mix
of old and new files, a temporary, a replaced read-only file or an empty folder it created."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from engine.animation.formats import ExportOptions, read_take
from engine.core.atomic import file_set
from engine.core.errors import InputError, OutputError
from engine.core.take import Take, load_npz, save_npz
from engine.session.outputs import write_outputs
from tests.conftest import ctrl_c_as_from_a_terminal
from tests.engine.take_samples import body_take

REPO = Path(__file__).resolve().parents[2]
FORMATS = ("npz", "csv", "bvh", "trc")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def set_frames(folder: Path, stem: str) -> dict[str, int]:
    """How many frames each file of the set holds, read from the files themselves."""
    bvh = (folder / f"{stem}.bvh").read_text().split("Frames:")[1].split()[0]
    return {"npz": load_npz(folder / f"{stem}.npz").num_frames,
            "csv": len((folder / f"{stem}.csv").read_text().splitlines()) - 1,
            "bvh": int(bvh),
            "trc": int((folder / f"{stem}.trc").read_text().splitlines()[2].split("\t")[2]),
            "json": json.loads((folder / f"{stem}.json").read_text())["frames"]}


@pytest.fixture
def old_set(tmp_path):
    out = tmp_path / "out"
    write_outputs(body_take(40), out, "clip", FORMATS)
    assert set(set_frames(out, "clip").values()) == {40}
    return out


def test_frame_range_outside_the_frames_keeps_the_old_set(old_set):
    before = snapshot(old_set)
    with pytest.raises(InputError, match="outside the take's 60 frames"):
        write_outputs(body_take(60), old_set, "clip", FORMATS, options=ExportOptions(start_frame=100, end_frame=200))
    assert snapshot(old_set) == before


def test_full_disk_half_way_keeps_the_old_set_and_no_temporary(old_set, monkeypatch):
    import engine.animation.formats as formats
    from engine.core.atomic import atomic_path

    def disk_full(take, path, units="mm"):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"PathFileType\t4\t(X/Y/Z)\t" + b"x" * 1000)
            raise OSError(28, "No space left on device")

    before = snapshot(old_set)
    monkeypatch.setattr(formats, "write_trc", disk_full)
    with pytest.raises(OutputError, match="No space left on device"):
        write_outputs(body_take(60), old_set, "clip", FORMATS)
    assert snapshot(old_set) == before


def test_interrupt_half_way_keeps_the_old_set_and_removes_the_new_folder(old_set, tmp_path, monkeypatch):
    import engine.animation.formats as formats

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    before = snapshot(old_set)
    monkeypatch.setattr(formats, "write_bvh", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(body_take(60), old_set, "clip", FORMATS)
    assert snapshot(old_set) == before
    fresh = tmp_path / "new" / "deeper"
    with pytest.raises(KeyboardInterrupt):
        write_outputs(body_take(60), fresh, "clip", FORMATS)
    assert not (tmp_path / "new").exists()


def test_a_read_only_output_is_an_error_and_nothing_is_replaced(old_set):
    csv = old_set / "clip.csv"
    csv.chmod(0o444)
    before = snapshot(old_set)
    with pytest.raises(OutputError, match="clip.csv: the existing file is read-only and is not replaced"):
        write_outputs(body_take(60), old_set, "clip", FORMATS)
    assert snapshot(old_set) == before
    assert stat.S_IMODE(csv.stat().st_mode) == 0o444


def test_a_new_set_replaces_the_old_one_whole(old_set):
    write_outputs(body_take(60), old_set, "clip", FORMATS)
    assert set(set_frames(old_set, "clip").values()) == {60}
    assert sorted(p.name for p in old_set.iterdir()) == [f"clip.{f}" for f in ("bvh", "csv", "json", "npz", "trc")]


def _write_set(args) -> None:
    folder, frames, barrier = args
    barrier.wait()
    write_outputs(body_take(frames), folder, "clip", FORMATS)


def test_concurrent_runs_on_the_same_stem_never_mix(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for round_ in range(6):
        folder = tmp_path / f"round{round_}"
        barrier = ctx.Barrier(2)
        workers = [ctx.Process(target=_write_set, args=((folder, frames, barrier),)) for frames in (40, 60)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
            assert w.exitcode == 0
        frames = set_frames(folder, "clip")
        assert len(set(frames.values())) == 1, frames
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_a_commit_killed_half_way_is_finished_by_the_next_run(old_set):
    script = textwrap.dedent(f"""
        import os
        import engine.core.atomic as atomic
        from engine.session.outputs import write_outputs
        from tests.engine.take_samples import body_take

        real, done = os.replace, []
        def replace_then_die(src, dst):
            real(src, dst)
            done.append(dst)
            if len(done) == 2:
                os._exit(9)
        atomic.os.replace = replace_then_die
        write_outputs(body_take(60), {str(old_set)!r}, "clip", {FORMATS!r})
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 9, result.stderr
    assert (old_set / ".clip.commit").exists()
    with file_set(old_set, "clip"):
        pass
    assert set(set_frames(old_set, "clip").values()) == {60}
    assert not [p.name for p in old_set.iterdir() if p.name.startswith(".")]


def test_a_set_that_cannot_be_written_whole_leaves_the_old_one(tmp_path):
    out = tmp_path / "gui"
    write_outputs(body_take(40), out, "take", ("csv", "trc"))
    before = snapshot(out)
    with pytest.raises(InputError):
        write_outputs(body_take(40), out, "take", ("csv", "trc"), options=ExportOptions(start_frame=50))
    with pytest.raises(InputError, match="unknown format obj"):
        write_outputs(body_take(40), out, "take", ("csv", "obj"))
    assert snapshot(out) == before


# ---- signals through the command line ----------------------------------------------------------


def start_cli(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "engine.cli", *map(str, args)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_from_a_terminal)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


def test_ctrl_c_during_start_up_is_one_line(tmp_path):
    proc = start_cli("convert", tmp_path / "missing.npz", tmp_path / "out.csv")
    time.sleep(0.3)  # the engine's imports take seconds
    proc.send_signal(signal.SIGINT)
    code, err = finish(proc)
    assert (code, err) == (130, "monocap: interrupted\n")


@pytest.fixture(scope="module")
def big_take(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.npz"
    rng = np.random.default_rng(1)
    take = body_take(60_000)
    save_npz(take.with_joints(take.joints_m + rng.normal(scale=1e-3, size=take.joints_m.shape)), path)
    return path


def test_sigterm_while_writing_leaves_the_old_file_and_no_temporary(tmp_path, big_take):
    out = tmp_path / "out.npz"
    out.write_bytes(b"the user's only copy")
    proc = start_cli("convert", big_take, out)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.npz.*.part")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGTERM)
    code, err = finish(proc)
    assert (code, err) == (130, "monocap: interrupted\n")
    assert out.read_bytes() == b"the user's only copy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz"]


def test_sigterm_leaves_no_folder_the_run_created(tmp_path, big_take):
    target = tmp_path / "new" / "take.npz"
    proc = start_cli("convert", big_take, target)
    deadline = time.monotonic() + 120
    while not (tmp_path / "new").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGTERM)
    code, err = finish(proc)
    assert (code, err) == (130, "monocap: interrupted\n")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_the_renames_waits_for_the_whole_set(old_set, monkeypatch, ctrl_c_raises):
    import engine.core.atomic as atomic

    real = os.replace

    def replace_and_interrupt(src, dst):
        if not replace_and_interrupt.sent:
            replace_and_interrupt.sent = True
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs here, between bytecodes
        real(src, dst)

    replace_and_interrupt.sent = False
    monkeypatch.setattr(atomic.os, "replace", replace_and_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(body_take(60), old_set, "clip", FORMATS)
    assert set(set_frames(old_set, "clip").values()) == {60}
    assert not [p.name for p in old_set.iterdir() if p.name.startswith(".")]


def test_a_format_the_take_cannot_be_written_in_is_a_note_when_the_caller_keeps_notes(tmp_path):
    from engine.core.skeletons import H36M_17

    frames = 10
    joints = np.tile(np.linspace(0.0, 1.0, 17 * 3).reshape(1, 17, 3), (frames, 1, 1))
    take = Take(joints, H36M_17, 30.0, np.arange(frames) / 30.0, np.ones(frames, bool))
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = write_outputs(take, tmp_path, "clip", ("npz", "bvh"), notes=notes)
    assert [p.name for p in written] == ["clip.npz", "clip.json"]
    assert len(notes) == 1 and notes[0].startswith("clip.bvh not written: skeleton h36m_17 lacks joints")


# ---- after kill -9: temporaries, half-done commits, people ---------------------------------------


def _kill_while_writing(folder: Path, stem: str) -> None:
    """A run killed with -9 while its temporaries are being written."""
    script = textwrap.dedent(f"""
        import os, signal
        import engine.animation.formats as formats
        from engine.session.outputs import write_outputs
        from tests.engine.take_samples import body_take

        def killed(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        formats.write_bvh = killed
        write_outputs(body_take(60), {str(folder)!r}, {stem!r}, {FORMATS!r})
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == -signal.SIGKILL, result.stderr


def test_the_next_run_in_a_folder_removes_the_temporaries_of_a_killed_run(old_set):
    _kill_while_writing(old_set, "clip")
    left = sorted(p.name for p in old_set.glob(".clip.*.part"))
    assert left, "the killed run left no temporary"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = left[0].split(".")[3].split("~")[0]  # .clip.EXT.HOST~PID.XXXXXXXX.part
        live = old_set / f".other.csv.{host}~{sleeper.pid}.abcdefgh.part"
        live.write_bytes(b"being written")
        unnamed_old, unnamed_new = old_set / ".clip.trc.abcdefgh.part", old_set / ".clip.trc.hgfedcba.part"
        for path in (unnamed_old, unnamed_new):
            path.write_bytes(b"x")
        os.utime(unnamed_old, (time.time() - 7200, time.time() - 7200))
        before = snapshot(old_set)
        next_run = textwrap.dedent(f"""
            from engine.session.outputs import write_outputs
            from tests.engine.take_samples import body_take
            write_outputs(body_take(40), {str(old_set)!r}, "another", ("csv",))
        """)
        subprocess.run([sys.executable, "-c", next_run], cwd=REPO, check=True, timeout=300)
        assert not [name for name in left if (old_set / name).exists()]
        assert live.exists() and unnamed_new.exists() and not unnamed_old.exists()
        assert {k: v for k, v in snapshot(old_set).items() if k.startswith("clip.")} == \
               {k: v for k, v in before.items() if k.startswith("clip.")}
    finally:
        sleeper.kill()
        sleeper.wait()


def _kill_half_way_through_the_renames(folder: Path, script_body: str) -> None:
    script = textwrap.dedent("""
        import os
        import engine.core.atomic as atomic
        from tests.engine.take_samples import body_take

        real, done = os.replace, []
        def replace_then_die(src, dst):
            real(src, dst)
            done.append(dst)
            if len(done) == 2:
                os._exit(9)
        atomic.os.replace = replace_then_die
    """) + textwrap.dedent(script_body)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 9, result.stderr


def test_a_reader_finishes_a_commit_killed_half_way_before_it_reads(old_set):
    from engine.core.atomic import settle_interrupted_commits

    _kill_half_way_through_the_renames(old_set, f"""
        from engine.session.outputs import write_outputs
        write_outputs(body_take(60), {str(old_set)!r}, "clip", {FORMATS!r})
    """)
    assert len(set(set_frames(old_set, "clip").values())) == 2  # a mix: what a reader must never see
    assert read_take(old_set / "clip.trc").num_frames == 60  # inspect and convert read through read_take
    assert set(set_frames(old_set, "clip").values()) == {60}
    settle_interrupted_commits(old_set / "clip.trc")  # nothing left to finish
    assert not [p.name for p in old_set.iterdir() if p.name.startswith(".")]


def test_a_batch_resuming_in_a_folder_finishes_its_half_done_commits_first(old_set):
    from engine.session.batch import BatchItem, BatchJob, run_batch

    _kill_half_way_through_the_renames(old_set, f"""
        from engine.session.outputs import write_outputs
        write_outputs(body_take(60), {str(old_set)!r}, "clip", {FORMATS!r})
    """)
    run_batch([BatchItem("clip.mp4", "clip")], BatchJob(str(old_set), config=None),
              executor=lambda items, job, record, cancelled: None)
    assert set(set_frames(old_set, "clip").values()) == {60}


class _People:
    """A session that found `frames` frames of each of two people."""

    def __init__(self, frames: int):
        self.frames = frames

    def process_people(self, wanted):
        from engine.session.people_takes import PersonTake

        people = []
        for number in (1, 2):
            take = body_take(self.frames)
            take.metadata["person"] = {"presence": 1.0}
            people.append(PersonTake(number, take, 0, number))
        return people


def test_everyones_files_and_the_people_listing_are_one_set(tmp_path, monkeypatch):
    import engine.session.people_takes as people_takes
    from engine.session.people_files import process_to_files

    out = tmp_path / "out"
    process_to_files(_People(40), 2, out, "clip", FORMATS)
    before = snapshot(out)
    assert "clip_people.json" in before and "clip_p2.bvh" in before

    real = people_takes.write_json

    def listing_fails(path, data):
        if path.name.endswith("_people.json"):
            raise OSError(28, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(people_takes, "write_json", listing_fails)
    with pytest.raises((OSError, OutputError)):
        process_to_files(_People(60), 2, out, "clip", FORMATS)
    assert snapshot(out) == before


def test_a_people_commit_killed_half_way_is_finished_from_any_persons_file(tmp_path):
    from engine.core.atomic import settle_interrupted_commits
    from engine.session.people_files import process_to_files

    out = tmp_path / "out"
    process_to_files(_People(40), 2, out, "clip", FORMATS)
    _kill_half_way_through_the_renames(out, f"""
        from engine.session.people_files import process_to_files
        from tests.engine.test_output_sets import _People
        process_to_files(_People(60), 2, {str(out)!r}, "clip", {FORMATS!r})
    """)
    assert (out / ".clip.commit").exists()
    settle_interrupted_commits(out / "clip_p2.csv")
    for stem in ("clip_p1", "clip_p2"):
        assert set(set_frames(out, stem).values()) == {60}
    assert [p["last_frame"] for p in json.loads((out / "clip_people.json").read_text())["people"]] == [59, 59]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
