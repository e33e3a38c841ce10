"""What the main window is doing, in one object with no widgets: the mode, the source, the takes
listed and the take shown, the recording, the rates, and the banner that belongs to the present
state.

The window feeds it the worker's reports and the user's actions. Every change emits `changed`
with a `WindowStatus`, which the views draw (connect them with `subscribe`); the takes list
follows `takeListed` and `takesCleared`. The tests drive it without a window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot

from engine.core.take import Take
from engine.session.settings import DEFAULT_DEVICE, MODE_LABELS

from .messages import SessionInfo
from .user_errors import one_line
from .window_values import (
    Banner,
    BannerScope,
    ListedTake,
    Mode,
    Source,
    SourceKind,
    TakeFiles,
    WindowStatus,
    format_seconds,
    source_for_path,
)

__all__ = ["Banner", "BannerScope", "ListedTake", "Mode", "RateMeter", "Source", "SourceKind", "TakeFiles",
           "WindowState", "WindowStatus", "format_seconds", "source_for_path"]

DEVICE_CHOICES = {"auto": "automatic", "cpu": "CPU", "cuda": "CUDA"}


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


class WindowState(QObject):
    changed = Signal(object)  # WindowStatus: what the window shows now
    takeListed = Signal(object)  # ListedTake: added to the list, or replacing the one of its name
    takesCleared = Signal()

    def __init__(self, device_choice: str = DEFAULT_DEVICE, parent: QObject | None = None):
        super().__init__(parent)
        self.mode = Mode.IDLE
        self.source: Source | None = None
        self.source_info: SessionInfo | None = None  # the engine's report on the running source
        self.source_running = False
        self.device_choice = device_choice
        self.device_actual = ""  # what the engine reported for the running source
        self.lift_choice: tuple[str, bool] = ("", False)  # the 3D mode chosen in the settings, hands tracked
        self.lift_running: tuple[str, bool] | None = None  # the running source's, as it was opened
        self.banner: Banner | None = None
        self._beneath: Banner | None = None  # shown when the banner shown is closed (see BannerScope.NOTICE)
        # the running source
        self.frame_index = -1  # last frame shown, 0-based
        self.frame_count: int | None = None
        self.source_fps = 0.0
        self.timestamp_s = 0.0
        self.display_rate = RateMeter()
        self.engine_fps: float | None = None
        self.latency_ms: float | None = None
        self.person_in_view: bool | None = None
        self.followed: int | None = None  # the tracker id of the person followed
        self.in_view: tuple[int, ...] = ()  # the ids of everyone tracked in the frame shown
        # recording
        self.recording = False
        self.recording_name = ""
        self._record_first_t: float | None = None
        self.recording_s = 0.0
        # takes and playback
        self.takes: dict[str, TakeFiles] = {}
        self.take_name = ""
        self.current_take: Take | None = None
        self.take_person_in_view: bool | None = None  # at the take's frame shown
        self.take_frame = 0  # the take's frame shown, 0-based
        self.playing = False

    def subscribe(self, slot: Callable[[WindowStatus], None]) -> None:
        """Calls `slot` with the status now and on every change."""
        self.changed.connect(slot)
        slot(self.status())

    # ---- the user's actions ----
    def open_source(self, source: Source) -> None:
        """A new source replaces whatever ran (a take being recorded is saved by the engine)."""
        self.mode = Mode.LIVE
        self.source = source
        self.source_info = None
        self.source_running = True
        self.lift_running = self.lift_choice
        self._leave_take()
        self._stop_recording_clock()
        self._clear_rates()
        self.device_actual = ""
        self.frame_index, self.frame_count, self.timestamp_s = -1, None, 0.0
        self._drop_banner(BannerScope.SOURCE, BannerScope.MESSAGE)  # earlier results must not hide the new run
        self._changed()

    def select_take(self, name: str, take: Take | None = None) -> None:
        self.mode = Mode.PLAYBACK
        self.take_name = name
        self.current_take = take
        self.take_person_in_view = None
        self.take_frame = 0
        self.playing = False
        self._drop_banner(BannerScope.SOURCE)
        self._changed()

    def take_replaced(self, take: Take) -> None:
        """The take shown, read again (its file was refined); the same frames."""
        self.current_take = take
        self._changed()

    def take_frame_shown(self, person_in_view: bool, frame: int = 0) -> None:
        self.take_person_in_view = person_in_view
        self.take_frame = frame
        self._changed()

    @Slot(bool)
    def set_playing(self, on: bool) -> None:
        self.playing = bool(on) and self.mode is Mode.PLAYBACK
        self._changed()

    def back_to_live(self) -> None:
        self.mode = Mode.LIVE if self.source_running else Mode.IDLE
        self._leave_take()
        self._changed()

    def show(self, banner: Banner | None) -> None:
        """Shows `banner` in place of the one shown; a notice stays over news of the source (which waits
        beneath it), an error goes over a notice (which comes back when the error is closed)."""
        self._show(banner)
        self._changed()

    def _show(self, banner: Banner | None) -> None:
        if banner is not None and one_line(banner.text) != banner.text:  # the detail goes to the log
            banner = replace(banner, text=one_line(banner.text))
        shown, beneath = self.banner, self._beneath
        notice = next((b for b in (shown, beneath) if b is not None and b.scope is BannerScope.NOTICE), None)
        if banner is None:
            self.banner, self._beneath = (notice if notice is not shown else None), None
        elif banner.scope is BannerScope.NOTICE:
            self.banner, self._beneath = banner, (shown if shown is not None and shown is not notice else None)
        elif notice is None:
            self.banner, self._beneath = banner, None
        elif banner.level == "error":  # over the notice, which comes back when the error is closed
            self.banner, self._beneath = banner, notice
        else:  # beneath the notice
            self.banner, self._beneath = notice, banner

    @Slot()
    def close_banner(self) -> None:
        """The ✕: what waited beneath the banner shows."""
        self.banner, self._beneath = self._beneath, None
        self._changed()

    def set_lift_choice(self, mode: str, hands: bool) -> None:
        """The 3D mode (engine.lift MODE_LABELS' key) and hands chosen: the next source runs them."""
        self.lift_choice = (mode, bool(hands))
        self._changed()

    def lift_text(self) -> str:
        """"3D mode fit + hands": what runs, and what the next source will run when that differs."""
        def short(choice: tuple[str, bool]) -> str:
            return choice[0] + (" + hands" if choice[1] else "")

        running = self.lift_running if self.source_running else None
        if running is not None and self.source is not None and self.source.views > 1:
            return f"3D from {self.source.views} cameras"  # triangulated: no 3D mode runs
        if not self.lift_choice[0]:
            return ""
        if running is not None and self.lift_fallback():  # the mode chosen could not load its model
            return f"3D mode fit{' + hands' if running[1] else ''} ({running[0]} model not loaded)"
        if running is None or running == self.lift_choice:
            return f"3D mode {short(running or self.lift_choice)}"
        return f"3D mode {short(running)} (next source: {short(self.lift_choice)})"

    def lift_tip(self) -> str:
        def words(choice: tuple[str, bool]) -> str:
            return MODE_LABELS.get(choice[0], choice[0]) + ("; hands and fingers tracked (slower)" if choice[1] else "")

        running = self.lift_running if self.source_running else None
        if running is not None and self.source is not None and self.source.views > 1:
            return f"3D triangulated from {self.source.views} calibrated cameras (the settings' 3D mode is for one camera)"
        tip = f"3D mode: {words(running or self.lift_choice)}"
        if running is not None and self.lift_fallback():
            tip = f"3D mode: {self.lift_fallback()}"
        if running is not None and running != self.lift_choice:
            tip += f". The next source runs: {words(self.lift_choice)}"
        return tip + ". Settings… (Ctrl+,) changes it."

    def lift_fallback(self) -> str:
        """The engine's one line when the running source's 3D mode could not load its model, else ''."""
        info = self.source_info if self.source_running else None
        return info.lift_notice if info is not None else ""

    def set_device_choice(self, choice: str) -> None:
        self.device_choice = choice
        self._changed()

    def list_take(self, listed: ListedTake) -> None:
        self.takes[listed.name] = listed.files
        self.takeListed.emit(listed)

    def clear_takes(self) -> None:
        self.takes.clear()
        self.takesCleared.emit()

    # ---- the engine's reports ----
    def engine_opened(self, info: SessionInfo) -> None:
        """The engine opened the source; its notes (what it doubts about a file) become a warning."""
        self.source_info = info
        said = [f"{info.name}: " + "; ".join(info.notes)] if info.notes else []
        said += [info.lift_notice] if info.lift_notice else []
        if said:  # the 3D mode's fallback in the same line as the source's notes
            self._show(Banner(" — ".join(said), "warning", scope=BannerScope.SOURCE))
        self.source_opened(info.device, info.fps, info.frame_count)

    def source_opened(self, device: str, fps: float, frame_count: int | None) -> None:
        self.device_actual = device
        self.source_fps = fps
        self.frame_count = frame_count
        self._changed()

    def frame_shown(self, now_s: float, index: int, timestamp_s: float, engine_fps: float, latency_ms: float,
                    person_in_view: bool, recording: bool, frame_count: int | None, followed: int | None = None,
                    in_view: tuple[int, ...] = ()) -> None:
        """followed: the tracker id of the person followed (None: nobody chosen yet); in_view: the ids of
        everyone tracked in this frame."""
        self.display_rate.add(now_s)
        self.frame_index = index
        self.timestamp_s = timestamp_s
        if frame_count:
            self.frame_count = frame_count
        # the engine's rate counts its first, slow frames: shown once ours has settled
        self.engine_fps = engine_fps if self.display_rate.rate() is not None else None
        self.latency_ms = latency_ms
        self.person_in_view = person_in_view
        self.followed, self.in_view = followed, tuple(in_view)
        if recording and self.recording:
            if self._record_first_t is None:
                self._record_first_t = timestamp_s
            frame_s = 1.0 / self.source_fps if self.source_fps > 0 else 0.0
            self.recording_s = timestamp_s - self._record_first_t + frame_s
        self._changed()

    def recording_changed(self, on: bool, name: str) -> None:
        self.recording = on
        self.recording_name = name
        if on:
            self._record_first_t = None
            self.recording_s = 0.0
        self._changed()

    def source_ended(self, error: str | None, cancelled: bool, frames: int) -> Banner | None:
        """The source stopped: rates clear; returns what to tell the user (also kept as the banner)."""
        source = self.source
        self.source_running = False
        self.recording = False
        self._clear_rates()
        self.person_in_view = None
        self.followed, self.in_view = None, ()
        if self.mode is Mode.LIVE:
            self.mode = Mode.IDLE
        label = source.label if source else "the source"
        said = None
        if error and source is not None and source.is_camera:
            # a camera that is missing or was unplugged: say so and offer something to look at
            said = Banner(error, "error", "Play sample clip", "sample", BannerScope.SOURCE)
        elif error:
            said = Banner(error, "error", scope=BannerScope.SOURCE)
        elif not cancelled and source is not None and not source.is_camera and self.mode is not Mode.PLAYBACK:
            # (while a take plays, the strip speaks of the take: a source's end is old news when it is left)
            total = self.frame_count or frames
            length = f" ({format_seconds(frames / self.source_fps)})" if self.source_fps > 0 else ""
            said = Banner(f"Finished tracking {label}: {frames} of {total} frames{length}.", "info",
                          scope=BannerScope.SOURCE)
        if said is not None:
            self._show(said)
        self._changed()
        return said

    # ---- what the window shows ----
    def status(self) -> WindowStatus:
        activity = " — ".join(t for t in (self.activity_text(), self.progress_text()) if t)
        return WindowStatus(self.mode, self.banner, activity, self.progress(), self.recording, self.recording_text(),
                            self.fps_text(), self.latency_text(), self.device_text(), self.person_text(),
                            self.take_name, self.lift_text(), self.lift_tip())

    def fps_text(self) -> str:
        rate = self.display_rate.rate() if self.source_running and self.mode is Mode.LIVE else None
        fused = "fused " if self.source is not None and self.source.views > 1 else ""  # poses from several cameras
        if rate is None:
            return f"— {fused}fps"
        return f"{rate:.1f} {fused}fps" + (f" (engine {self.engine_fps:.0f})" if self.engine_fps else "")

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
        """Whether the person followed is in view; when they left it, said as such (and that a click
        follows someone else in view), never "nobody in view" while others are there."""
        if self.mode is Mode.PLAYBACK:
            seen = self.take_person_in_view
            return "" if seen is None else "pose at this frame" if seen else "no pose at this frame"
        seen = self.person_in_view
        if seen is None:
            return "no source" if not self.source_running else ""
        followed, others = self.followed, [i for i in self.in_view if i != self.followed]
        if followed is not None and not seen:
            return f"person {followed} left the view" + (" · click another to follow" if others else "")
        if seen and others:
            return f"following person {followed} · {len(others) + 1} in view"
        if not seen and others:
            return f"{len(others)} in view · click one to follow"
        return "person found" if seen else "nobody in view"

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
            if self.playing:
                return f"Playing back {self.take_name}"
            frames = f" of {self.current_take.num_frames}" if self.current_take is not None else ""
            return f"Take {self.take_name} paused at frame {self.take_frame + 1}{frames} · Space or ▶ plays it"
        if self.source_running and self.source is not None:
            verb = "Live from" if self.source.is_camera else "Tracking"
            return f"{verb} {self.source.label}"
        return "Ready"

    # ----
    def _changed(self) -> None:
        self.changed.emit(self.status())

    def _leave_take(self) -> None:
        self.take_name = ""
        self.current_take = None
        self.take_person_in_view = None
        self.playing = False

    def _clear_rates(self) -> None:
        self.display_rate.clear()
        self.engine_fps = None
        self.latency_ms = None

    def _stop_recording_clock(self) -> None:
        self.recording = False
        self._record_first_t = None
        self.recording_s = 0.0

    def _drop_banner(self, *scopes: BannerScope) -> None:
        if self._beneath is not None and self._beneath.scope in scopes:
            self._beneath = None
        if self.banner is not None and self.banner.scope in scopes:
            self.banner, self._beneath = self._beneath, None
