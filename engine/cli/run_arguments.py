"""The options of the commands that run frames (process, batch, stream) and the run's settings
made from them (engine/session/settings.py checks their values)."""

from __future__ import annotations

import argparse

from engine.animation.formats import DEFAULT_FORMATS, FORMATS
from engine.cli.export_arguments import add_export_arguments
from engine.core.errors import MonocapError
from engine.lift.modes import DEFAULT_MODE, available_modes
from engine.session.people_takes import detector_for
from engine.session.pipeline import PipelineConfig
from engine.session.settings import DEFAULT_DEVICE, DEFAULT_FOV_DEG, DEFAULT_SMOOTHING, DEVICES, pipeline_config


def add_run_settings(p: argparse.ArgumentParser) -> None:
    """The options every run shares (engine/session/settings.py checks their values)."""
    p.add_argument("--mode", default=DEFAULT_MODE, help=f"3D mode: {', '.join(available_modes())} (default: {DEFAULT_MODE})")
    p.add_argument("--checkpoint", default="", help="model file for network 3D modes (default: the bundled one)")
    p.add_argument("--device", default=DEFAULT_DEVICE, choices=DEVICES, help="where networks run")
    p.add_argument("--smoothing", type=float, default=DEFAULT_SMOOTHING,
                   help=f"smoothing strength 0..1 (default {DEFAULT_SMOOTHING})")
    p.add_argument("--fov", type=float, default=DEFAULT_FOV_DEG,
                   help=f"camera's horizontal field of view in degrees (default {DEFAULT_FOV_DEG:g})")
    p.add_argument("--no-root-motion", action="store_true", help="keep the subject over the origin")


def add_face_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--face", action="store_true",
                   help="track the face too: blink, mouth, vowels, brows, gaze and the head's rotation "
                        "(face curves in takes, VMC blend shapes; docs/FACE.md)")


def add_pipeline_arguments(p: argparse.ArgumentParser) -> None:
    """The options of the commands that write takes from videos (process, batch)."""
    p.add_argument("-o", "--output", default="out", help="output folder (default: ./out)")
    add_run_settings(p)
    p.add_argument("--hands", action="store_true",
                   help="track the fingers too: 15 finger joints per hand in every export (docs/HANDS.md)")
    add_face_argument(p)
    p.add_argument("--formats", default=",".join(DEFAULT_FORMATS),
                   help=f"comma-separated output formats from {','.join(FORMATS)} (default {','.join(DEFAULT_FORMATS)})")
    p.add_argument("--people", default="1",
                   help="people to capture: 1 (default) follows one person, a number N the N largest and most "
                        "central, 'all' everyone; N > 1 and 'all' write STEM_p1.*, STEM_p2.* ... and STEM_people.json")
    p.add_argument("--person", type=int, default=0,
                   help="with --people 1: follow person N (numbered in order of first appearance, as in "
                        "STEM_people.json) instead of the largest and most central")
    p.add_argument("--max-people", type=int, default=0,
                   help="people the detector looks for in each frame (default: one more than --people, 6 for all)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_export_arguments(p, formats=False, root_motion=False)


def people_wanted(args: argparse.Namespace) -> int | None:
    """--people: a count (1 for a one-person take), or None for everyone."""
    text = str(args.people).strip().lower()
    if text == "all":
        wanted = None
    elif text.isdigit() and int(text) >= 1:
        wanted = int(text)
    else:
        raise MonocapError(f"--people {args.people}: give a number of people (1, 2, ...) or 'all'")
    if args.person < 0 or (args.person and wanted != 1):
        raise MonocapError(f"--person {args.person}: give a person number (1, 2, ...) together with --people 1")
    if args.max_people < 0 or (args.max_people and wanted and args.max_people < wanted):
        raise MonocapError(f"--max-people {args.max_people}: must be at least --people {args.people}")
    return wanted


def config_from_args(args: argparse.Namespace) -> PipelineConfig:
    wanted = people_wanted(args)
    return pipeline_config(mode=args.mode, checkpoint=args.checkpoint, device=args.device, smoothing=args.smoothing,
                           fov_deg=args.fov, root_motion=not args.no_root_motion, hands=args.hands,
                           detector=detector_for(wanted, max_people=args.max_people), person=args.person,
                           face=getattr(args, "face", False))
