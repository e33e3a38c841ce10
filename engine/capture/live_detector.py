"""Live capture of one person at the price of a one-person detector, still seeing everyone else.

Looking for two people costs MediaPipe its person finder on every frame while only one is in view
(docs/PEOPLE.md, "What it costs"); looking for one lets it track that one from frame to frame
without it. `WatchfulDetector` runs two landmarkers in tracking mode: a one-person one on most
frames, and one looking for `max_people` (the "look for everyone") on

- every `look_every`-th frame,
- every frame while someone else was seen by a look within the last `crowded_frames` frames
  (then it is exactly the plain detector looking for `max_people`),
- a frame where the one-person result is in doubt: a person appears or disappears, or the
  box jumps (less than `keep_iou` overlap with the last frame's person); that frame is then
  looked at again by the look for everyone and its result is the frame's.

So the one-person landmarker only ever runs while a look has just found nobody else, and its
detections go through the same people tracker and lock-on as any other (engine/capture/people.py,
lock_on.py):
the lock-on safety does not rest on it. The one case it cannot see at once is someone appearing
and reaching the person followed within `look_every` frames.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.capture.detection import Detection
from engine.capture.detector import DetectorConfig, PoseDetector
from engine.capture.people import box_iou


class WatchfulDetector:
    """PoseDetector's calls; `looks` counts the frames the look for everyone ran on."""

    def __init__(self, config: DetectorConfig = DetectorConfig()):
        self.config = config
        # its looks for everyone are the check for someone new: it looks behind the people found
        # only while others were seen lately (engine/capture/detector.py), never on a one-person look
        self._everyone = PoseDetector(replace(config, peel_every=0))
        try:
            self._one = PoseDetector(replace(config, max_people=1))
        except BaseException:
            self._everyone.close()
            raise
        self.frames = 0
        self.looks = 0
        self._since_look = config.look_every  # the first frame is looked at
        self._since_others = config.crowded_frames + 1
        self._last: list[Detection] = []

    def __enter__(self) -> "WatchfulDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._everyone.close()
        self._one.close()

    def detect_people(self, image_bgr: np.ndarray, timestamp_ns: int) -> list[Detection]:
        self.frames += 1
        self._since_look += 1
        self._since_others += 1
        cfg = self.config
        if self._since_look >= cfg.look_every or self._since_others <= cfg.crowded_frames:
            return self._look(image_bgr, timestamp_ns)
        people = self._one.detect_people(image_bgr, timestamp_ns)
        if self._in_doubt(people):
            return self._look(image_bgr, timestamp_ns)
        self._last = people
        return people

    def detect(self, image_bgr: np.ndarray, timestamp_ns: int) -> Detection | None:
        people = self.detect_people(image_bgr, timestamp_ns)
        return people[0] if people else None

    def _look(self, image_bgr: np.ndarray, timestamp_ns: int) -> list[Detection]:
        people = self._everyone.detect_people(image_bgr, timestamp_ns)
        self.looks += 1
        self._since_look = 0
        if len(people) > 1:
            self._since_others = 0
        self._last = people
        return people

    def _in_doubt(self, people: list[Detection]) -> bool:
        if len(people) != len(self._last):
            return True
        return bool(people) and box_iou(people[0].box_xyxy, self._last[0].box_xyxy) < self.config.keep_iou


def live_detector(config: DetectorConfig):
    """The detector for live capture of one person: the watchful one, unless only one person is
    looked for or looks are turned off (look_every 1)."""
    if config.max_people <= 1 or config.look_every <= 1:
        return PoseDetector(config)
    return WatchfulDetector(config)
