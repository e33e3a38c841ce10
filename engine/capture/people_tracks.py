"""Everyone's detections over a whole source: one `DetectionTrack` per person, all aligned on the
source's frames (a person's rows are empty where they are not in view)."""

from __future__ import annotations

import numpy as np

from engine.capture.detection import Detection
from engine.capture.lock_on import choose_person, presence_score
from engine.capture.people import TrackedPerson
from engine.capture.track import DetectionTrack


class PeopleTracks:
    def __init__(self):
        self._tracks: dict[int, DetectionTrack] = {}
        self._presence: dict[int, float] = {}
        self._timestamps: list[float] = []
        self.image_size: tuple[int, int] | None = None
        self.hands_person: int | None = None  # whose hands were tracked (engine.session.pipeline)

    def __len__(self) -> int:
        return len(self._timestamps)

    @property
    def timestamps_s(self) -> np.ndarray:
        return np.array(self._timestamps, dtype=np.float64)

    def append(self, timestamp_s: float, people: list[TrackedPerson], image_size: tuple[int, int] | None = None) -> None:
        """One frame: everyone tracked in it (ids from engine.capture.people.PeopleTracker)."""
        if image_size is not None and self.image_size is None:
            self.image_size = image_size
        seen: dict[int, Detection] = {p.id: p.detection for p in people}
        for pid in seen:
            if pid not in self._tracks:
                track = DetectionTrack()
                track.image_size = self.image_size
                for t in self._timestamps:
                    track.append(t, None)
                self._tracks[pid] = track
                self._presence[pid] = 0.0
        for pid, track in self._tracks.items():
            det = seen.get(pid)
            track.append(timestamp_s, det)
            if det is not None:
                self._presence[pid] += presence_score(det)
        self._timestamps.append(timestamp_s)

    def merge(self, newcomer_id: int, person_id: int) -> None:
        """The tracker found that `newcomer_id` was `person_id` (PeopleTracker.take_merges): their
        frames become that person's."""
        if newcomer_id not in self._tracks:
            return
        track = self._tracks.pop(newcomer_id)
        presence = self._presence.pop(newcomer_id)
        if person_id not in self._tracks:
            self._tracks[person_id], self._presence[person_id] = track, presence
            return
        self._tracks[person_id].absorb(track)
        self._presence[person_id] += presence

    def people(self, min_frames: int = 1, min_height_ratio: float = 0.0) -> list[int]:
        """Ids of the people seen in at least `min_frames` frames and whose median height is at
        least `min_height_ratio` of the tallest one's, in order of first appearance: entry n - 1
        is person n as users see them numbered (a glimpse, a false detection, someone far in the
        background gets no number)."""
        ids = [pid for pid, track in self._tracks.items() if int(track.valid.sum()) >= min_frames]
        if min_height_ratio > 0 and ids:
            heights = {pid: self._tracks[pid].median_height_px() for pid in ids}
            tallest = max(heights.values())
            ids = [pid for pid in ids if heights[pid] >= min_height_ratio * tallest]
        return ids

    def frames_seen(self, person_id: int) -> int:
        return int(self._tracks[person_id].valid.sum())

    def span(self, person_id: int) -> tuple[int, int]:
        """[first, last + 1) frames in which `person_id` is seen."""
        idx = np.flatnonzero(self._tracks[person_id].valid)
        return int(idx[0]), int(idx[-1]) + 1

    def track(self, person_id: int) -> DetectionTrack:
        """That person's detections on every frame of the source (empty rows where not seen)."""
        if person_id not in self._tracks:
            track = DetectionTrack()
            track.image_size = self.image_size
            for t in self._timestamps:
                track.append(t, None)
            return track
        return self._tracks[person_id]

    def set_hands(self, person_id: int, hands) -> None:
        """Both hands of `person_id` on every frame (engine.capture.track.HandTrack)."""
        self.hands_person = person_id
        self.track(person_id).hands = hands

    def presence(self, person_id: int) -> float:
        return self._presence.get(person_id, 0.0)

    def chosen(self, min_frames: int = 1) -> int | None:
        """The lock-on rule (engine.capture.lock_on.choose_person) over the whole source; None if nobody."""
        ids = self.people(min_frames) or self.people()
        return choose_person({pid: self._presence[pid] for pid in ids}) if ids else None
