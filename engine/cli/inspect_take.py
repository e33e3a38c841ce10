"""`monocap inspect FILE`: prints what a take file holds (engine.animation.take_info)."""

from __future__ import annotations

import argparse
import os
import sys

from engine.animation.formats import read_take
from engine.animation.rig_mappings import load_joint_map
from engine.animation.take_info import describe_take
from engine.core.units import METRES_PER_UNIT


def add_inspect_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "inspect",
        help="show a take file's joints, frames, rate, units and its mapping onto Monocap's body and fingers",
        description="Prints what a .bvh, .fbx, .glb, .gltf, .npz, .csv or .trc file holds and, for skeletons from elsewhere, "
                    "which of its joints Monocap takes for each of its own (with a confidence), its fingers' included "
                    "(or why they are dropped). Exit status 1 "
                    "when the skeleton cannot be mapped.")
    p.add_argument("input", metavar="FILE", help="a .bvh, .fbx, .glb, .gltf, .npz, .csv or .trc file")
    p.add_argument("--units", choices=sorted(METRES_PER_UNIT), help="BVH: the file's length unit (default: guessed)")
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
