"""The one way a session's poses are streamed, for the app and `monocap stream` alike.

A pose consumer that stays in place while streams start and stop: an engine session hands it
every tracked frame (it is a session PoseSink, engine/session/events.py), or any loop calls
`submit`; a front end attaches a streamer (a PoseStreamer, or the ProcessPoseStreamer that sends
from a process of its own) when the user turns streaming on and detaches it
when they turn it off. It outlives the sessions it is added to."""

from __future__ import annotations

import threading

from engine.streaming.sender import PoseStreamer
from engine.streaming.sender_process import ProcessPoseStreamer

Streamer = PoseStreamer | ProcessPoseStreamer


class StreamSwitch:
    def __init__(self):
        self._lock = threading.Lock()
        self._streamer: Streamer | None = None
        self.failure = ""  # why the last stream stopped by itself (an encoder's error)

    @property
    def streamer(self) -> Streamer | None:
        return self._streamer

    def attach(self, streamer: Streamer) -> None:
        """Starts sending to `streamer` (the one attached before is closed)."""
        with self._lock:
            old, self._streamer = self._streamer, streamer
            self.failure = ""
        if old is not None:
            old.close()

    def detach(self) -> None:
        with self._lock:
            old, self._streamer = self._streamer, None
        if old is not None:
            old.close()

    def on_pose(self, tracked) -> None:
        """A session's tracked frame (events.TrackedFrame), on its tracking thread."""
        self.submit(tracked.pose, tracked.captured_ns)

    def close(self) -> None:
        """A session ended; the stream stays on for the next one."""

    def submit(self, pose_frame, captured_ns: int | None = None) -> None:
        """Never raises into the calling loop: a stream that fails is detached, its error kept."""
        streamer = self._streamer
        if streamer is None:
            return
        try:
            streamer.submit(pose_frame, captured_ns)
        except RuntimeError:
            return  # detached and closed meanwhile
        except Exception as exc:  # noqa: BLE001 - the capture goes on without the stream
            with self._lock:
                if self._streamer is streamer:
                    self._streamer = None
                    self.failure = f"stream stopped: {exc}"
            threading.Thread(target=streamer.close, daemon=True).start()
