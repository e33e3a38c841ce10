"""What a take file holds (joints, frames, rate, units) and how Monocap
maps its skeleton onto its own body (the recogniser's mapping and confidence) and, where its hands
have finger joints, onto Monocap's 15 finger joints a hand (or why the fingers are dropped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.animation.formats import partial_frames_line
from engine.animation.rig_mappings import find_mapping, fingers_of
from engine.animation.rig_recognizer import RigMapping, describe_weights
from engine.core.errors import InputError
from engine.core.skeletons import FINGERS, MONOCAP_BODY, MONOCAP_HANDS
from engine.core.take import Take


def describe_take(take: Take, path: str | Path) -> tuple[list[str], bool]:
    """-> (lines to print, whether the skeleton maps onto Monocap's body)."""
    path = Path(path)
    valid = int(np.sum(take.valid))
    unit = take.metadata.get("source_units", "m")
    guessed = " (guessed from the rest pose)" if take.metadata.get("source_units_guessed") else ""
    lines = [f"{path}: {path.suffix.lstrip('.').upper()} take, {take.num_frames} frames "
             f"({valid} with a pose) at {take.fps:.5g} fps, {take.duration_s:.2f} s"]
    partial = partial_frames_line(take)
    if partial:
        lines.append(f"note: {partial}")
    lines.append(f"units: {unit}{guessed}")
    rest = take.metadata.get("rest_pose_m")
    if rest is not None:
        height = float(np.ptp(np.asarray(rest), axis=0).max())
        lines[-1] += f"; rest pose {height:.2f} m across"
    names = take.skeleton.joint_names
    lines.append(f"joints ({len(names)}): " + ", ".join(names))
    if names == MONOCAP_BODY.joint_names:
        lines.append("skeleton: Monocap's own body")
        return lines, True
    if names == MONOCAP_HANDS.joint_names:
        lines.append("skeleton: Monocap's own body with fingers (15 finger joints a hand)")
        return lines, True
    try:
        mapping = find_mapping(take, what=str(path))
    except InputError as exc:
        lines.append(f"mapping onto Monocap's body: none: {exc}")
        return lines, False
    lines.append(f"mapping onto Monocap's body (confidence {mapping.confidence:.2f}):")
    width = max(len(j) for j in MONOCAP_BODY.joint_names)
    for joint in MONOCAP_BODY.joint_names:
        lines.append(f"  {joint:<{width}}  <- {mapping.describe(joint)}  [{mapping.how.get(joint, '')}]")
    lines.extend(f"note: {n}" for n in mapping.notes)
    lines.extend(_finger_lines(take, mapping))
    return lines, True


def _finger_lines(take: Take, mapping: RigMapping) -> list[str]:
    """Which source joints are each finger's three joints and tip, or the note saying why the
    fingers are dropped (nothing when the hands have no finger joints)."""
    found = fingers_of(take, mapping)
    if found.rows is None:
        return [f"note: {found.note}"] if found.note else []
    names = take.skeleton.joint_names

    def source(point: str) -> str:
        return describe_weights({names[j]: w for j, w in found.rows[point].items()})

    lines = ["fingers onto Monocap's 15 finger joints a hand (joints 1, 2, 3; tip):"]
    for side in ("left", "right"):
        for finger in FINGERS:
            joints = ", ".join(source(f"{side}_{finger}{k}") for k in (1, 2, 3))
            lines.append(f"  {side + '_' + finger + '1..3':<16}  <- {joints}; tip {source(f'{side}_{finger}_tip')}")
        lines.append(f"  {side + '_hand':<16}  <- {source(f'{side}_hand')}  [between the index and pinky bases]")
    return lines
