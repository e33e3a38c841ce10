"""The desktop bundle's one executable: the GUI with no arguments, the command line with a subcommand.

    monocap                         opens the GUI (app.main:main)
    monocap --smoke-test [SECONDS]  opens the GUI, closes it after SECONDS (default 3), exits 0
                                    when a window came up (the bundle's own check; see docs/BUNDLE.md)
    monocap process|batch|convert … the command line (engine.cli:main), exactly as `monocap` from pip
    monocap --help | --version
    monocap --self-check            loads every native piece (the lifter, mediapipe, OpenCV, scipy) and
                                    runs each once; for checking a bundle after trimming it

PyInstaller freezes this file (build.spec). It lives outside engine/ because it imports app, and
engine never imports app. It runs from a source checkout as well: `python -m desktop.launcher`.
"""

from __future__ import annotations

import logging
import os
import sys
import time

GUI_FLAGS = ("--gui",)
SMOKE_FLAG = "--smoke-test"
SMOKE_ENV = "MONOCAP_SMOKE_TEST"  # seconds; app.main is expected to honour it (docs/BUNDLE.md)
DEFAULT_SMOKE_SECONDS = 3.0

# Exit codes of the launcher itself (the command line keeps engine.cli's: 0 ok, 1 some batch
# inputs failed, 2 bad input, 3 internal error, 130 interrupted).
EXIT_NO_GUI = 4  # the app package is missing from this build
EXIT_SMOKE_NO_WINDOW = 5  # smoke test: no visible window when the timer fired
EXIT_SMOKE_ERROR = 6  # smoke test: an unhandled Python exception while the GUI ran

log = logging.getLogger("monocap.launcher")


def _version() -> str:
    try:
        from engine import __version__

        return __version__
    except Exception:  # noqa: BLE001 - --version must never fail
        return "unknown"


def _prepare_environment() -> None:
    """Settings for the libraries that must be in place before they are imported."""
    # mediapipe's vision package imports matplotlib.pyplot (drawing utilities we never call):
    # a backend without a GUI toolkit keeps it from looking for Tk or Qt, and its config/cache
    # folder goes to our cache folder instead of ~/.matplotlib.
    os.environ.setdefault("MPLBACKEND", "Agg")
    # (In the bundle PyInstaller's matplotlib run-time hook has already pointed it at a temporary
    # folder it deletes at exit; ours persists, so matplotlib's font list is built once.)
    if "MPLCONFIGDIR" not in os.environ or getattr(sys, "frozen", False):
        from .user_dirs import cache_dir, ensure

        folder = ensure(cache_dir() / "matplotlib")
        if folder is not None:
            os.environ["MPLCONFIGDIR"] = str(folder)
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _defuse_opencv_qt() -> None:
    """opencv-python's wheel points QT_QPA_PLATFORM_PLUGIN_PATH at its own Qt 5 plugins on import,
    which stops PySide6 (Qt 6) from loading its platform plugin. Import cv2 first, then undo that."""
    before = {k: os.environ.get(k) for k in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")}
    try:
        import cv2  # noqa: F401
    except Exception:  # noqa: BLE001 - the GUI reports a missing engine dependency itself
        return
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _print_help() -> None:
    print("Monocap: motion capture from one ordinary camera.\n\n"
          "  monocap                  open the program (GUI)\n"
          "  monocap COMMAND ...      run the command line; COMMAND is one of those below\n"
          "  monocap --version        print the version\n")
    from engine.cli import build_parser

    build_parser().print_help()


def _install_smoke_fallback(seconds: float, outcome: dict) -> None:
    """For an app.main that ignores MONOCAP_SMOKE_TEST: when the app enters its event loop, a timer
    checks that a window is visible, closes the windows and ends the loop. Wraps QApplication.exec."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    original_exec = QApplication.exec

    def finish() -> None:
        app = QApplication.instance()
        visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        outcome["windows"] = [type(w).__name__ + ":" + (w.windowTitle() or "") for w in visible]
        log.info("smoke test: visible windows %s", outcome["windows"])
        for w in visible:
            w.close()
        app.exit(0 if visible else EXIT_SMOKE_NO_WINDOW)

    def exec_with_timer(*args):
        if not outcome.get("timer"):
            outcome["timer"] = True
            QTimer.singleShot(int(seconds * 1000), finish)
        if args and isinstance(args[0], QApplication):
            args = args[1:]
        return original_exec(*args)

    QApplication.exec = exec_with_timer
    if hasattr(QApplication, "exec_"):
        QApplication.exec_ = exec_with_timer


def run_gui(smoke_seconds: float | None = None) -> int:
    _defuse_opencv_qt()
    outcome: dict = {}
    errors: list[str] = []
    if smoke_seconds is not None:
        os.environ[SMOKE_ENV] = f"{smoke_seconds:g}"
        previous_hook = sys.excepthook

        def record(exc_type, exc, tb):
            errors.append(f"{exc_type.__name__}: {exc}")
            log.error("smoke test: unhandled exception", exc_info=(exc_type, exc, tb))
            previous_hook(exc_type, exc, tb)

        sys.excepthook = record
    try:
        import app.main as app_main
    except ModuleNotFoundError as exc:
        if exc.name in ("app", "app.main"):
            print("monocap: this build has no GUI (the app package is missing).\n"
                  "The command line works: monocap process VIDEO -o FOLDER, monocap batch VIDEOS... "
                  "(monocap --help lists everything).", file=sys.stderr)
            log.error("no GUI: %s", exc)
            return EXIT_NO_GUI
        raise
    if smoke_seconds is not None:
        _install_smoke_fallback(smoke_seconds, outcome)
    started = time.monotonic()
    code = app_main.main()
    code = 0 if code is None else int(code)
    if smoke_seconds is not None:
        log.info("smoke test: GUI ran %.1f s, exit %s, windows %s", time.monotonic() - started, code,
                 outcome.get("windows"))
        if errors:
            print("monocap: smoke test: unhandled exception(s): " + "; ".join(errors), file=sys.stderr)
            return EXIT_SMOKE_ERROR
        if code == 0:
            print(f"monocap: smoke test passed; windows: {', '.join(outcome.get('windows') or ['(closed by the app)'])}")
    return code


def self_check() -> int:
    """Runs each heavy dependency once, the way the engine uses it. Prints one line per check."""

    failures = 0

    def check(name, fn):
        nonlocal failures
        try:
            detail = fn()
            print(f"ok    {name}: {detail}")
        except Exception as exc:  # noqa: BLE001 - report and go on
            failures += 1
            print(f"FAIL  {name}: {type(exc).__name__}: {exc}")

    def networks_check():
        import numpy as np

        from engine.lift.network import load_model, predict_formats

        model = load_model()  # the shipped lifter, exported (resources/models/lifter.npz)
        rng = np.random.default_rng(0)
        kp = rng.uniform(100, 400, (2, 33, 2))
        out = predict_formats(model, kp, np.ones((2, 33)), rng.normal(0, 0.3, (2, 33, 3)), causal=False)
        if not all(np.isfinite(v).all() for v in out.values()):
            raise ValueError("the lifter gave non-finite joints")
        torch = "torch loaded" if "torch" in sys.modules else "no torch"
        return f"lifter: {len(out)} skeleton formats in numpy ({torch})"

    def video_check():
        from engine.capture.frames import open_source
        from engine.core.resources import sample_clip

        source = open_source(sample_clip())
        try:
            frame = next(iter(source))
        finally:
            source.close()
        return f"{sample_clip().name}: {source.frame_count} frames, first {frame.image.shape}"

    def detector_check():
        import numpy as np

        from engine.capture.detector import PoseDetector

        with PoseDetector() as detector:
            detector.detect(np.zeros((240, 320, 3), np.uint8), 0)
        return "pose model loaded and run"

    def scipy_check():
        import numpy as np
        from scipy.signal import butter, sosfiltfilt

        y = sosfiltfilt(butter(2, 0.2, output="sos"), np.sin(np.linspace(0, 10, 100)))
        return f"filtfilt ok ({y.shape[0]} samples)"

    check("networks", networks_check)
    check("video", video_check)
    check("detector", detector_check)
    check("scipy", scipy_check)
    print("self-check " + ("passed" if not failures else f"FAILED ({failures})"))
    return 0 if not failures else 1


def _smoke_seconds(argv: list[str]) -> float:
    if len(argv) > 1:
        try:
            return max(0.5, float(argv[1]))
        except ValueError:
            pass
    return DEFAULT_SMOKE_SECONDS


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # macOS adds a process serial number when the bundle is opened from Finder.
    argv = [a for a in argv if not a.startswith("-psn_")]
    _prepare_environment()
    from .user_dirs import configure_logging

    log_file = configure_logging()
    log.info("start %s, version %s, frozen %s, argv %s, log %s", sys.executable, _version(),
             bool(getattr(sys, "frozen", False)), argv, log_file)
    try:
        if not argv or argv[0] in GUI_FLAGS:
            code = run_gui()
        elif argv[0] == SMOKE_FLAG:
            code = run_gui(_smoke_seconds(argv))
        elif argv[0] == "--self-check":
            code = self_check()
        elif argv[0] in ("-V", "--version"):
            print(f"monocap {_version()}")
            code = 0
        elif argv[0] in ("-h", "--help"):
            _print_help()
            code = 0
        else:
            from engine.cli import ignore_interrupts_from_now
            from engine.cli import main as cli_main
            from engine.core.native_log import keep_native_output_off_the_terminal

            if "--debug" not in argv:
                keep_native_output_off_the_terminal()
            code = cli_main(argv)
            ignore_interrupts_from_now()  # what the run wrote is whole; it leaves with its own status
    except SystemExit as exc:  # argparse's --help / usage errors
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except Exception:
        log.exception("unhandled error")
        raise
    log.info("exit %s", code)
    return code


if __name__ == "__main__":
    import multiprocessing

    # batch's worker processes start this executable again: let them run their task, not the app
    multiprocessing.freeze_support()
    # PyInstaller runs this file as a script: make the package-relative imports work there too.
    if __package__ in (None, ""):
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from desktop.launcher import main as _main

        sys.exit(_main())
    sys.exit(main())
