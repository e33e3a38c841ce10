"""Several cameras filmed at once, one video each, for placing them (engine/session/camera_placement.py):
the videos Place cameras and `monocap calibrate person|board` take, made without other software.

    recording = record_views([RigView("camera", 0), RigView("camera", 1)], "calibration/", seconds=30,
                             camera_size=(1280, 720), progress=show, cancel=stop)
    recording.paths, recording.rate                  # [calibration/cam01.avi, .../cam02.avi], frames a second

Each camera is read on its own thread keeping only its newest frame
(engine/capture/latest_frame.py); every frame of the first camera, each camera's newest frame is
written to its video (the views encoded at once, on a thread each), so frame i of every video is the
same moment, within one frame period (the person method takes that; a board is held still at each
place). Where encoding every view cannot keep up with the cameras, frames are skipped alike in every
video and the rate written in the files is above the one filmed: `Recording.rate` says what was
filmed. A video file stands in for a camera, played at its own rate, as in the Several cameras
dialog. The videos (MJPG .avi, at the first camera's rate) are written beside their names and
renamed into place when the recording ends (its time is up, a file standing in ends, or `cancel` is
set: Stop keeps what was recorded); a recording that fails, or holds no frame, leaves the folder's
earlier videos as they were.
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from engine.capture.latest_frame import LatestFrameGrabber
from engine.capture.paced_source import PacedSource
from engine.core.atomic import atomic_path, ensure_writable_dir
from engine.core.errors import InputError, OutputError
from engine.core.take import DEFAULT_FPS
from engine.session.camera_rig import RigView
from engine.session.pipeline import CancelFlag, Progress
from engine.session.sources import open_for_stream

DEFAULT_SECONDS = 30.0  # what docs/MULTICAMERA.md asks for: 20-30 s of the person or the board
MAX_SECONDS = 600.0
FIRST_FRAME_TIMEOUT_S = 10.0  # a camera that gives no picture in this long is named
FILES_START_NS = 200_000_000  # video files standing in for cameras start together this long after opening
CAMERA_FREE_WAIT_S = 2.0  # a camera in use (the app's live view letting go of it) is tried again this long


def view_names(count: int) -> list[str]:
    """cam01, cam02, ...: the names the lens calibration panel suggests, so lens files match by name."""
    return [f"cam{i + 1:02d}" for i in range(count)]


@dataclass(frozen=True)
class Recording:
    paths: list[Path]  # FOLDER/cam01.avi ..., in the views' order
    frames: int  # in each video
    seconds: float  # from the first frame written to the last

    @property
    def rate(self) -> float:
        """Frames written per second: the cameras' rate, or less where writing every view kept up at no more."""
        return (self.frames - 1) / self.seconds if self.seconds > 0 else 0.0


def record_views(views: list[RigView], folder: str | Path, seconds: float = DEFAULT_SECONDS,
                 camera_size: tuple[int, int] | None = None, progress: Progress | None = None,
                 cancel: CancelFlag | None = None) -> Recording:
    """Films the views at once for `seconds` (or until `cancel`). progress(whole seconds filmed, seconds)."""
    if len(views) < 2:
        raise InputError(f"recording for placing the cameras: pick two cameras or more ({len(views)} given)")
    if not 0 < seconds <= MAX_SECONDS:
        raise InputError(f"record {seconds:g} s: give between 1 and {MAX_SECONDS:g} s")
    folder = ensure_writable_dir(folder)
    names = view_names(len(views))
    finals = [folder / f"{name}.avi" for name in names]
    temps = [folder / f".{name}.recording.avi" for name in names]
    sources, grabbers, writers = [], [], []
    try:
        for view in views:
            sources.append(_open(view, camera_size, cancel))
        start_ns = time.monotonic_ns() + FILES_START_NS
        for source in sources:
            if isinstance(source, PacedSource):  # files stand in for cameras filming together: one clock
                source.clock_origin_ns = start_ns
        grabbers = [LatestFrameGrabber(s).start() for s in sources]
        fps = float(sources[0].fps or DEFAULT_FPS)
        with ThreadPoolExecutor(len(views), thread_name_prefix="monocap-record") as pool:  # the views encoded at once
            frames, filmed_s = _record(grabbers, [v.label for v in views], temps, writers, fps, seconds, pool,
                                       progress, cancel)
        for writer in writers:
            writer.release()
        if frames == 0:
            raise InputError("nothing was recorded: every camera must give a picture before the recording starts")
        for temp, final in zip(temps, finals):
            with atomic_path(final) as tmp:
                os.replace(temp, tmp)
        return Recording(finals, frames, filmed_s)
    finally:
        for grabber in grabbers:
            grabber.stop()
        for source in sources:
            with contextlib.suppress(Exception):
                source.close()
        for writer in writers:
            writer.release()
        for temp in temps:
            with contextlib.suppress(OSError):
                temp.unlink()


def _open(view: RigView, camera_size, cancel):
    if view.kind != "camera":
        return PacedSource(open_for_stream("file", view.path))  # a file films as a webcam would: at its own rate
    deadline = time.monotonic() + CAMERA_FREE_WAIT_S
    while True:
        try:
            return open_for_stream("camera", camera_index=view.camera_index, camera_size=camera_size)
        except InputError:
            if time.monotonic() > deadline or (cancel is not None and cancel.is_set()):
                raise
            time.sleep(0.2)


def _record(grabbers, labels, temps, writers, fps, seconds, pool, progress, cancel) -> tuple[int, float]:
    """(frames written, seconds from the first to the last)."""
    import cv2

    last = [None] * len(grabbers)
    frames, started, first_written = 0, time.monotonic(), None
    while not (cancel is not None and cancel.is_set()):
        now = time.monotonic()
        if first_written is not None and now - first_written >= seconds:
            break
        try:
            first = grabbers[0].take(timeout=0.5)
            newer = [first] + [g.take(timeout=0.0) for g in grabbers[1:]]
        except StopIteration:  # a file standing in for a camera ended
            break
        if first is None:
            _check_started(last, labels, started, first_view_waits=True)
            continue
        last = [n if n is not None else old for n, old in zip(newer, last)]
        if any(frame is None for frame in last):
            _check_started(last, labels, started)
            continue
        if not writers:
            for temp, frame in zip(temps, last):
                h, w = frame.image.shape[:2]
                writer = cv2.VideoWriter(str(temp), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
                writers.append(writer)
                if not writer.isOpened():
                    raise OutputError(f"{temp.parent}: cannot write a video there")
            first_written = now
        list(pool.map(lambda pair: pair[0].write(pair[1].image), zip(writers, last)))
        frames += 1
        if progress is not None:
            progress(int(now - first_written), int(round(seconds)))
    return frames, (now - first_written) if first_written is not None else 0.0


def _check_started(last, labels, started: float, first_view_waits: bool = False) -> None:
    if time.monotonic() - started < FIRST_FRAME_TIMEOUT_S:
        return
    silent = [label for v, (label, frame) in enumerate(zip(labels, last)) if frame is None and (v or first_view_waits)]
    if silent:
        raise InputError(f"{', '.join(silent)}: no picture in {FIRST_FRAME_TIMEOUT_S:g} s; is it connected, and not "
                         "used by another program?")
