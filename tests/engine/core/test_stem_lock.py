"""The lock on a stem: lock files a killed run left are swept; one a live run holds is kept."""

import os
import signal
import subprocess
import sys
import time

import pytest

from engine.core.errors import OutputError
from engine.core.stem_lock import StemLock, remove_stale_locks

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock locks")

HOLD = """
import sys, time
from pathlib import Path
from engine.core.stem_lock import StemLock
lock = StemLock(Path(sys.argv[1]), "take")
lock.__enter__()
print("held", flush=True)
time.sleep(60)
"""


def _holder(folder):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_held_by_a_live_run_is_kept_and_one_left_by_a_killed_run_is_removed(tmp_path):
    proc = _holder(tmp_path)
    try:
        assert remove_stale_locks(tmp_path) == []
        assert (tmp_path / ".take.lock").exists()
        with pytest.raises(OutputError, match="another run is writing take's files"):
            with StemLock(tmp_path, "take", wait_s=0.0):
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (tmp_path / ".take.lock").exists()  # what a killed run leaves
    (tmp_path / ".other.lock").write_text("")
    assert sorted(remove_stale_locks(tmp_path)) == [".other.lock", ".take.lock"]
    assert not any(p.name.endswith(".lock") for p in tmp_path.iterdir())


def test_a_folder_that_is_gone_has_no_locks(tmp_path):
    assert remove_stale_locks(tmp_path / "missing") == []


def test_a_released_lock_leaves_no_file(tmp_path):
    start = time.monotonic()
    with StemLock(tmp_path, "take"):
        assert (tmp_path / ".take.lock").exists()
    assert not (tmp_path / ".take.lock").exists()
    assert time.monotonic() - start < 5
    assert os.listdir(tmp_path) == []
