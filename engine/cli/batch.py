"""`monocap batch`: many videos (files, folders, globs) -> take files, in worker processes or on a
Ray cluster (engine/session/batch.py); with --calibration or --multi-camera, many multi-camera takes
(a folder each, holding its cameras' videos: engine/session/batch_views.py)."""

from __future__ import annotations

import argparse
import glob
import signal
import sys
import threading
from pathlib import Path

from engine.cli.export_arguments import export_options_from_args, parse_formats
from engine.cli.progress import ProgressBar
from engine.cli.run_arguments import add_pipeline_arguments, config_from_args, people_wanted
from engine.core.errors import MonocapError
from engine.core.video_files import is_video_file
from engine.session.batch import DEFAULT_RAY_RETRIES
from engine.session.pipeline import PipelineConfig


def add_batch_parser(sub) -> None:
    b = sub.add_parser("batch", help="many videos (files, folders, globs) -> take files")
    b.add_argument("inputs", nargs="+", help="video files, folders of videos, or glob patterns")
    b.add_argument("--jobs", "-j", type=int, default=None,
                   help="worker processes (default: as many as the cores and free memory allow)")
    b.add_argument("--ray", metavar="ADDRESS", default="",
                   help="run each video as a task on the Ray cluster at ADDRESS ('auto': the one this machine is in, "
                        "'local': start one here); "
                        "needs pip install 'monocap[cluster]'")
    b.add_argument("--retries", type=int, default=DEFAULT_RAY_RETRIES,
                   help=f"with --ray: retries of a task whose worker died (default {DEFAULT_RAY_RETRIES})")
    b.add_argument("--no-resume", action="store_true",
                   help="redo every input, even those the folder's batch_manifest.jsonl says are complete")
    b.add_argument("--calibration", default="",
                   help="multi-camera takes: each folder (at or under the inputs) that holds videos is one take, "
                        "its videos the cameras of this calibration, unless the folder holds its own "
                        "(docs/MULTICAMERA.md)")
    b.add_argument("--multi-camera", action="store_true",
                   help="multi-camera takes, each folder with its own calibration file (as --calibration, without one "
                        "for all)")
    add_pipeline_arguments(b)


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files, folders (their videos, recursively) and glob patterns -> an ordered list of files."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and is_video_file(p))
        elif path.exists():
            found.append(path)
        elif any(ch in item for ch in "*?["):
            found += sorted(Path(p) for p in glob.glob(item, recursive=True) if Path(p).is_file())
        else:
            found.append(path)
    seen, unique = set(), []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _batch_executor(args: argparse.Namespace):
    if args.ray:
        from engine.session.ray_batch import ray_executor

        return ray_executor(args.ray, retries=args.retries)
    return None


def cmd_batch(args: argparse.Namespace) -> int:
    from engine.core.atomic import output_folder

    config = config_from_args(args)
    formats = parse_formats(args.formats)
    if args.jobs is not None and args.jobs < 1:
        raise MonocapError(f"--jobs {args.jobs}: give 1 or more worker processes")
    if args.retries < 0:
        raise MonocapError(f"--retries {args.retries}: give 0 or more")
    with output_folder(args.output) as out_dir:
        return _batch_into(args, config, formats, out_dir)


def _batch_into(args: argparse.Namespace, config: PipelineConfig, formats: tuple[str, ...], out_dir: Path) -> int:
    from engine.session.batch import BatchJob, default_jobs, plan_items, run_batch

    takes = bool(args.calibration or args.multi_camera)
    files = _multi_camera_takes(args) if takes else expand_inputs(args.inputs)
    if not files:
        raise MonocapError("batch: no video files found in " + " ".join(args.inputs))
    job = BatchJob(str(out_dir), config, formats, export_options_from_args(args),
                   settings={k: v for k, v in vars(args).items() if k != "inputs"}, people=people_wanted(args),
                   multi_camera=takes, calibration=str(Path(args.calibration).absolute()) if args.calibration else "")
    jobs = args.jobs or default_jobs()
    bar = ProgressBar(args.quiet, len(files), "batch")
    bar.set_description(f"batch ({'Ray' if args.ray else f'{jobs} jobs'})")

    def on_result(result, done, total):
        bar.set_description(f"[{done}/{total}] {Path(result.input).name}")
        bar.update_to(done)

    try:
        summary = run_batch(plan_items(files, folders=takes), job, jobs=jobs, executor=_batch_executor(args),
                            on_result=on_result, resume=not args.no_resume)
    finally:
        bar.close()
    _signals_change_nothing_now()
    skipped = f" ({len(summary.skipped)} already done, skipped)" if summary.skipped else ""
    print(f"batch: {len(summary.done) + len(summary.skipped)} of {len(files)} {'takes' if takes else 'videos'} "
          f"processed into {out_dir}"
          + skipped + (f"; {len(summary.failed)} failed:" if summary.failed else ""))
    for r in summary.results:
        for note in r.warnings:
            print(f"monocap: warning: {r.input}: {note}", file=sys.stderr)
    for r in summary.failed:
        print(f"  FAILED {r.input}: {r.error}")
    return 1 if summary.failed else 0


def _multi_camera_takes(args: argparse.Namespace) -> list[Path]:
    """The take folders to process, once the options several cameras take are checked (one line each)."""
    from engine.multiview.calibration_files import read_calibration
    from engine.session.batch_views import find_takes

    if args.hands or getattr(args, "face", False):
        raise MonocapError("batch: several cameras capture without --hands or --face, for now")
    if args.person:
        raise MonocapError("batch: --person N takes one camera's video; with several cameras, --people all "
                           "writes everyone's takes")
    if args.calibration:
        read_calibration(args.calibration)  # a missing or unreadable file is said once, before any take
    return find_takes(args.inputs)


def _signals_change_nothing_now() -> None:
    """The batch is over, its files and manifest final: Ctrl+C or SIGTERM from here to the exit
    (the interpreter's shutdown, where Python puts their default actions back) would only turn its
    exit status into a death by signal."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
