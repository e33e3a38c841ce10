"""A strict BVH parser for tests, independent of engine/animation/bvh_reader.py.

Line-oriented and unforgiving: exact keywords, one statement per line, balanced braces,
a CHANNELS line for every joint (6 for the root, with positions first), an End Site on every
leaf, the declared channel count on every motion line, finite numbers only, the declared
frame count, and a positive frame time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

_ROT = {"Xrotation", "Yrotation", "Zrotation"}
_POS = {"Xposition", "Yposition", "Zposition"}


class StrictBvhError(ValueError):
    pass


@dataclass
class Node:
    name: str
    parent: int
    offset: tuple[float, float, float]
    channels: list[str] = field(default_factory=list)
    end_site: tuple[float, float, float] | None = None
    children: list[int] = field(default_factory=list)


@dataclass
class StrictBvh:
    nodes: list[Node]
    frame_time: float
    frames: list[list[float]]

    @property
    def num_channels(self) -> int:
        return sum(len(n.channels) for n in self.nodes)


def _floats(parts: list[str], n: int, where: str) -> tuple[float, ...]:
    if len(parts) != n:
        raise StrictBvhError(f"{where}: expected {n} numbers, got {len(parts)}")
    values = tuple(float(p) for p in parts)
    if not all(math.isfinite(v) for v in values):
        raise StrictBvhError(f"{where}: non-finite number")
    return values


def parse_strict(text: str) -> StrictBvh:
    lines = [ln.strip() for ln in text.splitlines()]
    if lines and lines[-1] == "":
        lines.pop()
    i = 0

    def line() -> str:
        nonlocal i
        if i >= len(lines):
            raise StrictBvhError("unexpected end of file")
        s = lines[i]
        i += 1
        return s

    if line() != "HIERARCHY":
        raise StrictBvhError("line 1 must be HIERARCHY")
    nodes: list[Node] = []

    def joint(header: str, parent: int) -> None:
        kw, _, name = header.partition(" ")
        if kw != ("ROOT" if parent < 0 else "JOINT") or not name or " " in name:
            raise StrictBvhError(f"line {i}: bad joint header {header!r}")
        if line() != "{":
            raise StrictBvhError(f"line {i}: expected {{")
        off = line().split()
        if off[0] != "OFFSET":
            raise StrictBvhError(f"line {i}: expected OFFSET")
        node = Node(name, parent, _floats(off[1:], 3, f"line {i}"))
        nodes.append(node)
        me = len(nodes) - 1
        ch = line().split()
        if ch[0] != "CHANNELS" or int(ch[1]) != len(ch) - 2:
            raise StrictBvhError(f"line {i}: bad CHANNELS")
        node.channels = ch[2:]
        rot = [c for c in node.channels if c in _ROT]
        pos = [c for c in node.channels if c in _POS]
        if len(rot) != 3 or len(set(rot)) != 3 or len(rot) + len(pos) != len(node.channels):
            raise StrictBvhError(f"line {i}: channels must hold X, Y and Z rotations")
        if parent < 0 and (len(pos) != 3 or node.channels[:3] != ["Xposition", "Yposition", "Zposition"]):
            raise StrictBvhError(f"line {i}: the root needs Xposition Yposition Zposition first")
        if parent >= 0 and pos:
            raise StrictBvhError(f"line {i}: only the root may have position channels")
        while True:
            s = line()
            if s == "}":
                break
            if s.startswith("JOINT "):
                node.children.append(len(nodes))
                joint(s, me)
            elif s == "End Site":
                if node.end_site is not None:
                    raise StrictBvhError(f"line {i}: two End Sites")
                if line() != "{":
                    raise StrictBvhError(f"line {i}: expected {{")
                off = line().split()
                if off[0] != "OFFSET":
                    raise StrictBvhError(f"line {i}: expected OFFSET")
                node.end_site = _floats(off[1:], 3, f"line {i}")
                if line() != "}":
                    raise StrictBvhError(f"line {i}: expected }}")
            else:
                raise StrictBvhError(f"line {i}: unexpected {s!r}")
        if not node.children and node.end_site is None:
            raise StrictBvhError(f"joint {name}: a leaf needs an End Site")

    joint(line(), -1)
    if line() != "MOTION":
        raise StrictBvhError(f"line {i}: expected MOTION")
    fr = line().split()
    if len(fr) != 2 or fr[0] != "Frames:":
        raise StrictBvhError(f"line {i}: expected Frames: N")
    count = int(fr[1])
    ft = line().split()
    if len(ft) != 3 or ft[:2] != ["Frame", "Time:"]:
        raise StrictBvhError(f"line {i}: expected Frame Time: T")
    frame_time = float(ft[2])
    if not frame_time > 0:
        raise StrictBvhError("frame time must be positive")
    n_ch = sum(len(n.channels) for n in nodes)
    frames = []
    while i < len(lines):
        frames.append(list(_floats(line().split(), n_ch, f"line {i}")))
    if len(frames) != count:
        raise StrictBvhError(f"Frames: says {count}, the file has {len(frames)}")
    return StrictBvh(nodes, frame_time, frames)
