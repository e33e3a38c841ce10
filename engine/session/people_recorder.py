"""Records everyone in view as they are tracked live: one take per person, written like
`monocap process --people all` (engine/session/people_takes.py's files).

Files in the takes folder, for a recording named STEM:
  STEM_pN.rec, STEM_pN.rec.json  person N's crash-safe records (engine/session/recorder.py), from
                                 the first frame they are seen in; after a crash `recover_all`
                                 turns each into STEM_pN.npz (without the listing)
  STEM.avi                       the images of every frame recorded, once for everyone
  STEM_pN.npz, STEM_pN.json      person N's finished take: their frames from their first to their
                                 last pose; timestamps count from the recording's first frame
  STEM_people.json               the listing (first/last frame on the recording's frames)

N is the person's number as the live views show it (the session's tracker id). One person seen
under several ids is one take, under the first of them, as offline (docs/PEOPLE.md, "Pieces"):
a newcomer the tracker found to be someone lost (its `take_merges`, passed to `append`), and
people seen one after the other whom `PeopleTracker.pieces`' rule finds to be one person
(engine/capture/people_pieces.py, watching the recording's frames; someone hidden behind someone
else who came back under a new id), joined when the recording ends. People seen for less than
`PeopleConfig.min_seen_s`, over all their pieces, get no take. Each take's `joint_confidence` is
the detector's score of each joint (engine/session/people_joints.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.capture.lock_on import presence_score
from engine.capture.people import PeopleConfig, TrackedPerson
from engine.capture.people_pieces import PiecesWatch
from engine.core.atomic import ensure_writable_dir
from engine.core.skeletons import Skeleton
from engine.core.take import Take
from engine.session.live_people import PersonPose
from engine.session.people_joints import confidence_from_scores
from engine.session.people_takes import PersonTake, person_stem, write_people_outputs
from engine.session.recorder import TakeRecorder, read_recording


@dataclass(frozen=True, eq=False)
class RecordedPerson:
    take: PersonTake
    path: Path  # STEM_pN.npz


class PeopleRecording:
    def __init__(self, folder: str | Path, stem: str, skeleton: Skeleton, fps: float, source_name: str = "",
                 metadata: dict | None = None, people: PeopleConfig = PeopleConfig(), write_video: bool = True):
        self.folder = ensure_writable_dir(folder)
        self.stem = stem
        self.skeleton = skeleton
        self.fps = fps
        self.source_name = source_name
        self.metadata = metadata or {}
        self.min_frames = people.min_frames(fps)
        self.frames = 0
        self._t0: float | None = None
        self._recorders: dict[int, TakeRecorder] = {}
        self._first: dict[int, int] = {}  # person -> recording frame of their first record
        self._presence: dict[int, float] = {}
        self._watch = PiecesWatch(people)
        self._same: dict[int, int] = {}  # id -> an id of the same person seen before (the tracker's merges)
        self._write_video = write_video
        self._video = None
        self.video_path: Path | None = None

    @property
    def name(self) -> str:
        return self.stem

    def append(self, timestamp_s: float, poses: list[PersonPose], image: np.ndarray | None = None,
               merges: tuple[tuple[int, int], ...] = ()) -> None:
        """One frame: everyone's pose (a person not in `poses` is out of view for it), and the
        tracker's (newcomer id, id) merges of this frame (PeopleTracker.take_merges)."""
        self._t0 = timestamp_s if self._t0 is None else self._t0
        for newcomer, person in merges:
            self._same[newcomer] = person
        self._watch.observe(timestamp_s, [TrackedPerson(p.id, p.pose.detection) for p in poses
                                          if p.pose.detection is not None], image)
        here = {p.id: p.pose for p in poses}
        for pid, pose in here.items():
            if pid not in self._recorders and pose.detection is not None:
                self._recorders[pid] = TakeRecorder(
                    self.folder, person_stem(self.stem, pid), self.skeleton, self.fps, self.source_name,
                    write_video=False, metadata={**self.metadata, "recording": self.stem}, t0_s=self._t0)
                self._first[pid] = self.frames
                self._presence[pid] = 0.0
        for pid, recorder in self._recorders.items():
            pose = here.get(pid)
            det = None if pose is None else pose.detection
            recorder.append(timestamp_s, None if pose is None else pose.joints_m,
                            None if det is None else det.keypoints_px, None if det is None else det.scores)
            if det is not None:
                self._presence[pid] += presence_score(det)
        if image is not None and self._write_video:
            self._add_image(image)
        self.frames += 1

    def _add_image(self, image: np.ndarray) -> None:
        import cv2

        if self._video is None:
            h, w = image.shape[:2]
            self.video_path = self.folder / f"{self.stem}.avi"
            self._video = cv2.VideoWriter(str(self.video_path), cv2.VideoWriter_fourcc(*"MJPG"), self.fps, (w, h))
            if not self._video.isOpened():
                self._video, self._write_video, self.video_path = None, False, None
                return
        self._video.write(image)

    def finish(self, settings: dict | None = None) -> list[RecordedPerson]:
        """Closes the records and writes each person's take and the listing; a person's records
        are removed only once every file is written."""
        self._close_files()
        people: list[PersonTake] = []
        for pid, ids in self._one_person_each().items():
            take = self._joined(ids)
            seen = np.flatnonzero(take.valid)
            if len(seen) < self.min_frames:
                continue
            first, last = int(seen[0]), int(seen[-1])
            take = take.slice(first, last + 1)
            take.metadata.update(first_frame=self._first[pid] + first, frames=take.num_frames,
                                 valid_frames=int(take.valid.sum()))
            presence = sum(self._presence[i] for i in ids)
            take.metadata["person"] = {"number": pid, "presence": round(presence, 4)}
            if len(ids) > 1:
                take.metadata["person"]["pieces"] = ids
            people.append(PersonTake(pid, take, self._first[pid] + first, 0))
        ranked = sorted(people, key=lambda p: (-p.take.metadata["person"]["presence"], p.number))
        for rank, person in enumerate(ranked, start=1):
            person.take.metadata["person"].update(rank=rank, people_found=len(people))
        people = [PersonTake(p.number, p.take, p.first_frame, p.take.metadata["person"]["rank"]) for p in people]
        out = []
        if people:
            info = {"source": self.source_name, "recorded": "live (causal temporal stage)", **(settings or {})}
            if self.video_path is not None:
                info["video"] = self.video_path.name
            written = write_people_outputs(people, self.folder, self.stem, ("npz",), settings=info)
            paths = {p.name: p for p in written}
            out = [RecordedPerson(p, paths[f"{person_stem(self.stem, p.number)}.npz"]) for p in people]
        elif self.video_path is not None:
            self.video_path.unlink(missing_ok=True)
            self.video_path = None
        for pid, recorder in self._recorders.items():
            recorder.rec_path.unlink(missing_ok=True)
            recorder.header_path.unlink(missing_ok=True)
        return out

    def _one_person_each(self) -> dict[int, list[int]]:
        """Each person's first id -> every id they were recorded under, in order of first frame."""
        earlier = dict(self._same)
        for later, first in self._watch.pieces():
            earlier.setdefault(later, first)

        def root(pid: int) -> int:
            seen = {pid}
            while earlier.get(pid) in self._recorders and earlier[pid] not in seen:
                pid = earlier[pid]
                seen.add(pid)
            return pid

        groups: dict[int, list[int]] = {}
        for pid in sorted(self._recorders, key=lambda i: (self._first[i], i)):
            groups.setdefault(root(pid), []).append(pid)
        return {min(ids, key=lambda i: (self._first[i], i)): ids for ids in groups.values()}

    def _joined(self, ids: list[int]) -> Take:
        """One person's records under `ids` as one take on the frames from the first one's first
        record: each frame from whichever record has them (the first when several do), with
        each joint's confidence from the detector's scores."""
        takes = {pid: read_recording(self.folder, person_stem(self.stem, pid)) for pid in ids}
        base = takes[ids[0]]
        for pid in ids[1:]:
            piece, at = takes[pid], self._first[pid] - self._first[ids[0]]
            rows = np.flatnonzero(piece.valid)
            rows = rows[(rows + at < base.num_frames) & ~base.valid[np.minimum(rows + at, base.num_frames - 1)]]
            for name in ("joints_m", "keypoints_px", "keypoint_scores", "hand_keypoints_px", "valid"):
                ours, theirs = getattr(base, name), getattr(piece, name)
                if ours is not None and theirs is not None:
                    ours[rows + at] = theirs[rows]
        if base.keypoint_scores is not None:
            confidence = confidence_from_scores(base.keypoint_scores, base.valid, self.skeleton)
            if confidence is not None and confidence.shape == base.joints_m.shape[:2]:
                base = replace(base, joint_confidence=confidence)
        return base

    def abort(self) -> None:
        """Closes the files, keeping what was written (recoverable)."""
        try:
            self._close_files()
        except OSError:
            pass

    def _close_files(self) -> None:
        if self._video is not None:
            self._video.release()
            self._video = None
        for recorder in self._recorders.values():
            recorder.close()
