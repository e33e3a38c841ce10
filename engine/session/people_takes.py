"""One take per person: everyone in a source (or the N best by the lock-on rule), each with their
own bone lengths, floor and root path, all placed in one world (the origin of the person the
lock-on rule puts first), each covering only the frames from their first to their last appearance.

Files: STEM_p1.npz, STEM_p1.bvh, ... (the number is the person's, as numbered in order of first
appearance) and STEM_people.json listing them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.animation.formats import ExportOptions
from engine.capture.detector import DetectorConfig
from engine.capture.people import PeopleConfig
from engine.capture.people_tracks import PeopleTracks
from engine.core.errors import InputError, NoValidFramesError
from engine.core.take import Take, write_json
from engine.lift.protocol import Lifter
from engine.session.outputs import DEFAULT_FORMATS, versions, write_outputs
from engine.session.people_joints import hidden_from_own_motion, joint_confidence
from engine.session.pipeline import PipelineConfig, take_from_track

ALL_PEOPLE_DETECTED = 6  # what the detector looks for when everyone is wanted


def detector_for(wanted: int | None, base: DetectorConfig = DetectorConfig(), max_people: int = 0) -> DetectorConfig:
    """The detector's settings for `wanted` people (None: everyone): one more than wanted, so that
    someone else coming into view is seen as someone else; `max_people` > 0 overrides."""

    if max_people > 0:
        return replace(base, max_people=max_people)
    if wanted is None:
        return replace(base, max_people=max(base.max_people, ALL_PEOPLE_DETECTED))
    return replace(base, max_people=max(base.max_people, wanted + 1))


@dataclass
class EveryoneDetected:
    """Everyone in a source after the per-frame pass, ready to become takes."""

    tracks: PeopleTracks
    lifter: Lifter
    fps: float
    source_name: str
    numbered: list[int]  # entry n - 1: person n's tracker id
    lifted: dict[int, dict[int, np.ndarray]]  # image modes: id -> row -> (J, 3) lifted live; else empty

    @classmethod
    def from_tracks(cls, tracks: PeopleTracks, lifter: Lifter, fps: float, source_name: str,
                    people: PeopleConfig = PeopleConfig(), lifted: dict | None = None) -> "EveryoneDetected":
        if len(tracks) == 0:
            raise InputError(f"{source_name or 'source'}: no frames were read")
        numbered = tracks.people(people.min_frames(fps), people.min_height_ratio) or tracks.people()
        return cls(tracks, lifter, fps, source_name, numbered, lifted or {})

    def rel_cam(self, person_id: int) -> np.ndarray | None:
        if not self.lifted:
            return None
        out = np.full((len(self.tracks), self.lifter.skeleton.num_joints, 3), np.nan)
        for i, rel in self.lifted.get(person_id, {}).items():
            out[i] = rel
        return out

    def take(self, number: int, config: PipelineConfig, origin_m: np.ndarray | None = None) -> Take:
        """Person `number`'s take over every frame of the source (invalid where they are not seen),
        with the detector's score of each joint as its joint_confidence and the joints hidden for
        a moment placed by the person's own motion (engine/session/people_joints.py)."""
        pid = self.numbered[number - 1]
        track = self.tracks.track(pid)
        rel = self.rel_cam(pid)
        if rel is None:
            rel = self.lifter.lift(track.detections(), causal=False)
        confidence = joint_confidence(track, self.lifter.skeleton)
        filled = 0
        if confidence is not None:
            rel, filled = hidden_from_own_motion(rel, confidence, self.lifter.skeleton, self.fps,
                                                 config.smoothing.max_gap_s)
        take = take_from_track(track, self.fps, config, self.lifter, self.source_name, rel_cam=rel, origin_m=origin_m)
        if confidence is not None and confidence.shape == take.joints_m.shape[:2]:
            take = replace(take, joint_confidence=confidence)
        take.metadata["hidden_joint_frames"] = filled
        take.metadata["person"] = {"number": number, "people_found": len(self.numbered),
                                   "presence": round(self.tracks.presence(pid), 4)}
        return take

    def by_rule(self) -> list[int]:
        """Person numbers, best by the lock-on rule (engine.capture.lock_on.choose_person) first."""
        return sorted(range(1, len(self.numbered) + 1), key=lambda n: (-self.tracks.presence(self.numbered[n - 1]), n))

    def chosen_number(self, wanted: int = 0) -> int:
        """Person `wanted`, or with 0 the one the lock-on rule picks."""
        where = self.source_name or "source"
        if not self.numbered:
            raise NoValidFramesError(f"{where}: nobody was found in any of its {len(self.tracks)} frames")
        if wanted:
            if not 1 <= wanted <= len(self.numbered):
                found = f"{len(self.numbered)} {'person was' if len(self.numbered) == 1 else 'people were'} found"
                raise InputError(f"{where}: person {wanted} asked for, but {found}")
            return wanted
        return self.by_rule()[0]


@dataclass(frozen=True, eq=False)
class PersonTake:
    number: int  # as numbered in order of first appearance (1, 2, ...)
    take: Take  # the frames [first_frame, first_frame + take.num_frames) of the source
    first_frame: int
    rank: int  # 1 for the person the lock-on rule would follow, 2 for the next, ...


def people_takes(everyone: EveryoneDetected, config: PipelineConfig, count: int | None = None) -> list[PersonTake]:
    """Everyone (or the `count` best by the lock-on rule) -> their takes, by number."""
    ranked = everyone.by_rule()
    if not ranked:
        raise NoValidFramesError(f"{everyone.source_name or 'source'}: nobody was found in any of its "
                                 f"{len(everyone.tracks)} frames")
    origin = None
    out = []
    for rank, number in enumerate(ranked[:count] if count else ranked, start=1):
        take = everyone.take(number, config, origin_m=origin)
        if origin is None:
            origin = take.metadata["origin_m"]
        first, stop = everyone.tracks.span(everyone.numbered[number - 1])
        take = take.slice(first, stop)
        take.metadata.update(first_frame=first, frames=take.num_frames, valid_frames=int(take.valid.sum()))
        take.metadata["person"]["rank"] = rank
        out.append(PersonTake(number, take, first, rank))
    return sorted(out, key=lambda p: p.number)


def person_stem(stem: str, number: int) -> str:
    return f"{stem}_p{number}"


def write_people_outputs(people: list[PersonTake], out_dir: str | Path, stem: str,
                         formats: tuple[str, ...] = DEFAULT_FORMATS, settings: dict | None = None,
                         options: ExportOptions | None = None, notes: list[str] | None = None) -> list[Path]:
    """Each person's files (write_outputs with stem STEM_pN), then STEM_people.json listing them."""
    written: list[Path] = []
    listing = []
    for person in people:
        files = write_outputs(person.take, out_dir, person_stem(stem, person.number), formats, settings, options,
                              notes)
        written += files
        take = person.take
        listing.append({
            "number": person.number, "rank": person.rank, "stem": person_stem(stem, person.number),
            "files": [p.name for p in files], "first_frame": person.first_frame,
            "last_frame": person.first_frame + take.num_frames - 1,
            "start_s": round(float(take.timestamps_s[0]), 6), "end_s": round(float(take.timestamps_s[-1]), 6),
            "valid_frames": int(take.valid.sum()), "presence": take.metadata["person"]["presence"],
        })
    sidecar = {"settings": settings or {}, "versions": versions(),
               "lock_on_rule": "largest summed (box area / image area) x (1 - centre offset / half diagonal); rank 1 first",
               "world": "one world for everyone: the origin under rank 1's first second",
               "people": listing}
    written.append(write_json(Path(out_dir) / f"{stem}_people.json", sidecar))
    return written
