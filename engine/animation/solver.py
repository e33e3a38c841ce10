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

from engine.core.errors import InputError
from engine.motion.foot_contact import FootContactOptions, detect_contacts, floor_height, pin_feet
from engine.motion.gaps import fill_gaps
from engine.animation.rig import SOLVER_INDEX, SOLVER_JOINTS, SOLVER_POINTS, Rig
from engine.core.rotations import cross, frame_from_vectors, norm, normalize, swing_rotation
from engine.core.skeletons import MONOCAP_BODY, Skeleton
from engine.core.take import Take

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

    @property
    def num_frames(self) -> int:
        return self.root_m.shape[0]


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
    return {
        "pelvis": frame_from_vectors(lateral_hips, p["spine"] - p["pelvis"]),
        "chest": frame_from_vectors(lateral_sh, p["neck"] - p["chest"]),
        "chest_aim": np.stack([up_first[..., 1], up_first[..., 0], -up_first[..., 2]], axis=-1),
        "head": frame_from_vectors(lateral_sh, p["head"] - p["neck"]),
    }


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


def rest_pose(joints_m: np.ndarray, skeleton: Skeleton = MONOCAP_BODY) -> np.ndarray:
    """(T, J, 3) finite positions -> (P, 3) rest positions of the solver points (metres).

    Bone lengths are the per-bone median over the frames. Limbs, spine and neck form a T-pose
    facing +Z; hips, spine, shoulders and nose keep the subject's median offset measured in
    the pelvis, chest or head frame, and the lumbar and clavicle pivots are fitted to the take
    (see engine/animation/rig.py). The rest pose's body frames are the
    identity, so a point fixed in a body frame sits at its body-frame coordinates."""
    p = {pt.name: joints_m[:, skeleton.index(pt.source)] for pt in SOLVER_POINTS if pt.source is not None}
    frames = _body_frames(p)
    rest = np.zeros((len(SOLVER_POINTS), 3))
    for i, pt in enumerate(SOLVER_POINTS):
        kind = pt.rest[0]
        if kind == "origin":
            continue
        parent = rest[SOLVER_INDEX[pt.parent]]
        if kind == "pivot":
            target, frame = pt.rest[1], frames[pt.rest[2]]
            local = np.einsum("tji,tj->ti", frame, p[target] - p[pt.parent])
            centre = _steadiest_centre(local)
            p[pt.name] = p[pt.parent] + frame @ centre
            rest[i] = parent + centre
            continue
        vec = p[pt.name] - p[pt.parent]
        length = float(np.median(np.linalg.norm(vec, axis=-1)))
        if kind == "dir":
            offset = np.asarray(pt.rest[1], float) * length
        elif kind == "median":
            local = np.einsum("tji,tj->ti", frames[pt.rest[1]], vec)
            offset = normalize(np.median(local, axis=0)) * length
        else:
            raise ValueError(f"unknown rest rule {pt.rest}")
        rest[i] = parent + offset
    return rest


def solve_positions(joints_m: np.ndarray, rest_m: np.ndarray | None = None,
                    skeleton: Skeleton = MONOCAP_BODY) -> tuple[np.ndarray, np.ndarray]:
    """(T, J, 3) finite MONOCAP_BODY positions -> (rest_m (P, 3), rotations (T, N, 3, 3))."""
    if not np.isfinite(joints_m).all():
        raise ValueError("solve_positions needs finite positions; fill gaps first")
    if rest_m is None:
        rest_m = rest_pose(joints_m, skeleton)
    t_count = joints_m.shape[0]
    p = {pt.name: joints_m[:, skeleton.index(pt.source)] for pt in SOLVER_POINTS if pt.source is not None}
    r = {pt.name: rest_m[i] for i, pt in enumerate(SOLVER_POINTS)}
    glob: dict[str, np.ndarray] = {}
    eye = np.broadcast_to(np.eye(3), (t_count, 3, 3))
    for pt in SOLVER_POINTS:
        if pt.source is None:
            p[pt.name] = p[pt.parent] + glob[pt.parent] @ (r[pt.name] - r[pt.parent])
        if pt.rule is None:
            continue
        kind = pt.rule[0]
        if kind == "frame":
            (a, b), (c, d) = pt.rule[1], pt.rule[2]
            glob[pt.name] = frame_from_vectors(p[b] - p[a], p[d] - p[c]) @ frame_from_vectors(r[b] - r[a], r[d] - r[c]).T
            continue
        _, target, secondary = pt.rule
        u = p[target] - p[pt.name]
        u0 = r[target] - r[pt.name]
        r_par = glob[pt.parent] if pt.parent is not None else eye
        # the zero-twist candidate: the parent's orientation, swung onto the bone
        swung = swing_rotation(r_par @ u0, u) @ r_par
        if secondary is None:
            glob[pt.name] = swung
            continue
        stype = secondary[0]
        if stype == "vec":
            s = sum(normalize(p[b] - p[a]) for a, b in secondary[1])
            s0 = sum(normalize(r[b] - r[a]) for a, b in secondary[1])
            reliability = norm(cross(normalize(u), normalize(s)))
        elif stype == "up":
            a, b = secondary[1]
            s, s0 = p[b] - p[a], r[b] - r[a]
            reliability = norm(cross(normalize(u), normalize(s)))
        elif stype == "cross":
            (a, b), (c, d), flex = secondary[1], secondary[2], secondary[3]
            v1, v2 = normalize(p[b] - p[a]), normalize(p[d] - p[c])
            s = cross(v1, v2)
            reliability = norm(s)
            s0 = cross(r[b] - r[a], np.asarray(flex, float) if flex is not None else r[d] - r[c])
        else:
            raise ValueError(f"unknown secondary rule {secondary}")
        s0 = normalize(s0)
        fallback = swung @ s0
        w = _smoothstep(reliability, _BEND_LO, _BEND_HI)[:, None]
        uh = normalize(u)

        def perp(v: np.ndarray) -> np.ndarray:
            return normalize(v - (v * uh).sum(-1, keepdims=True) * uh)

        blend = w * perp(s) + (1.0 - w) * perp(fallback)
        weak = norm(blend) < 1e-3
        blend = np.where(weak[:, None], fallback, blend)
        f_obs = frame_from_vectors(u, blend)
        f_rest = frame_from_vectors(u0, s0)
        glob[pt.name] = f_obs @ f_rest.T
    rotations = np.stack([glob[n] for n in SOLVER_JOINTS], axis=1) if t_count else np.zeros((0, len(SOLVER_JOINTS), 3, 3))
    return rest_m, rotations


def prepare_positions(take: Take, options: SolverOptions = SolverOptions()):
    """Gap filling, ground plane and foot pinning: -> (joints (T, J, 3), GapFill, contacts)."""
    if take.skeleton.joint_names != MONOCAP_BODY.joint_names:
        raise InputError(f"the solver needs a {MONOCAP_BODY.name} take, got {take.skeleton.name}; "
                         "map it first (engine/animation/rig_mappings.py)")
    what = take.metadata.get("source", "take") if isinstance(take.metadata, dict) else "take"
    filled = fill_gaps(take.joints_m, take.valid, take.fps, options.max_gap_s, what=str(what))
    joints = filled.joints_m
    if options.ground:
        joints = joints.copy()
        joints[..., 1] -= floor_height(joints[~filled.held] if (~filled.held).any() else joints)
    contacts = None
    if options.foot_contact and joints.shape[0] > 2:
        contacts = detect_contacts(joints, take.fps, options=options.contact,
                                   floor_y=0.0 if options.ground else None)
        contacts &= ~filled.held[:, None]
        joints = pin_feet(joints, contacts, take.fps, options=options.contact)
    return joints, filled, contacts


def solve(take: Take, options: SolverOptions = SolverOptions(), rest_m: np.ndarray | None = None) -> Solution:
    """Solves a MONOCAP_BODY take. Rest bone lengths come from its valid frames unless given."""
    joints, filled, contacts = prepare_positions(take, options)
    if rest_m is None:
        good = ~(filled.held | filled.interpolated)
        rest_m = rest_pose(joints[good] if good.any() else joints)
    rest_m, rotations = solve_positions(joints, rest_m)
    root = joints[:, MONOCAP_BODY.index("pelvis")].copy()
    if not options.root_motion:
        root[:, [0, 2]] = 0.0
    return Solution(rest_m, rotations, root, take.fps, filled.interpolated, filled.held, contacts)


def _point(rest_m: np.ndarray, at) -> np.ndarray:
    if isinstance(at, str):
        return rest_m[SOLVER_INDEX[at]]
    a, b, t = at
    return (1.0 - t) * rest_m[SOLVER_INDEX[a]] + t * rest_m[SOLVER_INDEX[b]]


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
    joint_idx = {n: i for i, n in enumerate(SOLVER_JOINTS)}
    rest = solution.rest_m
    offsets = np.zeros((len(rig.joints), 3))
    ends = np.full((len(rig.joints), 3), np.nan)
    local = np.empty((solution.num_frames, len(rig.joints), 3, 3))
    for i, j in enumerate(rig.joints):
        here = _point(rest, j.at)
        g = solution.rotations[:, joint_idx[j.driver]]
        if j.parent >= 0:
            parent = rig.joints[j.parent]
            offsets[i] = here - _point(rest, parent.at)
            gp = solution.rotations[:, joint_idx[parent.driver]]
            local[:, i] = np.swapaxes(gp, -1, -2) @ g
        else:
            local[:, i] = g
        if j.end is not None:
            ends[i] = _point(rest, j.end) - here
    root = solution.root_m + (_point(rest, rig.joints[0].at) - rest[SOLVER_INDEX["pelvis"]])
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
