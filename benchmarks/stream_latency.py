"""Streaming latency and cost, live on the sample clip played at its own rate.

    python benchmarks/stream_latency.py [--video resources/sample/taiji_sample.mp4] [--mode lifter]

Each run plays the clip as a camera would deliver it (newest frame wins) through an engine
session (detector, tracking stage) and the streaming process, as `monocap stream` does. Latency: from a frame's capture
time to its VMC packet leaving the socket (median and 95th percentile), beside the reference in
the same run: capture to the pose being ready. Cost: frames tracked per second with streaming on
(VMC + JSON to UDP receivers on the loopback address) as a ratio to the same clip with streaming
off, after a warm-up play; and the CPU time of encoding a VMC frame (the live solve and the
bundle) against the detector's, interleaved on the same frames, a ratio that holds on a loaded
machine.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class UdpSink:
    """A loopback UDP receiver that counts datagrams."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sock.recv(65536)
                self.count += 1
            except socket.timeout:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


class PoseClock:
    """An engine session's pose sink: notes when each pose was ready, hands it on to the stream."""

    def __init__(self, source, stream_sink=None):
        self.source = source
        self.stream_sink = stream_sink
        self.ready_ms: list[float] = []
        self.times_s: list[float] = []

    def on_pose(self, tracked) -> None:
        now = time.monotonic_ns()
        self.ready_ms.append((now - tracked.captured_ns) / 1e6)
        self.times_s.append(now / 1e9)
        if self.stream_sink is not None:
            self.stream_sink.on_pose(tracked)

    def close(self) -> None:
        pass


def run(video: str, config, streaming: bool):
    """One play of the clip -> (frames per second, capture -> pose ms, capture -> sent ms, streamer)."""
    from engine.capture.frames import open_source
    from engine.capture.paced_source import PacedSource
    from engine.session.session import Session
    from engine.streaming.channels import channels_from_targets
    from engine.streaming.sender_process import ProcessPoseStreamer
    from engine.streaming.switch import StreamSwitch

    source = PacedSource(open_source(video))
    sinks, streamer = [], None
    if streaming:
        sinks = [UdpSink(), UdpSink()]
        streamer = ProcessPoseStreamer(channels_from_targets(vmc=f"127.0.0.1:{sinks[0].port}",
                                                                json=f"127.0.0.1:{sinks[1].port}",
                                                                warmup_s=config.live_calibration_s))
        deadline = time.monotonic() + 60.0  # Stream is pressed before the clip, as a user does
        while not streamer.running and time.monotonic() < deadline:
            time.sleep(0.05)
    switch = StreamSwitch()
    if streamer is not None:
        switch.attach(streamer)
    clock = PoseClock(source, switch if streamer else None)
    session = Session(source, config)
    session.add_sink(clock)
    try:
        end = session.stream()
    finally:
        if streamer is not None:
            streamer.close()
        for s in sinks:
            s.close()
    if end.error is not None:
        raise end.error
    times = clock.times_s
    fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0  # start-up left out
    sent = np.array(streamer.latencies_ns) / 1e6 if streamer else np.zeros(0)
    return fps, np.array(clock.ready_ms), sent, streamer


def encode_cost(video: str, config, frames: int = 60) -> tuple[float, float]:
    """(detector ms, VMC encode ms) per frame, medians, the two timed in the same loop."""
    from engine.capture.detector import PoseDetector
    from engine.capture.frames import open_source
    from engine.lift.modes import make_lifter
    from engine.session.pipeline import LiveTracker
    from engine.streaming.vmc import VmcEncoder

    tracker = LiveTracker(config, make_lifter(config.lift))
    encoder = VmcEncoder(warmup_s=0.5)
    det_ms, enc_ms = [], []
    source = open_source(video)
    with PoseDetector(config.detector) as detector:
        for frame in source:
            t0 = time.perf_counter()
            detection = detector.detect(frame.image, frame.timestamp_ns)
            t1 = time.perf_counter()
            pose = tracker.push(frame.index, frame.timestamp_ns / 1e9, detection)
            t2 = time.perf_counter()
            encoder.encode(pose)
            t3 = time.perf_counter()
            if frame.index >= 30 and pose.joints_m is not None:  # after the warm-up
                det_ms.append((t1 - t0) * 1e3)
                enc_ms.append((t3 - t2) * 1e3)
            if len(enc_ms) >= frames:
                break
    source.close()
    return float(np.median(det_ms)), float(np.median(enc_ms))


def main() -> int:
    from engine.core.resources import sample_clip
    from engine.lift.modes import DEFAULT_MODE, LiftConfig
    from engine.session.pipeline import PipelineConfig

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", default=str(sample_clip()))
    ap.add_argument("--mode", default=DEFAULT_MODE)
    a = ap.parse_args()
    config = PipelineConfig(lift=LiftConfig(mode=a.mode, device="cpu"))
    run(a.video, config, streaming=False)  # warms the caches and the models' first calls
    fps_off, ready_off, _, _ = run(a.video, config, streaming=False)
    fps_on, ready_on, sent, streamer = run(a.video, config, streaming=True)
    stats = streamer.stats()
    print(f"clip {Path(a.video).name}, mode {a.mode}: {len(ready_on)} frames tracked with streaming, "
          f"{len(ready_off)} without")
    print(f"capture -> pose ready (reference): median {np.median(ready_on):.1f} ms, p95 {np.percentile(ready_on, 95):.1f} ms")
    print(f"capture -> packet sent:            median {np.median(sent):.1f} ms, p95 {np.percentile(sent, 95):.1f} ms "
          f"({len(sent)} frames sent, {stats.dropped} dropped by the sender)")
    print(f"pose ready -> packet sent: median {np.median(sent) - np.median(ready_on):.1f} ms")
    print(f"tracked frames per second: streaming off {fps_off:.1f}, on {fps_on:.1f}, ratio {fps_on / fps_off:.3f}")
    det_ms, enc_ms = encode_cost(a.video, config)
    print(f"cost per frame: detector {det_ms:.1f} ms, VMC encode {enc_ms:.1f} ms ({100 * enc_ms / det_ms:.0f} % of the detector)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
