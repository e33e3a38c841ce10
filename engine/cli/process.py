"""`monocap process`: one video, image folder or camera -> a take's files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.capture.frames import CameraSource, open_source
from engine.cli.export_arguments import export_options_from_args, parse_formats
from engine.cli.progress import ProgressBar, say
from engine.cli.run_arguments import add_pipeline_arguments, config_from_args, people_wanted
from engine.core.errors import MonocapError
from engine.session.events import SessionEvents
from engine.session.people_files import process_to_files
from engine.session.pipeline import PipelineConfig
from engine.session.session import Session


def add_process_parser(sub) -> None:
    p = sub.add_parser("process", help="one video (or --camera N, or several cameras' videos) -> take files")
    p.add_argument("video", nargs="*", help="video file or image folder; several calibrated cameras' videos "
                                            "of one take with --calibration (docs/MULTICAMERA.md)")
    p.add_argument("--calibration", default="", help="the cameras' calibration (Monocap or Pose2Sim/anipose/"
                                                     "FreeMoCap .toml, EasyMocap intri.yml, Qualisys .qca.txt)")
    p.add_argument("--camera", type=int, action="append",
                   help="capture live from camera N until Ctrl+C; several --camera with --calibration: "
                        "calibrated cameras together (docs/MULTICAMERA.md)")
    add_pipeline_arguments(p)


def cmd_process(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    formats = parse_formats(args.formats)
    videos = args.video if isinstance(args.video, list) else [args.video] if args.video else []
    cameras = args.camera if isinstance(args.camera, list) else [] if args.camera is None else [args.camera]
    if len(cameras) > 1 and not videos:
        args.camera = cameras
        from engine.cli.process_views import live_views_into
        from engine.core.atomic import output_folder

        with output_folder(args.output) as out_dir:
            return live_views_into(args, config, out_dir)
    args.camera = cameras[0] if len(cameras) == 1 else (cameras or None)
    if len(videos) > 1 and args.camera is None:
        args.video = videos
        from engine.cli.process_views import process_views_into
        from engine.core.atomic import output_folder

        with output_folder(args.output) as out_dir:
            return process_views_into(args, config, out_dir)
    args.video = videos[0] if videos else None
    if (args.video is None) == (args.camera is None):
        raise MonocapError("process: give a video file, or --camera N (not both)")
    from engine.core.atomic import output_folder

    with output_folder(args.output) as out_dir:
        return _process_into(args, config, formats, out_dir)


def _process_into(args: argparse.Namespace, config: PipelineConfig, formats: tuple[str, ...], out_dir: Path) -> int:
    if args.camera is not None:
        source = CameraSource(args.camera)
        stem = f"camera{args.camera}"
        say(args, f"Capturing from {source.name}; press Ctrl+C to stop.")
    else:
        source = open_source(args.video)
        stem = Path(args.video).stem
    bar = ProgressBar(args.quiet, source.frame_count, stem)
    try:
        files = process_to_files(Session(source, config, SessionEvents(progress=bar.update_to)), people_wanted(args),
                                 out_dir, stem, formats, settings=vars(args), options=export_options_from_args(args))
    finally:
        bar.close()
    for note in getattr(source, "notes", ()):
        print(f"monocap: warning: {source.name}: {note}", file=sys.stderr)
    if getattr(source, "decode_errors", 0):
        read = source.frame_count - source.decode_errors
        print(f"monocap: warning: {args.video}: only {read} of {source.frame_count} frames could be decoded "
              "(truncated or damaged file); the take covers those", file=sys.stderr)
    say(args, f"{files.summary} -> " + ", ".join(str(p) for p in files.written))
    return 0
