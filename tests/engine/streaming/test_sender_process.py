"""The streaming process: poses cross to it and arrive at a real receiver; the capturing side
never waits on it; an encoder's error or the process's death is one line at the next submit and
stops nothing else; closing leaves no process, thread or descriptor behind; and a soak."""

from __future__ import annotations

import gc
import json
import os
import signal
import threading
import time
import tracemalloc

import numpy as np
import pytest

from engine.core import skeletons
from engine.core.skeletons import MONOCAP_BODY
from engine.session.pipeline import PoseFrame
from engine.streaming.channels import channels_from_targets
from engine.streaming.sender_process import ProcessPoseStreamer
from engine.streaming.switch import StreamSwitch
from engine.streaming.targets import StreamTargetError
from tests.engine.streaming.receivers import JsonReceiver
from tests.engine.streaming.test_sender import pose, wait_until


def test_poses_arrive_at_the_receiver_as_sent_with_capture_latencies():
    with JsonReceiver() as receiver:
        with ProcessPoseStreamer(channels_from_targets(json=f"127.0.0.1:{receiver.port}"),
                                 queue_frames=100) as streamer:
            for i in range(60):
                streamer.submit(pose(i), time.monotonic_ns())
            assert wait_until(lambda: len(receiver.datagrams) == 60)
        stats = streamer.stats()  # the process's last figures, after it ended
    assert stats.frames == 60 and stats.packets_sent == 60 and stats.dropped == 0
    got = [json.loads(d) for d in receiver.datagrams]
    assert [g["frame"] for g in got] == list(range(60))
    for i, g in enumerate(got):
        joints = np.array([g["joints"][n] for n in MONOCAP_BODY.joint_names])
        np.testing.assert_allclose(joints, pose(i).joints_m, atol=1e-5)
    assert len(streamer.latencies_ns) == 60 and all(0 < ns < 60e9 for ns in streamer.latencies_ns)


def test_submit_never_waits_on_the_process():
    with JsonReceiver(keep=False) as receiver:
        with ProcessPoseStreamer(channels_from_targets(json=f"127.0.0.1:{receiver.port}")) as streamer:
            times = []
            for i in range(2000):  # faster than any stream; the process starts meanwhile
                t = time.perf_counter()
                streamer.submit(pose(i))
                times.append(time.perf_counter() - t)
    assert np.median(times) < 1e-3 and max(times) < 0.1, (np.median(times), max(times))
    stats = streamer.stats()
    assert stats.frames + stats.dropped <= 2000


def test_a_bad_target_is_a_one_line_error_before_any_process_starts():
    import multiprocessing

    with pytest.raises(StreamTargetError, match="^VMC target 255.255.255.255:9: cannot send there"):
        ProcessPoseStreamer(channels_from_targets(vmc="255.255.255.255:9"))
    assert not multiprocessing.active_children()


def test_an_encoder_error_in_the_process_is_raised_by_a_later_submit():
    with JsonReceiver() as receiver:
        streamer = ProcessPoseStreamer(channels_from_targets(vmc=f"127.0.0.1:{receiver.port}"))
        other = skeletons.get("h36m_17")  # one every process knows (others' tests register more)
        wrong = PoseFrame(0, 0.0, None, np.zeros((other.num_joints, 3)), other)  # VMC takes Monocap's only
        with pytest.raises(ValueError, match="VMC streams need monocap_body or monocap_hands poses"):
            for _ in range(500):
                streamer.submit(wrong)
                time.sleep(0.02)
        streamer.close()


def test_a_killed_process_stops_the_stream_in_one_line_and_nothing_else():
    switch = StreamSwitch()
    with JsonReceiver(keep=False) as receiver:
        streamer = ProcessPoseStreamer(channels_from_targets(json=f"127.0.0.1:{receiver.port}"))
        switch.attach(streamer)
        for i in range(20):
            switch.submit(pose(i))
            time.sleep(0.01)
        assert wait_until(lambda: streamer.frames > 0)
        os.kill(streamer._process.pid, signal.SIGKILL)
        for i in range(20, 400):  # the capture goes on; the stream is detached with its reason
            switch.submit(pose(i))
            if switch.streamer is None:
                break
            time.sleep(0.01)
    assert switch.streamer is None
    assert switch.failure == "stream stopped: the streaming process ended"
    streamer.close()  # safe after the process died


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_soak_thousands_of_frames_memory_flat_and_nothing_left_behind():
    import multiprocessing

    threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))
    frames = 4000
    with JsonReceiver(keep=False) as receiver:
        with ProcessPoseStreamer(channels_from_targets(vmc=f"127.0.0.1:{receiver.port}", warmup_s=0.3)) as streamer:
            streamer.submit(pose(0))
            assert wait_until(lambda: streamer.frames > 0)  # the process has started
            tracemalloc.start()
            for i in range(1, frames):
                streamer.submit(pose(i), time.monotonic_ns())
                time.sleep(0.002)
                if i == 1000:
                    gc.collect()
                    early, early_rss = tracemalloc.get_traced_memory()[0], _rss_kib(streamer._process.pid)
            gc.collect()
            late, late_rss = tracemalloc.get_traced_memory()[0], _rss_kib(streamer._process.pid)
            tracemalloc.stop()
        stats = streamer.stats()
    assert stats.frames > 200 and stats.frames + stats.dropped >= frames - 2 * 4, stats
    assert late - early < 256 * 1024, f"memory grew by {(late - early) / 1024:.0f} KiB"
    assert late_rss - early_rss < 20 * 1024, f"the streaming process grew by {(late_rss - early_rss) / 1024:.0f} MiB"
    for _ in range(5):
        ProcessPoseStreamer(channels_from_targets(json="127.0.0.1:9")).close()
    assert not multiprocessing.active_children()
    assert wait_until(lambda: threading.active_count() == threads, 5)
    assert len(os.listdir("/proc/self/fd")) <= fds


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
