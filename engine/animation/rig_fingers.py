"""Finds the fingers of a humanoid from elsewhere (a BVH with finger chains), so that its motion
maps onto MONOCAP_HANDS and a BVH written from it keeps them.

Below each wrist the body mapping found (engine/animation/rig_recognizer.py), every chain to a
leaf is a finger candidate. Names say which finger a chain is (`thumb`, `index`, `middle`/`mid`,
`ring`, `pinky`/`little`, in any of the naming styles rig_names.py reads: `mixamorig:LeftHandIndex2`,
`LeftHandIndex2`, `lIndex2`, `l_index_02`, `index_02_l`, `CC_Base_L_Index2`); metacarpals (`meta`,
`carpal`, `palm`) are skipped. Without finger names, a hand with exactly five chains is read by
structure: the thumb is the shortest chain, the others follow by the distance of their base from
the thumb's. A finger's three joints are the first three of its chain (thumb: CMC, MCP, IP; the
others: MCP, PIP, DIP, as MONOCAP_HANDS' `<finger>1..3`), its tip the next joint or end site
(extrapolated along the last bone when there is none, or when it sits on the third joint). A
finger with two joints at one place in the rest pose counts as missing.

Fingers are used only when both hands have all five fingers with three joints; otherwise a note
says what is missing (CMU's conversions have one joint for the index and one for the thumb).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.animation.rig_names import name_info
from engine.core.skeletons import FINGERS, MONOCAP_BODY, MONOCAP_HANDS, Skeleton, finger_joint_names

# words naming each finger, in the order they are tried (`middle` before `mid`)
_FINGER_WORDS = (("thumb", ("thumb", "pollex")), ("index", ("index", "pointer")), ("middle", ("middle", "mid")),
                 ("ring", ("ring",)), ("pinky", ("pinky", "pinkie", "little", "small")))
_METACARPAL_WORDS = ("meta", "carpal", "palm")
_MIN_TIP = 0.2  # a tip nearer the third joint than this fraction of the last bone is no tip
_TIP_EXTENSION = 0.8  # an extrapolated tip: this fraction of the last bone beyond the third joint
_MIN_BONE_M = 1e-3


@dataclass(frozen=True)
class Fingers:
    """rows: MONOCAP_HANDS finger point and hand point -> {source joint: weight} (weights sum to
    one), for both hands; None when the skeleton does not have all the fingers, and then `note`
    says why ("" when it has no finger joints at all)."""

    rows: dict[str, dict[int, float]] | None
    note: str = ""


def _finger_of(name: str) -> str | None:
    word = name_info(name).word
    if any(m in word for m in _METACARPAL_WORDS):
        return None
    for finger, words in _FINGER_WORDS:
        if any(w in word for w in words):
            return finger
    return None


def _chains(skeleton: Skeleton, wrist: int) -> list[list[int]]:
    """Every path from below the wrist to a leaf of its subtree."""
    children: dict[int, list[int]] = {}
    for i, p in enumerate(skeleton.parents):
        children.setdefault(p, []).append(i)
    out, stack = [], [[c] for c in children.get(wrist, [])]
    while stack:
        path = stack.pop()
        below = children.get(path[-1], [])
        if not below:
            out.append(path)
        stack.extend(path + [c] for c in below)
    return sorted(out)


def _by_names(skeleton: Skeleton, chains: list[list[int]]) -> dict[str, list[int]]:
    """finger -> the nodes of its chain that name it, from the base outwards (the longest chain
    where several do)."""
    found: dict[str, list[int]] = {}
    for path in chains:
        for finger in FINGERS:
            nodes = [n for n in path if _finger_of(skeleton.joint_names[n]) == finger]
            if len(nodes) > len(found.get(finger, [])):
                found[finger] = nodes
    return found


def _by_structure(chains: list[list[int]], rest: np.ndarray, wrist: int) -> dict[str, list[int]]:
    """Five unnamed chains -> fingers: the thumb the shortest, the rest by their base's distance
    from the thumb's; metacarpal-like shared joints are dropped from the front of each chain."""
    if len(chains) != 5:
        return {}
    shared = {n for n in chains[0] if all(n in c for c in chains)}
    chains = [[n for n in c if n not in shared] for c in chains]
    length = [float(np.linalg.norm(np.diff(rest[[wrist] + c], axis=0), axis=1).sum()) for c in chains]
    thumb = int(np.argmin(length))
    others = sorted((i for i in range(5) if i != thumb),
                    key=lambda i: float(np.linalg.norm(rest[chains[i][0]] - rest[chains[thumb][0]])))
    return dict(zip(FINGERS, [chains[thumb]] + [chains[i] for i in others]))


def _finger_rows(nodes: list[int], path: list[int], rest: np.ndarray, is_end: list[bool], wrist: int):
    """The chain of one finger -> rows for its joints 1..3 and tip, or None without three joints."""
    joints = [n for n in nodes if not is_end[n]]
    if len(joints) < 3:
        return None
    a, b, c = joints[:3]
    after = path[path.index(c) + 1:] if c in path else []
    last = float(np.linalg.norm(rest[c] - rest[b]))
    tip = next((n for n in after if np.linalg.norm(rest[n] - rest[c]) > _MIN_TIP * last), None)
    tip_row = {tip: 1.0} if tip is not None else {c: 1.0 + _TIP_EXTENSION, b: -_TIP_EXTENSION}
    if min(np.linalg.norm(rest[[wrist, a, b]] - rest[[a, b, c]], axis=1)) < _MIN_BONE_M:
        return None  # two joints at one place: no rotation can be solved between them
    return [{a: 1.0}, {b: 1.0}, {c: 1.0}, tip_row]


def find_fingers(skeleton: Skeleton, rest_m: np.ndarray, wrists: dict[str, int]) -> Fingers:
    """wrists: side -> the source joint the body mapping put that wrist at."""
    rest_m = np.asarray(rest_m, dtype=float)
    is_end = [n.endswith("_end") and skeleton.parents[i] >= 0 and
              skeleton.joint_names[skeleton.parents[i]] + "_end" == n for i, n in enumerate(skeleton.joint_names)]
    rows: dict[str, dict[int, float]] = {}
    missing: dict[str, list[str]] = {}
    any_finger = False
    for side, wrist in wrists.items():
        chains = _chains(skeleton, wrist)
        named = _by_names(skeleton, chains)
        any_finger |= bool(named)
        fingers = named if named else _by_structure([c for c in chains if not all(is_end[n] for n in c)],
                                                     rest_m, wrist)
        any_finger |= bool(fingers)
        for finger in FINGERS:
            nodes = fingers.get(finger, [])
            path = next((c for c in chains if nodes and nodes[-1] in c), [])
            got = _finger_rows(nodes, path, rest_m, is_end, wrist) if nodes else None
            if got is None:
                missing.setdefault(side, []).append(f"{finger} {sum(1 for n in nodes if not is_end[n])}")
                continue
            for point, row in zip(finger_joint_names(side)[4 * FINGERS.index(finger):][:4], got):
                rows[point] = row
        if f"{side}_index1" in rows and f"{side}_pinky1" in rows:  # as engine/motion/fingers.attach does
            hand: dict[int, float] = {}
            for j in (*rows[f"{side}_index1"], *rows[f"{side}_pinky1"]):
                hand[j] = hand.get(j, 0.0) + 0.5
            rows[f"{side}_hand"] = hand
    if missing:
        counts = "; ".join(f"{side}: {', '.join(found)}" for side, found in missing.items())
        note = "" if not any_finger else (
            f"written without fingers: a finger needs three joints, and its hands have fewer (joints per "
            f"finger, {counts})")
        return Fingers(None, note)
    return Fingers(rows)


def hands_weights(body_weights: np.ndarray, fingers: Fingers) -> np.ndarray:
    """(22, J) MONOCAP_BODY weights and complete fingers -> (62, J) MONOCAP_HANDS weights."""
    out = np.zeros((MONOCAP_HANDS.num_joints, body_weights.shape[1]))
    out[: MONOCAP_BODY.num_joints] = body_weights
    for point, row in fingers.rows.items():
        k = MONOCAP_HANDS.index(point)
        out[k] = 0.0
        for j, w in row.items():
            out[k, j] += w
    return out
