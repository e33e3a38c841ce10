"""The export options every command that writes takes shares (--formats, --rig, --units, ...),
read into engine.animation.formats.ExportOptions."""

from __future__ import annotations

import argparse

from engine.animation.bvh_writer import UNITS_PER_M
from engine.animation.formats import DEFAULT_FORMATS, FORMATS, ExportOptions
from engine.animation.rig import RIGS
from engine.core.errors import InputError
from engine.core.rotations import EULER_ORDERS


def parse_formats(text: str) -> tuple[str, ...]:
    """"bvh, .CSV" -> ("bvh", "csv"); InputError naming the unknown ones."""
    items = tuple(f.strip().lower().lstrip(".") for f in text.split(",") if f.strip())
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise InputError(f"--formats {text}: unknown format {', '.join(bad) or text!r}; choose from {','.join(FORMATS)}")
    return items


def _formats_argument(text: str) -> tuple[str, ...]:
    try:
        return parse_formats(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _frame_range(text: str) -> tuple[int, int | None]:
    try:
        a, _, b = text.partition(":")
        start = int(a) if a.strip() else 0
        end = int(b) if b.strip() else None
    except ValueError:
        raise argparse.ArgumentTypeError(f"frame range must be START:END (frame numbers), got {text!r}") from None
    if start < 0 or (end is not None and end <= start):
        raise argparse.ArgumentTypeError(f"frame range must have 0 <= START < END, got {text!r}")
    return start, end


def add_export_arguments(parser: argparse.ArgumentParser, formats: bool = True, root_motion: bool = True) -> None:
    """Adds the export options to a parser; --formats and --no-root-motion only when asked
    (`monocap process` has its own)."""
    g = parser.add_argument_group("export")
    if formats:
        g.add_argument("--formats", type=_formats_argument, default=DEFAULT_FORMATS,
                       help=f"comma-separated files to write, from {','.join(FORMATS)} "
                            f"(default {','.join(DEFAULT_FORMATS)})")
    g.add_argument("--rig", choices=sorted(RIGS), default="monocap",
                   help="rig of the BVH, FBX and glTF: monocap (Monocap's joint names), mixamo (mixamorig:Hips ..., "
                        "for Mixamo/Unity humanoid retargeting), ue5 (the Unreal Engine 5 mannequin: root, pelvis, "
                        "spine_01 ...) or vrm (VRM humanoid: hips, spine, leftUpperArm ...); default monocap")
    g.add_argument("--units", choices=sorted(UNITS_PER_M),
                   help="length unit: BVH and FBX default cm, TRC default mm (CSV and glTF are always metres)")
    g.add_argument("--euler-order", choices=EULER_ORDERS, default="ZXY",
                   help="BVH rotation channel order (default ZXY)")
    g.add_argument("--frame-range", type=_frame_range, metavar="START:END",
                   help="export frames START (inclusive) to END (exclusive); either may be left out")
    g.add_argument("--fps", type=float, help="resample to this frame rate")
    if root_motion:
        g.add_argument("--no-root-motion", action="store_true",
                       help="BVH, FBX, glTF: keep the hips above the origin (in-place animation)")
    g.add_argument("--no-ground", action="store_true",
                   help="BVH, FBX, glTF: do not move the take to put the floor at y = 0")
    g.add_argument("--no-foot-contact", action="store_true",
                   help="BVH, FBX, glTF: do not pin planted feet")


def export_options_from_args(args: argparse.Namespace) -> ExportOptions:
    start, end = getattr(args, "frame_range", None) or (0, None)
    try:
        return ExportOptions(
            rig=getattr(args, "rig", "monocap"), units=getattr(args, "units", None),
            euler_order=getattr(args, "euler_order", "ZXY"), start_frame=start, end_frame=end,
            fps=getattr(args, "fps", None), root_motion=not getattr(args, "no_root_motion", False),
            ground=not getattr(args, "no_ground", False),
            foot_contact=not getattr(args, "no_foot_contact", False),
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
