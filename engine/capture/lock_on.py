"""Whom a take follows among the people in view: the lock-on rule.

`choose_person` is the rule for a whole clip: the person with the largest sum, over the frames
they are seen, of (box area / image area) x (1 - distance of the box centre from the image centre
/ half the image diagonal): the largest and most central over the clip, counting how long they are
in view. `LockOn` is its causal form for live sources: it locks on to the best person of the first
frame with anyone in view (or to the one the user picks) and then follows only them. Neither ever
hands over to someone else: while the chosen person is hidden there is nobody.
"""

from __future__ import annotations

import numpy as np

from engine.capture.detection import Detection
from engine.capture.people import TrackedPerson


def presence_score(detection: Detection) -> float:
    """(box area / image area) x (1 - distance of the box centre from the image centre / half diagonal)."""
    w, h = detection.image_size
    if w <= 0 or h <= 0:
        return 0.0
    box = detection.box_xyxy
    area = max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0) / (w * h)
    centre = (box[:2] + box[2:]) / 2
    off = np.linalg.norm(centre - np.array([w / 2, h / 2])) / (0.5 * np.hypot(w, h))
    return float(area * max(1.0 - off, 0.0))


def choose_person(scores_by_id: dict[int, float]) -> int:
    """The lock-on rule over a clip: the id with the largest summed presence score (lowest id on ties)."""
    if not scores_by_id:
        raise ValueError("nobody to choose from")
    return max(sorted(scores_by_id), key=lambda i: scores_by_id[i])


class LockOn:
    """The causal lock-on for live sources: follows one person's id, never anyone else.

    With no id given it locks on to the person with the highest presence score in the first
    frame with anyone in view. `choose(id)` switches on the user's say only.
    """

    def __init__(self, person_id: int | None = None):
        self.person_id = person_id

    def choose(self, person_id: int | None) -> None:
        self.person_id = person_id

    def pick(self, people: list[TrackedPerson]) -> Detection | None:
        if self.person_id is None and people:
            self.person_id = max(people, key=lambda p: presence_score(p.detection)).id
        for p in people:
            if p.id == self.person_id:
                return p.detection
        return None
