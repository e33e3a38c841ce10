"""`monocap inspect FILE`: what a take file holds (joints, frames, rate, units) and how Monocap
maps its skeleton onto its own body (the recogniser's mapping and confidence) and, where its hands
have finger joints, onto Monocap's 15 finger joints a hand (or why the fingers are dropped)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from engine.animation.bvh_reader import UNITS_M
from engine.animation.formats import partial_frames_line, read_take
from engine.animation.rig_mappings import find_mapping, fingers_of, load_joint_map
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


def add_inspect_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "inspect",
        help="show a take file's joints, frames, rate, units and its mapping onto Monocap's body and fingers",
        description="Prints what a .bvh, .npz, .csv or .trc file holds and, for skeletons from elsewhere, "
                    "which of its joints Monocap takes for each of its own (with a confidence), its fingers' included "
                    "(or why they are dropped). Exit status 1 "
                    "when the skeleton cannot be mapped.")
    p.add_argument("input", metavar="FILE", help="a .bvh, .npz, .csv or .trc file")
    p.add_argument("--units", choices=sorted(UNITS_M), help="BVH: the file's length unit (default: guessed)")
    p.add_argument("--map", metavar="MAP", help="a JSON or TOML joint map (source joint -> Monocap joint)")
    p.set_defaults(func=run_inspect)
    return p


def run_inspect(args: argparse.Namespace) -> int:
    joint_map = load_joint_map(args.map) if args.map else None
    take = read_take(args.input, units=args.units, joint_map=joint_map)
    lines, ok = describe_take(take, args.input)
    _print_to_a_reader_that_may_leave("\n".join(lines))
    return 0 if ok else 1


def _print_to_a_reader_that_may_leave(text: str) -> None:
    """Prints `text`; a reader that stops early (`monocap inspect FILE | head -1`) ends the output
    quietly, as for any command line tool."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # what is still buffered would fail again when Python flushes stdout at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
