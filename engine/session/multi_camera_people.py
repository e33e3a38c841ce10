"""Several calibrated cameras' videos of one take -> one take per person, as one camera's
`--people all` makes from one video (engine/session/people_takes.py: the same PersonTake, files and
numbering).

    result = process_views_people(["cam1.mp4", "cam2.mp4"], read_calibration("rig.toml"), config)
    write_people_outputs(result.people, out_dir, stem, formats)

Each video goes through the detector and the people tracker of one camera (engine/session/
multi_camera.py, as for one person); the offset between the files is found as there, for every pair
of people of two views (`_offsets`). Every person
every view's tracker followed is grouped across views (engine/multiview/matching.group_tracks: two
tracks are one person when their keypoints triangulate together in most frames both are seen in,
left and right as labelled or mirrored; one camera never holds one person twice in a frame), a
view's frames that agree with none of the person's other views are left out and given to the person
they agree with (a tracker that swapped two people for a while), and each person's
views are fused and made into a take as the one person's are (`multi_camera._take`: the temporal
stage, in the first view's camera axes, everyone placed about the origin of the person ranked
first). A person only one view sees gets that view's one-camera take (its own camera's 3D).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from engine.animation.formats import ExportOptions
from engine.core.atomic import file_set
from engine.core.errors import NoValidFramesError
from engine.core.take import Take
from engine.lift.modes import make_lifter
from engine.multiview.cameras import Rig
from engine.multiview.matching import MATCH_FRACTION, agreement, disagreeing_frames, group_tracks
from engine.multiview.sync import find_offset
from engine.multiview.triangulation import fuse_views
from engine.session.multi_camera import _person_arrays, _shifted, _take, _View, _views_seeing_someone
from engine.session.outputs import DEFAULT_FORMATS
from engine.session.people_takes import EveryoneDetected, PersonTake, write_people_outputs
from engine.session.pipeline import CancelFlag, PipelineConfig, Progress

# an offset counts when the share of frames in which the first view's people agree with someone in
# the other view is at least this share of the largest share any offset gives
PLAUSIBLE = 0.9
# ... agreeing within this share of the matching's own bound (a person seen a moment earlier in slow
# motion still agrees with them within that)
OFFSET_MATCH = 0.3


@dataclass
class MultiViewPeople:
    people: list[PersonTake]  # by number
    notes: list[str] = field(default_factory=list)  # for the user: views left out, crops, offsets, one-view people
    views: list[dict] = field(default_factory=list)  # per view: name, camera, offset_frames, people tracked


@dataclass
class _Person:
    tracks: list[tuple[int, int]]  # (view index among the views used, tracker id)
    first: int  # the first frame (of the first view's) any of its views sees them
    presence: float  # the lock-on rule's sum over its tracks


def process_views_people(paths: list[str | Path], rig: Rig, config: PipelineConfig = PipelineConfig(),
                         count: int | None = None, progress: Progress | None = None, cancel: CancelFlag | None = None,
                         detected: dict | None = None) -> MultiViewPeople:
    """Everyone (or the `count` best by the lock-on rule) in two or more calibrated videos of the
    same moment -> their takes, numbered in order of first appearance on the first view's frames.
    detected: {path: PeopleTracks} views already detected (used, and filled with those detected now)."""
    started = time.perf_counter()
    paths = [Path(p) for p in paths]
    notes: list[str] = []
    seen = _views_seeing_someone(paths, rig, config, progress, cancel, detected, notes, "the takes come")
    anchor, fps = seen[0], seen[0].fps
    length = len(anchor.tracks)
    offsets = _offsets(seen, config, fps, notes)
    ids, kps, scs = [], [], []  # each view's people on the first view's frames (their 3D is read when fused)
    for vi, view in enumerate(seen):
        people = view.tracks.people(config.people.min_frames(fps), config.people.min_height_ratio) or view.tracks.people()
        for pid in people:
            kp, sc, _ = _person_arrays(view.tracks, pid)
            ids.append((vi, pid))
            kps.append(_shifted(kp, offsets[vi], length))
            scs.append(_shifted(sc, offsets[vi], length, 0.0))
    used = Rig(tuple(v.camera for v in seen))
    groups = group_tracks(used, [vi for vi, _ in ids], kps, scs)
    persons = []
    for group in groups:
        rows = np.flatnonzero(np.any([scs[n].max(axis=1) > 0 for n in group], axis=0))
        if len(rows):  # a track seen only outside the first view's frames has no frame of this take
            persons.append(_Person([ids[n] for n in group], int(rows[0]),
                                   sum(seen[ids[n][0]].tracks.presence(ids[n][1]) for n in group)))
    if not persons:
        raise NoValidFramesError(f"nobody was found in any frame of {', '.join(p.name for p in paths)}")
    by_number = sorted(range(len(persons)), key=lambda i: (persons[i].first, -persons[i].presence))
    ranked = sorted(by_number, key=lambda i: -persons[i].presence)
    arrays = {ids[n]: (kps[n], scs[n]) for n in range(len(ids))}
    sources, lefts = _sources(used, persons, arrays, length)
    out, origin, everyone = [], None, {}
    for rank, i in enumerate(ranked[:count] if count else ranked, start=1):
        number = by_number.index(i) + 1
        person = persons[i]
        view_ids = sorted({vi for vi, _ in person.tracks})
        take = None
        if len(view_ids) >= 2:
            try:
                take = _fused_take(seen, sources[i], lefts[i], arrays, offsets, config, fps, origin)
            except NoValidFramesError:
                notes.append(f"person {number}: the views never agree on the whole person; "
                             "the take is one camera's")
        first = 0
        if take is None:
            take, first = _one_camera_take(seen, person, offsets, length, config, fps, everyone,
                                           origin if view_ids[0] == 0 else None)
            if len(view_ids) < 2:
                notes.append(f"person {number}: only {seen[view_ids[0]].path.name} sees them; "
                             "their take is that one camera's")
        if origin is None and "origin_m" in take.metadata:
            origin = take.metadata["origin_m"]
        valid = np.flatnonzero(take.valid)
        if not len(valid):
            notes.append(f"person {number}: no frame with the whole person; no take")
            continue
        take = take.slice(int(valid[0]), int(valid[-1]) + 1)
        first += int(valid[0])
        take.metadata.update(first_frame=first, frames=take.num_frames, valid_frames=int(take.valid.sum()),
                             processing_s=round(time.perf_counter() - started, 3))
        take.metadata["person"] = {"number": number, "people_found": len(persons), "rank": rank,
                                   "presence": round(person.presence, 4),
                                   "tracks": {seen[vi].path.name: [pid for v, pid in person.tracks if v == vi]
                                              for vi in view_ids}}
        out.append(PersonTake(number, take, first, rank))
    if not out:
        raise NoValidFramesError(f"{', '.join(p.name for p in paths)}: no frame holds a whole person")
    report = [{"name": v.path.name, "camera": v.camera.name, "offset_frames": int(offsets[vi]),
               "people_tracked": sum(1 for v2, _ in ids if v2 == vi)} for vi, v in enumerate(seen)]
    return MultiViewPeople(sorted(out, key=lambda p: p.number), notes, report)


def write_views_people(result: MultiViewPeople, out_dir: str | Path, stem: str,
                       formats: tuple[str, ...] = DEFAULT_FORMATS, settings: dict | None = None,
                       options: ExportOptions | None = None, notes: list[str] | None = None) -> list[Path]:
    """Everyone's files (STEM_pN.*) and STEM_people.json, appearing together as one set, as one
    camera's `--people all` writes them."""
    with file_set(out_dir, stem):
        return write_people_outputs(result.people, out_dir, stem, formats, settings, options, notes)


def _offsets(seen: list[_View], config: PipelineConfig, fps: float, notes: list[str]) -> list[int]:
    """Each view's offset from the first's. Every pair of people, one in each view, proposes the
    offset at which their triangulated limbs keep their lengths best (engine/multiview/sync.py), and
    offset 0 is proposed with their lengths' variation there. An offset counts when, at it, the first
    view's people agree with someone in the other view (engine/multiview/matching.py) in nearly as
    many frames as at the best (PLAUSIBLE of them): who is who must hold, whoever each view's lock-on
    rule follows and whatever a tracker swaps. Of those, the one whose limbs vary least wins."""
    anchor = seen[0]

    def arrays(view: _View) -> list[tuple[np.ndarray, np.ndarray]]:
        people = view.tracks.people(config.people.min_frames(fps), config.people.min_height_ratio) or view.tracks.people()
        return [_person_arrays(view.tracks, pid)[:2] for pid in people]

    first = arrays(anchor)
    length = len(anchor.tracks)
    out = [0]
    for view in seen[1:]:
        rig2, others = Rig((anchor.camera, view.camera)), arrays(view)
        variation = {0: np.inf}
        for a_kp, a_sc in first:
            for o_kp, o_sc in others:
                found = find_offset(rig2, (a_kp, o_kp), (a_sc, o_sc), fps)
                variation[0] = min(variation[0], found.at_zero)
                variation[found.frames] = min(variation.get(found.frames, np.inf), found.variation)

        def explained(lag: int) -> float:
            shifted = [(_shifted(kp, lag, length), _shifted(sc, lag, length, 0.0)) for kp, sc in others]
            agree = compared = 0
            for a_kp, a_sc in first:
                score = np.stack([agreement(rig2, a_kp, a_sc, kp, sc) for kp, sc in shifted])
                agree += int((score <= OFFSET_MATCH * MATCH_FRACTION).any(axis=0).sum())
                compared += int(np.isfinite(score).any(axis=0).sum())
            return agree / max(compared, 1)

        shares = {lag: explained(lag) for lag in variation}
        plausible = [lag for lag in variation if shares[lag] >= PLAUSIBLE * max(shares.values())]
        frames = min(plausible, key=lambda lag: (variation[lag], abs(lag)))
        if frames:
            notes.append(f"{view.path.name} is {abs(frames) / fps:.3f} s "
                         f"{'behind' if frames > 0 else 'ahead of'} {anchor.path.name}: frames grouped by that offset")
        out.append(int(frames))
    return out


def _sources(used: Rig, persons: list[_Person], arrays: dict, length: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per person: (V, T) the tracker id each view's keypoints of them come from in each frame (0:
    none), and (V, T) the frames left out of their own track's person. A view's frames that agree with
    none of the person's other views are left out (its tracker followed someone else for a while) and
    given to the person whose other views they agree with, where that person lacks that view."""
    count = len(used)
    sources = []
    for person in persons:
        source = np.zeros((count, length), int)
        for vi, pid in person.tracks:
            source[vi][arrays[(vi, pid)][1].max(axis=1) > 0] = pid
        sources.append(source)
    lefts = []
    for source in sources:
        off = np.zeros((count, length), bool)
        have = [vi for vi in range(count) if source[vi].any()]
        if len(have) >= 2:
            kp, sc = _gathered(source[have], [_arrays_of(arrays, vi) for vi in have])
            off[have] = disagreeing_frames(Rig(tuple(used[vi] for vi in have)), kp, sc)
        lefts.append(off)
    entries = [(p, vi, t, int(sources[p][vi, t])) for p in range(len(sources)) for vi, t in zip(*np.nonzero(lefts[p]))]
    for source, off in zip(sources, lefts):
        source[off] = 0
    for p, vi, t, pid in entries:
        kp_v, sc_v = (a[t:t + 1] for a in arrays[(vi, pid)])
        for q, other in enumerate(sources):
            if q != p and not other[vi, t] and any(
                    agreement(Rig((used[vi], used[u])), kp_v, sc_v, *(a[t:t + 1] for a in arrays[(u, int(other[u, t]))]))[0]
                    <= MATCH_FRACTION for u in range(count) if u != vi and other[u, t]):
                other[vi, t] = pid
                break
    return sources, lefts


def _arrays_of(arrays: dict, vi: int) -> dict:
    """The (keypoints, scores) of view vi's people, by tracker id."""
    return {pid: a for (v, pid), a in arrays.items() if v == vi}


def _gathered(source: np.ndarray, by_id: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(V, T, K, 2) keypoints and (V, T, K) scores of one person, each view's rows from the track `source` names."""
    sample = next(iter(by_id[0].values()))
    kp = np.full(source.shape + sample[0].shape[1:], np.nan)
    sc = np.zeros(source.shape + sample[1].shape[1:])
    for vi, tracks in enumerate(by_id):
        for pid in np.unique(source[vi][source[vi] > 0]):
            rows = source[vi] == pid
            kp[vi, rows], sc[vi, rows] = tracks[int(pid)][0][rows], tracks[int(pid)][1][rows]
    return kp, sc


def _fused_take(seen: list[_View], source: np.ndarray, left_out: np.ndarray, arrays: dict, offsets: list[int],
                config: PipelineConfig, fps: float, origin: list | None) -> Take:
    """A person several views see: each view's keypoints from the tracks `source` (V, T) names, fused
    and through the one person's take (multi_camera._take)."""
    have = [vi for vi in range(len(seen)) if source[vi].any()]
    if len(have) < 2:
        raise NoValidFramesError("one view left")
    kp, sc = _gathered(source[have], [_arrays_of(arrays, vi) for vi in have])
    wm = np.full(kp.shape[:-1] + (3,), np.nan)
    for i, vi in enumerate(have):
        for pid in np.unique(source[vi][source[vi] > 0]):
            rows = source[vi] == pid
            wm[i, rows] = _shifted(_person_arrays(seen[vi].tracks, int(pid))[2], offsets[vi], source.shape[1])[rows]
    rig = Rig(tuple(seen[vi].camera for vi in have))
    fused = fuse_views(rig, kp, sc, wm)
    a_kp = kp[0] if have[0] == 0 else np.full_like(kp[0], np.nan)
    a_sc = sc[0] if have[0] == 0 else np.zeros_like(sc[0])
    names = [seen[vi].path.name for vi in have]
    take = _take(fused, rig, seen[0], a_kp, a_sc, config, fps, names, origin)
    take.metadata["multiview"] = {"views": [
        {"name": seen[vi].path.name, "camera": seen[vi].camera.name, "person_frames": int((sc[i] > 0).any(axis=1).sum()),
         "left_out_frames": int(left_out[vi].sum()), "tracker_ids": sorted(int(x) for x in np.unique(source[vi]) if x),
         "left_right_swapped_frames": int(fused.swapped[i].any(axis=1).sum())}
        for i, vi in enumerate(have)]}
    return take


def _one_camera_take(seen: list[_View], person: _Person, offsets: list[int], length: int, config: PipelineConfig,
                     fps: float, everyone: dict, origin: list | None) -> tuple[Take, int]:
    """A person one view sees: that view's one-camera take (`--people all`'s) of the track seen
    longest, on the first view's frames -> (take, the first view's frame of its first frame)."""
    vi, pid = max(person.tracks, key=lambda t: seen[t[0]].tracks.frames_seen(t[1]))
    view = seen[vi]
    if vi not in everyone:
        everyone[vi] = EveryoneDetected.from_tracks(view.tracks, make_lifter(config.lift), view.fps, view.path.name,
                                                    config.people)
    take = everyone[vi].take(everyone[vi].numbered.index(pid) + 1, config, origin_m=origin)
    start, stop = max(offsets[vi], 0), min(len(view.tracks), length + offsets[vi])
    take = take.slice(start, stop)
    take = replace(take, timestamps_s=take.timestamps_s - offsets[vi] / fps)
    take.metadata["three_d"] = f"one camera's ({view.path.name}, in its own camera's axes)"
    return take, start - offsets[vi]
