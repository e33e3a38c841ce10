"""Ctrl+C, SIGTERM and kill -9 at any moment of `monocap process` and `monocap batch`: the run prints
one line and exits 130 (or ends as usual when the signal comes after its work), the take set already
in the folder stays byte for byte or is replaced whole, a batch ends within 2 s and no worker
outlives it, and no temporary is left behind."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import traceback
import weakref
from pathlib import Path

import pytest

from engine.core.take import load_npz
from engine.session.outputs import DEFAULT_FORMATS, write_outputs
from tests.conftest import REPO
from tests.engine.take_samples import body_take
from tests.engine.video_helpers import read_frames, write_video

SEED = 1306
# MONOCAP_INTERRUPT_TRIALS=N runs N times as many random trials (a longer campaign than the suite's).
SCALE = float(os.environ.get("MONOCAP_INTERRUPT_TRIALS", "1"))
LINE = "monocap: interrupted\n"
OLD_FRAMES, NEW_FRAMES = 12, 36
STOP_LIMIT_S = 2.0  # a batch ends this soon after the signal


# ---- what a folder holds -------------------------------------------------------------------------


def snapshot(folder: Path, stem: str = "take") -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob(f"{stem}.*"))}


def frames_in_set(folder: Path, stem: str) -> dict[str, int]:
    """Frames each file of STEM's set holds, read from the files themselves."""
    counts = {"npz": load_npz(folder / f"{stem}.npz").num_frames,
              "csv": len((folder / f"{stem}.csv").read_text().splitlines()) - 1,
              "bvh": int((folder / f"{stem}.bvh").read_text().split("Frames:")[1].split()[0])}
    sidecar = json.loads((folder / f"{stem}.json").read_text())
    counts["json"] = sidecar["frames"]
    assert sorted(sidecar["files"]) == sorted(f"{stem}.{f}" for f in DEFAULT_FORMATS), sidecar["files"]
    return counts


def set_state(folder: Path, stem: str, before: dict[str, bytes]) -> str:
    """'old' (byte for byte), 'new' (every file of one new run), or what is wrong."""
    if snapshot(folder, stem) == before:
        return "old"
    counts = frames_in_set(folder, stem)
    return "new" if set(counts.values()) == {NEW_FRAMES} else f"mixed {counts}"


def leftovers(folder: Path) -> list[str]:
    """Temporaries, journals and locks: nothing of the kind stays after a run."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def earlier_set(folder: Path) -> dict[str, bytes]:
    write_outputs(body_take(OLD_FRAMES), folder, "take", DEFAULT_FORMATS)
    return snapshot(folder)


# ---- processes ------------------------------------------------------------------------------------


def _as_from_a_terminal() -> None:
    """Ctrl+C as a terminal's foreground command gets it, even where this suite was started in the
    background (which ignores it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args) -> subprocess.Popen:
    """`monocap ARGS` in a session of its own, so that its process group can be signalled."""
    return subprocess.Popen([sys.executable, "-m", "engine.cli", *map(str, args)], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_as_from_a_terminal)


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    return found


def alive(pids: set[int]) -> set[int]:
    running = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def wait_until_gone(pids: set[int], limit_s: float) -> set[int]:
    deadline = time.monotonic() + limit_s
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive(pids)


class Watch:
    """Follows a run: its worker processes as they appear, and the moment a temporary appears."""

    def __init__(self, proc: subprocess.Popen, folder: Path):
        self.proc, self.folder, self.workers = proc, folder, set()

    def running(self) -> bool:
        self.workers |= children_of(self.proc.pid)
        return self.proc.poll() is None

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.01)

    def until_writing(self, limit_s: float = 240) -> bool:
        deadline = time.monotonic() + limit_s
        while self.running() and time.monotonic() < deadline:
            if any(p.name.endswith(".part") for p in self.folder.iterdir()):
                return True
            time.sleep(0.002)
        return False


    def until_detecting(self, limit_s: float = 240) -> bool:
        """Until a worker has loaded the detector: its video's files are a second or more away."""
        deadline = time.monotonic() + limit_s
        while self.running() and time.monotonic() < deadline:
            if any("libmediapipe" in _memory_map(pid) for pid in self.workers):
                return True
            time.sleep(0.005)
        return False

    def signal(self, signum: int, group: bool = False) -> float | None:
        """Sends it while the run lasts; the moment it was sent, or None when the run had ended."""
        if not self.running():
            return None
        (os.killpg if group else os.kill)(self.proc.pid, signum)
        return time.monotonic()

    def finish(self) -> tuple[int, str, float]:
        """The exit status, what it wrote to stderr, and when it ended."""
        self.proc.wait(300)
        ended = time.monotonic()
        _, err = self.proc.communicate(timeout=300)
        return self.proc.returncode, err, ended

    def end_what_is_left(self) -> None:
        for pid in alive(self.workers | {self.proc.pid}):
            os.kill(pid, signal.SIGKILL)


def _memory_map(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "maps").read_text()
    except OSError:
        return ""


@pytest.fixture
def launch():
    """Starts `monocap ARGS` watched over FOLDER; whatever of it is still alive at the end is killed."""
    watches: list[Watch] = []

    def start_watched(folder: Path, *args) -> Watch:
        watches.append(Watch(start(*args), folder))
        return watches[-1]

    yield start_watched
    for watch in watches:
        watch.end_what_is_left()


@pytest.fixture(scope="module")
def takes(tmp_path_factory, sample_clip) -> Path:
    """B/take.mp4 and C/take.mp4: two inputs of the same name, NEW_FRAMES frames each."""
    folder = tmp_path_factory.mktemp("videos")
    frames = read_frames(sample_clip, NEW_FRAMES, size=(320, 180))
    for sub in ("B", "C"):
        (folder / sub).mkdir()
        write_video(folder / sub / "take.mp4", frames, fps=24)
    return folder


def manifest_lines(out: Path) -> list[dict]:
    path = out / "batch_manifest.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def check_batch_outcome(out: Path, before: dict[str, bytes], code: int, err: str) -> str:
    """The earlier set kept or replaced whole, every set the manifest calls done whole, nothing
    left behind; returns the earlier set's state."""
    state = set_state(out, "take", before)
    assert state in ("old", "new"), state
    done = {e["stem"] for e in manifest_lines(out) if e["status"] == "done"}
    for stem in done:
        assert set(frames_in_set(out, stem).values()) == {NEW_FRAMES}, stem
    if state == "new":
        assert "take" in done or code != 0
    if code == 0:
        assert done == {"take", "C_take"} and err == ""
    else:
        assert (code, err) == (130, LINE)
    assert leftovers(out) == []
    return state


# ---- the regressions ------------------------------------------------------------------------------


def test_an_interrupt_swallowed_inside_a_weakref_callback_still_keeps_the_old_set(tmp_path, monkeypatch, ctrl_c_raises):
    """Python only prints an exception raised in a weakref callback; an interrupt that lands there
    must still stop the run before its renames."""
    import engine.animation.formats as formats

    out = tmp_path / "out"
    before = earlier_set(out)
    real_write_csv = formats.write_csv

    def write_csv_while_a_weakref_dies(take, path, *args, **kwargs):
        class Object:
            pass

        thing = Object()

        def interrupted_in_the_callback(_ref):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs here, inside the callback

        ref = weakref.ref(thing, interrupted_in_the_callback)
        del thing
        assert ref() is None
        return real_write_csv(take, path, *args, **kwargs)

    monkeypatch.setattr(formats, "write_csv", write_csv_while_a_weakref_dies)
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(body_take(NEW_FRAMES), out, "take", DEFAULT_FORMATS)
    assert snapshot(out) == before
    assert leftovers(out) == []
    assert unraisable == []  # no traceback for the user: the one line is the CLI's


def test_ctrl_c_while_a_worker_processes_keeps_the_earlier_set_and_ends_the_batch_at_once(tmp_path, takes, launch):
    out = tmp_path / "out"
    before = earlier_set(out)
    watch = launch(out, "batch", takes / "B" / "take.mp4", "-o", out, "-q", "--jobs", "2")
    assert watch.until_detecting(), watch.finish()
    sent = watch.signal(signal.SIGINT)
    code, err, ended = watch.finish()
    assert (code, err) == (130, LINE)
    assert ended - sent < STOP_LIMIT_S
    assert not wait_until_gone(watch.workers, 0.5)
    assert snapshot(out) == before
    assert leftovers(out) == []
    assert [e for e in manifest_lines(out) if e["status"] == "done"] == []


def test_sigterm_to_the_process_group_while_a_worker_writes_is_one_line_and_leaves_nothing(tmp_path, takes, launch):
    """The workers get the signal too (a service manager stops the whole group): the batch alone
    acts on it, and a worker never dies in the middle of its files."""
    out = tmp_path / "out"
    before = earlier_set(out)
    watch = launch(out, "batch", takes / "B" / "take.mp4", "-o", out, "-q", "--jobs", "2")
    assert watch.until_writing(), watch.finish()
    sent = watch.signal(signal.SIGTERM, group=True)
    code, err, ended = watch.finish()
    assert (code, err) == (130, LINE)
    assert ended - sent < STOP_LIMIT_S
    assert not wait_until_gone(watch.workers, 0.5)
    assert leftovers(out) == []
    check_batch_outcome(out, before, code, err)  # the earlier set, or the new one whole if its renames had begun


def test_the_workers_of_a_batch_killed_with_sigkill_end_without_writing(tmp_path, takes, launch):
    out = tmp_path / "out"
    before = earlier_set(out)
    watch = launch(out, "batch", takes / "B" / "take.mp4", takes / "C" / "take.mp4", "-o", out, "-q", "--jobs", "2")
    assert watch.until_writing(), watch.finish()
    watch.signal(signal.SIGKILL)
    assert watch.proc.wait(60) == -signal.SIGKILL
    assert not wait_until_gone(watch.workers, 15.0), "workers outlived their batch"
    time.sleep(1.0)
    assert set_state(out, "take", before) in ("old", "new")  # "new" only when the renames had begun
    assert not (out / "C_take.json").exists()
    write_outputs(body_take(OLD_FRAMES), out, "next", DEFAULT_FORMATS)  # the next run in the folder
    assert leftovers(out) == []


# ---- random moments -------------------------------------------------------------------------------


def _write_in_a_child(out: Path, stderr: Path) -> int:
    """Forks a process that writes the new set as `monocap` would: Ctrl+C and SIGTERM raise
    KeyboardInterrupt, which is one line and 130. Returns once it is about to write. After the set
    it waits, so that every signal sent lands while it lives."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(ready_w)
        os.read(ready_r, 1)
        os.close(ready_r)
        return pid
    code = 1
    try:
        os.dup2(os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        take = body_take(NEW_FRAMES)
        try:
            os.write(ready_w, b"!")
            write_outputs(take, out, "take", DEFAULT_FORMATS)
            time.sleep(30)
        except KeyboardInterrupt:
            os.write(2, LINE.encode())
            code = 130
    except BaseException:  # noqa: BLE001 - the forked child reports whatever ended it, then exits
        os.write(2, traceback.format_exc().encode())
    finally:
        os._exit(code)


def test_interrupts_at_random_moments_of_writing_a_set(tmp_path):
    rng = random.Random(SEED)
    write_outputs(body_take(NEW_FRAMES), tmp_path / "warm", "take", DEFAULT_FORMATS)  # the imports
    times = []
    for _ in range(3):
        started = time.perf_counter()
        write_outputs(body_take(NEW_FRAMES), tmp_path / "warm", "take", DEFAULT_FORMATS)
        times.append(time.perf_counter() - started)
    writing_s = sorted(times)[1]
    outcomes = []
    for trial in range(round(60 * SCALE)):
        out = tmp_path / f"t{trial}"
        before = earlier_set(out)
        signum = rng.choice([signal.SIGINT, signal.SIGTERM])
        pid = _write_in_a_child(out, tmp_path / f"t{trial}.err")
        time.sleep(rng.uniform(0.0, 2.0 * writing_s))
        os.kill(pid, signum)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        err = (tmp_path / f"t{trial}.err").read_text()
        state = set_state(out, "take", before)
        outcomes.append(state)
        assert (code, err, leftovers(out)) == (130, LINE, []), f"trial {trial} ({signum.name})"
        assert state in ("old", "new"), f"trial {trial} ({signum.name}): {state}"
    print(f"{len(outcomes)} interrupts while writing: {outcomes.count('old')} kept the old set, "
          f"{outcomes.count('new')} came during or after the renames and kept the new set")
    assert "old" in outcomes and "new" in outcomes  # the moments spanned the writing and the renames


def test_interrupts_at_random_moments_of_process(tmp_path, takes, launch):
    """A signal that comes after the run's work, while the program ends, leaves the exit status 0."""
    rng = random.Random(SEED + 1)
    states = []
    for trial in range(round(4 * SCALE)):
        out = tmp_path / f"p{trial}"
        before = earlier_set(out)
        signum = rng.choice([signal.SIGINT, signal.SIGTERM])
        watch = launch(out, "process", takes / "B" / "take.mp4", "-o", out, "-q")
        _wait_for_a_moment(watch, rng)
        sent = watch.signal(signum)
        code, err, _ = watch.finish()
        state = set_state(out, "take", before)
        what = f"trial {trial} ({signum.name}, {'sent' if sent else 'after the end'})"
        assert (code, err) == (130, LINE) or (code, err, state) == (0, "", "new"), f"{what}: exit {code}, {err!r}"
        assert state in ("old", "new") and leftovers(out) == [], f"{what}: {state}"
        states.append(state)
    print(f"earlier sets: {states.count('old')} kept, {states.count('new')} replaced whole")


def test_interrupts_at_random_moments_of_batch(tmp_path, takes, launch):
    rng = random.Random(SEED + 2)
    states, stops = [], []
    for trial in range(round(4 * SCALE)):
        out = tmp_path / f"b{trial}"
        before = earlier_set(out)
        signum = rng.choice([signal.SIGINT, signal.SIGTERM])
        group = rng.random() < 0.5
        watch = launch(out, "batch", takes / "B" / "take.mp4", takes / "C" / "take.mp4", "-o", out, "-q", "--jobs", "2")
        _wait_for_a_moment(watch, rng)
        sent = watch.signal(signum, group=group)
        code, err, ended = watch.finish()
        what = f"trial {trial} ({signum.name} to the {'group' if group else 'batch'})"
        if sent is not None:
            assert ended - sent < STOP_LIMIT_S, what
            stops.append(ended - sent)
        assert not wait_until_gone(watch.workers, 0.5), what
        states.append(check_batch_outcome(out, before, code, err))
    print(f"earlier sets: {states.count('old')} kept, {states.count('new')} replaced whole; batches ended "
          f"{min(stops, default=0):.2f} to {max(stops, default=0):.2f} s after the signal")
    assert "old" in states


def _wait_for_a_moment(watch: Watch, rng: random.Random) -> None:
    """Any moment of the run, or one while the new set is being written."""
    if rng.random() < 0.5:
        watch.sleep(rng.uniform(0.2, 8.0))
    elif watch.until_writing():
        watch.sleep(rng.uniform(0.0, 0.6))
