"""The sender: never blocks, drops the oldest pose when behind, shrugs off a receiver that goes
away and comes back, one-line errors for bad targets, JSON datagrams as documented; and a soak."""

from __future__ import annotations

import gc
import json
import os
import socket
import threading
import time
import tracemalloc

import numpy as np
import pytest

from engine.core.errors import MonocapError
from engine.core.skeletons import MONOCAP_BODY
from engine.session.pipeline import PoseFrame
from engine.streaming.channels import channels_from_targets
from engine.streaming.joints_json import JsonEncoder
from engine.streaming.sender import QUEUE_FRAMES, Channel, PoseStreamer
from engine.streaming.targets import StreamTargetError, parse_target
from tests.engine.animation.test_bvh_export import spin_take
from tests.engine.streaming.receivers import JsonReceiver

TAKE = spin_take(frames=120)


def pose(i: int) -> PoseFrame:
    k = i % TAKE.num_frames
    return PoseFrame(i, i / 30.0, None, TAKE.joints_m[k], MONOCAP_BODY)


def wait_until(condition, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("text, says", [
    ("localhost", "give HOST:PORT"),
    ("127.0.0.1:", "give HOST:PORT"),
    ("127.0.0.1:abc", "is not a number"),
    ("127.0.0.1:0", "between 1 and 65535"),
    ("127.0.0.1:70000", "between 1 and 65535"),
    ("no-such-host.invalid:39539", "unknown host"),
])
def test_a_bad_target_is_a_one_line_error(text, says):
    with pytest.raises(StreamTargetError) as err:
        parse_target(text, "--vmc")
    message = str(err.value)
    assert says in message and text in message and "\n" not in message
    assert isinstance(err.value, MonocapError)


def test_targets_parse_with_ipv6_and_off():
    assert parse_target("[::1]:39539").port == 39539
    assert str(parse_target("127.0.0.1:9000")) == "127.0.0.1:9000"
    assert [c.encoder.name for c in channels_from_targets(vmc="127.0.0.1:9", json="off")] == ["VMC"]
    with pytest.raises(StreamTargetError, match="nothing to send"):
        channels_from_targets(vmc="off", json="")


class GatedEncoder:
    """Encodes only when let through, so the test controls how far behind the sender is."""

    name = "gated"

    def __init__(self):
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.seen: list[int] = []

    def encode(self, pose_frame) -> bytes:
        self.entered.set()
        self.gate.wait()
        self.seen.append(pose_frame.index)
        return b"%d" % pose_frame.index


def test_submit_never_blocks_and_drops_the_oldest_pose():
    encoder = GatedEncoder()
    with JsonReceiver() as receiver:
        streamer = PoseStreamer([Channel(encoder, parse_target(f"127.0.0.1:{receiver.port}"))], queue_frames=3)
        try:
            streamer.submit(pose(0))
            assert encoder.entered.wait(5)
            started = time.perf_counter()
            for i in range(1, 50):
                streamer.submit(pose(i))
            assert time.perf_counter() - started < 0.5  # the sender is stuck; submit is not
            encoder.gate.set()
            assert wait_until(lambda: len(receiver.datagrams) >= 4)
        finally:
            streamer.close()
    # the thread was encoding pose 0; of the rest, the newest three were kept
    assert encoder.seen == [0, 47, 48, 49]
    assert streamer.stats().dropped == 46


def test_a_receiver_that_goes_away_and_comes_back_changes_nothing():
    port = free_udp_port()
    channel = Channel(JsonEncoder(), parse_target(f"127.0.0.1:{port}"))
    with PoseStreamer([channel]) as streamer:
        i = 0

        def send_until(condition) -> bool:
            nonlocal i
            end = time.monotonic() + 10
            while not condition() and time.monotonic() < end:
                streamer.submit(pose(i))
                i += 1
                time.sleep(0.005)
            return condition()

        assert send_until(lambda: streamer.stats().receiver == "no receiver")
        receiver = JsonReceiver()
        receiver.sock.close()
        receiver.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        receiver.sock.bind(("127.0.0.1", port))
        receiver.sock.settimeout(0.05)
        with receiver:
            assert send_until(lambda: len(receiver.datagrams) >= 20)
            assert send_until(lambda: streamer.stats().receiver == "sending")
        assert send_until(lambda: streamer.stats().receiver == "no receiver")
        stats = streamer.stats()
    assert stats.refused > 0 and stats.errors == 0
    assert stats.packets_sent >= 20


def test_an_encoder_error_is_raised_by_the_next_submit():
    class Broken:
        name = "broken"

        def encode(self, pose_frame):
            raise ValueError("cannot encode")

    streamer = PoseStreamer([Channel(Broken(), parse_target("127.0.0.1:9"))])
    try:
        streamer.submit(pose(0))
        with pytest.raises(ValueError, match="cannot encode"):
            assert wait_until(lambda: streamer._error is not None, 5)
            streamer.submit(pose(1))
    finally:
        streamer.close()


def test_json_datagram_carries_the_world_joints():
    with JsonReceiver() as receiver:
        with PoseStreamer(channels_from_targets(json=f"127.0.0.1:{receiver.port}")) as streamer:
            streamer.submit(pose(7))
            streamer.submit(PoseFrame(8, 8 / 30.0, None, None, MONOCAP_BODY))
            assert wait_until(lambda: len(receiver.datagrams) == 2)
    first, second = (json.loads(d) for d in receiver.datagrams)
    assert first["frame"] == 7 and first["time_s"] == pytest.approx(7 / 30.0, abs=1e-6)
    assert first["skeleton"] == "monocap_body" and list(first["joints"]) == list(MONOCAP_BODY.joint_names)
    np.testing.assert_allclose(np.array(list(first["joints"].values())), TAKE.joints_m[7], atol=1e-5)
    assert second["joints"] is None


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_soak_thousands_of_frames_memory_flat_no_thread_or_socket_leak():
    threads, fds = threading.active_count(), _fds()
    frames = 6000
    with JsonReceiver(keep=False) as js:
        with PoseStreamer(channels_from_targets(json=f"127.0.0.1:{js.port}")) as streamer:
            tracemalloc.start()
            for i in range(frames):
                streamer.submit(pose(i))
                while streamer.frames < i - 1:  # keep up with the sender: every frame goes through
                    time.sleep(0.0001)
                if i == 1000:
                    gc.collect()
                    early = tracemalloc.get_traced_memory()[0]
            assert wait_until(lambda: streamer.frames == frames)
            gc.collect()
            late = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            stats = streamer.stats()
        # UDP may drop datagrams when the receiving socket's buffer overflows on a loaded machine;
        # the sender's own counts below say every frame was sent
        wait_until(lambda: js.count == frames)
        assert js.count >= 0.95 * frames, js.count
    assert stats.frames == frames and stats.dropped == 0 and stats.errors == 0
    assert late - early < 256 * 1024, f"memory grew by {(late - early) / 1024:.0f} KiB"
    # opening and closing streamers leaves no thread and no socket behind
    for _ in range(20):
        PoseStreamer(channels_from_targets(json="127.0.0.1:9")).close()
    assert wait_until(lambda: threading.active_count() == threads, 5)
    assert _fds() == fds


@pytest.mark.slow
def test_soak_vmc_overloaded_drops_without_growing():
    """Poses offered faster than the VMC solve: the newest are sent, the rest dropped, and
    neither the queue nor the live solver's state grows."""
    with JsonReceiver(keep=False) as sink:  # a plain UDP sink, keeping nothing
        with PoseStreamer(channels_from_targets(vmc=f"127.0.0.1:{sink.port}", warmup_s=0.3)) as streamer:
            tracemalloc.start()
            for i in range(6000):
                streamer.submit(pose(i))
                if i % 4 == 0:
                    time.sleep(0.001)
                if i == 2000:
                    gc.collect()
                    early = tracemalloc.get_traced_memory()[0]
            gc.collect()
            late = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            stats = streamer.stats()
            encoder = streamer.channels[0].encoder
        assert wait_until(lambda: sink.count >= stats.frames)
    assert stats.frames > 10 and stats.frames + stats.dropped >= 6000 - QUEUE_FRAMES - 1
    assert encoder.solver.calibrated and not encoder.solver._warmup
    assert late - early < 256 * 1024, f"memory grew by {(late - early) / 1024:.0f} KiB"


def test_a_rate_cap_sends_at_most_that_many_frames_per_second():
    with JsonReceiver() as receiver:
        with PoseStreamer(channels_from_targets(json=f"127.0.0.1:{receiver.port}"), max_fps=10) as streamer:
            for i in range(30):  # one second at 30 fps
                streamer.submit(pose(i))
                time.sleep(0.002)
            assert wait_until(lambda: streamer.frames >= 10)
            time.sleep(0.2)
    assert [json.loads(d)["frame"] for d in receiver.datagrams] == list(range(0, 30, 3))
