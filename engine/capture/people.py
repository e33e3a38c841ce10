"""Several people in view: who is who from frame to frame.

`PeopleTracker` is causal (one `update` per frame, no look-ahead), so cameras and files use the
same one. Each frame's detections are matched to the people already known in two stages:

1. People seen within `PeopleConfig.coast_s`: their keypoints are carried forward by a constant
   velocity (of the hip centre, an exponential average of its recent steps) to the frame's time.
   Cost of a pair = mean distance between the predicted and the detected keypoints (those
   confident in both), divided by the person's box height, plus (1 - box overlap, IoU). Pairs
   whose keypoint distance exceeds `match_gate` box heights, or whose box heights differ by more
   than a factor `match_size`, or, for a person whose last detection was tangled with someone
   else's (its box covered over `TANGLED` by another's: their position may be the other's), whose
   clothes differ (for a detection seen clear of anyone else: over the stage-2 gate while they are
   another known person's, within `reid_look_gate`) are never matched; the rest are
   assigned by the Hungarian method (lowest total cost).
2. Everyone else known, lost for up to `forget_s` (hidden behind someone, out of view, or just
   not matched in stage 1, say after a fast turn): a detection left over from stage 1 re-finds
   one of them when its body proportions
   (the descriptor: eight limb lengths divided by the torso length, averaged over the frames the
   person was seen well) differ by less than `reid_gate` (mean absolute log ratio), its box
   height is within a factor `reid_size` of the person's, and its hip centre lies within a radius
   of where the person was last seen that grows with the time lost (`reid_radius` box heights
   plus `reid_radius_per_s` per second lost). With the frame's image, their clothes must match
   too (engine/capture/appearance.py: the colours of the lower torso and the thighs, averaged over
   the frames they were seen clear of anyone else and of the border, and lately): a Hellinger
   distance up to `reid_look_gate` in every region is them (`reid_look_gate_short` when lost for
   up to `short_loss_s`: coming out from behind someone); over `reid_look_doubt` is someone
   else; in between,
   or with part of what is known of them not seen (entering cut off by the border, half hidden),
   the detection starts a newcomer who may be them. Within `confirm_s`, once the newcomer's
   clothes are seen in `confirm_frames` frames, a match makes the newcomer that person again
   (`take_merges` says so, and PeopleTracks gives them the newcomer's frames); otherwise they
   stay someone new. Among several candidates the lowest combined score wins. Everything else
   starts a new person.

Detections that overlap an already kept one of the same frame (box IoU above `duplicate_iou`)
are the detector seeing one person twice and are dropped.

Whom a take follows among them: engine/capture/lock_on.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.capture.appearance import appearance, appearance_distance
from engine.capture.body_cues import (
    body_descriptor,
    box_iou,
    covered_share,
    descriptor_distance,
    hip_centre,
    looks_distance,
    seen_clear,
)
from engine.capture.detection import Detection
from engine.core.skeletons import KEYPOINT_CONFIDENT, MP_LIMBS

LOOK_RECENT_WEIGHT = 0.2  # of the newest frame in a person's recent look
LOOK_EVERY = 3  # a person followed frame to frame has their look taken every this many frames
TANGLED = 0.3  # a detection whose box another's covers more of than this is tangled with someone else


@dataclass(frozen=True)
class PeopleConfig:
    coast_s: float = 0.4  # a person unseen this long is still matched frame to frame (stage 1)
    forget_s: float = 20.0  # a person unseen longer cannot be re-found
    match_gate: float = 0.6  # stage 1: keypoint distance in box heights
    match_size: float = 2.0  # stage 1: box height ratio to the person's last box (a crouch, not a stranger)
    reid_gate: float = 0.5  # stage 2: descriptor distance (mean |log ratio|); limbs foreshorten, so loose
    reid_size: float = 1.6  # stage 2: box height ratio
    reid_radius: float = 1.0  # stage 2: radius in box heights ...
    reid_radius_per_s: float = 1.0  # ... plus this many per second lost
    reid_look_gate: float = 0.5  # stage 2: clothes' colours (engine/capture/appearance.py), Hellinger distance ...
    reid_look_gate_short: float = 0.65  # ... for someone lost up to short_loss_s (hidden behind someone) ...
    short_loss_s: float = 2.0
    reid_look_doubt: float = 0.8  # ... up to this, unsure (half hidden, turned): decided within confirm_s
    confirm_s: float = 2.0  # someone new who might be someone lost, unseen well, is told apart within this ...
    confirm_frames: int = 3  # ... once each part of their clothes known of the lost one is seen this often
    duplicate_iou: float = 0.7
    velocity_smoothing: float = 0.5  # weight of the newest step in the velocity average
    min_seen_s: float = 0.5  # people seen for less (a glimpse, a false detection) get no number, no take
    min_height_ratio: float = 0.25  # nor do people shorter than this part of the tallest one (far away, or not people)

    def min_frames(self, fps: float) -> int:
        return max(2, int(round(self.min_seen_s * fps)))

    def __post_init__(self) -> None:
        if self.coast_s <= 0 or self.forget_s < self.coast_s:
            raise ValueError("PeopleConfig: need 0 < coast_s <= forget_s")


def _box_height(box: np.ndarray) -> float:
    return max(float(box[3] - box[1]), 1.0)


@dataclass
class _Person:
    id: int
    keypoints_px: np.ndarray
    scores: np.ndarray
    box: np.ndarray
    centre: np.ndarray
    last_t: float
    first_t: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    height: float = 1.0
    descriptor_sum: np.ndarray = field(default_factory=lambda: np.zeros(len(MP_LIMBS)))
    descriptor_count: np.ndarray = field(default_factory=lambda: np.zeros(len(MP_LIMBS)))
    look_sum: np.ndarray | None = None  # (2, BINS) appearance histograms summed over the frames seen ...
    look_count: np.ndarray | None = None  # ... and how many frames each region was seen in
    look_recent: np.ndarray | None = None  # an exponential average of the latest ones
    maybe: list["_Person"] = field(default_factory=list)  # whom this newcomer might be (no look yet to tell)
    frames_seen: int = 1
    first_centre: np.ndarray | None = None  # (2,) where they were first seen
    tangled: bool = False  # their last detection was tangled with someone else's or a just-lost person's (TANGLED)

    def looks(self) -> list[np.ndarray]:
        """What they have looked like: on average, and lately (a turn shows other colours)."""
        if self.look_count is None or self.look_count.max() == 0:
            return []
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.look_count[:, None] > 0, self.look_sum / self.look_count[:, None], np.nan)
        return [mean, self.look_recent]

    def descriptor(self) -> np.ndarray | None:
        if self.descriptor_count.max() == 0:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.descriptor_count > 0, self.descriptor_sum / self.descriptor_count, np.nan)

    def predicted_shift(self, t: float, coast_s: float) -> np.ndarray:
        return self.velocity * min(t - self.last_t, coast_s)


@dataclass(frozen=True, eq=False)
class TrackedPerson:
    """One person in one frame: their identity (1, 2, ... in order of first appearance, left to right
    among those appearing in the same frame) and detection."""

    id: int
    detection: Detection


class PeopleTracker:
    """Identities of the people in view, frame to frame; causal. See the module's docstring."""

    def __init__(self, config: PeopleConfig = PeopleConfig()):
        self.config = config
        self._people: list[_Person] = []
        self._next_id = 1
        self._merges: list[tuple[int, int]] = []

    def take_merges(self) -> list[tuple[int, int]]:
        """(newcomer id, id) pairs of the last `update`: a newcomer turned out to be someone lost,
        whose id they carry from then on; their earlier frames are that person's too."""
        return list(self._merges)

    @property
    def known_ids(self) -> list[int]:
        return [p.id for p in self._people]

    def update(self, timestamp_s: float, detections: list[Detection],
               image_bgr: np.ndarray | None = None) -> list[TrackedPerson]:
        """This frame's detections -> the same detections with identities (duplicates dropped).
        With the frame's image, what people's clothes look like also tells someone coming back
        from someone new."""
        cfg = self.config
        self._merges = []
        self._people = [p for p in self._people if timestamp_s - p.last_t <= cfg.forget_s]
        detections = self._without_duplicates(detections)
        if not detections:
            return []
        cache: dict[int, np.ndarray | None] = {}

        def look(i: int) -> np.ndarray | None:
            if i not in cache:
                d = detections[i]
                cache[i] = appearance(image_bgr, d) if image_bgr is not None and seen_clear(d, detections) else None
            return cache[i]

        recent = [p for p in self._people if timestamp_s - p.last_t <= cfg.coast_s]
        assigned: dict[int, _Person] = {}
        if recent:
            cost = np.array([[self._match_cost(p, d, timestamp_s) for d in detections] for p in recent])
            if any(p.tangled for p in recent):  # out of a tangle with someone else: clothes that differ veto a match
                self._veto_by_looks(cost, recent, detections, look, timestamp_s)
            from scipy.optimize import linear_sum_assignment

            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e6))
            for r, c in zip(rows, cols):
                if np.isfinite(cost[r, c]):
                    assigned[c] = recent[r]
        leftover = [i for i in range(len(detections)) if i not in assigned]
        taken = {id(p) for p in assigned.values()}
        lost = [p for p in self._people if id(p) not in taken]
        maybe: dict[int, list[_Person]] = {}
        if leftover and lost:
            cost = np.array([[self._refind_cost(p, detections[i], timestamp_s) for i in leftover] for p in lost])
            for r, p in enumerate(lost):
                for c, i in enumerate(leftover):
                    if np.isfinite(cost[r, c]) and p.looks():
                        verdict, unlike = self._look_verdict(p, look(i), timestamp_s - p.last_t)
                        if verdict == "unsure":  # a newcomer for now, who may turn out to be them
                            maybe.setdefault(i, []).append(p)
                        cost[r, c] = cost[r, c] + unlike / cfg.reid_look_gate if verdict == "same" else np.inf
            from scipy.optimize import linear_sum_assignment

            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e6))
            for r, c in zip(rows, cols):
                if np.isfinite(cost[r, c]):
                    assigned[leftover[c]] = lost[r]
        out = []
        unseen = tuple(p.box for p in recent if all(p is not q for q in assigned.values()))  # hidden, or merged in
        for i, det in enumerate(detections):
            if i in assigned:
                assigned[i].tangled = covered_share(det, detections, unseen) > TANGLED
                person = assigned[i]
                # the average needs only some; a detection merged with someone just lost may show their colours
                wanted = (person.maybe or person.frames_seen % LOOK_EVERY == 0) and not person.tangled
                self._observe(person, det, look(i) if wanted else None, timestamp_s)
                out.append(TrackedPerson(self._confirm(assigned[i], timestamp_s).id, det))
        newcomers = sorted((i for i in range(len(detections)) if i not in assigned),
                           key=lambda i: hip_centre(detections[i])[0])  # numbered left to right
        for i in newcomers:
            person = self._new_person(detections[i], look(i), timestamp_s)
            person.tangled = covered_share(detections[i], detections, unseen) > TANGLED
            person.maybe = maybe.get(i, [])
            out.append(TrackedPerson(person.id, detections[i]))
        out.sort(key=lambda tp: tp.id)
        return out

    def pieces(self) -> list[tuple[int, int]]:
        """(later id, earlier id) pairs, looking back over everything seen: one person seen in two
        pieces, the later first seen after the earlier was last seen (within `forget_s`), their
        clothes alike on average (within `reid_look_gate`, each region compared seen in at least
        `confirm_frames` frames), their builds alike (`reid_gate`) and heights within `reid_size`,
        and the later one first seen within the re-finding radius of where the earlier one was last
        seen (or of where their velocity would have taken them). Each later id joins at most one
        earlier one; chains join up (the earlier piece then ends where the later one ends). For a
        whole clip, after the last `update`."""
        cfg = self.config
        people = sorted(self._people, key=lambda p: p.first_t)
        ends = {id(p): (p.last_t, p.centre, p.velocity, p.height) for p in people}
        joined: dict[int, _Person] = {}
        out = []
        for later in people:
            best, best_d = None, np.inf
            for earlier in people:
                root = joined.get(id(earlier), earlier)
                last_t, centre, velocity, height = ends[id(root)]
                gap = later.first_t - last_t
                if root is later or id(earlier) in joined or not 0 < gap <= cfg.forget_s:
                    continue
                d = _settled_looks_distance(root, later, cfg.confirm_frames)
                if d is None or d > cfg.reid_look_gate or d >= best_d:
                    continue
                if descriptor_distance(root.descriptor(), later.descriptor()) > cfg.reid_gate:
                    continue
                if max(height / later.height, later.height / height) > cfg.reid_size:
                    continue
                moved = min(np.linalg.norm(later.first_centre - centre),  # a last step may be a poor detection's
                            np.linalg.norm(later.first_centre - centre - velocity * min(gap, cfg.coast_s)))
                if moved > height * (cfg.reid_radius + cfg.reid_radius_per_s * gap):
                    continue
                best, best_d = root, d
            if best is not None:
                joined[id(later)] = best
                ends[id(best)] = ends[id(later)]
                out.append((later.id, best.id))
        return out

    def _veto_by_looks(self, cost: np.ndarray, recent: list[_Person], detections: list[Detection], look,
                       t: float) -> None:
        """Stage 1's pairs of a person whose last detection was tangled with someone else's (their
        position may be the other's) whose clothes say no (cost set to inf): a detection seen clear
        whose colours are not this person's (over the stage-2 gate) while they are another known
        person's (within `reid_look_gate`). Colours that are nobody's known ones veto nothing (a
        turn, or someone else's body beside theirs, changes what a person looks like)."""
        for c in range(len(detections)):
            seen = look(c)
            if seen is None:
                continue
            unlike = {id(p): looks_distance(p.looks(), [seen]) for p in self._people if p.looks()}
            for r, p in enumerate(recent):
                if not p.tangled or not np.isfinite(cost[r, c]) or unlike.get(id(p)) is None:
                    continue
                verdict, d = self._look_verdict(p, seen, t - p.last_t)
                theirs = any(q is not p and (e := unlike.get(id(q))) is not None and e <= self.config.reid_look_gate
                             for q in self._people)
                if verdict != "same" and d > self._look_gate(t - p.last_t) and theirs:
                    cost[r, c] = np.inf

    def _confirm(self, person: _Person, t: float) -> _Person:
        """A newcomer who might be someone lost, once their clothes are seen: that person (who
        takes over their state and id) if the colours match, else someone new for good."""
        if not person.maybe:
            return person
        seen = (person.look_count if person.look_count is not None else np.zeros(2)) >= self.config.confirm_frames
        complete = [old for old in person.maybe if (seen | (old.look_count == 0)).all()]
        if len(complete) < len(person.maybe) and t - person.first_t <= self.config.confirm_s:
            return person  # wait (up to confirm_s) until what is known of each of them is seen
        best, best_d = None, np.inf
        for old in complete:  # the others were never seen well enough to tell: someone new
            if not any(old is p for p in self._people) or old.last_t >= person.first_t:
                continue  # forgotten, or seen again meanwhile
            d = looks_distance(old.looks(), person.looks())
            if d is not None and d <= self._look_gate(person.first_t - old.last_t) and d < best_d:
                best, best_d = old, d
        person.maybe = []
        if best is None:
            return person
        for name in ("keypoints_px", "scores", "box", "centre", "last_t", "velocity", "height", "look_recent"):
            setattr(best, name, getattr(person, name))
        best.descriptor_sum += person.descriptor_sum
        best.descriptor_count += person.descriptor_count
        best.look_sum += person.look_sum
        best.look_count += person.look_count
        self._people = [p for p in self._people if p is not person]
        self._merges.append((person.id, best.id))
        return best

    def _without_duplicates(self, detections: list[Detection]) -> list[Detection]:
        kept: list[Detection] = []
        for det in sorted(detections, key=lambda d: -float(np.mean(d.scores))):
            box = det.box_xyxy
            if all(box_iou(box, k.box_xyxy) <= self.config.duplicate_iou for k in kept):
                kept.append(det)
        return kept

    def _match_cost(self, person: _Person, det: Detection, t: float) -> float:
        last, height = _box_height(person.box), _box_height(det.box_xyxy)
        if max(last / height, height / last) > self.config.match_size:
            return np.inf
        shift = person.predicted_shift(t, self.config.coast_s)
        both = (person.scores > KEYPOINT_CONFIDENT * 0.6) & (det.scores > KEYPOINT_CONFIDENT * 0.6)
        if both.sum() < 4:
            both = np.ones_like(both)
        dist = np.linalg.norm(person.keypoints_px[both] + shift - det.keypoints_px[both], axis=1).mean()
        norm = dist / person.height
        if norm > self.config.match_gate:
            return np.inf
        return float(norm + 1.0 - box_iou(person.box + np.tile(shift, 2), det.box_xyxy))

    def _look_gate(self, lost_s: float) -> float:
        """How alike clothes must look: less so after a short loss (someone who was hidden behind
        someone else, who shows other colours as they come out) than after a long one (someone
        new is likelier)."""
        cfg = self.config
        return cfg.reid_look_gate_short if lost_s <= cfg.short_loss_s else cfg.reid_look_gate

    def _look_verdict(self, person: _Person, look: np.ndarray | None, lost_s: float) -> tuple[str, float]:
        """Whether a detection's clothes are `person`'s: "same", "other", or "unsure" (not all of
        what is known of them is seen, or the colours are close without matching)."""
        if look is None or (np.isnan(look).any(axis=1) & (person.look_count > 0)).any():
            return "unsure", 0.0
        unlike = looks_distance(person.looks(), [look])
        if unlike is None:
            return "unsure", 0.0
        if unlike <= self._look_gate(lost_s):
            return "same", unlike
        return ("unsure" if unlike <= self.config.reid_look_doubt else "other"), unlike

    def _refind_cost(self, person: _Person, det: Detection, t: float) -> float:
        """How well a detection fits someone lost by where, how large and how built (inf: not them)."""
        cfg = self.config
        height = _box_height(det.box_xyxy)
        ratio = max(height / person.height, person.height / height)
        if ratio > cfg.reid_size:
            return np.inf
        shape = descriptor_distance(person.descriptor(), body_descriptor(det))
        if shape > cfg.reid_gate:
            return np.inf
        lost_s = t - person.last_t
        radius = person.height * (cfg.reid_radius + cfg.reid_radius_per_s * lost_s)
        where = person.centre + person.predicted_shift(t, cfg.coast_s)
        dist = float(np.linalg.norm(hip_centre(det) - where))
        if dist > radius:
            return np.inf
        return dist / radius + shape / cfg.reid_gate + (ratio - 1.0)

    def _new_person(self, det: Detection, look: np.ndarray | None, t: float) -> _Person:
        person = _Person(self._next_id, det.keypoints_px.copy(), det.scores.copy(), det.box_xyxy, hip_centre(det), t, t,
                         height=_box_height(det.box_xyxy))
        self._next_id += 1
        person.first_centre = person.centre.copy()
        self._add_descriptor(person, det)
        self._add_look(person, look)
        self._people.append(person)
        return person

    def _observe(self, person: _Person, det: Detection, look: np.ndarray | None, t: float) -> None:
        centre = hip_centre(det)
        dt = t - person.last_t
        if 0 < dt <= self.config.coast_s:
            a = self.config.velocity_smoothing
            person.velocity = a * (centre - person.centre) / dt + (1 - a) * person.velocity
        elif dt > self.config.coast_s:
            person.velocity = np.zeros(2)
        person.keypoints_px = det.keypoints_px.copy()
        person.scores = det.scores.copy()
        person.box = det.box_xyxy
        person.centre = centre
        person.height = 0.7 * person.height + 0.3 * _box_height(person.box)
        person.last_t = t
        person.frames_seen += 1
        self._add_descriptor(person, det)
        self._add_look(person, look)

    @staticmethod
    def _add_descriptor(person: _Person, det: Detection) -> None:
        d = body_descriptor(det)
        if d is not None:
            ok = np.isfinite(d)
            person.descriptor_sum[ok] += d[ok]
            person.descriptor_count[ok] += 1


    @staticmethod
    def _add_look(person: _Person, look: np.ndarray | None) -> None:
        if look is None:
            return
        seen = ~np.isnan(look).any(axis=1)
        if person.look_sum is None:
            person.look_sum, person.look_count = np.zeros_like(look), np.zeros(len(look))
            person.look_recent = np.full_like(look, np.nan)
        person.look_sum[seen] += look[seen]
        person.look_count[seen] += 1
        fresh = seen & np.isnan(person.look_recent).any(axis=1)
        person.look_recent[fresh] = look[fresh]
        blend = seen & ~fresh
        person.look_recent[blend] = (1 - LOOK_RECENT_WEIGHT) * person.look_recent[blend] + LOOK_RECENT_WEIGHT * look[blend]


def _settled_looks_distance(a: _Person, b: _Person, frames: int) -> float | None:
    """The appearance distance of two people's average looks over the regions each was seen in
    at least `frames` frames; None without such a region in common."""
    if a.look_count is None or b.look_count is None:
        return None
    both = (a.look_count >= frames) & (b.look_count >= frames)
    if not both.any():
        return None
    mean_a = a.look_sum[both] / a.look_count[both, None]
    mean_b = b.look_sum[both] / b.look_count[both, None]
    return appearance_distance(mean_a, mean_b)
