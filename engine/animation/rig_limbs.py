"""One limb of a skeleton found from the humanoid's root to an extremity: which joints are its
hip / knee / ankle / toe or shoulder / elbow / wrist / hand.

Along the chain, names give ranks (engine/animation/rig_names.py); where a rank has no name, or the
named joints give a thigh / shin or upper arm / forearm of implausible length, the joints are
chosen by human proportions instead (thigh 0.245, shin 0.246, upper arm 0.186, forearm 0.146 of
the height).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.animation.rig_tree import RigTree

# expected lengths as fractions of the standing height, and how much a miss costs
LEG_TEMPLATE = ((0.06, 0.2), (0.245, 1.0), (0.246, 1.0))  # root of legs -> hip, thigh, shin
ARM_TEMPLATE = ((0.11, 0.3), (0.186, 1.0), (0.146, 1.0))  # chest -> shoulder, upper arm, forearm
_PLAUSIBLE = {"leg": ((0.12, 0.40), (0.55, 1.8)), "arm": ((0.08, 0.30), (0.6, 1.9))}  # length, ratio
MIN_STEP = 0.02  # of the height: joints closer than this to the previous one are the same place
MAX_LIMB_JOINTS = 16  # joints looked at along a limb, from its root


def _named_ranks(tree: RigTree, path: list[int], limb: str) -> dict[int, int]:
    """{rank: node} from names, strictly increasing along the path, covering as many ranks
    1..4 as possible (then the most preferred readings)."""
    options = []
    for node in path:
        found = tree.info[node].limb
        options.append(found[1] if found is not None and found[0] == limb else ())
    best: tuple[tuple[int, int, int, int], dict[int, int]] = ((-1, 0, 0, 0), {})

    def walk(k: int, last: int, chosen: dict[int, int], penalty: int) -> None:
        nonlocal best
        if k == len(path):
            score = (sum(1 for r in chosen if r >= 1), len(chosen), -penalty,
                     -sum(path.index(n) for n in chosen.values()))
            if score > best[0]:
                best = (score, dict(chosen))
            return
        walk(k + 1, last, chosen, penalty)
        for pref, rank in enumerate(options[k]):
            if rank > last and rank not in chosen:
                chosen[rank] = path[k]
                walk(k + 1, rank, chosen, penalty + pref)
                del chosen[rank]

    walk(0, -1, {}, 0)
    return {r: n for r, n in best[1].items() if r >= 1}


def _plausible(tree: RigTree, limb: str, top: int, a: int, b: int) -> bool:
    """Upper and lower segments (top-a, a-b) of plausible length and ratio."""
    (lo, hi), (rlo, rhi) = _PLAUSIBLE[limb]
    h = tree.height
    upper = np.linalg.norm(tree.rest[a] - tree.rest[top]) / h
    lower = np.linalg.norm(tree.rest[b] - tree.rest[a]) / h
    return lo <= upper <= hi and lo <= lower <= hi and rlo <= upper / max(lower, 1e-9) <= rhi


def _by_proportions(tree: RigTree, root: int, path: list[int], template, fixed: dict[int, int]):
    """(cost, {1: node, 2: node, 3: node}) choosing the three joints of the path that best match
    the template's lengths, keeping the ranks in `fixed`."""
    h = tree.height
    best = (np.inf, {})
    m = len(path)
    for a in range(m):
        for b in range(a + 1, m):
            for c in range(b + 1, m):
                pick = {1: path[a], 2: path[b], 3: path[c]}
                if any(pick[r] != n for r, n in fixed.items() if r in pick):
                    continue
                points = [root, path[a], path[b], path[c]]
                cost = 0.0
                for (expected, weight), p, q in zip(template, points[:-1], points[1:]):
                    length = max(np.linalg.norm(tree.rest[q] - tree.rest[p]) / h, 1e-4)
                    cost += weight * np.log(length / expected) ** 2
                if cost < best[0]:
                    best = (cost, pick)
    return best


def _next_apart(tree: RigTree, path: list[int], after: int) -> int | None:
    """The first node on the path after `after` that is a distinct place."""
    k = path.index(after)
    for node in path[k + 1:]:
        if np.linalg.norm(tree.rest[node] - tree.rest[after]) > MIN_STEP * tree.height:
            return node
    return None


@dataclass
class Limb:
    path: list[int]
    ranks: dict[int, int]  # 1..3 (and 4 when found)
    how: str
    side_from_names: str
    extrapolated_end: bool = False
    notes: list[str] = field(default_factory=list)


def find_limb(tree: RigTree, root: int, extremity: int, limb: str, template) -> Limb:
    path = tree.path_between(root, extremity)[:MAX_LIMB_JOINTS]
    named = _named_ranks(tree, path, limb)
    how = "name"
    notes = []
    core = {r: named[r] for r in (1, 2, 3) if r in named}
    if len(core) == 3 and not _plausible(tree, limb, core[1], core[2], core[3]):
        _, pick = _by_proportions(tree, root, path, template, {})
        if pick:
            notes.append(f"names along the {limb} ending {tree.names[extremity]} give implausible lengths; "
                         "placed by proportions")
            named, core, how = {}, pick, "structure"
    if len(core) < 3:
        _, pick = _by_proportions(tree, root, path, template, core)
        if not pick:
            _, pick = _by_proportions(tree, root, path, template, {})
        core = pick
        how = "structure" if not named else "name+structure"
    ranks = dict(core)
    extrapolated = False
    if 3 in ranks:
        end = named.get(4)
        if end is None or path.index(end) <= path.index(ranks[3]) or \
                np.linalg.norm(tree.rest[end] - tree.rest[ranks[3]]) <= MIN_STEP * tree.height:
            end = _next_apart(tree, path, ranks[3])
        if end is not None:
            ranks[4] = end
        else:
            extrapolated = True
    sides = {tree.info[n].side for n in path + [extremity]} - {""}
    side = sides.pop() if len(sides) == 1 else ""
    return Limb(path, ranks, how, side, extrapolated, notes)
