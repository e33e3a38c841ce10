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
With everyone, all are placed in one world: the origin of the first person tracked (their own
trackers' origins are shifted onto it), so people captured together keep their true places.
`follow(...)` takes people already tracked by someone else's PeopleTracker (an engine session's,
engine/session/people_sink.py), so the ids are that tracker's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.capture.detection import Detection
from engine.capture.lock_on import LockOn
from engine.capture.people import PeopleTracker, TrackedPerson
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
        self._people: PeopleTracker | None = None  # only `push` tells people apart itself
        self.lock = LockOn(person_id)
        self.lifter = lifter or make_lifter(config.lift)
        self._trackers: dict[int, LiveTracker] = {}
        self._anchor: LiveTracker | None = None  # whose origin everyone's world shares
        self._last_seen: dict[int, float] = {}
        self.last_people: list[TrackedPerson] = []

    @property
    def people(self) -> PeopleTracker:
        if self._people is None:
            self._people = PeopleTracker(self.config.people)
        return self._people

    @property
    def tracked_ids(self) -> list[int]:
        return sorted(self._trackers)

    def choose(self, person_id: int | None) -> None:
        """Follow this person from now on (lock-on mode); their own temporal state starts over."""
        if person_id != self.lock.person_id:
            self._trackers.clear()
            self._anchor = None
        self.lock.choose(person_id)

    def push(self, index: int, timestamp_s: float, detections: list[Detection],
             image_bgr: np.ndarray | None = None) -> list[PersonPose]:
        """One frame's detections -> a pose per person followed (lock-on: one entry, its
        detection None while that person is hidden)."""
        found = self.people.update(timestamp_s, detections, image_bgr)
        self.last_people = found
        return self._poses(index, timestamp_s, found, set(self.people.known_ids), image_bgr)

    def follow(self, index: int, timestamp_s: float, found: list[TrackedPerson],
               image_bgr: np.ndarray | None = None) -> list[PersonPose]:
        """As `push`, for people another PeopleTracker has already told apart; a person unseen
        for longer than `config.people.forget_s` is dropped with their state."""
        self.last_people = list(found)
        for p in found:
            self._last_seen[p.id] = timestamp_s
        forget = self.config.people.forget_s
        known = {pid for pid, t in self._last_seen.items() if timestamp_s - t <= forget}
        self._last_seen = {pid: self._last_seen[pid] for pid in known}
        return self._poses(index, timestamp_s, found, known, image_bgr)

    def _poses(self, index: int, timestamp_s: float, found: list[TrackedPerson], known: set[int],
               image_bgr: np.ndarray | None) -> list[PersonPose]:
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
            tracker = self._tracker(pid)
            out.append(PersonPose(pid, self._in_shared_world(tracker, tracker.push(index, timestamp_s, here.get(pid),
                                                                                    image_bgr))))
        return out

    def _in_shared_world(self, tracker: LiveTracker, pose: PoseFrame) -> PoseFrame:
        if pose.joints_m is None:
            return pose
        if self._anchor is None:
            self._anchor = tracker
        own, shared = tracker.origin_m, self._anchor.origin_m
        if tracker is self._anchor or own is None or shared is None:
            return pose
        joints = pose.joints_m.copy()
        joints[:, [0, 2]] += own[[0, 2]] - shared[[0, 2]]
        return replace(pose, joints_m=joints)

    def _tracker(self, pid: int) -> LiveTracker:
        tracker = self._trackers.get(pid)
        if tracker is None:
            tracker = self._trackers[pid] = LiveTracker(self.config, self.lifter)
        return tracker
