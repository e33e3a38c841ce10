"""Entry point of the desktop app: `monocap-app` (or `python -m app.main`)."""

from __future__ import annotations

import os
import sys


def prepare_qt_environment() -> None:
    """OpenCV's non-headless wheel points Qt at its own plugins (cv2/qt); PySide6 must load its own."""
    for key in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        if "cv2" in os.environ.get(key, ""):
            os.environ.pop(key, None)
    # Mesa's software renderer (llvmpipe, when there is no GPU driver) draws our small scene faster
    # in the GUI thread itself than by handing it to rasteriser threads that compete with the engine
    os.environ.setdefault("LP_NUM_THREADS", "0")
    # Qt Multimedia lists cameras; its probing of optional codec libraries is noise for users
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")


def create_application(argv: list[str] | None = None):
    prepare_qt_environment()
    from engine.core.native_memory import limit_arenas

    limit_arenas()  # before the engine's threads start: the app opens source after source
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # pyqtgraph's GL items keep one shader program per class: GL views must share contexts
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QApplication(argv if argv is not None else sys.argv)
    # the engine thread runs Python between native calls; a short switch interval hands the GIL
    # back to the GUI thread sooner (the default 5 ms shows as stutter when both are busy)
    sys.setswitchinterval(0.001)
    app.setOrganizationName("Monocap")
    app.setApplicationName("Monocap")
    from engine import __version__

    app.setApplicationVersion(__version__)
    return app


def dispose_window(window) -> None:
    """Stops the window's work and deletes it now, while Qt and the GL context are still alive
    (a GL window left for the interpreter's final garbage collection can crash on exit)."""
    from PySide6.QtCore import QCoreApplication, QEvent

    window.shutdown()
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="monocap-app", description="Monocap desktop app")
    parser.add_argument("video", nargs="?", help="a video file to open")
    parser.add_argument("--no-autostart", action="store_true", help="do not open a camera or the sample clip at start")
    args, qt_args = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    app = create_application([sys.argv[0]] + qt_args)
    from .main_window import MainWindow

    window = MainWindow(autostart=not args.no_autostart and not args.video)
    window.show()
    # Ctrl+C or SIGTERM in the terminal closes the window the normal way (a take being recorded is saved)
    import signal

    from PySide6.QtCore import QTimer

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: window.close())
    wake = QTimer()
    wake.timeout.connect(lambda: None)  # lets Python run its signal handlers while Qt's loop waits
    wake.start(250)
    if args.video:
        window.open_file(args.video)
    code = app.exec()
    dispose_window(window)
    return code


if __name__ == "__main__":
    sys.exit(main())
