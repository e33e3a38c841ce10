"""A PoseStreamer in a process of its own, for capture that draws or tracks while it streams.

The encode (the live rotation solve, the OSC packing) is Python work of several milliseconds a
frame: on the capturing process's threads it takes turns at the interpreter lock with the GUI
and the tracking, which then lose frames. Here the capturing process only hands each pose's joints
to a pipe (tens of microseconds, on a thread of its own, so `submit` never waits), and a spawned
process runs an ordinary PoseStreamer (engine/streaming/sender.py): the same encoders, queue,
rate cap, sockets and figures, reported back a few times a second.

    with ProcessPoseStreamer(channels_from_targets(vmc="127.0.0.1:39539")) as streamer:
        ...  streamer.submit(pose)   # from any thread, per frame
"""

from __future__ import annotations

import collections
import os
import signal
import threading
import time
from dataclasses import dataclass, replace
from multiprocessing import get_context
from typing import Sequence

import numpy as np

from engine.core import skeletons
from engine.core.errors import MonocapError
from engine.streaming.sender import LATENCY_SAMPLES, QUEUE_FRAMES, Channel, PoseStreamer, StreamStats
from engine.streaming.targets import open_socket

REPORT_EVERY_S = 0.1  # how often the streaming process sends its figures back
_STOP_WAIT_S = 5.0
# Below the capture and the window: on a machine with a spare core this changes nothing; on one
# whose cores the tracking and the drawing already fill, the stream sends fewer frames (the
# newest, on time) instead of taking frames from them.
STREAM_NICENESS = 10


@dataclass(frozen=True)
class StreamPose:
    """What the encoders read of a PoseFrame (engine/session/pipeline.py), as it crosses to the
    streaming process: the skeleton by its registered name."""

    index: int
    timestamp_s: float
    joints_m: np.ndarray | None
    skeleton_name: str
    face: np.ndarray | None = None  # the face's values (engine.motion.face_expressions.FACE_CURVES)

    @property
    def skeleton(self) -> skeletons.Skeleton:
        return skeletons.get(self.skeleton_name)


class StreamProcessError(MonocapError):
    """The streaming process ended by itself (killed, or it could not start)."""


_WAITING = StreamStats(0, 0, 0.0, 0, 0, 0, "waiting")


class ProcessPoseStreamer:
    """PoseStreamer's calls (submit, frames, stats, latencies_ns, close), sending from a child process."""

    def __init__(self, channels: Sequence[Channel], queue_frames: int = QUEUE_FRAMES, max_fps: float = 0.0):
        if not channels:
            raise ValueError("a streamer needs at least one channel")
        for ch in channels:  # a target that cannot be used is the caller's one-line error, as in-process
            open_socket(ch.target, f"{ch.encoder.name} target").close()
        context = get_context("spawn")
        poses_out, self._poses = context.Pipe(duplex=False)
        self._reports, reports_in = context.Pipe(duplex=False)
        self._process = context.Process(target=_stream_process, name="monocap-stream",
                                        args=(poses_out, reports_in, tuple(channels), queue_frames, max_fps),
                                        daemon=True)
        self._process.start()
        poses_out.close()
        reports_in.close()
        self._queue: collections.deque = collections.deque(maxlen=max(1, queue_frames))
        self._cond = threading.Condition()
        self._stopping = False
        self._error: BaseException | None = None
        self._dropped = 0  # poses replaced here before they reached the pipe
        self._stats = _WAITING
        self.latencies_ns: collections.deque = collections.deque(maxlen=LATENCY_SAMPLES)
        self._thread = threading.Thread(target=self._forward, name="monocap-stream-pipe", daemon=True)
        self._thread.start()

    def submit(self, pose_frame, captured_ns: int | None = None) -> None:
        """Queues a pose (never blocks). Raises what stopped the streaming process (an encoder's error)."""
        if self._error is not None:
            raise self._error
        joints = pose_frame.joints_m
        pose = StreamPose(int(pose_frame.index), float(pose_frame.timestamp_s),
                          None if joints is None else np.asarray(joints), pose_frame.skeleton.name,
                          getattr(pose_frame, "face", None))
        with self._cond:
            if self._stopping:
                raise RuntimeError("the streamer is closed")
            if len(self._queue) == self._queue.maxlen:
                self._dropped += 1
            self._queue.append((pose, captured_ns))
            self._cond.notify()

    @property
    def running(self) -> bool:
        """The streaming process has started and reported (it imports for a second or so first)."""
        with self._cond:
            return self._stats is not _WAITING

    def wait_running(self, timeout_s: float) -> bool:
        """Waits, up to timeout_s, for the streaming process to start, so that a file's first poses
        are not dropped while it imports."""
        deadline = time.monotonic() + timeout_s
        while not self.running and self._process.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.running

    @property
    def frames(self) -> int:
        """Poses encoded and handed to the network so far (as last reported)."""
        return self.stats().frames

    def stats(self) -> StreamStats:
        with self._cond:
            return replace(self._stats, dropped=self._stats.dropped + self._dropped)

    def close(self) -> None:
        """Stops sending (what is queued is dropped) and ends the streaming process."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify()
        self._thread.join()
        self._process.join(_STOP_WAIT_S)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._drain_reports()
        self._poses.close()
        self._reports.close()

    def __enter__(self) -> "ProcessPoseStreamer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _forward(self) -> None:
        """The pipe's own thread: hands queued poses to the streaming process, picks up its figures."""
        while True:
            with self._cond:
                if not self._queue and not self._stopping:
                    self._cond.wait(REPORT_EVERY_S)
                if self._stopping:
                    break
                items = list(self._queue)
                self._queue.clear()
            try:
                for item in items:
                    self._poses.send(item)
            except OSError:  # the process is gone
                self._drain_reports()
                if self._error is None:
                    self._error = StreamProcessError("the streaming process ended")
                return
            self._drain_reports()
        try:
            self._poses.send(None)
        except OSError:
            pass

    def _drain_reports(self) -> None:
        try:
            while self._reports.poll():
                kind, value, latencies = self._reports.recv()
                self.latencies_ns.extend(latencies)
                if kind == "error":
                    self._error = value
                else:
                    with self._cond:
                        self._stats = value
        except (EOFError, OSError):
            if self._error is None and not self._stopping:
                self._error = StreamProcessError("the streaming process ended")


def _stream_process(poses, reports, channels, queue_frames: int, max_fps: float) -> None:
    """The streaming process: poses from the pipe into a PoseStreamer, its figures back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the capturing process's to handle
    if hasattr(os, "nice"):
        os.nice(STREAM_NICENESS)
    latencies: list[int] = []

    def report(kind: str, value) -> None:
        while streamer is not None and streamer.latencies_ns:
            latencies.append(streamer.latencies_ns.popleft())
        reports.send((kind, value, tuple(latencies)))
        latencies.clear()

    streamer = None
    try:
        streamer = PoseStreamer(channels, queue_frames, max_fps)
        last = 0.0
        while True:
            if poses.poll(REPORT_EVERY_S):
                item = poses.recv()
                if item is None:
                    streamer.flush(_STOP_WAIT_S / 2)
                    break
                streamer.submit(*item)
            now = time.monotonic()
            if now - last >= REPORT_EVERY_S:
                report("stats", streamer.stats())
                last = now
        streamer.close()
        report("stats", streamer.stats())
    except (EOFError, BrokenPipeError, ConnectionResetError):  # the capturing process is gone
        pass
    except BaseException as exc:  # noqa: BLE001 - handed back, raised by the next submit
        try:
            report("error", exc)
        except Exception:  # noqa: BLE001 - an error that does not pickle still stops the stream
            report("error", StreamProcessError(f"stream stopped: {type(exc).__name__}: {exc}"))
    finally:
        if streamer is not None:
            streamer.close()
        poses.close()
        reports.close()
