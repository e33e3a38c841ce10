"""Keeps the native libraries' console chatter (TFLite, glog, OpenCV) off the user's terminal."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Points file descriptor 2 at /dev/null for the block; Python's own sys.stderr is kept."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def keep_native_output_off_the_terminal() -> None:
    """For the rest of the process: file descriptor 2, where native code writes from any thread at any
    moment, points at /dev/null, and Python's sys.stderr writes to the terminal through a copy of it.
    Left as it is where sys.stderr is not the process's own (something already captures it)."""
    stream = sys.stderr
    try:
        own = stream is sys.__stderr__ and stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        own = False
    if not own:
        return
    stream.flush()
    terminal = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    os.set_inheritable(terminal, False)
    sys.stderr = sys.__stderr__ = open(terminal, "w", encoding=stream.encoding, errors=stream.errors,
                                       buffering=1)


def quiet_opencv() -> None:
    import cv2

    try:
        cv2.setLogLevel(0)
    except AttributeError:
        pass
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
    os.environ.setdefault("OPENCV_VIDEOIO_DEBUG", "0")
