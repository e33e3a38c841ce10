"""`monocap convert IN OUT`: a take from one format to another, chosen by the extensions."""

from __future__ import annotations

import argparse

from engine.animation.formats import read_take, say_partial_frames, write_take
from engine.animation.rig_mappings import load_joint_map
from engine.cli.export_arguments import add_export_arguments, export_options_from_args
from engine.core.errors import NoValidFramesError
from engine.core.input_checks import DEFAULT_LIMITS, InputLimits
from engine.core.units import METRES_PER_UNIT


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """Bounds on what an input file may ask to allocate (engine/core/input_checks.py)."""
    g = parser.add_argument_group("input limits")
    g.add_argument("--max-frames", type=_positive_int, default=DEFAULT_LIMITS.max_frames,
                   help=f"refuse inputs with more frames (default {DEFAULT_LIMITS.max_frames})")
    g.add_argument("--max-joints", type=_positive_int, default=DEFAULT_LIMITS.max_joints,
                   help=f"refuse inputs with more joints (default {DEFAULT_LIMITS.max_joints})")
    g.add_argument("--max-decompressed-mb", type=_positive_int, default=DEFAULT_LIMITS.max_decompressed_mb,
                   help=f"refuse .npz takes that unpack to more (default {DEFAULT_LIMITS.max_decompressed_mb})")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


def limits_from_args(args: argparse.Namespace) -> InputLimits:
    return InputLimits(max_frames=getattr(args, "max_frames", DEFAULT_LIMITS.max_frames),
                       max_joints=getattr(args, "max_joints", DEFAULT_LIMITS.max_joints),
                       max_decompressed_mb=getattr(args, "max_decompressed_mb", DEFAULT_LIMITS.max_decompressed_mb))


def add_convert_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "convert", help="convert a take between .npz, .csv, .bvh, .trc, .fbx, .glb and .gltf (by extension)",
        description="Converts a take between formats, chosen by the extensions of IN and OUT. "
                    "IN may be a BVH, FBX or glTF from elsewhere: its joint positions are computed by forward "
                    "kinematics; writing it as BVH, FBX or glTF maps it onto the rig (--rig).")
    p.add_argument("input", metavar="IN", help="a .npz, .csv, .bvh, .trc, .fbx, .glb or .gltf file")
    p.add_argument("output", metavar="OUT", help="the file to write (.npz, .csv, .bvh, .trc, .fbx, .glb or .gltf)")
    g = p.add_argument_group("reading a BVH from elsewhere")
    g.add_argument("--in-units", choices=sorted(METRES_PER_UNIT),
                   help="the input BVH's length unit (default: guessed from its rest pose's height)")
    g.add_argument("--map", metavar="MAP",
                   help="a JSON or TOML joint map (source joint -> Monocap joint) correcting the rig recogniser")
    add_export_arguments(p, formats=False)
    add_limit_arguments(p)
    return p


def run_convert(args: argparse.Namespace) -> int:
    options = export_options_from_args(args)
    joint_map = load_joint_map(args.map) if getattr(args, "map", None) else None
    take = read_take(args.input, units=getattr(args, "in_units", None), joint_map=joint_map,
                     limits=limits_from_args(args))
    say_partial_frames(take, args.input)
    try:
        out = write_take(take, args.output, options)
    except NoValidFramesError:
        raise NoValidFramesError(f"{args.input}: nobody is in any of its {take.num_frames} frames; "
                                 f"{args.output} is not written") from None
    print(f"wrote {out}")
    return 0
