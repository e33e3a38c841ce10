"""`monocap process CAM1.mp4 CAM2.mp4 [...] --calibration FILE`: several calibrated cameras' videos of
one take -> one take's files, triangulated (engine/session/multi_camera.py, docs/MULTICAMERA.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.capture.frames import CameraSource
from engine.cli.export_arguments import export_options_from_args, parse_formats
from engine.cli.progress import ProgressBar, say
from engine.cli.run_arguments import people_wanted
from engine.core.errors import MonocapError
from engine.multiview.calibration_files import read_calibration
from engine.multiview.cameras import Rig
from engine.session.outputs import write_outputs
from engine.session.pipeline import PipelineConfig


def views_stem(paths: list[Path]) -> str:
    """The take's name: the videos' names joined (cam01_cam03), or the first one's and a count."""
    stem = "_".join(p.stem for p in paths)
    return stem if len(stem) <= 60 else f"{paths[0].stem}_{len(paths)}views"


def process_views_into(args: argparse.Namespace, config: PipelineConfig, out_dir: Path) -> int:
    from engine.session.multi_camera import process_views

    paths = [Path(v) for v in args.video]
    if not args.calibration:
        raise MonocapError("process: several videos need --calibration FILE (their cameras' calibration; "
                           "`monocap calibrate` makes one)")
    if args.hands or getattr(args, "face", False):
        raise MonocapError("process: several cameras capture without --hands or --face, for now")
    wanted = people_wanted(args)
    if args.person:
        raise MonocapError("process: --person N takes one camera's video; with several cameras, --people all "
                           "writes everyone's takes")
    for path in paths:
        if not path.is_file():
            raise MonocapError(f"{path}: no such video file")
    rig = read_calibration(args.calibration)
    formats = parse_formats(args.formats)
    stem = views_stem(paths)
    bar = ProgressBar(args.quiet, None, stem)
    if wanted != 1:
        return _people_into(args, paths, rig, config, out_dir, stem, formats, wanted, bar)
    try:
        result = process_views(paths, rig, config, progress=bar.update_to)
    finally:
        bar.close()
    for note in result.notes:
        print(f"monocap: note: {note}", file=sys.stderr)
    written = write_outputs(result.take, out_dir, stem, formats, settings=vars(args),
                            options=export_options_from_args(args))
    take = result.take
    say(args, f"{take.num_frames} frames ({int(take.valid.sum())} with the person) from {len(result.views)} cameras, "
              f"{100 * take.metadata.get('keypoints_triangulated_share', 0):.0f}% of keypoints triangulated -> "
              + ", ".join(str(p) for p in written))
    return 0


def _people_into(args: argparse.Namespace, paths: list[Path], rig: Rig, config: PipelineConfig, out_dir: Path,
                 stem: str, formats: tuple[str, ...], wanted: int | None, bar: ProgressBar) -> int:
    """--people N or all: one take per person, STEM_pN.* and STEM_people.json, as one camera's."""
    from engine.session.multi_camera_people import process_views_people, write_views_people

    try:
        result = process_views_people(paths, rig, config, wanted, progress=bar.update_to)
    finally:
        bar.close()
    for note in result.notes:
        print(f"monocap: note: {note}", file=sys.stderr)
    written = write_views_people(result, out_dir, stem, formats, settings=vars(args),
                                 options=export_options_from_args(args))
    spans = ", ".join(f"p{p.number}: frames {p.first_frame}-{p.first_frame + p.take.num_frames - 1}"
                      for p in result.people)
    say(args, f"{len(result.people)} {'person' if len(result.people) == 1 else 'people'} ({spans}) from "
              f"{len(result.views)} cameras -> " + ", ".join(str(p) for p in written))
    return 0


def live_views_into(args: argparse.Namespace, config: PipelineConfig, out_dir: Path) -> int:
    """`monocap process --camera 0 --camera 1 --calibration FILE`: the calibration's cameras in order,
    captured together until Ctrl+C, then the take's files, redone offline from every view's keypoints
    (engine/session/views_redo.py)."""
    from dataclasses import replace

    from engine.session.multi_camera_live import LiveCameras, take_from_live
    from engine.session.views_redo import redone_or_live, views_row

    if not args.calibration:
        raise MonocapError("process: several --camera need --calibration FILE (`monocap calibrate` makes one)")
    if args.people != "1" or args.hands or getattr(args, "face", False):
        raise MonocapError("process: live capture from several cameras follows one person, without --hands or "
                           "--face, for now (their videos take --people all)")
    rig = read_calibration(args.calibration)
    if len(args.camera) > len(rig):
        raise MonocapError(f"{len(args.camera)} cameras but the calibration has {len(rig)} ({', '.join(rig.names)})")
    used = Rig(tuple(rig.cameras[: len(args.camera)]))
    sources = [CameraSource(index) for index in args.camera]
    frames, views = [], []

    def keep(fused) -> None:  # the poses and every view's person, without their images
        frames.append(replace(fused, frame=None, view_frames=()))
        views.append(views_row(fused.detections, len(used)))

    say(args, f"Capturing from cameras {', '.join(map(str, args.camera))} as {', '.join(used.names)}; "
              "press Ctrl+C to stop.")
    live = LiveCameras(sources, used, config)
    try:
        live.stream(on_frame=keep)
    except KeyboardInterrupt:
        pass
    finally:
        for source in sources:
            source.close()
    for note in live.notes:
        print(f"monocap: note: {note}", file=sys.stderr)
    stem = "cameras" + "_".join(str(i) for i in args.camera)
    take, kept = redone_or_live(take_from_live(frames, used, sources[0].fps, config), used, views, config)
    if kept:
        print(f"monocap: note: {kept}", file=sys.stderr)
    written = write_outputs(take, out_dir, stem, parse_formats(args.formats), settings=vars(args),
                            options=export_options_from_args(args))
    say(args, f"{take.num_frames} poses ({int(take.valid.sum())} with the person) from {len(sources)} cameras -> "
              + ", ".join(str(p) for p in written))
    return 0
