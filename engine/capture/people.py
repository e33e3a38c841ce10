"""Several people in view: who is who from frame to frame, and whom a take follows.

`PeopleTracker` is causal (one `update` per frame, no look-ahead), so cameras and files use the
same one. Each frame's detections are matched to the people already known in two stages:

1. People seen within `PeopleConfig.coast_s`: their keypoints are carried forward by a constant
   velocity (of the hip centre, an exponential average of its recent steps) to the frame's time.
   Cost of a pair = mean distance between the predicted and the detected keypoints (those
   confident in both), divided by the person's box height, plus (1 - box overlap, IoU). Pairs
   whose keypoint distance exceeds `match_gate` box heights are never matched; the rest are
   assigned by the Hungarian method (lowest total cost).
2. Everyone else known, lost for up to `forget_s` (hidden behind someone, out of view, or just
   not matched in stage 1, say after a fast turn): a detection left over from stage 1 re-finds
   one of them when its body proportions
   (the descriptor: eight limb lengths divided by the torso length, averaged over the frames the
   person was seen well) differ by less than `reid_gate` (mean absolute log ratio), its box
   height is within a factor `reid_size` of the person's, and its hip centre lies within a radius
   of where the person was last seen that grows with the time lost (`reid_radius` box heights
   plus `reid_radius_per_s` per second lost). Among several candidates the lowest combined score
   wins. Everything else starts a new person.

Detections that overlap an already kept one of the same frame (box IoU above `duplicate_iou`)
are the detector seeing one person twice and are dropped.

`choose_person` is the lock-on rule for a whole clip: the person with the largest sum, over the
frames they are seen, of (box area / image area) x (1 - distance of the box centre from the image
centre / half the image diagonal): the largest and most central over the clip, counting how long
they are in view. `LockOn` is its causal form for live sources: it locks on to the best person of
the first frame with anyone in view (or to the one the user picks) and then follows only them.
Neither ever hands over to someone else: while the chosen person is hidden there is nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.capture.detection import Detection

# BlazePose keypoints (engine.skeletons.MEDIAPIPE_33) used for the hip centre and the descriptor
L_SHOULDER, R_SHOULDER, L_HIP, R_HIP = 11, 12, 23, 24
LIMBS = ((11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28))
_LIMB_ENDS = (np.array([a for a, _ in LIMBS]), np.array([b for _, b in LIMBS]))
CONFIDENT = 0.5


@dataclass(frozen=True)
class PeopleConfig:
    coast_s: float = 0.4  # a person unseen this long is still matched frame to frame (stage 1)
    forget_s: float = 20.0  # a person unseen longer cannot be re-found
    match_gate: float = 0.6  # stage 1: keypoint distance in box heights
    reid_gate: float = 0.5  # stage 2: descriptor distance (mean |log ratio|); limbs foreshorten, so loose
    reid_size: float = 1.6  # stage 2: box height ratio
    reid_radius: float = 1.0  # stage 2: radius in box heights ...
    reid_radius_per_s: float = 1.0  # ... plus this many per second lost
    duplicate_iou: float = 0.7
    velocity_smoothing: float = 0.5  # weight of the newest step in the velocity average
    min_seen_s: float = 0.5  # people seen for less (a glimpse, a false detection) get no number, no take

    def min_frames(self, fps: float) -> int:
        return max(2, int(round(self.min_seen_s * fps)))

    def __post_init__(self) -> None:
        if self.coast_s <= 0 or self.forget_s < self.coast_s:
            raise ValueError("PeopleConfig: need 0 < coast_s <= forget_s")


def hip_centre(detection: Detection) -> np.ndarray:
    """(2,) pixels: the midpoint of the hips, or of the keypoint box when the hips are unsure."""
    kp, sc = detection.keypoints_px, detection.scores
    if sc[L_HIP] > CONFIDENT * 0.6 and sc[R_HIP] > CONFIDENT * 0.6:
        return (kp[L_HIP] + kp[R_HIP]) / 2
    box = detection.box_xyxy
    return (box[:2] + box[2:]) / 2


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


EDGE_MARGIN = 0.02  # of the image width: keypoints nearer the border are guesses of a body cut off


def body_descriptor(detection: Detection) -> np.ndarray | None:
    """(8,) limb lengths / torso length, NaN for limbs not seen well; None without a torso or
    when the body touches the image's border."""
    kp, sc = detection.keypoints_px, detection.scores
    if min(sc[L_SHOULDER], sc[R_SHOULDER], sc[L_HIP], sc[R_HIP]) < CONFIDENT:
        return None
    w, h = detection.image_size
    margin = EDGE_MARGIN * w
    box = detection.box_xyxy
    if w > 0 and (box[0] < margin or box[1] < margin or box[2] > w - margin or box[3] > h - margin):
        return None
    torso = np.linalg.norm((kp[L_SHOULDER] + kp[R_SHOULDER]) / 2 - (kp[L_HIP] + kp[R_HIP]) / 2)
    if torso < 1.0:
        return None
    a, b = _LIMB_ENDS
    out = np.linalg.norm(kp[a] - kp[b], axis=1) / torso
    out[np.minimum(sc[a], sc[b]) < CONFIDENT] = np.nan
    return out


def _descriptor_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Mean |log ratio| over limbs seen in both; 0 (no evidence) when they share fewer than 3."""
    if a is None or b is None:
        return 0.0
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if ok.sum() < 3:
        return 0.0
    return float(np.mean(np.abs(np.log(a[ok] / b[ok]))))


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
    descriptor_sum: np.ndarray = field(default_factory=lambda: np.zeros(len(LIMBS)))
    descriptor_count: np.ndarray = field(default_factory=lambda: np.zeros(len(LIMBS)))

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

    @property
    def known_ids(self) -> list[int]:
        return [p.id for p in self._people]

    def update(self, timestamp_s: float, detections: list[Detection]) -> list[TrackedPerson]:
        """This frame's detections -> the same detections with identities (duplicates dropped)."""
        cfg = self.config
        self._people = [p for p in self._people if timestamp_s - p.last_t <= cfg.forget_s]
        detections = self._without_duplicates(detections)
        if not detections:
            return []
        recent = [p for p in self._people if timestamp_s - p.last_t <= cfg.coast_s]
        assigned: dict[int, _Person] = {}
        if recent:
            cost = np.array([[self._match_cost(p, d, timestamp_s) for d in detections] for p in recent])
            from scipy.optimize import linear_sum_assignment

            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e6))
            for r, c in zip(rows, cols):
                if np.isfinite(cost[r, c]):
                    assigned[c] = recent[r]
        leftover = [i for i in range(len(detections)) if i not in assigned]
        taken = {id(p) for p in assigned.values()}
        lost = [p for p in self._people if id(p) not in taken]
        if leftover and lost:
            cost = np.array([[self._refind_cost(p, detections[i], timestamp_s) for i in leftover] for p in lost])
            from scipy.optimize import linear_sum_assignment

            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e6))
            for r, c in zip(rows, cols):
                if np.isfinite(cost[r, c]):
                    assigned[leftover[c]] = lost[r]
        out = []
        for i, det in enumerate(detections):
            if i in assigned:
                self._observe(assigned[i], det, timestamp_s)
                out.append(TrackedPerson(assigned[i].id, det))
        newcomers = sorted((i for i in range(len(detections)) if i not in assigned),
                           key=lambda i: hip_centre(detections[i])[0])  # numbered left to right
        for i in newcomers:
            out.append(TrackedPerson(self._new_person(detections[i], timestamp_s).id, detections[i]))
        out.sort(key=lambda tp: tp.id)
        return out

    def _without_duplicates(self, detections: list[Detection]) -> list[Detection]:
        kept: list[Detection] = []
        for det in sorted(detections, key=lambda d: -float(np.mean(d.scores))):
            box = det.box_xyxy
            if all(box_iou(box, k.box_xyxy) <= self.config.duplicate_iou for k in kept):
                kept.append(det)
        return kept

    def _match_cost(self, person: _Person, det: Detection, t: float) -> float:
        shift = person.predicted_shift(t, self.config.coast_s)
        both = (person.scores > CONFIDENT * 0.6) & (det.scores > CONFIDENT * 0.6)
        if both.sum() < 4:
            both = np.ones_like(both)
        dist = np.linalg.norm(person.keypoints_px[both] + shift - det.keypoints_px[both], axis=1).mean()
        norm = dist / person.height
        if norm > self.config.match_gate:
            return np.inf
        return float(norm + 1.0 - box_iou(person.box + np.tile(shift, 2), det.box_xyxy))

    def _refind_cost(self, person: _Person, det: Detection, t: float) -> float:
        cfg = self.config
        height = _box_height(det.box_xyxy)
        ratio = max(height / person.height, person.height / height)
        if ratio > cfg.reid_size:
            return np.inf
        shape = _descriptor_distance(person.descriptor(), body_descriptor(det))
        if shape > cfg.reid_gate:
            return np.inf
        lost_s = t - person.last_t
        radius = person.height * (cfg.reid_radius + cfg.reid_radius_per_s * lost_s)
        where = person.centre + person.predicted_shift(t, cfg.coast_s)
        dist = float(np.linalg.norm(hip_centre(det) - where))
        if dist > radius:
            return np.inf
        return dist / radius + shape / cfg.reid_gate + (ratio - 1.0)

    def _new_person(self, det: Detection, t: float) -> _Person:
        person = _Person(self._next_id, det.keypoints_px.copy(), det.scores.copy(), det.box_xyxy, hip_centre(det), t, t,
                         height=_box_height(det.box_xyxy))
        self._next_id += 1
        self._add_descriptor(person, det)
        self._people.append(person)
        return person

    def _observe(self, person: _Person, det: Detection, t: float) -> None:
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
        self._add_descriptor(person, det)

    @staticmethod
    def _add_descriptor(person: _Person, det: Detection) -> None:
        d = body_descriptor(det)
        if d is not None:
            ok = np.isfinite(d)
            person.descriptor_sum[ok] += d[ok]
            person.descriptor_count[ok] += 1


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
