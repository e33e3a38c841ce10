"""`monocap`: process a video or a camera, or batch-process many videos, from the command line.

Each command is a module here (`process`, `batch`, `convert`, `inspect_take`, `stream`) with its
parser and its run; this module puts them under one parser and turns what goes wrong into one line
and an exit status."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings


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
from engine.cli.batch import add_batch_parser, cmd_batch  # noqa: E402
from engine.cli.calibrate import add_calibrate_parser, cmd_calibrate  # noqa: E402
from engine.cli.convert import add_convert_parser, run_convert  # noqa: E402
from engine.cli.inspect_take import add_inspect_parser, run_inspect  # noqa: E402
from engine.cli.process import add_process_parser, cmd_process  # noqa: E402
from engine.cli.stream import add_stream_parser, cmd_stream  # noqa: E402
from engine.core.errors import MonocapError  # noqa: E402
from engine.core.native_log import keep_native_output_off_the_terminal  # noqa: E402
from engine.core.native_memory import limit_arenas  # noqa: E402

if _LOADING:
    signal.signal(signal.SIGINT, _before[0])
    signal.signal(signal.SIGTERM, _before[1])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monocap", description="Motion capture from one ordinary camera.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True)
    add_process_parser(sub)
    add_batch_parser(sub)
    add_convert_parser(sub)
    add_inspect_parser(sub)
    add_stream_parser(sub)
    add_calibrate_parser(sub)
    return parser


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
        return _interrupted_line()
    try:
        handler = {"process": cmd_process, "batch": cmd_batch, "convert": run_convert,
                   "inspect": run_inspect,
                   "stream": cmd_stream, "calibrate": cmd_calibrate}[args.command]
        return handler(args)
    except MonocapError as exc:
        print(f"monocap: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return _interrupted_line()
    except Exception as exc:
        if _interrupted(exc):  # a library's clean-up failed after Ctrl+C (zipfile closing a half-written file)
            return _interrupted_line()
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
    try:
        if "--debug" not in sys.argv[1:]:
            keep_native_output_off_the_terminal()
        code = main()
    except KeyboardInterrupt:  # outside main's own handling: just before it, or between its end and the lines below
        code = _interrupted_line()
    ignore_interrupts_from_now()
    if code == 130:  # an interrupt that passed through native code would make the interpreter end itself by SIGINT
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


def ignore_interrupts_from_now() -> None:
    """The run is over and what it wrote is whole: an interrupt now is ignored while the interpreter exits
    (which resets Python's handlers to the default, ending the process without its line or status; the
    disposition is the whole process's, whichever thread a signal is delivered to)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _interrupted_line() -> int:
    print("monocap: interrupted", file=sys.stderr)
    return 130
