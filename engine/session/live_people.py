"""Several people, live: the people tracker (engine/capture/people.py) in its causal form, then a
causal temporal stage (`LiveTracker`) for the one locked on to, or for each person in view.

    people = LivePeople(config)                  # lock on: the best person of the first frame
    people = LivePeople(config, everyone=True)   # one LiveTracker per person
    for frame in frames:
        for person in people.push(frame.index, t, detector.detect_people(frame.image, ns), frame.image):
            person.id, person.pose                # PoseFrame of that person

Each person's LiveTracker has its own live state of the 3D mode, bone lengths, floor and root
(the network itself is shared); people the tracker has forgotten are dropped with their state.
The lock-on never hands over to someone else by itself; `choose(id)` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.capture.detection import Detection
from engine.capture.people import LockOn, PeopleTracker, TrackedPerson
from engine.lift.modes import Lifter, make_lifter
from engine.session.pipeline import LiveTracker, PipelineConfig, PoseFrame


@dataclass(frozen=True, eq=False)
class PersonPose:
    id: int
    pose: PoseFrame


class LivePeople:
    def __init__(self, config: PipelineConfig = PipelineConfig(), everyone: bool = False,
                 person_id: int | None = None, lifter: Lifter | None = None):
        """person_id: lock on to this tracker id (None: the lock-on rule's first pick)."""
        self.config = config
        self.everyone = everyone
        self.people = PeopleTracker(config.people)
        self.lock = LockOn(person_id)
        self.lifter = lifter or make_lifter(config.lift)
        self._trackers: dict[int, LiveTracker] = {}
        self.last_people: list[TrackedPerson] = []

    @property
    def tracked_ids(self) -> list[int]:
        return sorted(self._trackers)

    def choose(self, person_id: int | None) -> None:
        """Follow this person from now on (lock-on mode); their own temporal state starts over."""
        if person_id != self.lock.person_id:
            self._trackers.clear()
        self.lock.choose(person_id)

    def push(self, index: int, timestamp_s: float, detections: list[Detection],
             image_bgr: np.ndarray | None = None) -> list[PersonPose]:
        """One frame's detections -> a pose per person followed (lock-on: one entry, its
        detection None while that person is hidden)."""
        found = self.people.update(timestamp_s, detections)
        self.last_people = found
        known = set(self.people.known_ids)
        for pid in [p for p in self._trackers if p not in known]:
            del self._trackers[pid]
        if not self.everyone:
            det = self.lock.pick(found)
            pid = self.lock.person_id
            if pid is None:
                return []
            return [PersonPose(pid, self._tracker(pid).push(index, timestamp_s, det, image_bgr))]
        out = []
        here = {p.id: p.detection for p in found}
        for pid in sorted(set(here) | set(self._trackers)):
            out.append(PersonPose(pid, self._tracker(pid).push(index, timestamp_s, here.get(pid), image_bgr)))
        return out

    def _tracker(self, pid: int) -> LiveTracker:
        tracker = self._trackers.get(pid)
        if tracker is None:
            tracker = self._trackers[pid] = LiveTracker(self.config, self.lifter)
        return tracker
