"""A skeleton as a tree with a rest pose, for finding the humanoid in it (engine/animation/
rig_recognizer.py): paths, common ancestors, distances along the bones, and the five extremities.

The five extremities are the leaves farthest apart along the tree (farthest-point sampling on bone
lengths): two feet, two hands, the head. Fingers, eyes, twist helpers and props are short side
branches and never win.
"""

from __future__ import annotations

import re

import numpy as np

from engine.animation.rig_names import NameInfo, name_info
from engine.core.skeletons import Skeleton


class RigTree:
    """A skeleton's joints as a tree over a rest pose: children, bone lengths, distance from the
    root along the bones, the standing height and what each joint's name says."""

    def __init__(self, skeleton: Skeleton, rest: np.ndarray):
        self.names = skeleton.joint_names
        self.parents = skeleton.parents
        self.rest = rest
        self.n = len(self.names)
        self.children: list[list[int]] = [[] for _ in range(self.n)]
        for i, p in enumerate(self.parents):
            if p >= 0:
                self.children[p].append(i)
        self.length = np.array([np.linalg.norm(rest[i] - rest[p]) if p >= 0 else 0.0
                                for i, p in enumerate(self.parents)])
        self.depth_m = np.zeros(self.n)
        for i, p in enumerate(self.parents):
            if p >= 0:
                self.depth_m[i] = self.depth_m[p] + self.length[i]
        self.height = float(np.ptp(rest, axis=0).max()) if self.n > 1 else 0.0
        self.info: list[NameInfo] = [name_info(n) for n in self.names]

        self._paths: dict[int, list[int]] = {}

    def path_from_root(self, i: int) -> list[int]:
        if i not in self._paths:
            out = []
            k = i
            while k >= 0:
                out.append(k)
                k = self.parents[k]
            self._paths[i] = out[::-1]
        return self._paths[i]

    def lca(self, nodes) -> int:
        paths = [self.path_from_root(i) for i in nodes]
        common = -1
        for level in zip(*paths):
            if all(x == level[0] for x in level):
                common = level[0]
            else:
                break
        return common

    def distance(self, a: int, b: int) -> float:
        c = self.lca((a, b))
        return self.depth_m[a] + self.depth_m[b] - 2 * self.depth_m[c]

    def path_between(self, top: int, bottom: int) -> list[int]:
        """Nodes strictly below `top` down to `bottom`."""
        path = self.path_from_root(bottom)
        return path[path.index(top) + 1:]

    def subtree_leaves(self, i: int) -> set[int]:
        out, stack = set(), [i]
        while stack:
            k = stack.pop()
            if not self.children[k]:
                out.add(k)
            stack.extend(self.children[k])
        return out


_NOT_BODY = re.compile(r"(?:^|[^a-z])(ik|ctrl|control|prop|weapon|gun|target|pole|socket|attach)(?:[^a-z]|$)")


def _is_body(tree: RigTree, i: int) -> bool:
    """False for leaves under IK targets, controls and props (Unreal's ik_hand_gun ...)."""
    return not any(_NOT_BODY.search(tree.names[k].lower()) for k in tree.path_from_root(i)[1:])


def _distances_from(tree: RigTree, source: int) -> np.ndarray:
    """(J,) distance along the bones from `source` to every joint (inf where not connected)."""
    out = np.full(tree.n, np.inf)
    out[source] = 0.0
    visited = np.zeros(tree.n, dtype=bool)
    visited[source] = True
    stack = [source]
    while stack:
        k = stack.pop()
        p = tree.parents[k]
        for other, length in [(c, tree.length[c]) for c in tree.children[k]] + ([(p, tree.length[k])] if p >= 0 else []):
            if not visited[other]:
                visited[other] = True
                out[other] = out[k] + length
                stack.append(other)
    return out


def extremities(tree: RigTree) -> list[int]:
    """Farthest-point sampling of five leaves, starting from the tree's two ends."""
    leaves = np.array([i for i in range(tree.n) if not tree.children[i] and _is_body(tree, i)])
    if len(leaves) < 5:
        return []
    a = int(leaves[np.argmax(_distances_from(tree, int(leaves[0]))[leaves])])
    from_a = _distances_from(tree, a)
    b = int(leaves[np.argmax(from_a[leaves])])
    chosen = [a, b]
    gap = np.minimum(from_a, _distances_from(tree, b))
    while len(chosen) < 5:
        nxt = int(leaves[np.argmax(gap[leaves])])
        chosen.append(nxt)
        gap = np.minimum(gap, _distances_from(tree, nxt))
    return chosen


def descendants(tree: RigTree, i: int) -> list[int]:
    out, stack = [], list(tree.children[i])
    while stack:
        k = stack.pop()
        out.append(k)
        stack.extend(tree.children[k])
    return sorted(out)
