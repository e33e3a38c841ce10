"""Positions -> rotations: solves a rig's joint rotations and root translation from a take.

Input: MONOCAP_BODY joint positions in metres (T, 22, 3). Output: a `Solution` with the rest
pose of the solver points (engine/animation/rig.py) built from the subject's locked bone lengths (the
per-bone median), one global rotation per solver joint and frame, and the root (pelvis)
position. `rig_motion` turns a solution into what a BVH file holds for a named rig: offsets and
local rotations. Everything is vectorised over frames.

Rotations map the rest pose onto the frame: in the rest pose every global rotation is the
identity, so a bone's rest offset is its direction in the world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.animation.rig import SOLVER_POINTS, Rig, SolverPoint, solver_points
from engine.core.errors import InputError
from engine.core.rotations import cross, frame_from_vectors, norm, normalize, swing_rotation
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS, Skeleton
from engine.core.take import Take
from engine.motion.foot_contact import FootContactOptions, detect_contacts, floor_height, pin_feet
from engine.motion.gaps import fill_gaps

# The twist reference of a limb comes from its bend plane when the limb is bent by more than
# about 15 degrees, from the parent (no twist) when it is straighter than about 3 degrees, and a
# smooth blend in between, so a straightening arm never flips.
_BEND_LO = np.sin(np.radians(3.0))
_BEND_HI = np.sin(np.radians(15.0))


@dataclass(frozen=True)
class SolverOptions:
    foot_contact: bool = True  # pin planted feet so they do not slide
    ground: bool = True  # move the take vertically so the floor is at y = 0
    root_motion: bool = True  # False: the root stays above the origin (height kept)
    max_gap_s: float = 0.5  # longer runs of invalid frames are held, shorter interpolated
    contact: FootContactOptions = FootContactOptions()


@dataclass(frozen=True)
class Solution:
    rest_m: np.ndarray  # (P, 3) rest positions of SOLVER_POINTS, pelvis at the origin
    rotations: np.ndarray  # (T, N, 3, 3) global rotations of SOLVER_JOINTS
    root_m: np.ndarray  # (T, 3) pelvis position
    fps: float
    interpolated: np.ndarray  # (T,) bool
    held: np.ndarray  # (T,) bool
    contacts: np.ndarray | None = None  # (T, 2) planted left/right feet, when detected
    points: tuple[SolverPoint, ...] = SOLVER_POINTS  # SOLVER_POINTS_HANDS for takes with fingers

    @property
    def num_frames(self) -> int:
        return self.root_m.shape[0]

    @property
    def has_fingers(self) -> bool:
        return self.points is not SOLVER_POINTS

    def point_index(self, name: str) -> int:
        return _index(self.points)[name]


def _index(points: tuple[SolverPoint, ...]) -> dict[str, int]:
    return {p.name: i for i, p in enumerate(points)}


def _joints(points: tuple[SolverPoint, ...]) -> tuple[str, ...]:
    return tuple(p.name for p in points if p.rule is not None)


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _body_frames(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-frame body frames (columns: left, up, forward) used to measure rest offsets.

    "pelvis" and "chest_aim" are the solver's own pelvis and chest rotations (the rest pose's
    frames being the identity), so a point fixed in them moves with those joints."""
    lateral_hips = p["left_hip"] - p["right_hip"]
    lateral_sh = p["left_shoulder"] - p["right_shoulder"]
    up_first = frame_from_vectors(p["neck"] - p["chest"], lateral_sh)
    frames = {
        "pelvis": frame_from_vectors(lateral_hips, p["spine"] - p["pelvis"]),
        "chest": frame_from_vectors(lateral_sh, p["neck"] - p["chest"]),
        "chest_aim": np.stack([up_first[..., 1], up_first[..., 0], -up_first[..., 2]], axis=-1),
        "head": frame_from_vectors(lateral_sh, p["head"] - p["neck"]),
    }
    for side, sign in (("left", 1.0), ("right", -1.0)):
        if f"{side}_index1" in p:
            # columns: along the hand towards +X of the T-pose, the back of the hand (up), forwards
            wrist = p[f"{side}_wrist"]
            index, pinky = p[f"{side}_index1"] - wrist, p[f"{side}_pinky1"] - wrist
            back = sign * np.cross(index, pinky)
            frames[f"{side}_palm"] = frame_from_vectors(sign * (index + pinky), back)
    return frames


def _steadiest_centre(points: np.ndarray) -> np.ndarray:
    """(T, D) points -> the centre (D,) about which they keep the steadiest distance: an
    algebraic sphere fit, pulled towards the origin where the points do not determine it and
    kept within 3/4 of the points' median distance from the origin."""
    dims = points.shape[1]
    a = np.concatenate([2.0 * points, np.ones((points.shape[0], 1))], axis=1)
    b = np.sum(points * points, axis=1)
    ridge = np.diag([1e-5] * dims + [0.0]) * points.shape[0]
    centre = np.linalg.solve(a.T @ a + ridge, a.T @ b)[:dims]
    limit = 0.75 * float(np.median(np.linalg.norm(points, axis=1)))
    norm = float(np.linalg.norm(centre))
    return centre * (limit / norm) if norm > limit else centre


def rest_pose(joints_m: np.ndarray, skeleton: Skeleton = MONOCAP_BODY,
              points: tuple[SolverPoint, ...] = SOLVER_POINTS) -> np.ndarray:
    """(T, J, 3) finite positions -> (P, 3) rest positions of the solver points (metres).

    Bone lengths are the per-bone median over the frames. Limbs, spine and neck form a T-pose
    facing +Z; hips, spine, shoulders and nose keep the subject's median offset measured in
    the pelvis, chest or head frame, and the lumbar and clavicle pivots are fitted to the take
    (see engine/animation/rig.py). The rest pose's body frames are the
    identity, so a point fixed in a body frame sits at its body-frame coordinates. Finger points
    may be NaN in some frames (a hand not seen): their medians are over the frames that have them,
    and a hand never seen gets a generic hand scaled to the subject's."""
    p = {pt.name: joints_m[:, skeleton.index(pt.source)] for pt in points if pt.source is not None}
    frames = _body_frames(p)
    index = _index(points)
    rest = np.zeros((len(points), 3))
    for i, pt in enumerate(points):
        kind = pt.rest[0]
        if kind == "origin":
            continue
        parent = rest[index[pt.parent]]
        if kind == "pivot":
            target, frame = pt.rest[1], frames[pt.rest[2]]
            local = np.einsum("tji,tj->ti", frame, p[target] - p[pt.parent])
            centre = _steadiest_centre(local)
            p[pt.name] = p[pt.parent] + frame @ centre
            rest[i] = parent + centre
            continue
        vec = p[pt.name] - p[pt.parent]
        seen = np.isfinite(vec).all(axis=-1)
        if not seen.any():
            rest[i] = parent + _generic_finger_offset(pt.name, p)
            continue
        length = float(np.median(np.linalg.norm(vec[seen], axis=-1)))
        if kind == "dir":
            offset = np.asarray(pt.rest[1], float) * length
        elif kind == "median":
            local = np.einsum("tji,tj->ti", frames[pt.rest[1]][seen], vec[seen])
            offset = normalize(np.median(local, axis=0)) * length
        else:
            raise ValueError(f"unknown rest rule {pt.rest}")
        rest[i] = parent + offset
    return rest


# A relaxed open hand in the palm frame of the left hand's T-pose (x along the hand, y the back
# of the hand, z forwards), in lengths wrist -> hand point; for a hand never seen in a take.
_GENERIC_HAND = {
    "thumb": ((0.25, -0.1, 0.3), (0.5, -0.15, 0.6), (0.8, -0.15, 0.8), (1.05, -0.15, 0.95)),
    "index": ((1.0, 0.0, 0.28), (1.45, 0.0, 0.3), (1.72, 0.0, 0.3), (1.93, 0.0, 0.3)),
    "middle": ((1.0, 0.0, 0.08), (1.5, 0.0, 0.08), (1.8, 0.0, 0.08), (2.03, 0.0, 0.08)),
    "ring": ((0.95, 0.0, -0.12), (1.4, 0.0, -0.12), (1.68, 0.0, -0.12), (1.9, 0.0, -0.12)),
    "pinky": ((0.85, 0.0, -0.3), (1.2, 0.0, -0.3), (1.4, 0.0, -0.3), (1.58, 0.0, -0.3)),
}


def _generic_finger_offset(name: str, p: dict[str, np.ndarray]) -> np.ndarray:
    side, finger = name.split("_")[0], name.split("_")[1].rstrip("123")
    k = 3 if name.endswith("_tip") else int(name[-1]) - 1
    # the hand's size from the take (the hand point's rest comes after the fingers')
    hand = np.linalg.norm(p[f"{side}_hand"] - p[f"{side}_wrist"], axis=-1)
    hand = hand[np.isfinite(hand)]
    scale = float(np.median(hand)) if hand.size else 0.08
    sign = np.array([1.0 if side == "left" else -1.0, 1.0, 1.0])
    here = np.array(_GENERIC_HAND[finger][k]) * sign * scale
    before = np.zeros(3) if k == 0 else np.array(_GENERIC_HAND[finger][k - 1]) * sign * scale
    return here - before


@dataclass(frozen=True)
class RestTerms:
    """What solve_positions needs of a rest pose that does not change from frame to frame, per
    point: the bone (u0), the unit secondary direction (s0) and the rest frame's transpose; for a
    "frame" rule only the last. A live solver holding its rest pose computes them once."""

    rest_m: np.ndarray
    bones: dict


def rest_terms(rest_m: np.ndarray, points: tuple[SolverPoint, ...] = SOLVER_POINTS) -> RestTerms:
    r = {pt.name: rest_m[i] for i, pt in enumerate(points)}
    bones: dict[str, tuple] = {}
    for pt in points:
        if pt.rule is None:
            continue
        if pt.rule[0] == "frame":
            (a, b), (c, d) = pt.rule[1], pt.rule[2]
            bones[pt.name] = (None, None, frame_from_vectors(r[b] - r[a], r[d] - r[c]).T)
            continue
        _, target, secondary = pt.rule
        u0 = r[target] - r[pt.name]
        s0 = None
        if secondary is not None:
            stype = secondary[0]
            if stype == "vec":
                s0 = sum(normalize(r[b] - r[a]) for a, b in secondary[1])
            elif stype == "up":
                a, b = secondary[1]
                s0 = r[b] - r[a]
            elif stype == "cross":
                (a, b), (c, d), flex = secondary[1], secondary[2], secondary[3]
                s0 = cross(r[b] - r[a], np.asarray(flex, float) if flex is not None else r[d] - r[c])
            else:
                raise ValueError(f"unknown secondary rule {secondary}")
            s0 = normalize(s0)
        bones[pt.name] = (u0, s0, None if s0 is None else frame_from_vectors(u0, s0).T)
    return RestTerms(rest_m, bones)


def solve_positions(joints_m: np.ndarray, rest_m: np.ndarray | RestTerms | None = None,
                    skeleton: Skeleton = MONOCAP_BODY,
                    points: tuple[SolverPoint, ...] = SOLVER_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(T, J, 3) MONOCAP_BODY (or, with SOLVER_POINTS_HANDS, MONOCAP_HANDS) positions ->
    (rest_m (P, 3), rotations (T, N, 3, 3)). Body joints must be finite; fingers may be NaN (a
    hand not seen), and then keep their rest pose relative to the wrist, which turns without
    twist from the palm. rest_m: the rest pose, its RestTerms, or None to fit it to the frames."""
    body = [skeleton.index(n) for n in MONOCAP_BODY.joint_names]
    if not np.isfinite(joints_m[:, body]).all():
        raise ValueError("solve_positions needs finite positions; fill gaps first")
    if rest_m is None:
        rest_m = rest_pose(joints_m, skeleton, points)
    terms = rest_m if isinstance(rest_m, RestTerms) else rest_terms(rest_m, points)
    rest_m = terms.rest_m
    t_count = joints_m.shape[0]
    p = {pt.name: joints_m[:, skeleton.index(pt.source)] for pt in points if pt.source is not None}
    r = {pt.name: rest_m[i] for i, pt in enumerate(points)}
    glob: dict[str, np.ndarray] = {}
    eye = np.broadcast_to(np.eye(3), (t_count, 3, 3))
    for pt in points:
        if pt.source is None:
            p[pt.name] = p[pt.parent] + glob[pt.parent] @ (r[pt.name] - r[pt.parent])
        if pt.rule is None:
            continue
        u0, s0, f_rest_t = terms.bones[pt.name]
        kind = pt.rule[0]
        if kind == "frame":
            (a, b), (c, d) = pt.rule[1], pt.rule[2]
            glob[pt.name] = frame_from_vectors(p[b] - p[a], p[d] - p[c]) @ f_rest_t
            continue
        _, target, secondary = pt.rule
        u = p[target] - p[pt.name]
        r_par = glob[pt.parent] if pt.parent is not None else eye
        # the zero-twist candidate: the parent's orientation, swung onto the bone
        swung = swing_rotation(r_par @ u0, u) @ r_par
        if secondary is None:
            glob[pt.name] = swung
            continue
        stype = secondary[0]
        if stype == "vec":
            s = sum(normalize(p[b] - p[a]) for a, b in secondary[1])
            reliability = norm(cross(normalize(u), normalize(s)))
        elif stype == "up":
            a, b = secondary[1]
            s = p[b] - p[a]
            reliability = norm(cross(normalize(u), normalize(s)))
        else:  # "cross"
            (a, b), (c, d) = secondary[1], secondary[2]
            v1, v2 = normalize(p[b] - p[a]), normalize(p[d] - p[c])
            s = cross(v1, v2)
            reliability = norm(s)
        fallback = swung @ s0
        s = np.nan_to_num(s)
        w = _smoothstep(np.nan_to_num(reliability), _BEND_LO, _BEND_HI)[:, None]
        uh = normalize(u)

        def perp(v: np.ndarray) -> np.ndarray:
            return normalize(v - (v * uh).sum(-1, keepdims=True) * uh)

        blend = w * perp(s) + (1.0 - w) * perp(fallback)
        weak = norm(blend) < 1e-3
        blend = np.where(weak[:, None], fallback, blend)
        f_obs = frame_from_vectors(u, blend)
        glob[pt.name] = f_obs @ f_rest_t
        unseen = ~np.isfinite(glob[pt.name]).all(axis=(1, 2))
        if unseen.any():
            glob[pt.name][unseen] = r_par[unseen]
    names = _joints(points)
    rotations = np.stack([glob[n] for n in names], axis=1) if t_count else np.zeros((0, len(names), 3, 3))
    return rest_m, rotations


def prepare_positions(take: Take, options: SolverOptions = SolverOptions()):
    """Gap filling, ground plane and foot pinning: -> (joints (T, J, 3), GapFill, contacts).

    Fingers (MONOCAP_HANDS takes) ride along with their wrists; they stay NaN where no hand was
    seen."""
    if take.skeleton.joint_names not in (MONOCAP_BODY.joint_names, MONOCAP_HANDS.joint_names):
        raise InputError(f"the solver needs a {MONOCAP_BODY.name} take, got {take.skeleton.name}; "
                         "map it first (engine/animation/rig_mappings.py)")
    what = take.metadata.get("source", "take") if isinstance(take.metadata, dict) else "take"
    nb = MONOCAP_BODY.num_joints
    filled = fill_gaps(take.joints_m[:, :nb], take.valid, take.fps, options.max_gap_s, what=str(what))
    joints = filled.joints_m
    if take.skeleton.num_joints > nb:
        joints = _carry_fingers(take.joints_m, joints, take.valid)
    if options.ground:
        joints = joints.copy()
        joints[..., 1] -= floor_height(joints[~filled.held] if (~filled.held).any() else joints)
    contacts = None
    if options.foot_contact and joints.shape[0] > 2:
        contacts = detect_contacts(joints[:, :nb], take.fps, options=options.contact,
                                   floor_y=0.0 if options.ground else None)
        contacts &= ~filled.held[:, None]
        joints = np.concatenate([pin_feet(joints[:, :nb], contacts, take.fps, options=options.contact),
                                 joints[:, nb:]], axis=1)
    return joints, filled, contacts


def _carry_fingers(joints_m: np.ndarray, body_filled: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """MONOCAP_HANDS joints with the body gap-filled: each finger keeps its offset from its wrist;
    NaN in frames where the body was not valid or the hand not seen."""
    nb = MONOCAP_BODY.num_joints
    out = np.concatenate([body_filled, joints_m[:, nb:]], axis=1)
    for side in ("left", "right"):
        wrist = MONOCAP_HANDS.index(f"{side}_wrist")
        idx = [MONOCAP_HANDS.index(n) for n in MONOCAP_HANDS.joint_names[nb:] if n.startswith(side)]
        offsets = joints_m[:, idx] - joints_m[:, wrist, None]
        offsets[~valid] = np.nan
        out[:, idx] = body_filled[:, wrist, None] + offsets
    return out


def solve(take: Take, options: SolverOptions = SolverOptions(), rest_m: np.ndarray | None = None) -> Solution:
    """Solves a MONOCAP_BODY take. Rest bone lengths come from its valid frames unless given."""
    joints, filled, contacts = prepare_positions(take, options)
    skeleton = MONOCAP_HANDS if take.skeleton.num_joints > MONOCAP_BODY.num_joints else MONOCAP_BODY
    points = solver_points(hands=skeleton is MONOCAP_HANDS)
    if rest_m is None:
        good = ~(filled.held | filled.interpolated)
        rest_m = rest_pose(joints[good] if good.any() else joints, skeleton, points)
    rest_m, rotations = solve_positions(joints, rest_m, skeleton, points)
    root = joints[:, MONOCAP_BODY.index("pelvis")].copy()
    if not options.root_motion:
        root[:, [0, 2]] = 0.0
    return Solution(rest_m, rotations, root, take.fps, filled.interpolated, filled.held, contacts, points)


def _point(rest_m: np.ndarray, at, index: dict[str, int]) -> np.ndarray:
    if isinstance(at, str):
        return rest_m[index[at]]
    a, b, t = at
    return (1.0 - t) * rest_m[index[a]] + t * rest_m[index[b]]


@dataclass(frozen=True)
class RigMotion:
    """What a BVH file holds for one rig, in metres: offsets (R, 3) from the parent (the root's is
    zero), end-site offsets (R, 3) (NaN where a joint has none), local rotations (T, R, 3, 3)
    relative to the parent and the root translation (T, 3)."""

    rig: Rig
    offsets_m: np.ndarray
    end_offsets_m: np.ndarray
    local_rotations: np.ndarray
    root_m: np.ndarray
    fps: float


def rig_motion(solution: Solution, rig: Rig) -> RigMotion:
    """The solution on `rig`; a solution with fingers needs a rig with them (rig.get_rig(name,
    fingers=True)) and a body solution a body rig."""
    joint_idx = {n: i for i, n in enumerate(_joints(solution.points))}
    index = _index(solution.points)
    missing = [j.driver for j in rig.joints if j.driver not in joint_idx]
    if missing:
        raise ValueError(f"rig {rig.name} needs solver joints {missing[:3]} this solution lacks")
    rest = solution.rest_m
    offsets = np.zeros((len(rig.joints), 3))
    ends = np.full((len(rig.joints), 3), np.nan)
    local = np.empty((solution.num_frames, len(rig.joints), 3, 3))
    for i, j in enumerate(rig.joints):
        here = _point(rest, j.at, index)
        g = solution.rotations[:, joint_idx[j.driver]]
        if j.parent >= 0:
            parent = rig.joints[j.parent]
            offsets[i] = here - _point(rest, parent.at, index)
            gp = solution.rotations[:, joint_idx[parent.driver]]
            local[:, i] = np.swapaxes(gp, -1, -2) @ g
        else:
            local[:, i] = g
        if j.end is not None:
            ends[i] = _point(rest, j.end, index) - here
    root = solution.root_m + (_point(rest, rig.joints[0].at, index) - rest[index["pelvis"]])
    return RigMotion(rig, offsets, ends, local, root, solution.fps)


def forward_kinematics(motion: RigMotion) -> np.ndarray:
    """(T, R, 3) world positions of the rig's joints (metres), for checks and tests."""
    t_count = motion.local_rotations.shape[0]
    glob = np.empty_like(motion.local_rotations)
    pos = np.empty((t_count, len(motion.rig.joints), 3))
    for i, j in enumerate(motion.rig.joints):
        if j.parent < 0:
            glob[:, i] = motion.local_rotations[:, i]
            pos[:, i] = motion.root_m
        else:
            glob[:, i] = glob[:, j.parent] @ motion.local_rotations[:, i]
            pos[:, i] = pos[:, j.parent] + glob[:, j.parent] @ motion.offsets_m[i]
    return pos
