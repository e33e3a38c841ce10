"""`monocap stream` as a user runs it: a clip played at its own rate reaches a VMC receiver and a
JSON receiver; a bad target is one line."""

from __future__ import annotations

import json
import time

import numpy as np

from tests.engine.cli.test_cli import _assert_one_clear_line, monocap
from tests.engine.streaming.receivers import JsonReceiver, OscReceiver, bundle_messages, rebuild_unity
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


def test_stream_with_hands_sends_the_fingers_of_real_footage(tmp_path):
    """A juggler's clearly visible hands (the shared clip; or the bundled sample's, smaller): the
    finger bones rebuilt from the VMC stream land on the finger joints the JSON stream carries for
    the same frames."""
    from engine.core.skeletons import MONOCAP_HANDS
    from engine.streaming.vmc import to_unity_positions
    from tests.conftest import shared_clip_or_sample
    from tests.engine.streaming.test_vmc_fingers import FINGER_BONES

    clip = write_video(tmp_path / "juggling.mp4",
                       read_frames(shared_clip_or_sample("sam2_man_football_juggling_front.mp4"), 48), fps=24)
    with OscReceiver() as vmc, JsonReceiver() as js:
        result = monocap("stream", clip, "--hands", "--vmc", f"127.0.0.1:{vmc.port}", "--json",
                         f"127.0.0.1:{js.port}", "--mode", "detector", "--every-frame", "-q")
        time.sleep(0.2)
    assert result.returncode == 0, result.stderr
    by_time = {round(float(m["time_s"]), 4): m for m in map(json.loads, js.datagrams)}
    assert all(m["skeleton"] == MONOCAP_HANDS.name for m in by_time.values())
    compared, worst = 0, 0.0
    for datagram in vmc.datagrams:
        messages = bundle_messages(datagram)
        rebuilt = rebuild_unity(messages)
        t = [args[0] for address, _, args in messages if address == "/VMC/Ext/T"][0]
        sent = by_time.get(round(t, 4))
        if rebuilt is None or sent is None or sent["joints"] is None:
            continue
        assert "LeftIndexProximal" in rebuilt and "RightLittleDistal" in rebuilt
        for bone, joint in FINGER_BONES.items():
            if sent["joints"][joint] is not None:
                worst = max(worst, float(np.linalg.norm(to_unity_positions(rebuilt[bone]) - sent["joints"][joint])))
                compared += 1
    assert compared >= 15 * 3, f"fingers of {compared // 15} hands streamed in {len(vmc.datagrams)} frames"
    assert worst < 0.01, f"a finger joint is {worst * 100:.2f} cm from the pose"


def test_stream_frames_sends_exactly_that_many_and_refuses_none(tmp_path, sample_clip):
    clip = write_video(tmp_path / "clip.mp4", read_frames(sample_clip, 40), fps=24)
    with JsonReceiver() as js:
        result = monocap("stream", clip, "--vmc", "off", "--json", f"127.0.0.1:{js.port}", "--mode", "detector",
                         "--frames", "20")
        time.sleep(0.2)
    assert result.returncode == 0, result.stderr
    assert len(js.datagrams) == 20 and "20 frames in" in result.stdout, result.stdout
    for frames in ("0", "-5"):
        _assert_one_clear_line(monocap("stream", clip, "--frames", frames), "--frames")
    _assert_one_clear_line(monocap("stream", clip, "--rate", "nan"), "--rate")
