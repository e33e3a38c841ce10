"""Pieces of one person among people someone else's tracker told apart (a live session's): the
same summaries `PeopleTracker` keeps of each person (where and when they were first and last
seen, their velocity, build, height and clothes) kept for the ids as given, so that
`PeopleTracker.pieces`' rule (docs/PEOPLE.md, "Pieces") says which of them are one person seen
one after the other: someone hidden behind someone else who came back under a new id.

    watch = PiecesWatch(config)
    for each frame: watch.observe(t, tracked_people, image_bgr)
    watch.pieces()          # (later id, earlier id) pairs, over everything observed

Causal: `pieces()` looks back only; a person unseen for longer than `forget_s` is dropped.
"""

from __future__ import annotations

import numpy as np

from engine.capture.appearance import appearance
from engine.capture.body_cues import seen_clear
from engine.capture.people import LOOK_EVERY, PeopleTracker, TrackedPerson


class PiecesWatch(PeopleTracker):
    """A PeopleTracker that does not tell people apart itself: `observe` takes the ids given."""

    def observe(self, timestamp_s: float, found: list[TrackedPerson], image_bgr: np.ndarray | None = None) -> None:
        self._people = [p for p in self._people if timestamp_s - p.last_t <= self.config.forget_s]
        known = {p.id: p for p in self._people}
        detections = [tp.detection for tp in found]
        for tp in found:
            person = known.get(tp.id)
            clear = image_bgr is not None and seen_clear(tp.detection, detections)
            if person is None:
                self._next_id = tp.id
                self._new_person(tp.detection, appearance(image_bgr, tp.detection) if clear else None, timestamp_s)
                continue
            wanted = clear and person.frames_seen % LOOK_EVERY == 0  # the average needs only some
            self._observe(person, tp.detection, appearance(image_bgr, tp.detection) if wanted else None, timestamp_s)
