"""What the main window is doing, as a plain object with no widgets: the mode, the source, the take
being recorded or played back, the rates, and the banner that belongs to the present state.

The window feeds it the worker's reports and the user's actions and draws what it says; the tests
drive it without a window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class Mode(Enum):
    IDLE = "idle"  # nothing runs
    LIVE = "live"  # a source (camera or file) is tracked
    PLAYBACK = "playback"  # a recorded take is shown on the timeline


class SourceKind(Enum):
    CAMERA = "camera"
    FILE = "file"
    SAMPLE = "sample"  # the bundled sample clip


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    label: str  # what the user calls it: a file name, a camera's description
    path: str = ""
    camera_index: int | None = None

    @property
    def is_camera(self) -> bool:
        return self.kind is SourceKind.CAMERA


class BannerScope(Enum):
    SOURCE = "source"  # about the source that plays: goes when another source or a take plays
    MESSAGE = "message"  # a result (export, recovery): stays until closed or replaced


@dataclass(frozen=True)
class Banner:
    text: str
    level: str = "info"  # info | warning | error
    action: str = ""  # the button's text; empty: no button
    action_id: str = ""  # what the button does (the window maps it): "sample", "open_folder"
    scope: BannerScope = BannerScope.MESSAGE
    folder: str = ""  # for "open_folder"


class RateMeter:
    """Events per second over the last `window_s`; None until `min_span_s` of events were seen (so
    start-up shows no rate rather than 0.3 fps from the first, slow frames)."""

    def __init__(self, window_s: float = 2.0, min_span_s: float = 1.0, min_events: int = 5):
        self.window_s = window_s
        self.min_span_s = min_span_s
        self.min_events = min_events
        self._times: deque[float] = deque()
        self._first: float | None = None

    def add(self, t: float) -> None:
        if self._first is None:
            self._first = t
        self._times.append(t)
        while self._times and self._times[0] < t - self.window_s:
            self._times.popleft()

    def rate(self) -> float | None:
        if self._first is None or len(self._times) < self.min_events:
            return None
        if self._times[-1] - self._first < self.min_span_s:
            return None
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else None

    def clear(self) -> None:
        self._times.clear()
        self._first = None


DEVICE_CHOICES = {"auto": "automatic", "cpu": "CPU", "cuda": "CUDA"}


def format_seconds(s: float) -> str:
    """7.2 s, 1:05.3, 1:02:03 (what a clock of a take shows)."""
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{int(m)}:{sec:04.1f}"
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{int(sec):02d}"


class WindowState:
    def __init__(self, device_choice: str = "auto"):
        self.mode = Mode.IDLE
        self.source: Source | None = None
        self.source_running = False
        self.device_choice = device_choice
        self.device_actual = ""  # what the engine reported for the running source
        self.banner: Banner | None = None
        # the running source
        self.frame_index = -1  # last frame shown, 0-based
        self.frame_count: int | None = None
        self.source_fps = 0.0
        self.timestamp_s = 0.0
        self.display_rate = RateMeter()
        self.engine_fps: float | None = None
        self.latency_ms: float | None = None
        self.person_in_view: bool | None = None
        # recording
        self.recording = False
        self.recording_name = ""
        self._record_first_t: float | None = None
        self.recording_s = 0.0
        # playback
        self.take_name = ""
        self.playing = False

    # ---- the user's actions ----
    def open_source(self, source: Source) -> None:
        """A new source replaces whatever ran (a take being recorded is saved by the engine)."""
        self.mode = Mode.LIVE
        self.source = source
        self.source_running = True
        self.take_name = ""
        self.playing = False
        self._stop_recording_clock()
        self._clear_rates()
        self.device_actual = ""
        self.frame_index, self.frame_count, self.timestamp_s = -1, None, 0.0
        self._drop_banner(BannerScope.SOURCE)

    def select_take(self, name: str) -> None:
        self.mode = Mode.PLAYBACK
        self.take_name = name
        self.playing = False
        self._drop_banner(BannerScope.SOURCE)

    def set_playing(self, on: bool) -> None:
        self.playing = bool(on) and self.mode is Mode.PLAYBACK

    def back_to_live(self) -> None:
        self.mode = Mode.LIVE if self.source_running else Mode.IDLE
        self.take_name = ""
        self.playing = False

    def show(self, banner: Banner | None) -> None:
        self.banner = banner

    def close_banner(self) -> None:
        self.banner = None

    # ---- the engine's reports ----
    def source_opened(self, device: str, fps: float, frame_count: int | None) -> None:
        self.device_actual = device
        self.source_fps = fps
        self.frame_count = frame_count

    def frame_shown(self, now_s: float, index: int, timestamp_s: float, engine_fps: float, latency_ms: float,
                    person_in_view: bool, recording: bool, frame_count: int | None) -> None:
        self.display_rate.add(now_s)
        self.frame_index = index
        self.timestamp_s = timestamp_s
        if frame_count:
            self.frame_count = frame_count
        # the engine's rate counts its first, slow frames: shown once ours has settled
        self.engine_fps = engine_fps if self.display_rate.rate() is not None else None
        self.latency_ms = latency_ms
        self.person_in_view = person_in_view
        if recording and self.recording:
            if self._record_first_t is None:
                self._record_first_t = timestamp_s
            frame_s = 1.0 / self.source_fps if self.source_fps > 0 else 0.0
            self.recording_s = timestamp_s - self._record_first_t + frame_s

    def recording_changed(self, on: bool, name: str) -> None:
        self.recording = on
        self.recording_name = name
        if on:
            self._record_first_t = None
            self.recording_s = 0.0

    def source_ended(self, error: str | None, cancelled: bool, frames: int) -> Banner | None:
        """The source stopped: rates clear; returns what to tell the user (also kept as the banner)."""
        source = self.source
        self.source_running = False
        self.recording = False
        self._clear_rates()
        self.person_in_view = None
        if self.mode is Mode.LIVE:
            self.mode = Mode.IDLE
        label = source.label if source else "the source"
        if error and source is not None and source.is_camera:
            # a camera that is missing or was unplugged: say so and offer something to look at
            self.banner = Banner(error, "error", "Play sample clip", "sample", BannerScope.SOURCE)
        elif error:
            self.banner = Banner(error, "error", scope=BannerScope.SOURCE)
        elif not cancelled and source is not None and not source.is_camera:
            total = self.frame_count or frames
            length = f" ({format_seconds(frames / self.source_fps)})" if self.source_fps > 0 else ""
            self.banner = Banner(f"Finished tracking {label}: {frames} of {total} frames{length}.",
                                 "info", scope=BannerScope.SOURCE)
        return self.banner

    # ---- what the window shows ----
    def fps_text(self) -> str:
        rate = self.display_rate.rate() if self.source_running and self.mode is Mode.LIVE else None
        if rate is None:
            return "— fps"
        return f"{rate:.1f} fps" + (f" (engine {self.engine_fps:.0f})" if self.engine_fps else "")

    def latency_text(self) -> str:
        if not self.source_running or self.latency_ms is None:
            return "latency —"
        return f"latency {self.latency_ms:.0f} ms"

    def device_text(self) -> str:
        chosen = DEVICE_CHOICES.get(self.device_choice, self.device_choice)
        if not self.device_actual or self.device_actual.lower() == chosen.lower():
            return f"device {self.device_actual or chosen}"
        return f"device {self.device_actual} ({chosen})"

    def person_text(self) -> str:
        if self.person_in_view is None:
            return "no source" if not self.source_running and self.mode is not Mode.PLAYBACK else ""
        return "person found" if self.person_in_view else "nobody in view"

    def recording_text(self) -> str:
        """The indicator's text: the take's own length, not the video's frame number."""
        if not self.recording:
            return ""
        return f"● REC {self.recording_name}  {format_seconds(self.recording_s)}"

    def progress(self) -> tuple[int, int] | None:
        """(frames done, frames in all) while a file is tracked; None for cameras and when idle."""
        if not self.source_running or self.source is None or self.source.is_camera or not self.frame_count:
            return None
        return min(self.frame_index + 1, self.frame_count), self.frame_count

    def progress_text(self) -> str:
        done = self.progress()
        if done is None:
            return ""
        text = f"frame {done[0]} of {done[1]}"
        if self.source_fps > 0:
            text += f"  ·  {format_seconds(self.timestamp_s)} of {format_seconds(done[1] / self.source_fps)}"
        return text

    def activity_text(self) -> str:
        """The status bar's standing message: what runs now."""
        if self.mode is Mode.PLAYBACK:
            return f"Playing back {self.take_name}" if self.playing else f"Take {self.take_name} (paused)"
        if self.source_running and self.source is not None:
            verb = "Live from" if self.source.is_camera else "Tracking"
            return f"{verb} {self.source.label}"
        return "Ready"

    # ----
    def _clear_rates(self) -> None:
        self.display_rate.clear()
        self.engine_fps = None
        self.latency_ms = None

    def _stop_recording_clock(self) -> None:
        self.recording = False
        self._record_first_t = None
        self.recording_s = 0.0

    def _drop_banner(self, scope: BannerScope) -> None:
        if self.banner is not None and self.banner.scope is scope:
            self.banner = None


def source_for_path(path: str | Path, sample: Path) -> Source:
    path = Path(path)
    kind = SourceKind.SAMPLE if path.resolve() == Path(sample).resolve() else SourceKind.FILE
    return Source(kind, path.name, str(path))
