"""Reads BVH files of any rig, and computes joint positions by forward kinematics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.animation import bvh_checks
from engine.core.errors import InputError
from engine.core.input_checks import DEFAULT_LIMITS, InputLimits, parse_number, parse_whole_number
from engine.core.rotations import axis_rotation
from engine.core.skeletons import Skeleton, guess_mirror_pairs
from engine.core.units import METRES_PER_UNIT

_ROT = {"Xrotation": "X", "Yrotation": "Y", "Zrotation": "Z"}
_POS = {"Xposition": 0, "Yposition": 1, "Zposition": 2}


@dataclass(frozen=True)
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray  # (3,) in file units
    channels: tuple[str, ...]  # e.g. ("Xposition", ..., "Zrotation"); () for end sites
    is_end_site: bool = False


@dataclass(frozen=True)
class BvhMotion:
    """A parsed BVH file: hierarchy in file order (parents first) and raw channel values."""

    joints: tuple[BvhJoint, ...]
    frame_time_s: float
    channels: np.ndarray  # (T, C) raw values in file units and degrees
    path: str = ""

    @property
    def num_frames(self) -> int:
        return self.channels.shape[0]

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time_s if self.frame_time_s > 0 else 0.0

    def skeleton(self, name: str = "", include_end_sites: bool = False) -> Skeleton:
        keep = [i for i, j in enumerate(self.joints) if include_end_sites or not j.is_end_site]
        remap = {old: new for new, old in enumerate(keep)}
        names = tuple(self.joints[i].name for i in keep)
        parents = tuple(remap[self.joints[i].parent] if self.joints[i].parent >= 0 else -1 for i in keep)
        return Skeleton(name or Path(self.path).stem or "bvh", names, parents, guess_mirror_pairs(names))

    def positions(self, scale: float = 1.0, include_end_sites: bool = False) -> np.ndarray:
        """(T, J, 3) world positions of the joints (end sites too when asked), times `scale`."""
        globals_ = self.global_transforms()
        keep = [i for i, j in enumerate(self.joints) if include_end_sites or not j.is_end_site]
        return globals_[:, keep][..., :3, 3] * scale

    def rest_positions(self, scale: float = 1.0, include_end_sites: bool = False) -> np.ndarray:
        """(J, 3) the rest pose: every rotation zero, every joint at its OFFSET from its parent."""
        out = np.zeros((len(self.joints), 3))
        for j, joint in enumerate(self.joints):
            out[j] = joint.offset + (out[joint.parent] if joint.parent >= 0 else 0.0)
        keep = [i for i, j in enumerate(self.joints) if include_end_sites or not j.is_end_site]
        return out[keep] * scale

    def shape_pose(self, scale: float = 1.0) -> np.ndarray:
        """(J, 3) joints and end sites in the rest pose, or in the first frame where the rest pose
        is collapsed (files that give every joint its place in position channels, offsets zero)."""
        rest = self.rest_positions(scale, include_end_sites=True)
        if self.num_frames:
            first = BvhMotion(self.joints, self.frame_time_s, self.channels[:1], self.path)
            frame = first.positions(scale, include_end_sites=True)[0]
            if np.ptp(rest, axis=0).max() < 0.5 * np.ptp(frame, axis=0).max():
                return frame
        return rest

    def global_transforms(self) -> np.ndarray:
        """(T, J, 4, 4) global transforms of every joint and end site, in file units."""
        t_count = self.num_frames
        out = np.zeros((t_count, len(self.joints), 4, 4))
        col = 0
        for j, joint in enumerate(self.joints):
            local = np.tile(np.eye(4), (t_count, 1, 1))
            local[:, :3, 3] = joint.offset
            n = len(joint.channels)
            values = self.channels[:, col:col + n]
            col += n
            rotation = np.tile(np.eye(3), (t_count, 1, 1))
            absolute = joint.parent < 0 or _positions_are_absolute(joint, values)
            for k, c in enumerate(joint.channels):
                if c in _ROT:
                    rotation = rotation @ axis_rotation(_ROT[c], np.radians(values[:, k]))
                elif absolute:
                    local[:, _POS[c], 3] = values[:, k]
                else:
                    local[:, _POS[c], 3] += values[:, k]
            local[:, :3, :3] = rotation
            out[:, j] = local if joint.parent < 0 else out[:, joint.parent] @ local
        return out


def _positions_are_absolute(joint: BvhJoint, values: np.ndarray) -> bool:
    """Position channels below the root either replace the OFFSET (most tools: every frame
    repeats it) or add to it; whichever the values lie nearer to."""
    axes = [_POS[c] for c in joint.channels if c in _POS]
    if not axes or not values.size:
        return False
    pos = values[:, [k for k, c in enumerate(joint.channels) if c in _POS]]
    return bool(np.median(np.linalg.norm(pos - joint.offset[axes], axis=1)) < np.median(np.linalg.norm(pos, axis=1)))


def read_bvh(path: str | Path, limits: InputLimits = DEFAULT_LIMITS) -> BvhMotion:
    """Parses a BVH file, validated (engine/animation/bvh_checks.py). Raises InputError naming the
    file (and the line) when it is not valid BVH."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return parse_bvh(text, str(path), limits)
    except (ValueError, IndexError, TypeError, KeyError) as exc:
        raise InputError(f"{path}: not a valid BVH file ({exc})") from None


_FRAMES = re.compile(r"frames\s*:\s*(\S+)", re.IGNORECASE)
_FRAME_TIME = re.compile(r"frame\s+time\s*:\s*(\S+)[^\n]*\n?", re.IGNORECASE)


def _motion_section(text: str) -> tuple[str, str, list[str]]:
    """The text after MOTION -> frame count and frame time as written, and the data rows (one line a frame).
    `Frames:N` and `Frame Time:.0333` are read as well as the spaced forms."""
    frames = _FRAMES.search(text)
    if frames is None:
        raise ValueError("missing the Frames: line")
    timing = _FRAME_TIME.search(text, frames.end())
    if timing is None:
        raise ValueError("missing the Frame Time: line")
    rows = [r for r in text[timing.end():].splitlines() if r.strip()]
    return frames.group(1), timing.group(1), rows


_NAME_WITH_SPACES = re.compile(r"(?m)^([ \t]*(?:ROOT|JOINT)[ \t]+)([^{}\r\n]*?\S)[ \t]*(\r?)$")


def parse_bvh(text: str, path: str = "", limits: InputLimits = DEFAULT_LIMITS) -> BvhMotion:
    bvh_checks.check_hierarchy_size(text, limits, path)
    motion_at = re.search(r"\bMOTION\b", text)
    hierarchy = text[:motion_at.start()] if motion_at else text
    # joint names with spaces (3ds Max: "Bip01 L Thigh") are read with underscores
    hierarchy = _NAME_WITH_SPACES.sub(lambda m: m.group(1) + re.sub(r"\s+", "_", m.group(2)) + m.group(3), hierarchy)
    tokens = hierarchy.split() + (["MOTION"] if motion_at else [])
    if not tokens or tokens[0] != "HIERARCHY":
        raise ValueError("missing HIERARCHY")
    pos = 1
    joints: list[BvhJoint] = []
    stack: list[int] = []
    pending: dict | None = None

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            joints.append(BvhJoint(pending["name"], pending["parent"], pending["offset"],
                                   tuple(pending["channels"]), pending["end"]))
            stack.append(len(joints) - 1)
            pending = None
            bvh_checks.check_joint_count(len(joints), limits, path)

    while pos < len(tokens):
        tok = tokens[pos]
        if tok in ("ROOT", "JOINT"):
            flush()
            parent = stack[-1] if stack else -1
            pending = {"name": tokens[pos + 1], "parent": parent, "offset": np.zeros(3), "channels": [], "end": False}
            pos += 2
        elif tok == "End":
            flush()
            parent = stack[-1]
            pending = {"name": joints[parent].name + "_end", "parent": parent, "offset": np.zeros(3),
                       "channels": [], "end": True}
            pos += 2
        elif tok == "{":
            pos += 1
        elif tok == "OFFSET":
            if pending is None:
                raise ValueError(f"OFFSET outside a joint at token {pos}")
            pending["offset"] = np.array([parse_number(v) for v in tokens[pos + 1:pos + 4]])
            pos += 4
        elif tok == "CHANNELS":
            n = parse_whole_number(tokens[pos + 1])
            bvh_checks.check_channel_count(n, pending["name"], path)
            chans = [c[0].upper() + c[1:].lower() for c in tokens[pos + 2:pos + 2 + n]]
            for c in chans:
                if c not in _ROT and c not in _POS:
                    raise ValueError(f"unknown channel {c}")
            pending["channels"] = chans
            pos += 2 + n
        elif tok == "}":
            flush()
            stack.pop()
            pos += 1
        elif tok == "MOTION":
            pos += 1
            break
        else:
            raise ValueError(f"unexpected token {tok!r}")
    if not joints:
        raise ValueError("no joints")
    if stack:
        raise ValueError("unbalanced braces")
    bvh_checks.check_hierarchy(joints, path)
    if motion_at is None:
        raise ValueError("missing MOTION")
    num_frames, frame_time, rows = _motion_section(text[motion_at.end():])
    num_frames = bvh_checks.frame_count(num_frames, limits, path)
    frame_time = bvh_checks.frame_time(frame_time, path)
    motion = bvh_checks.motion_values(text, rows, num_frames, joints, path)
    return BvhMotion(tuple(joints), frame_time, motion, path)


_TYPICAL_HEIGHT_M = 1.7


def guess_units(motion: BvhMotion) -> str:
    """The unit (a key of METRES_PER_UNIT) that makes the rig's rest pose the nearest to a person's height."""
    extent = float(np.ptp(motion.shape_pose(), axis=0).max())
    if not extent > 0:
        return "cm"
    return min(METRES_PER_UNIT, key=lambda u: abs(np.log(extent * METRES_PER_UNIT[u] / _TYPICAL_HEIGHT_M)))


def guess_scale_to_m(motion: BvhMotion) -> float:
    """Metres per file unit, judged from the rig's standing height in its rest pose."""
    return METRES_PER_UNIT[guess_units(motion)]
