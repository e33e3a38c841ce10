"""`monocap`: process a video or a camera, or batch-process many videos, from the command line."""

from __future__ import annotations

import argparse
import glob
import math
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

from engine.core.native_log import keep_native_output_off_the_terminal
from engine.core.native_memory import limit_arenas


def _interrupt_on_sigterm() -> None:
    """SIGTERM stops a run as Ctrl+C does: temporaries removed, one line, exit 130."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def _exit_interrupted(signum=None, frame=None) -> None:
    """Ctrl+C while the engine loads: nothing is written yet, so leave at once with the documented 130.

    Raising KeyboardInterrupt there is not enough: an extension's set-up turns it into an ImportError, and one
    that lands in code run through the C API makes the interpreter kill itself with SIGINT at exit.
    """
    print("monocap: interrupted", file=sys.stderr)
    sys.stderr.flush()
    os._exit(130)


def _sigint_ignored_at_start() -> bool:
    """A launcher that ignores Ctrl+C (nohup, `&` in a script, a service manager) keeps it ignored: the run
    goes on as that launcher asked, and SIGTERM still stops it cleanly."""
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN


_LOADING = threading.current_thread() is threading.main_thread()
if _LOADING:  # the engine's imports take seconds (numpy, scipy, OpenCV): Ctrl+C there is one line too
    _before = (signal.getsignal(signal.SIGINT) if _sigint_ignored_at_start()
               else signal.signal(signal.SIGINT, _exit_interrupted),
               signal.signal(signal.SIGTERM, _exit_interrupted))
from engine.core.errors import MonocapError  # noqa: E402
from engine.capture.frames import VIDEO_SUFFIXES, CameraSource, open_source  # noqa: E402
from engine.lift.modes import DEFAULT_MODE, available_modes  # noqa: E402
from engine.animation.formats import (FORMATS, add_convert_parser, add_export_arguments,  # noqa: E402
                                      export_options_from_args, parse_formats, run_convert)
from engine.lift.camera import DEFAULT_FOV_DEG  # noqa: E402
from engine.lift.device import DEVICES  # noqa: E402
from engine.session.batch import DEFAULT_RAY_RETRIES  # noqa: E402
from engine.animation.take_info import add_inspect_parser, run_inspect  # noqa: E402
from engine.session.outputs import DEFAULT_FORMATS  # noqa: E402
from engine.session.people_files import process_to_files  # noqa: E402
from engine.session.people_takes import detector_for  # noqa: E402
from engine.session.pipeline import PipelineConfig  # noqa: E402
from engine.session.events import SessionEvents  # noqa: E402
from engine.session.session import Session  # noqa: E402
from engine.session.settings import DEFAULT_DEVICE, DEFAULT_SMOOTHING, pipeline_config  # noqa: E402
if _LOADING:
    signal.signal(signal.SIGINT, _before[0])
    signal.signal(signal.SIGTERM, _before[1])



def _add_run_settings(p: argparse.ArgumentParser) -> None:
    """The options every run shares (engine/session/settings.py checks their values)."""
    p.add_argument("--mode", default=DEFAULT_MODE, help=f"3D mode: {', '.join(available_modes())} (default: {DEFAULT_MODE})")
    p.add_argument("--checkpoint", default="", help="model file for network 3D modes (default: the bundled one)")
    p.add_argument("--device", default=DEFAULT_DEVICE, choices=DEVICES, help="where networks run")
    p.add_argument("--smoothing", type=float, default=DEFAULT_SMOOTHING,
                   help=f"smoothing strength 0..1 (default {DEFAULT_SMOOTHING})")
    p.add_argument("--fov", type=float, default=DEFAULT_FOV_DEG,
                   help=f"camera's horizontal field of view in degrees (default {DEFAULT_FOV_DEG:g})")
    p.add_argument("--no-root-motion", action="store_true", help="keep the subject over the origin")


def _add_pipeline_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="out", help="output folder (default: ./out)")
    _add_run_settings(p)
    p.add_argument("--hands", action="store_true",
                   help="track the fingers too: 15 finger joints per hand in every export (docs/HANDS.md)")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monocap", description="Motion capture from one ordinary camera.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("process", help="one video (or --camera N) -> take files")
    p.add_argument("video", nargs="?", help="video file or image folder")
    p.add_argument("--camera", type=int, help="capture live from camera N until Ctrl+C")
    _add_pipeline_arguments(p)
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
    _add_pipeline_arguments(b)
    add_convert_parser(sub)
    add_inspect_parser(sub)
    add_stream_parser(sub)
    return parser


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
                           detector=detector_for(wanted, max_people=args.max_people), person=args.person)


class _Bar:
    """A tqdm bar on a terminal; nothing when quiet or not a terminal."""

    def __init__(self, quiet: bool, total: int | None, desc: str):
        self._bar = None
        if not quiet:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="frame", disable=None, leave=True, dynamic_ncols=True)

    def update_to(self, done: int, total: int | None = None) -> None:
        if self._bar is not None:
            if total is not None and self._bar.total != total:
                self._bar.total = total
            self._bar.update(done - self._bar.n)

    def set_description(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_description(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text)


def cmd_process(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    formats = parse_formats(args.formats)
    if (args.video is None) == (args.camera is None):
        raise MonocapError("process: give a video file, or --camera N (not both)")
    from engine.core.atomic import output_folder

    with output_folder(args.output) as out_dir:
        return _process_into(args, config, formats, out_dir)


def _process_into(args: argparse.Namespace, config: PipelineConfig, formats: tuple[str, ...], out_dir: Path) -> int:
    if args.camera is not None:
        source = CameraSource(args.camera)
        stem = f"camera{args.camera}"
        _say(args, f"Capturing from {source.name}; press Ctrl+C to stop.")
    else:
        source = open_source(args.video)
        stem = Path(args.video).stem
    bar = _Bar(args.quiet, source.frame_count, stem)
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
    _say(args, f"{files.summary} -> " + ", ".join(str(p) for p in files.written))
    return 0


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files, folders (their videos, recursively) and glob patterns -> an ordered list of files."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
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

    files = expand_inputs(args.inputs)
    if not files:
        raise MonocapError("batch: no video files found in " + " ".join(args.inputs))
    job = BatchJob(str(out_dir), config, formats, export_options_from_args(args),
                   settings={k: v for k, v in vars(args).items() if k != "inputs"}, people=people_wanted(args))
    jobs = args.jobs or default_jobs()
    bar = _Bar(args.quiet, len(files), "batch")
    bar.set_description(f"batch ({'Ray' if args.ray else f'{jobs} jobs'})")

    def on_result(result, done, total):
        bar.set_description(f"[{done}/{total}] {Path(result.input).name}")
        bar.update_to(done)

    try:
        summary = run_batch(plan_items(files), job, jobs=jobs, executor=_batch_executor(args), on_result=on_result,
                            resume=not args.no_resume)
    finally:
        bar.close()
    skipped = f" ({len(summary.skipped)} already done, skipped)" if summary.skipped else ""
    print(f"batch: {len(summary.done) + len(summary.skipped)} of {len(files)} videos processed into {out_dir}"
          + skipped + (f"; {len(summary.failed)} failed:" if summary.failed else ""))
    for r in summary.results:
        for note in r.warnings:
            print(f"monocap: warning: {r.input}: {note}", file=sys.stderr)
    for r in summary.failed:
        print(f"  FAILED {r.input}: {r.error}")
    return 1 if summary.failed else 0


def add_stream_parser(sub) -> None:
    from engine.streaming.targets import VMC_DEFAULT_TARGET

    s = sub.add_parser("stream", help="one video (at its own rate) or --camera N -> a live VMC / JSON stream")
    s.add_argument("video", nargs="?", help="video file, played at its own rate")
    s.add_argument("--camera", type=int, help="stream live from camera N until Ctrl+C")
    s.add_argument("--vmc", default=VMC_DEFAULT_TARGET, metavar="HOST:PORT",
                   help=f"where to send the VMC protocol (default {VMC_DEFAULT_TARGET}; 'off' for none)")
    s.add_argument("--json", default="", metavar="HOST:PORT",
                   help="also send world joint positions as JSON over UDP, one datagram per frame")
    s.add_argument("--rate", type=float, default=0.0, help="send at most this many frames per second (default: every frame)")
    _add_run_settings(s)
    s.add_argument("--frames", type=int, default=None, help="stop after this many frames")
    s.add_argument("--every-frame", action="store_true",
                   help="a video: every frame, as fast as the engine goes (default: at its own rate, as a camera)")
    s.add_argument("--max-people", type=int, default=0,
                   help="people the detector looks for in each frame; the stream follows the largest, most central "
                        "one of the first frame with anyone in view (default 2, docs/PEOPLE.md)")
    s.add_argument("--hands", action="store_true",
                   help="track the hands too and stream the fingers (slower; docs/HANDS.md)")
    s.set_defaults(people="1", person=0)  # a stream follows one person
    s.add_argument("-q", "--quiet", action="store_true", help="no status line")


def cmd_stream(args: argparse.Namespace) -> int:
    import time

    from engine.session.events import SessionEvents
    from engine.session.session import Session
    from engine.streaming.channels import channels_from_targets
    from engine.streaming.sender import StreamSink
    from engine.streaming.sender_process import ProcessPoseStreamer

    config = config_from_args(args)
    if (args.video is None) == (args.camera is None):
        raise MonocapError("stream: give a video file, or --camera N (not both)")
    if not (args.rate >= 0 and math.isfinite(args.rate)):
        raise MonocapError(f"--rate {args.rate}: a rate must be 0 (every frame) or more")
    if args.frames is not None and args.frames < 1:
        raise MonocapError(f"--frames {args.frames}: give 1 or more frames")
    channels = channels_from_targets(vmc=args.vmc, json=args.json, warmup_s=config.live_calibration_s)
    targets = ", ".join(f"{ch.encoder.name} to {ch.target}" for ch in channels)
    source = CameraSource(args.camera) if args.camera is not None else open_source(args.video)
    tty = sys.stdout.isatty()
    started = time.monotonic()
    shown = {"frames": 0, "next": started + 1.0}

    with ProcessPoseStreamer(channels, max_fps=args.rate) as streamer:
        def on_pose(tracked) -> None:  # the session's tracking thread
            shown["frames"] += 1
            if not args.quiet and time.monotonic() >= shown["next"]:
                shown["next"] += 1.0
                print(f"\r{shown['frames']} frames, {streamer.stats().summary}" + ("" if tty else "\n"),
                      end="", flush=True)

        session = Session(source, config, SessionEvents(pose=on_pose))
        session.add_sink(StreamSink(streamer, source))
        _say(args, f"Streaming {source.name}: {targets}; press Ctrl+C to stop.")
        try:
            end = session.stream(realtime=not args.every_frame, max_frames=args.frames)
        except KeyboardInterrupt:
            end = None
    stats = streamer.stats()  # the streaming process's last figures come with its end
    if end is not None and end.error is not None:
        raise end.error
    _say(args, ("\n" if tty else "") + f"{shown['frames']} frames in {time.monotonic() - started:.1f} s; "
         f"{stats.packets_sent} packets sent, {stats.refused} not taken (no receiver), "
         f"{stats.dropped} poses dropped by the sender")
    return 0


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"monocap: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    _interrupt_on_sigterm()
    limit_arenas()
    warnings.showwarning = _one_line_warning
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("monocap: interrupted", file=sys.stderr)
        return 130
    try:
        handler = {"process": cmd_process, "batch": cmd_batch, "convert": run_convert,
                   "inspect": run_inspect,
                   "stream": cmd_stream}[args.command]
        return handler(args)
    except MonocapError as exc:
        print(f"monocap: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("monocap: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the user gets one line; --debug shows the traceback
        if _interrupted(exc):  # a library's clean-up failed after Ctrl+C (zipfile closing a half-written file)
            print("monocap: interrupted", file=sys.stderr)
            return 130
        if args.debug:
            raise
        print(f"monocap: internal error: {type(exc).__name__}: {_one_line(exc)} (run with --debug for details)",
              file=sys.stderr)
        return 3


def _interrupted(exc: BaseException | None) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__context__
    return False


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def entry() -> None:
    """The `monocap` program: the native libraries' console lines (TFLite, glog, FFmpeg) never reach the
    terminal, whenever they come, an interrupt's unwinding and the exit included; --debug keeps them."""
    if "--debug" not in sys.argv[1:]:
        keep_native_output_off_the_terminal()
    sys.exit(main())


if __name__ == "__main__":
    entry()
