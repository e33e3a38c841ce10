"""The engine session: one object that runs a source's frames end to end, for every front end.

    source -> detector -> 3D mode -> tracking -> (recording) -> poses and files

    session = Session(source, config, SessionEvents(progress=..., pose=..., ended=...))
    take = session.process()          # every frame, then the zero-lag whole-clip pass -> Take
    people = session.process_people() # the same, one take per person (engine/session/people_takes.py)
    end = session.stream(realtime=True)  # frame by frame, causal: a pose event per frame
    session.set_recording(True)       # stream: the next frames go into a crash-safe take
    session.add_sink(sink)            # stream: any per-frame consumer (events.PoseSink)
    session.choose_person(person_id)  # stream: follow this person (a tracker id) from the next frame
    session.cancel()                  # from any thread

Several people in view (docs/PEOPLE.md): `process` follows one (config.person, or the one the
lock-on rule picks over the clip); `stream` locks on to the best person of the first frame with
anyone in view and follows only them, and every TrackedFrame lists everyone tracked.

`process` suits files, and cameras captured until Ctrl+C or `cancel` (`monocap process`, batch
runs); it raises what went wrong after reporting it. `stream` suits showing poses as they come
(the GUI, streaming out); live sources keep only their newest frame, files give every frame, in
order; with `realtime` a file plays at its own rate as a camera filming it would (engine/capture/paced_source.py:
the newest frame wins when the engine falls behind). It never raises: a problem ends it and is
reported by the `error` and `ended` events and in the `SessionEnd` it returns.
The files of a take are written by engine.session.outputs.write_outputs.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import numpy as np

from engine.capture.detector import DetectorConfig, PoseDetector
from engine.capture.face import FaceTracker
from engine.capture.frames import FrameSource
from engine.capture.hands import HandTracker
from engine.capture.latest_frame import LatestFrameGrabber
from engine.capture.live_detector import live_detector
from engine.capture.lock_on import LockOn
from engine.capture.paced_source import PacedSource
from engine.capture.people import PeopleTracker, TrackedPerson
from engine.core.native_memory import release_free_memory
from engine.core.take import Take
from engine.lift.device import describe_device
from engine.lift.modes import make_lifter
from engine.session.events import (
    DetectedFrame,
    PoseSink,
    RecordingState,
    SessionEnd,
    SessionEvents,
    SessionInfo,
    TakeSaved,
    TrackedFrame,
)
from engine.session.live_stage import InlineStage, TrackingStage
from engine.session.people_sink import PeopleSink
from engine.session.people_takes import EveryoneDetected, PersonTake, people_takes
from engine.session.pipeline import CancelFlag, Cancelled, LiveTracker, PipelineConfig, bgr_to_rgb, detect_people_source
from engine.session.recorder import TakeRecorder, next_take_name


class Session:
    def __init__(self, source: FrameSource | Callable[[], FrameSource], config: PipelineConfig = PipelineConfig(),
                 events: SessionEvents | None = None, *, cancel: CancelFlag | None = None, name: str = "",
                 takes_dir: str | Path = "", overlap_tracking: bool = True,
                 detector: Callable[[DetectorConfig], PoseDetector] | None = None):
        """source: an open source, or a function that opens one (its errors are then the session's).
        cancel: an outside flag the session also obeys. name: the source's name in messages until
        it is open. takes_dir: where `stream` records takes. overlap_tracking: `stream` tracks on a
        thread of its own, overlapping the next frame's detection (False: in line). detector:
        makes the detector from `config.detector` (a context manager with `detect_people(image_bgr,
        timestamp_ns) -> list[Detection]`); by default `process` uses PoseDetector and `stream` the
        watchful one (engine/capture/live_detector.py)."""
        self.config = config
        self.events = events or SessionEvents()
        self._open = source if callable(source) else (lambda: source)
        self.source: FrameSource | None = None
        self.name = name or getattr(source, "name", "") or "source"
        self.takes_dir = Path(takes_dir) if takes_dir else None
        self._outside_cancel = cancel
        self._cancelled = threading.Event()
        self._record_wanted = False
        self._person_wanted: int | None = None
        self._sinks: list[PoseSink] = []
        self._everyone: PeopleSink | None = None
        self.overlap_tracking = overlap_tracking
        self._make_detector = detector

    # ---- any thread ----
    def cancel(self) -> None:
        self._cancelled.set()

    def is_set(self) -> bool:
        """True once cancelled (the session is its own cancel flag for the pipeline's calls)."""
        return self._cancelled.is_set() or (self._outside_cancel is not None and self._outside_cancel.is_set())

    @property
    def cancelled(self) -> bool:
        return self.is_set()

    def set_recording(self, on: bool) -> None:
        """stream: start or stop recording a take; takes effect at the next tracked frame."""
        self._record_wanted = on

    def choose_person(self, person_id: int) -> None:
        """stream: follow this person (a tracker id from TrackedFrame.people) from the next frame;
        the temporal stage starts over for them."""
        self._person_wanted = person_id

    def track_everyone(self, people: PeopleSink) -> None:
        """Before `stream`: everyone the session tells apart is also put in 3D (and recorded when the
        sink is asked to), in each TrackedFrame's `everyone`."""
        self._everyone = people

    def add_sink(self, sink: PoseSink) -> None:
        """Before `stream`: `sink.on_pose` gets every tracked frame, `sink.close` the end."""
        self._sinks.append(sink)

    # ---- the thread that runs the session ----
    def process(self) -> Take:
        """Every frame, then the whole-clip pass -> the take of one person: config.person, or the
        one the lock-on rule picks; frames where that person is not seen are invalid, whoever
        else is in view. Raises Cancelled (with the partial tracks) when cancelled, and any error
        after reporting it."""
        return self._offline(lambda everyone: [everyone.take(everyone.chosen_number(self.config.person), self.config)])[0]

    def process_people(self, count: int | None = None) -> list[PersonTake]:
        """As `process`, one take per person (or for the `count` best by the lock-on rule)."""
        return self._offline(lambda everyone: people_takes(everyone, self.config, count))

    def _offline(self, finish: Callable[[EveryoneDetected], list]) -> list:
        frames = 0
        error: BaseException | None = None
        try:
            source = self._open_source()
            started = time.perf_counter()
            lifter = make_lifter(self.config.lift)
            lifted: dict[int, dict[int, np.ndarray]] = {}
            on_frame = None
            if lifter.needs_images:
                lives: dict[int, object] = {}  # each person's own live state of the 3D mode

                def on_frame(row: int, frame, found: list[TrackedPerson]) -> None:
                    rgb = bgr_to_rgb(frame.image) if found else None
                    for person in found:
                        live = lives.get(person.id) or lives.setdefault(person.id, lifter.start_live())
                        lifted.setdefault(person.id, {})[row] = live.push(person.detection, rgb).astype(np.float32)

            with (self._make_detector or PoseDetector)(self.config.detector) as detector, \
                    (HandTracker(self.config.hand) if self.config.hands else nullcontext()) as hand_tracker, \
                    (FaceTracker(self.config.face_tracking) if self.config.face else nullcontext()) as face_tracker:
                tracks = detect_people_source(source, detector, self.events.progress, self, on_frame=on_frame,
                                              people=self.config.people, hand_tracker=hand_tracker,
                                              face_tracker=face_tracker)
            frames = len(tracks)
            everyone = EveryoneDetected.from_tracks(tracks, lifter, source.fps, source.name, self.config.people,
                                                    lifted)
            results = finish(everyone)
            for result in results:
                (getattr(result, "take", result)).metadata["processing_s"] = round(time.perf_counter() - started, 3)
            return results
        except Cancelled as exc:
            frames = len(exc.partial)
            raise
        except Exception as exc:
            error = exc
            self._emit(self.events.error, exc)
            raise
        finally:
            self._close_source()
            release_free_memory()
            self._emit(self.events.ended, SessionEnd(self.name, frames, error, self.is_set()))

    def stream(self, realtime: bool = False, max_frames: int | None = None) -> SessionEnd:
        """Tracks frame by frame until the source ends, `max_frames` were tracked or the session is cancelled."""
        grabber: LatestFrameGrabber | None = None
        recording = _Recording(self)
        counter = _FrameCounter()
        error: BaseException | None = None
        try:
            source = self._open_source()
            tracker = LiveTracker(self.config, make_lifter(self.config.lift))
            recording.tracker = tracker
            self._emit(self.events.opened, SessionInfo(source.name, source.fps, source.frame_count, source.is_live,
                                                       describe_device(self.config.lift.device),
                                                       tuple(getattr(source, "notes", ())),
                                                       getattr(tracker.lifter, "notice", "")))
            frame_count = source.frame_count
            if realtime and not source.is_live:  # a file at its own rate behaves as a camera filming it
                source = self.source = PacedSource(source)

            def on_pose(frame, detection, pose, detected: DetectedFrame) -> None:  # the tracking thread, in order
                on = recording.update(frame, pose)
                everyone = () if self._everyone is None else self._everyone.follow(
                    frame, pose.timestamp_s, detected.people, detected.person_id, detected.merges)
                now = time.perf_counter()
                tracked = TrackedFrame(frame, pose, detected.detect_s, tracker.last_push_s, now - detected.picked_up_s,
                                       counter.tick(now), grabber.dropped if grabber else 0, on, detected.people,
                                       detected.person_id, detected.merges, detected.captured_ns, frame_count,
                                       everyone)
                for sink in self._sinks:
                    sink.on_pose(tracked)
                self._emit(self.events.pose, tracked)

            people, lock = PeopleTracker(self.config.people), LockOn(self.config.person or None)
            stage_type = TrackingStage if self.overlap_tracking else InlineStage
            make_detector = self._make_detector or live_detector
            with make_detector(self.config.detector) as detector, stage_type(tracker, on_pose) as stage:
                if source.is_live:
                    grabber = LatestFrameGrabber(source).start()
                frame_iter = iter(source) if grabber is None else None
                submitted = 0
                while not self.is_set() and (max_frames is None or submitted < max_frames):
                    if grabber is not None:
                        try:
                            frame = grabber.take(0.1)
                        except StopIteration:  # a live source that ends (a file played as live)
                            break
                        if frame is None:
                            continue
                    else:
                        frame = next(frame_iter, None)
                        if frame is None:
                            break
                    picked_up, picked_up_ns = time.perf_counter(), time.monotonic_ns()
                    found = people.update(frame.timestamp_ns / 1e9, detector.detect_people(frame.image, frame.timestamp_ns),
                                          frame.image)
                    detect_s = time.perf_counter() - picked_up
                    restart = False
                    if self._person_wanted is not None:
                        restart = self._person_wanted != lock.person_id
                        lock.choose(self._person_wanted)
                        self._person_wanted = None
                    detection = lock.pick(found)  # only the person followed, never anyone else
                    detected = DetectedFrame(picked_up, detect_s, tuple(found), lock.person_id, tuple(people.take_merges()),
                                             _captured_ns(source, frame, picked_up_ns))
                    stage.submit(frame, detection, detected, restart=restart)
                    submitted += 1
        except Exception as exc:  # noqa: BLE001 - a stream ends with a report, never a crash
            error = exc
        finally:
            if grabber is not None:
                grabber.stop()
            self._close_source()
            error = _first(error, recording.close)
            for sink in self._sinks + ([self._everyone] if self._everyone is not None else []):
                error = _first(error, sink.close)
            self._record_wanted = False
        release_free_memory()
        if error is not None:
            self._emit(self.events.error, error)
        end = SessionEnd(self.name, counter.frames, error, self.is_set())
        self._emit(self.events.ended, end)
        return end

    # ---- inside ----
    def _open_source(self) -> FrameSource:
        self.source = self._open()
        self.name = self.source.name
        return self.source

    def _close_source(self) -> None:
        if self.source is not None:
            try:
                self.source.close()
            except Exception:  # noqa: BLE001 - the run's own outcome is what gets reported
                pass

    @staticmethod
    def _emit(event: Callable | None, value) -> None:
        if event is not None:
            event(value)


def _captured_ns(source, frame, picked_up_ns: int) -> int:
    """When a frame was captured, on time.monotonic_ns(): from the source's clock where it keeps one
    (cameras, files at their own rate: `clock_origin_ns`), else when the session picked it up."""
    origin = getattr(source, "clock_origin_ns", None)
    return origin + frame.timestamp_ns if origin is not None else picked_up_ns


def _file_of(source) -> Path | None:
    """The video file a source plays (through a PacedSource too); None for a camera."""
    inner = getattr(source, "source", source)
    path = getattr(inner, "path", None)
    return Path(path) if path is not None and not inner.is_live and Path(path).is_file() else None


def _first(error: BaseException | None, close: Callable[[], None]) -> BaseException | None:
    """Runs `close`; the run's first error wins over one raised there."""
    try:
        close()
    except Exception as exc:  # noqa: BLE001
        return error or exc
    return error


class _FrameCounter:
    """Frames finished, and their recent rate."""

    def __init__(self, recent: int = 30):
        self.frames = 0
        self._times: deque[float] = deque(maxlen=recent)

    def tick(self, now: float) -> float:
        self.frames += 1
        self._times.append(now)
        t = self._times
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0.0


class _Recording:
    """Opens, feeds and closes the crash-safe take (engine.session.recorder) as the session's
    recording flag asks, on the tracking thread."""

    def __init__(self, session: Session):
        self._session = session
        self.tracker: LiveTracker | None = None
        self._recorder: TakeRecorder | None = None
        self._source_frames: list[int] = []

    def update(self, frame, pose) -> bool:
        """Applies the recording flag, records this frame when on; -> whether it was recorded."""
        s = self._session
        if s._record_wanted and self._recorder is None:
            self._start()
        if self._recorder is not None and not s._record_wanted:
            self._finish()
        if self._recorder is None:
            return False
        self._source_frames.append(frame.index)
        det = pose.detection
        self._recorder.append(pose.timestamp_s, pose.joints_m, None if det is None else det.keypoints_px,
                              None if det is None else det.scores, frame.image,
                              None if pose.hands is None else pose.hands.keypoints_px)
        return True

    def close(self) -> None:
        if self._recorder is not None:
            try:
                self._finish()
            except Exception:
                self._recorder.abort()  # what was written stays recoverable
                self._recorder = None
                raise

    def _start(self) -> None:
        s = self._session
        if s.takes_dir is None:
            raise ValueError("recording needs a takes folder (Session(takes_dir=...))")
        s.takes_dir.mkdir(parents=True, exist_ok=True)
        source = s.source
        self._recorder = TakeRecorder(s.takes_dir, next_take_name(s.takes_dir), self.tracker.skeleton, source.fps,
                                      source.name, metadata={"config": s.config.to_dict()})
        self._source_frames = []
        s._emit(s.events.recording, RecordingState(True, self._recorder.name, 0))

    def _finish(self) -> None:
        recorder = self._recorder
        take, path = recorder.finish()
        self._recorder = None
        s = self._session
        s._emit(s.events.recording, RecordingState(False, recorder.name, take.num_frames))
        frames, self._source_frames = tuple(self._source_frames), []
        s._emit(s.events.take_saved, TakeSaved(recorder.name, path, take, recorder.video_path,
                                               source_path=_file_of(s.source), source_frames=frames))
