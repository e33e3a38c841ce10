"""A crash while recording: the app process is killed (SIGKILL) mid-take; the next start recovers
the take with all but at most the last half second, and says so."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("record_until_killed.py")
KILL_AFTER_FRAME = 80  # about 3.3 s into the 24 fps sample clip


def _record_then_kill(settings: Path, takes: Path) -> int:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    child = subprocess.Popen([sys.executable, str(CHILD), str(settings), str(takes)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = -1
    deadline = time.monotonic() + 120
    try:
        for line in child.stdout:
            if line.startswith("frame "):
                last = int(line.split()[1])
                if last >= KILL_AFTER_FRAME:
                    child.send_signal(signal.SIGKILL)
                    break
            if time.monotonic() > deadline:
                break
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(30)
    assert last >= KILL_AFTER_FRAME, f"the app did not record (last frame {last}): {child.stderr.read()[-2000:]}"
    assert child.returncode == -signal.SIGKILL
    return last


def test_take_recovered_after_sigkill_and_reported(qtbot, tmp_path):
    from app.main import dispose_window
    from app.main_window import MainWindow
    from app.window_state import format_seconds
    from engine.core.take import load_npz

    settings, takes = tmp_path / "s.ini", tmp_path / "takes"
    last_shown = _record_then_kill(settings, takes)
    assert list(takes.glob("take_001.rec")), "the killed app left no take on disk"

    win = MainWindow(settings=QSettings(str(settings), QSettings.Format.IniFormat), takes_dir=str(takes))
    win.show()
    try:
        take = load_npz(takes / "take_001.npz")
        assert take.metadata.get("recovered") is True
        # recorded from the clip's first frame (time 0), played at its own rate: the recorder flushes every half
        # second, so a kill loses that and the frame under way (a busy machine skips more frames between two)
        lost_s = last_shown / take.fps - take.timestamps_s[-1]
        frame_gap_s = float(np.diff(take.timestamps_s).max())
        assert lost_s <= 0.5 + frame_gap_s, f"the recovered take lost {lost_s:.2f} s (shown up to frame {last_shown})"
        assert take.num_frames <= 240 and take.valid[: take.num_frames // 2].mean() > 0.8
        assert np.all(np.diff(take.timestamps_s) > 0)
        said = win.banner.text()
        assert f"take_001 was recovered after a crash: {format_seconds(take.num_frames / take.fps)}" in said
        assert "take_001" in win.takes
    finally:
        dispose_window(win)
