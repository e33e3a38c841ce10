"""The app in long use (benchmarks/gui_soak.py): the sample clip tracked and recorded over and over,
each take scrubbed, played and exported, 5,000 frames in all. It runs in a process of its own, so
a native crash (PySide6 6.12.0's "none_dealloc") fails this test instead of ending pytest."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMES = 5000


@pytest.mark.gui
def test_five_thousand_frames_leave_memory_refcounts_and_the_gui_steady(tmp_path):
    out = tmp_path / "soak.json"
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gui_soak.py"), "--frames", str(FRAMES),
                             "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    if result.returncode < 0:
        pytest.fail(f"the app crashed: {signal.Signals(-result.returncode).name}\n{result.stderr[-3000:]}")
    assert out.exists(), result.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert summary["frames"] >= FRAMES and summary["frames_tracked"] >= 1000 and summary["cycles"] >= 3
    assert summary["rss_growth_mb"] <= 100, summary["rss_per_cycle_mb"]
    assert all(abs(g) <= 1000 for g in summary["refcount_growth"].values()), summary["refcount_growth"]
    assert summary["worst_unshared_stall_ms"] <= 100, summary["unshared_stalls_over_100ms"]
    assert not summary["errors"], summary["errors"]
    assert result.returncode == 0, summary["broken"]
