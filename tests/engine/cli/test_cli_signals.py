"""Ctrl+C and SIGTERM as the terminal, a launcher or a service manager send them: one line and 130 at
whatever moment of the start-up or the run they land, never a native library's log line; a launcher
that ignores Ctrl+C keeps it ignored."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, ctrl_c_as_from_a_terminal
from tests.engine.video_helpers import read_frames, write_video

# Moments after the program's own code runs (its imports have begun), in seconds: the imports, the
# detector's loading, the first frames, the end. Before that the interpreter itself is starting up.
MOMENTS_S = (0.0, 0.15, 0.4, 0.8, 1.3, 2.0, 2.8, 3.8, 5.0)


def _ignored_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start(clip, out, launcher_setup) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "process", str(clip), "-o", str(out), "--quiet"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=launcher_setup)


def _wait_until_its_imports_begin(proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    """Until the child has loaded numpy's native code: the program's own imports are under way (its
    Ctrl+C handling is in place before them), however long a busy machine took to start Python."""
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if "numpy" in Path(f"/proc/{proc.pid}/maps").read_text():
                return
        except OSError:
            return
        time.sleep(0.005)


@pytest.fixture(scope="module")
def clip(tmp_path_factory, sample_clip):
    return write_video(tmp_path_factory.mktemp("clip") / "clip.mp4", read_frames(sample_clip, 48), fps=24)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_at_any_moment_of_the_start_up_is_one_line(clip, tmp_path, signum):
    outcomes = []
    for i, moment in enumerate(MOMENTS_S):
        proc = _start(clip, tmp_path / f"out{i}", ctrl_c_as_from_a_terminal)
        _wait_until_its_imports_begin(proc)
        time.sleep(moment)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
        outcomes.append((moment, proc.returncode, err))
    for moment, code, err in outcomes:
        assert (code, err) in ((130, "monocap: interrupted\n"), (0, "")), f"at {moment} s: exit {code}, {err!r}"
    assert any(code == 130 for _, code, _ in outcomes)


def test_a_launcher_that_ignores_ctrl_c_keeps_the_run_going_and_sigterm_still_stops_it(clip, tmp_path):
    proc = _start(clip, tmp_path / "kept", _ignored_sigint)
    for _ in range(4):
        time.sleep(0.7)
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (0, "")
    assert (tmp_path / "kept" / "clip.bvh").is_file()

    proc = _start(clip, tmp_path / "stopped", _ignored_sigint)
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (130, "monocap: interrupted\n")
    assert not (tmp_path / "stopped").exists()
