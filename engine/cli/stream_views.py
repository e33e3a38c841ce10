"""`monocap stream` with several calibrated cameras: `--camera 0 --camera 1 --calibration FILE`, or
several videos played at their own rate standing in for them. The cameras run as one
`session.camera_rig.CameraRigSession` (a detector per view, the person triangulated, the causal
temporal stage) and its fused poses go to the same streams as one camera's (engine/cli/stream.py
sends them; docs/MULTICAMERA.md)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable

from engine.core.errors import MonocapError
from engine.session.camera_rig import CameraRigSession, RigView, rig_for_views
from engine.session.events import SessionEnd, SessionEvents, SessionInfo
from engine.session.pipeline import PipelineConfig

# events -> (the session the stream's sink is added to, its name, what runs it until it ends)
StreamStart = Callable[[SessionEvents], tuple[object, str, Callable[[], SessionEnd]]]


def rig_views(args: argparse.Namespace, videos: list[str], cameras: list[int]) -> list[RigView]:
    """The views to stream, checked before anything starts: one line (MonocapError) for what cannot run."""
    if videos and cameras:
        raise MonocapError("stream: give several videos, or several --camera N (not both)")
    if not args.calibration:
        what = "videos" if videos else "--camera"
        raise MonocapError(f"stream: several {what} need --calibration FILE (their cameras' calibration; "
                           "`monocap calibrate` makes one)")
    if args.hands or getattr(args, "face", False):
        raise MonocapError("stream: several cameras stream one person's body, without --hands or --face, for now")
    if args.every_frame:
        raise MonocapError("stream: --every-frame is for one video; several cameras' videos play at their own rate")
    for video in videos:
        if not Path(video).is_file():
            raise MonocapError(f"{video}: no such video file")
    views = [RigView("file", path=v) for v in videos] or [RigView("camera", c) for c in cameras]
    rig_for_views(views, args.calibration)  # the calibration read, and as many cameras as views
    return views


def rig_stream_start(args: argparse.Namespace, config: PipelineConfig, views: list[RigView]) -> StreamStart:
    """How `monocap stream` starts the cameras once its streams are up: the session, with the notes
    it has for the user (a decoder's crop, a camera that has not seen the person) printed once each."""
    said: set[str] = set()

    def on_opened(info: SessionInfo) -> None:
        for note in info.notes:
            if note not in said:
                said.add(note)
                print(f"monocap: note: {note}", file=sys.stderr, flush=True)

    def start(events: SessionEvents) -> tuple[CameraRigSession, str, Callable[[], SessionEnd]]:
        session = CameraRigSession(views, args.calibration, config, replace(events, opened=on_opened))
        return session, session.name, lambda: session.stream(max_frames=args.frames)

    return start
