"""Sends poses on a thread of its own, so the tracking thread never waits on a stream.

`PoseStreamer.submit` puts a pose in a bounded queue and returns at once; when the queue is full
the oldest pose is dropped (a live stream wants the newest). The sender thread encodes each pose
for each channel (VMC, JSON) and sends it over UDP. Nobody listening is not an error: a refused
send is counted and the stream carries on, and picks up again when a receiver comes back.

    with PoseStreamer([Channel(VmcEncoder(), parse_target("127.0.0.1:39539"))]) as streamer:
        ...  streamer.submit(pose)   # from any thread, per frame
"""

from __future__ import annotations

import collections
import socket
import threading
import time
from dataclasses import dataclass
from typing import Protocol, Sequence

from engine.streaming.targets import StreamTarget, open_socket

QUEUE_FRAMES = 4  # a camera's stream wants the newest pose: the oldest go past this
FILE_QUEUE_FRAMES = 512  # a file's stream sends every pose: only a sender this far behind drops any
_RATE_WINDOW_S = 1.0
_NO_RECEIVER_S = 2.0  # a refusal this recent shows as "no receiver"
LATENCY_SAMPLES = 2048  # the most recent send latencies kept for stats


class Encoder(Protocol):
    name: str

    def encode(self, pose_frame) -> bytes: ...


@dataclass(frozen=True)
class Channel:
    encoder: Encoder
    target: StreamTarget


@dataclass(frozen=True)
class StreamStats:
    frames: int  # poses encoded and handed to the network
    packets_sent: int
    packets_per_s: float  # over the last second
    dropped: int  # poses replaced in the queue before they were sent
    refused: int  # packets no receiver took (port closed); not an error for UDP
    errors: int  # packets the network would not send
    receiver: str  # "sending", "no receiver", "waiting" (nothing sent yet) or the last send error

    @property
    def summary(self) -> str:
        return f"{self.packets_per_s:.0f} packets/s, {self.receiver}"


class PoseStreamer:
    def __init__(self, channels: Sequence[Channel], queue_frames: int = QUEUE_FRAMES, max_fps: float = 0.0):
        """max_fps: send at most this many frames per second of the source (0: every frame)."""
        if not channels:
            raise ValueError("a streamer needs at least one channel")
        self.channels = tuple(channels)
        self._sockets = []
        try:
            for ch in self.channels:
                self._sockets.append(open_socket(ch.target, f"{ch.encoder.name} target"))
        except BaseException:
            self._close_sockets()
            raise
        self._queue: collections.deque = collections.deque(maxlen=max(1, queue_frames))
        self._min_gap_s = 1.0 / max_fps if max_fps > 0 else 0.0
        self._last_time_s: float | None = None
        self._cond = threading.Condition()
        self._stopping = False
        self._error: BaseException | None = None
        self._dropped = 0
        self._frames = 0
        self._packets = 0
        self._refused = 0
        self._errors = 0
        self._last_refused = -1e9
        self._last_error = ""
        self._send_times: collections.deque = collections.deque()  # sends of the last second
        self.latencies_ns: collections.deque = collections.deque(maxlen=LATENCY_SAMPLES)
        self._thread = threading.Thread(target=self._run, name="monocap-stream", daemon=True)
        self._thread.start()

    def submit(self, pose_frame, captured_ns: int | None = None) -> None:
        """Queues a pose (never blocks). captured_ns: time.monotonic_ns() of the frame's capture,
        for the latency figures. Raises an error the sender thread met (an encoder's)."""
        if self._error is not None:
            raise self._error
        if self._min_gap_s:
            t = pose_frame.timestamp_s
            # a little slack, so that 30 fps capped at 30 keeps every frame despite jitter
            if self._last_time_s is not None and 0.0 <= t - self._last_time_s < 0.9 * self._min_gap_s:
                return
            self._last_time_s = t
        with self._cond:
            if self._stopping:
                raise RuntimeError("the streamer is closed")
            if len(self._queue) == self._queue.maxlen:
                self._dropped += 1
            self._queue.append((pose_frame, captured_ns))
            self._cond.notify_all()

    @property
    def frames(self) -> int:
        """Poses encoded and handed to the network so far."""
        return self._frames

    def stats(self) -> StreamStats:
        now = time.monotonic()
        with self._cond:
            self._forget_sends_before(now - _RATE_WINDOW_S)
            recent = len(self._send_times)
            if now - self._last_refused <= _NO_RECEIVER_S:
                receiver = "no receiver"
            elif self._last_error:
                receiver = self._last_error
            else:
                receiver = "sending" if self._packets else "waiting"
            return StreamStats(self._frames, self._packets, recent / _RATE_WINDOW_S, self._dropped,
                               self._refused, self._errors, receiver)

    def flush(self, timeout_s: float) -> None:
        """Waits, up to timeout_s, until every queued pose has been taken for sending: a file's
        stream ends with its last poses sent."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._queue and self._error is None and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    def close(self) -> None:
        """Stops the thread after the pose it is sending (what is still queued is dropped: a live
        stream has no backlog worth sending late) and closes the sockets."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify()
        self._thread.join()
        self._close_sockets()

    def __enter__(self) -> "PoseStreamer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets = []

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                pose_frame, captured_ns = self._queue.popleft()
                self._cond.notify_all()  # flush() waits for the queue to empty
            try:
                packets = [ch.encoder.encode(pose_frame) for ch in self.channels]
            except BaseException as exc:  # noqa: BLE001 - raised again by the next submit
                self._error = exc
                return
            for sock, packet in zip(self._sockets, packets):
                self._send(sock, packet)
            sent_ns = time.monotonic_ns()
            with self._cond:
                self._frames += 1
            if captured_ns is not None:
                self.latencies_ns.append(sent_ns - captured_ns)

    def _send(self, sock: socket.socket, packet: bytes) -> None:
        try:
            sock.send(packet)
        except ConnectionRefusedError:
            with self._cond:
                self._refused += 1
                self._last_refused = time.monotonic()
            return
        except BlockingIOError:  # the socket's buffer is full: this packet is dropped
            with self._cond:
                self._errors += 1
            return
        except OSError as exc:
            with self._cond:
                self._errors += 1
                self._last_error = f"send failed: {exc.strerror or exc}"
            return
        now = time.monotonic()
        with self._cond:
            self._packets += 1
            self._last_error = ""
            self._send_times.append(now)
            self._forget_sends_before(now - _RATE_WINDOW_S)

    def _forget_sends_before(self, t: float) -> None:
        while self._send_times and self._send_times[0] < t:
            self._send_times.popleft()
