"""Recognises the humanoid in any skeleton (a BVH from elsewhere) and maps it onto MONOCAP_BODY.

Structure finds the five chains, names settle what structure cannot, and lengths check both:

1. The five extremities (engine/animation/rig_tree.py) are the leaves farthest apart along the
   tree (farthest-point sampling on bone lengths): two feet, two hands, the head. Fingers, eyes,
   twist helpers and props are short side branches and never win. The three whose common
   ancestor holds exactly them are the upper body (its ancestor is the chest); of those, the head
   is the one nearest the chest.
2. Along each limb chain (engine/animation/rig_limbs.py), names give ranks
   (engine/animation/rig_names.py); where a rank has no name, or the named joints give a thigh /
   shin or upper arm / forearm of implausible length, the joints are chosen by human proportions
   instead (thigh 0.245, shin 0.246, upper arm 0.186, forearm 0.146 of the height).
3. Left and right come from the names; without them, from the rest pose: up is hips -> chest,
   forward is ankle -> toe, left is up x forward.
4. Pelvis is the midpoint of the hips; chest the joint the arms hang from (its parent when that
   joint is named neck); spine the first
   joint above the pelvis (5 % of the height or more); neck the first above the chest; head the
   joint named so, else the last joint of the head chain; nose the eyes' midpoint, a joint
   named nose, or the head chain's end; hand the first joint past the wrist.

Each MONOCAP_BODY joint is an affine combination of source joints (weights sum to one): one
joint, a midpoint, or, where the rig has no such joint, a short extrapolation along the chain
(the hand past the wrist, the nose past the head), at a cost in confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.animation.rig_limbs import ARM_TEMPLATE, LEG_TEMPLATE, MIN_STEP, Limb, find_limb
from engine.animation.rig_names import EYE_WORDS, HEAD_WORDS, NOSE_WORDS
from engine.animation.rig_tree import RigTree, descendants, extremities
from engine.core.errors import InputError
from engine.core.skeletons import MONOCAP_BODY, Skeleton

_SPINE_ABOVE_PELVIS = 0.05  # of the height: the spine joint is the first this far above the pelvis
_TOE_TO_HEAD = 1.08  # the bone path from a toe tip to the top of the head, in standing heights


class RigNotRecognisedError(InputError):
    """A skeleton whose humanoid joints cannot all be placed."""


@dataclass(frozen=True)
class RigMapping:
    """weights: (22, J) rows summing to one: MONOCAP_BODY joint k = sum_j weights[k, j] * source j."""

    weights: np.ndarray
    source_names: tuple[str, ...]
    confidence: float  # 0..1
    how: dict[str, str] = field(default_factory=dict)  # body joint -> "name", "structure", "map file"...
    notes: tuple[str, ...] = ()

    def apply(self, joints: np.ndarray) -> np.ndarray:
        """(..., J, 3) source positions -> (..., 22, 3) MONOCAP_BODY positions."""
        return np.einsum("kj,...jc->...kc", self.weights, joints)

    def describe(self, joint: str) -> str:
        """`LeftUpLeg`, `mid(LeftUpLeg, RightUpLeg)`, `1.4 LeftHand - 0.4 LeftForeArm`."""
        row = self.weights[MONOCAP_BODY.index(joint)]
        return describe_weights({self.source_names[j]: row[j] for j in np.flatnonzero(np.abs(row) > 1e-9)})


def describe_weights(weights: dict[str, float]) -> str:
    """{source joint: weight} -> `LeftUpLeg`, `mid(LeftUpLeg, RightUpLeg)`, `1.4 LeftHand - 0.4 LeftForeArm`."""
    used = [(n, w) for n, w in weights.items() if abs(w) > 1e-9]
    if len(used) == 1:
        return used[0][0]
    if len(used) == 2 and all(abs(w - 0.5) < 1e-9 for _, w in used):
        return f"mid({used[0][0]}, {used[1][0]})"
    used.sort(key=lambda t: -t[1])
    terms = [f"{used[0][1]:.2g} {used[0][0]}"]
    terms += [f"{'-' if w < 0 else '+'} {abs(w):.2g} {n}" for n, w in used[1:]]
    return " ".join(terms)


_LEG_JOINTS = ("hip", "knee", "ankle", "toe")
_ARM_JOINTS = ("shoulder", "elbow", "wrist", "hand")


def recognise(skeleton: Skeleton, rest_m: np.ndarray, overrides: dict[str, str] | None = None,
              what: str = "skeleton") -> RigMapping:
    """Maps `skeleton` (rest_m: (J, 3) its rest pose, or any one pose) onto MONOCAP_BODY.
    `overrides` ({source joint: MONOCAP_BODY joint}) win over what is found. Raises
    RigNotRecognisedError naming the joints it could not place."""
    overrides = dict(overrides or {})
    check_one_source_each(overrides, what)
    rest_m = np.asarray(rest_m, dtype=float)
    tree = RigTree(skeleton, rest_m)
    rows: dict[str, dict[int, float]] = {}
    how: dict[str, str] = {}
    notes: list[str] = []
    confidence = 1.0
    for src, body in overrides.items():
        if body not in MONOCAP_BODY.joint_names:
            raise InputError(f"{what}: the joint map sends {src!r} to {body!r}, which is not a Monocap joint "
                             f"(one of {', '.join(MONOCAP_BODY.joint_names)})")
        if src not in skeleton.joint_names:
            raise InputError(f"{what}: the joint map names {src!r}, which is not a joint of this skeleton")

    one_tree = sum(1 for p in skeleton.parents if p < 0) == 1
    ext = extremities(tree) if tree.height > 0 and one_tree else []
    found = _body_from_structure(tree, ext, notes) if ext else None
    if found is not None:
        rows, how, confidence = found
    for src, body in overrides.items():
        rows[body] = {skeleton.joint_names.index(src): 1.0}
        how[body] = "map file"
    if overrides and "pelvis" not in overrides and "left_hip" in rows and "right_hip" in rows \
            and ("left_hip" in overrides or "right_hip" in overrides):
        rows["pelvis"] = _mid_of(rows["left_hip"], rows["right_hip"])
    missing = [j for j in MONOCAP_BODY.joint_names if j not in rows]
    if missing:
        raise RigNotRecognisedError(
            f"{what}: cannot place {', '.join(missing)} on this skeleton ({skeleton.num_joints} joints: "
            f"{', '.join(skeleton.joint_names[:6])}{'...' if skeleton.num_joints > 6 else ''}); "
            "name them with --map FILE (source joint -> Monocap joint), or export CSV, TRC or NPZ instead")
    weights = np.zeros((MONOCAP_BODY.num_joints, skeleton.num_joints))
    for k, joint in enumerate(MONOCAP_BODY.joint_names):
        for j, w in rows[joint].items():
            weights[k, j] += w
    return RigMapping(weights, skeleton.joint_names, round(float(np.clip(confidence, 0.0, 1.0)), 3),
                      how, tuple(notes))


def check_one_source_each(joint_map: dict[str, str], what: str) -> None:
    """InputError naming both when a joint map sends two source joints to one Monocap joint."""
    first: dict[str, str] = {}
    for source, joint in joint_map.items():
        if joint in first:
            raise InputError(f"{what}: the joint map sends both {first[joint]!r} and {source!r} to {joint}; "
                             "a Monocap joint takes one source joint")
        first[joint] = source


def _mid_of(a: dict[int, float], b: dict[int, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for row in (a, b):
        for j, w in row.items():
            out[j] = out.get(j, 0.0) + 0.5 * w
    return out


def _split(tree: RigTree, ext: list[int]):
    """The five extremities -> (two feet, the upper three, the chest they hang from) or None."""
    split = None
    for k in range(5):
        for m in range(k + 1, 5):
            pair = [ext[k], ext[m]]
            triple = [e for e in ext if e not in pair]
            top = tree.lca(triple)
            if tree.subtree_leaves(top) & set(ext) == set(triple) and tree.lca(pair) not in triple:
                split = (pair, triple, top)
    return split


def up_direction(skeleton: Skeleton, rest_m: np.ndarray) -> np.ndarray | None:
    """(3,) the unit direction from the legs' root to the chest in `rest_m`, None when the
    skeleton has no humanoid shape."""
    if sum(1 for p in skeleton.parents if p < 0) != 1:
        return None
    tree = RigTree(skeleton, np.asarray(rest_m, dtype=float))
    ext = extremities(tree) if tree.height > 0 else []
    split = _split(tree, ext) if ext else None
    if split is None:
        return None
    legs_root = tree.lca(split[0])
    up = tree.rest[split[2]] - tree.rest[legs_root]
    norm = np.linalg.norm(up)
    if not norm > 0 or _legs_hang(tree, legs_root, split[0], up) is False:
        return None
    return up / norm


def _legs_hang(tree: RigTree, legs_root: int, feet: list[int], up: np.ndarray) -> bool:
    """Whether the legs point away from the spine in the rest pose, as a person's do (a
    four-legged animal's are at right angles to it)."""
    down = np.mean([_unit(tree.rest[f] - tree.rest[legs_root]) for f in feet], axis=0)
    return bool(np.dot(down, _unit(up)) < -0.5)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _body_from_structure(tree: RigTree, ext: list[int], notes: list[str]):
    split = _split(tree, ext)
    if split is None:
        notes.append("no legs / arms / head split")
        return None
    feet, upper, chest = split
    legs_root = tree.lca(feet)
    reach = {e: tree.depth_m[e] - tree.depth_m[chest] for e in upper}
    head_end = min(upper, key=reach.get)
    # standing height, whatever the rest pose: toes to the top of the head along the bones
    tree.height = float(np.mean([tree.distance(f, head_end) for f in feet])) / _TOE_TO_HEAD
    hands = [e for e in upper if e != head_end]
    confidence = 1.0
    legs = [find_limb(tree, legs_root, f, "leg", LEG_TEMPLATE) for f in feet]
    arms = [find_limb(tree, chest, h, "arm", ARM_TEMPLATE) for h in hands]
    for limb in legs + arms:
        notes.extend(limb.notes)
        if limb.how != "name":
            confidence *= 0.9
        if limb.notes:
            confidence *= 0.8
    rows: dict[str, dict[int, float]] = {}
    how: dict[str, str] = {}
    up = tree.rest[chest] - tree.rest[legs_root]
    if not _legs_hang(tree, legs_root, feet, up):
        confidence *= 0.5
        notes.append("the legs do not hang below the hips in the rest pose: this may not be a person")
    forward = np.zeros(3)
    for leg in legs:
        if 3 in leg.ranks and 4 in leg.ranks:
            forward += tree.rest[leg.ranks[4]] - tree.rest[leg.ranks[3]]
    left_dir = np.cross(up, forward - up * np.dot(forward, up) / max(np.dot(up, up), 1e-12))
    for kind, pair, names in (("leg", legs, _LEG_JOINTS), ("arm", arms, _ARM_JOINTS)):
        if any(1 not in limb.ranks for limb in pair):
            continue
        sides, by_names = _sides(tree, pair, left_dir)
        if sides is None:
            notes.append(f"cannot tell the left {kind} from the right")
            continue
        if not by_names:
            confidence *= 0.9
        elif by_names == "disagree":
            confidence *= 0.7
            notes.append(f"the {kind}s' names say left where the rest pose says right")
        for limb, side in zip(pair, sides):
            for rank, joint in enumerate(names, start=1):
                if rank in limb.ranks:
                    rows[f"{side}_{joint}"] = {limb.ranks[rank]: 1.0}
                    how[f"{side}_{joint}"] = limb.how
            if limb.extrapolated_end and 3 in limb.ranks and 2 in limb.ranks and kind == "arm":
                rows[f"{side}_hand"] = {limb.ranks[3]: 1.4, limb.ranks[2]: -0.4}
                how[f"{side}_hand"] = "extrapolated"
                confidence *= 0.9
    if "left_hip" in rows and "right_hip" in rows:
        rows["pelvis"] = _mid_of(rows["left_hip"], rows["right_hip"])
        how["pelvis"] = "structure"
    # arms on a joint named neck (3ds Max Biped): the chest is the spine joint below it
    arms_on_neck = tree.info[chest].is_word(("neck",)) and tree.parents[chest] >= 0
    rows["chest"] = {tree.parents[chest] if arms_on_neck else chest: 1.0}
    how["chest"] = "structure"
    _spine_and_head(tree, legs_root, chest, head_end, rows, how, notes)
    if "nose" in how and how["nose"] == "extrapolated":
        confidence *= 0.9
    return rows, how, confidence


def _sides(tree: RigTree, pair: list[Limb], left_dir: np.ndarray):
    """-> (("left", "right") in the pair's order, how) or (None, "")."""
    named = [limb.side_from_names for limb in pair]
    geometric = None
    a, b = pair[0].ranks[1], pair[1].ranks[1]
    lateral = float(np.dot(tree.rest[a] - tree.rest[b], left_dir))
    if np.linalg.norm(left_dir) > 1e-9 and abs(lateral) > 1e-6 * max(tree.height, 1e-9):
        geometric = ("left", "right") if lateral > 0 else ("right", "left")
    if set(named) == {"left", "right"}:
        sides = tuple(named)
        if geometric is not None and geometric != sides:
            return sides, "disagree"
        return sides, "names"
    return (geometric, "") if geometric is not None else (None, "")


def _spine_and_head(tree: RigTree, legs_root: int, chest: int, head_end: int, rows, how, notes) -> None:
    h = tree.height
    pelvis = rows.get("pelvis")
    pelvis_at = (sum(w * tree.rest[j] for j, w in pelvis.items()) if pelvis else tree.rest[legs_root])
    base = tree.lca((legs_root, chest))
    between = [n for n in tree.path_between(base, chest)[:-1]
               if min(np.linalg.norm(tree.rest[n] - pelvis_at), np.linalg.norm(tree.rest[n] - tree.rest[base]))
               >= _SPINE_ABOVE_PELVIS * h]
    if between:
        rows["spine"] = {between[0]: 1.0}
    else:
        rows["spine"] = {legs_root: 0.5, chest: 0.5}
    how["spine"] = "structure"
    head_path = tree.path_between(chest, head_end)
    if not head_path:
        return
    named_head = [n for n in head_path if tree.info[n].is_word(HEAD_WORDS)]
    if named_head:
        head, how["head"] = named_head[0], "name"
    else:
        head = head_path[-2] if len(head_path) >= 2 and not tree.children[head_end] else head_path[-1]
        how["head"] = "structure"
    neck_candidates = [n for n in head_path[:head_path.index(head)]
                       if np.linalg.norm(tree.rest[n] - tree.rest[chest]) > MIN_STEP * h]
    if tree.info[chest].is_word(("neck",)):
        neck_candidates = [chest]
    rows["neck"] = {neck_candidates[0]: 1.0} if neck_candidates else {chest: 0.5, head: 0.5}
    how["neck"] = "structure"
    rows["head"] = {head: 1.0}
    eyes = [c for c in descendants(tree, head) if tree.info[c].is_word(EYE_WORDS) and tree.info[c].side]
    left_eye = [c for c in eyes if tree.info[c].side == "left"]
    right_eye = [c for c in eyes if tree.info[c].side == "right"]
    nose = [c for c in descendants(tree, head) if tree.info[c].is_word(NOSE_WORDS)]
    beyond = [n for n in head_path[head_path.index(head) + 1:]
              if np.linalg.norm(tree.rest[n] - tree.rest[head]) > 0.04 * h]
    if left_eye and right_eye:
        rows["nose"], how["nose"] = {left_eye[0]: 0.5, right_eye[0]: 0.5}, "name"
    elif nose:
        rows["nose"], how["nose"] = {nose[0]: 1.0}, "name"
    elif beyond:
        rows["nose"], how["nose"] = {beyond[0]: 1.0}, "structure"
    else:
        below = neck_candidates[-1] if neck_candidates else chest
        rows["nose"], how["nose"] = {head: 1.5, below: -0.5}, "extrapolated"
        notes.append("the head has no joint or end site above it; the nose is extrapolated along the neck")
