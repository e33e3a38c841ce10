"""`monocap stream` as a user runs it: a clip played at its own rate reaches a VMC receiver and a
JSON receiver; a bad target is one line."""

from __future__ import annotations

import json
import time

import numpy as np

from tests.engine.streaming.receivers import JsonReceiver, OscReceiver, bundle_messages, rebuild_unity
from tests.engine.test_cli import _assert_one_clear_line, monocap
from tests.engine.video_helpers import read_frames, write_video


def test_stream_a_clip_to_a_vmc_and_a_json_receiver(tmp_path, sample_clip):
    clip = write_video(tmp_path / "clip.mp4", read_frames(sample_clip, 30), fps=24)
    with OscReceiver() as vmc, JsonReceiver() as js:
        started = time.monotonic()
        result = monocap("stream", clip, "--vmc", f"127.0.0.1:{vmc.port}", "--json", f"127.0.0.1:{js.port}",
                         "--mode", "detector")
        elapsed = time.monotonic() - started
        time.sleep(0.2)
    assert result.returncode == 0, result.stderr
    assert "packets sent" in result.stdout
    assert elapsed > 30 / 24  # played at its own rate, not as fast as it decodes
    frames = [bundle_messages(d) for d in vmc.datagrams]
    posed = [rebuild_unity(m) for m in frames if rebuild_unity(m) is not None]
    assert len(posed) >= 5
    assert all(np.isfinite(p["LeftHand"]).all() and p["Head"][1] > p["LeftFoot"][1] for p in posed)
    got = [json.loads(d) for d in js.datagrams]
    assert len(got) == len(frames) and any(g["joints"] for g in got)


def test_bad_stream_targets_are_one_line(tmp_path, sample_clip):
    _assert_one_clear_line(monocap("stream", sample_clip, "--vmc", "127.0.0.1:99999"), "--vmc", "65535")
    _assert_one_clear_line(monocap("stream", sample_clip, "--vmc", "off", "--json", "nowhere"), "--json", "HOST:PORT")
    _assert_one_clear_line(monocap("stream", tmp_path / "missing.mp4"), "missing.mp4")
    _assert_one_clear_line(monocap("stream", sample_clip, "--rate", "-5"), "--rate")
