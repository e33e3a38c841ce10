"""Everyone a live session tells apart, in 3D: a pose sink (events.PoseSink) that runs a causal
temporal stage per person (engine/session/live_people.py) on the session's own tracked people, so
the ids are the ones every TrackedFrame carries, and records them all when asked
(engine/session/people_recorder.py).

    sink = PeopleSink(config, takes_dir, SessionEvents(recording=..., take_saved=...))
    session.add_sink(sink)
    sink.opened(info)               # the session's SessionInfo: the rate and name of takes
    sink.latest                     # after each on_pose: PersonPose of everyone, in one world
    sink.set_recording(True)        # from the next frame: one take per person

Hands are not tracked for anyone here (fingers follow the person the session follows).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.capture.frames import Frame
from engine.session.events import RecordingState, SessionEvents, SessionInfo, TakeSaved, TrackedFrame
from engine.session.live_people import LivePeople, PersonPose
from engine.session.people_recorder import PeopleRecording
from engine.session.pipeline import PipelineConfig
from engine.session.recorder import next_take_name


class PeopleSink:
    def __init__(self, config: PipelineConfig, takes_dir: str | Path = "", events: SessionEvents | None = None):
        self.config = replace(config, hands=False, face=False)
        self.people = LivePeople(self.config, everyone=True)
        self.takes_dir = Path(takes_dir) if takes_dir else None
        self.events = events or SessionEvents()
        self.info: SessionInfo | None = None
        self.latest: tuple[PersonPose, ...] = ()
        self._record_wanted = False
        self._recording: PeopleRecording | None = None
        self._others_until = -1.0  # everyone's 3D is worked out while someone else was seen lately

    @property
    def recording(self) -> bool:
        return self._recording is not None

    def opened(self, info: SessionInfo) -> None:
        self.info = info

    def set_recording(self, on: bool) -> None:
        """Any thread; takes effect at the next frame."""
        self._record_wanted = on

    # ---- the session's tracking thread ----
    def on_pose(self, frame: TrackedFrame) -> None:
        self.follow(frame.frame, frame.pose.timestamp_s, frame.people, frame.person_id, frame.merges)

    def follow(self, frame: Frame, timestamp_s: float, people: tuple,
               followed: int | None = None, merges: tuple = ()) -> tuple[PersonPose, ...]:
        """Everyone the session's tracker told apart in this frame (TrackedPerson) -> their poses, one
        world. followed: the id the session follows; anyone else in view (the followed person gone,
        another one left alone) is worked out here too, since the session's own pose is not theirs.
        merges: the tracker's (newcomer id, id) pairs of this frame: recorded, one person's take."""
        if len(people) > 1 or any(p.id != followed for p in people if followed is not None):
            self._others_until = timestamp_s + self.config.people.forget_s
        if not self._record_wanted and self._recording is None and timestamp_s > self._others_until:
            # one person alone: the session's own pose is theirs; nothing more to work out per frame
            if self.latest:
                self.latest = ()
                self.people = LivePeople(self.config, everyone=True, lifter=self.people.lifter)
            return self.latest
        image = frame.image if self.people.lifter.needs_images else None
        self.latest = tuple(self.people.follow(frame.index, timestamp_s, list(people), image))
        if self._record_wanted and self._recording is None:
            self._start()
        if self._recording is not None and not self._record_wanted:
            self._finish()
        if self._recording is not None:
            self._recording.append(timestamp_s, list(self.latest), frame.image, tuple(merges))
        return self.latest

    def close(self) -> None:
        if self._recording is not None:
            self._finish()

    def _start(self) -> None:
        if self.takes_dir is None:
            raise ValueError("recording everyone needs a takes folder")
        self.takes_dir.mkdir(parents=True, exist_ok=True)
        info = self.info
        fps = info.fps if info is not None and info.fps > 0 else 30.0
        self._recording = PeopleRecording(self.takes_dir, next_take_name(self.takes_dir), self.people.lifter.skeleton,
                                          fps, info.name if info is not None else "",
                                          metadata={"config": self.config.to_dict()}, people=self.config.people)
        self._emit(self.events.recording, RecordingState(True, self._recording.name, 0))

    def _finish(self) -> None:
        recording = self._recording
        try:
            people = recording.finish()
        except Exception:
            recording.abort()  # what was written stays recoverable
            raise
        finally:
            self._recording = None
        self._emit(self.events.recording, RecordingState(False, recording.name, recording.frames))
        for person in people:
            self._emit(self.events.take_saved, TakeSaved(person.path.stem, person.path, person.take.take,
                                                         recording.video_path))

    @staticmethod
    def _emit(event, value) -> None:
        if event is not None:
            event(value)
