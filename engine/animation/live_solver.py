"""Positions -> rotations one frame at a time, for live streams: the same solver as the BVH export
(engine/animation/solver.py), with a rest pose learnt from the first seconds instead of the whole
take.

The rest pose's directions (the T-pose, the subject's own hip, shoulder and head offsets, the
lumbar and clavicle pivots) come from the frames of the warm-up and are then held; rotations
depend on those directions only. Bone lengths are each frame's own, so the pose rebuilt from the
rotations and the T-pose of that frame puts the joints where the frame had them. The feet rest
at the subject's standing pitch (toes on the floor, ankle above them), as an avatar's feet do in
its T-pose, so a flat foot streams as no rotation rather than as toes pointing down.

Poses with fingers (MONOCAP_HANDS) are solved on the solver points with hands, as the BVH export
does: the wrist turned by the palm, three joints per finger, twist from the palm plane. A hand
not seen in a frame keeps its last finger rotations for `finger_hold_s` (the gap the offline
pass bridges), so fingers do not flick flat when a hand is lost for a few frames, and then rests
(straight fingers, the rest pose); a hand never seen in the warm-up rests as a generic hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.animation.rig import Rig, solver_points
from engine.animation.solver import RigMotion, Solution, rest_pose, rest_terms, rig_motion, solve_positions
from engine.core.rotations import normalize
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS, Skeleton, finger_joint_names
from engine.motion.smoothing import SmoothingConfig

MAX_FOOT_PITCH_RAD = np.radians(45.0)
_WARMUP_FRAMES_MAX = 600  # memory bound of the warm-up at high frame rates
_REFIT_EVERY = 16
FINGER_HOLD_S = SmoothingConfig().max_gap_s


@dataclass(frozen=True)
class LivePose:
    """One frame on a rig, metres, Monocap's world axes.

    local_rotations (R, 3, 3) relative to the parent (the root's is global); offsets_m (R, 3): each
    joint's offset from its parent in the T-pose with this frame's bone lengths (the root's is 0);
    root_m (3,): the root joint's position; floor_to_root_m: the root's height above the soles in
    the T-pose; calibrated: False while the rest pose is still being learnt."""

    local_rotations: np.ndarray
    offsets_m: np.ndarray
    root_m: np.ndarray
    floor_to_root_m: float
    calibrated: bool


class LiveSolver:
    def __init__(self, rig: Rig, warmup_s: float = 3.0, skeleton: Skeleton = MONOCAP_BODY,
                 finger_hold_s: float = FINGER_HOLD_S):
        hands = skeleton.joint_names == MONOCAP_HANDS.joint_names
        if not hands and skeleton.joint_names != MONOCAP_BODY.joint_names:
            raise ValueError(f"the live solver needs {MONOCAP_BODY.name} or {MONOCAP_HANDS.name} joints, "
                             f"got {skeleton.name}")
        self.rig = rig
        self.warmup_s = warmup_s
        self.skeleton = skeleton
        self.points = solver_points(hands)
        self._point_index = {p.name: i for i, p in enumerate(self.points)}
        self._joint_of = {n: i for i, n in enumerate(p.name for p in self.points if p.rule is not None)}
        self._body = np.array([skeleton.index(n) for n in MONOCAP_BODY.joint_names])
        self._sources = np.array([-1 if p.source is None else skeleton.index(p.source) for p in self.points])
        self.finger_hold_s = finger_hold_s
        # per hand: its finger points in the skeleton and its finger bones in the rig
        self._hands = {} if not hands else {
            side: (np.array([skeleton.index(n) for n in finger_joint_names(side)]),
                   np.array([i for i, j in enumerate(rig.joints) if j.driver in finger_joint_names(side)]))
            for side in ("left", "right")}
        self._held: dict[str, tuple[float, np.ndarray]] = {}
        self._last_offsets = np.full((len(self.points), 3), np.nan)  # the last rest offset seen of each bone
        wrists = {f"{side}_wrist" for side in ("left", "right")}
        self._finger_bases = {i for i, p in enumerate(self.points) if p.parent in wrists and p.rule is not None}
        self._warmup: list[np.ndarray] = []
        self._start_s: float | None = None
        self._rest: np.ndarray | None = None
        self._terms = None
        self._last_s: float | None = None
        self.calibrated = False

    def solve(self, joints_m: np.ndarray, timestamp_s: float) -> LivePose | None:
        """(J, 3) world joints of one frame -> its pose on the rig; None if a body joint is missing
        (finger points may be NaN: a hand not seen)."""
        joints = np.asarray(joints_m, dtype=np.float64)
        if joints.shape != (self.skeleton.num_joints, 3) or not np.isfinite(joints[self._body]).all():
            return None
        if self._last_s is not None and timestamp_s < self._last_s:
            self.reset()  # time went back: another source, maybe another subject
        self._last_s = timestamp_s
        if not self.calibrated:
            self._learn(joints, timestamp_s)
        _, rotations = solve_positions(joints[None], self._terms, self.skeleton, self.points)
        rest = self._rest_with_lengths(joints, rotations[0])
        pelvis = joints[self.skeleton.index("pelvis")]
        solution = Solution(rest, rotations, pelvis[None], 0.0, np.zeros(1, bool), np.zeros(1, bool),
                            points=self.points)
        motion: RigMotion = rig_motion(solution, self.rig)
        local = motion.local_rotations[0]
        for side, (points, bones) in self._hands.items():
            if np.isfinite(joints[points]).all():
                self._held[side] = (timestamp_s, local[bones].copy())
            elif side in self._held and timestamp_s - self._held[side][0] <= self.finger_hold_s:
                local[bones] = self._held[side][1]
        index = self._point_index
        floor = -float(min(rest[index[f"{s}_{j}"], 1] for s in ("left", "right") for j in ("toe", "ankle")))
        return LivePose(local, motion.offsets_m, motion.root_m[0], floor, self.calibrated)

    def reset(self) -> None:
        """Learns the rest pose again from the next frames."""
        self._warmup.clear()
        self._start_s = None
        self.calibrated = False
        self._held.clear()
        self._last_offsets[:] = np.nan

    def _learn(self, joints: np.ndarray, t: float) -> None:
        self._start_s = t if self._start_s is None else self._start_s
        done = t - self._start_s >= self.warmup_s
        if len(self._warmup) < _WARMUP_FRAMES_MAX:
            self._warmup.append(joints)
            n = len(self._warmup)
            # refitted as the frames come in (often at first, then every _REFIT_EVERY frames)
            if done or n & (n - 1) == 0 or n % _REFIT_EVERY == 0:
                frames = np.array(self._warmup)
                rest = rest_pose(frames, self.skeleton, self.points)
                self._rest = _standing_feet(rest, frames, self.skeleton, self._point_index)
                self._terms = rest_terms(self._rest, self.points)  # held with the rest pose
        if done:
            self.calibrated = True
            self._warmup.clear()

    def _rest_with_lengths(self, joints: np.ndarray, glob: np.ndarray) -> np.ndarray:
        """The held rest directions with this frame's bone lengths. A pivot keeps its offset (it is
        carried by its parent); its position in the frame comes from the parent's rotation. The
        finger bases keep this frame's offset from the wrist, in the wrist's frame (a palm is not
        rigid), so the pose rebuilt from the rotations puts every knuckle where the frame has it.
        A finger not seen keeps its last offset (the rest pose's before any)."""
        held = self._rest
        rest = np.zeros_like(held)
        placed = np.zeros_like(held)
        for i, pt in enumerate(self.points):
            if pt.parent is None:
                placed[i] = joints[self._sources[i]]
                continue
            k = self._point_index[pt.parent]
            offset = held[i] - held[k]
            if pt.source is None:
                rest[i] = rest[k] + offset
                placed[i] = placed[k] + glob[self._joint_of[pt.parent]] @ offset
                continue
            placed[i] = joints[self._sources[i]]
            seen = placed[i] - placed[k]
            if not np.isfinite(seen).all():
                last = self._last_offsets[i]
                rest[i] = rest[k] + (last if np.isfinite(last).all() else offset)
                continue
            if i in self._finger_bases:
                offset = glob[self._joint_of[pt.parent]].T @ seen
            else:
                offset = normalize(offset) * np.linalg.norm(seen)
            rest[i] = rest[k] + offset
            self._last_offsets[i] = offset
        return rest


def _standing_feet(rest: np.ndarray, frames: np.ndarray, skeleton: Skeleton, index: dict[str, int]) -> np.ndarray:
    """The rest pose with each ankle->toe offset pitched down by the subject's median foot pitch."""
    out = rest.copy()
    for side in ("left", "right"):
        d = frames[:, skeleton.index(f"{side}_toe")] - frames[:, skeleton.index(f"{side}_ankle")]
        pitch = np.arctan2(-d[:, 1], np.linalg.norm(d[:, [0, 2]], axis=1))
        pitch = float(np.clip(np.median(pitch), 0.0, MAX_FOOT_PITCH_RAD))
        a, t = index[f"{side}_ankle"], index[f"{side}_toe"]
        length = float(np.linalg.norm(rest[t] - rest[a]))
        out[t] = rest[a] + length * np.array([0.0, -np.sin(pitch), np.cos(pitch)])
    return out
