"""Puts the motion of a skeleton from elsewhere (a BVH from a library, a game engine, another
capture tool) onto MONOCAP_BODY joints, so that it can be solved onto an export rig.

The mapping is found by engine/animation/rig_recognizer.py (names in rig_names.py); a joint map
file (`--map FILE`, JSON or TOML, {source joint: Monocap joint}) corrects it. The rest pose the
recogniser looks at is the BVH's own (kept in the take's metadata as `rest_pose_m`), else the
take's first valid frame.
"""

from __future__ import annotations

import json
import stat
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.animation.rig_fingers import Fingers, find_fingers, hands_weights
from engine.animation.rig_recognizer import RigMapping, check_one_source_each, recognise
from engine.core.errors import InputError
from engine.core.skeletons import MONOCAP_BODY, MONOCAP_HANDS
from engine.core.take import Take, valid_frames

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


MAX_MAP_BYTES = 1 << 20  # a joint map names a few dozen joints; a megabyte is far more than any needs


def load_joint_map(path: str | Path) -> dict[str, str]:
    """A JSON or TOML file of {source joint: Monocap joint} (TOML: `"LeftUpLeg" = "left_hip"`, or
    the same under a [map] table). InputError naming the file when it cannot be used."""
    path = Path(path)
    text = _map_text(path)
    kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
    try:
        data = tomllib.loads(text) if kind == "TOML" else json.loads(text, object_pairs_hook=_no_repeated_keys)
    except RecursionError:
        raise InputError(f"{path}: not a usable {kind} joint map (it nests tables too deeply)") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a valid {kind} joint map ({str(exc).splitlines()[0]})") from None
    if isinstance(data, dict) and set(data) == {"map"} and isinstance(data["map"], dict):
        data = data["map"]
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise InputError(f"{path}: a joint map is a table of source joint name -> Monocap joint name")
    bad = sorted(v for v in data.values() if v not in MONOCAP_BODY.joint_names)
    fingers = [v for v in bad if v in MONOCAP_HANDS.joint_names]
    if fingers:
        raise InputError(f"{path}: {', '.join(fingers)}: a joint map places body joints only; fingers are "
                         f"found by their names below the wrists (docs/EXPORT.md, Fingers)")
    if bad:
        raise InputError(f"{path}: {', '.join(bad)} not Monocap joints (use {', '.join(MONOCAP_BODY.joint_names)})")
    check_one_source_each(data, str(path))
    return dict(data)


def _map_text(path: Path) -> str:
    """The map file's text: a regular file (not a device or a pipe) of at most MAX_MAP_BYTES,
    UTF-8."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise InputError(f"{path}: not a joint map (not a regular file)")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_MAP_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the joint map ({exc.strerror or exc})") from None
    if len(raw) > MAX_MAP_BYTES:
        raise InputError(f"{path}: not a joint map (more than {MAX_MAP_BYTES // 1024} KB)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}: line {line}: not UTF-8 text; a joint map is a UTF-8 JSON or TOML file") from None


def _no_repeated_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    repeated = next((k for k in keys if keys.count(k) > 1), None)
    if repeated is not None:
        raise ValueError(f"the joint {repeated!r} is named twice")
    return dict(pairs)


def rest_pose(take: Take) -> np.ndarray:
    """(J, 3) the pose the recogniser looks at: the BVH's rest pose, else the first valid frame."""
    rest = take.metadata.get("rest_pose_m")
    if rest is not None and np.shape(rest) == (take.skeleton.num_joints, 3):
        return np.asarray(rest, dtype=float)
    ok = np.flatnonzero(take.valid & np.isfinite(take.joints_m).all(axis=(1, 2)))
    return take.joints_m[ok[0]] if ok.size else np.zeros((take.skeleton.num_joints, 3))


def find_mapping(take: Take, joint_map: dict[str, str] | None = None, what: str = "take") -> RigMapping:
    """The mapping of the take's skeleton onto MONOCAP_BODY (RigNotRecognisedError otherwise)."""
    return recognise(take.skeleton, rest_pose(take), joint_map or take.metadata.get("joint_map"), what)


def can_map(take: Take) -> bool:
    try:
        find_mapping(take)
    except InputError:
        return False
    return True


def on_body_if_possible(take: Take, what: str = "take") -> Take:
    """to_body_take where the skeleton maps onto MONOCAP_BODY (onto MONOCAP_HANDS where its hands
    have all their fingers), the take unchanged otherwise."""
    try:
        return to_body_take(take, what, fingers=True)
    except InputError:
        return take


def fingers_of(take: Take, mapping: RigMapping) -> Fingers:
    """The fingers of the take's skeleton below the wrists the mapping found
    (engine/animation/rig_fingers.py)."""
    wrists = {}
    for side in ("left", "right"):
        row = mapping.weights[MONOCAP_BODY.index(f"{side}_wrist")]
        used = np.flatnonzero(np.abs(row) > 1e-9)
        if len(used) != 1:
            return Fingers(None)
        wrists[side] = int(used[0])
    return find_fingers(take.skeleton, rest_pose(take), wrists)


def to_body_take(take: Take, what: str = "take", joint_map: dict[str, str] | None = None,
                 fingers: bool = False) -> Take:
    """A take of any humanoid skeleton -> the same motion on MONOCAP_BODY joints (a take with
    fingers, MONOCAP_HANDS, is kept as it is: the solver reads its fingers too). fingers=True: a
    skeleton with three joints on every finger of both hands maps onto MONOCAP_HANDS; one with
    fewer says why in the metadata's `fingers_note`."""
    if take.skeleton.joint_names == MONOCAP_HANDS.joint_names and not joint_map:
        return take if take.skeleton is MONOCAP_HANDS else replace(take, skeleton=MONOCAP_HANDS)
    if take.skeleton.joint_names == MONOCAP_BODY.joint_names and not joint_map:
        return take if take.skeleton is MONOCAP_BODY else replace(take, skeleton=MONOCAP_BODY)
    mapping = find_mapping(take, joint_map, what)
    metadata = {k: v for k, v in take.metadata.items() if k not in ("rest_pose_m", "joint_map")}
    metadata["mapped_from"] = take.skeleton.name
    metadata["mapping_confidence"] = mapping.confidence
    weights, skeleton = mapping.weights, MONOCAP_BODY
    if fingers:
        found = fingers_of(take, mapping)
        if found.rows is not None:
            weights, skeleton = hands_weights(mapping.weights, found), MONOCAP_HANDS
        elif found.note:
            metadata["fingers_note"] = found.note
    joints, confidence = _mapped(weights, take)
    valid = take.valid & valid_frames(joints, skeleton)
    joints[~valid] = np.nan
    return replace(take, joints_m=joints, skeleton=skeleton, valid=valid, metadata=metadata,
                   joint_confidence=confidence, keypoints_px=None, keypoint_scores=None, keypoint_skeleton=None)


def _mapped(weights: np.ndarray, take: Take) -> tuple[np.ndarray, np.ndarray | None]:
    """(K, J) weights on the take's joints -> ((T, K, 3) joints, (T, K) confidence or None). A
    mapped joint is missing where any source joint it is made from is, and as sure as the least
    sure of them."""
    uses = np.abs(weights) > 1e-12
    present = np.isfinite(take.joints_m).all(axis=-1)
    joints = np.einsum("kj,...jc->...kc", weights, np.where(present[..., None], take.joints_m, 0.0))
    joints[((~present).astype(np.float32) @ uses.T.astype(np.float32)) > 0] = np.nan
    if take.joint_confidence is None:
        return joints, None
    sources = take.per_joint_confidence()
    confidence = np.stack([sources[:, uses[k]].min(axis=1) if uses[k].any() else np.zeros(take.num_frames)
                           for k in range(len(weights))], axis=1)
    return joints, confidence
