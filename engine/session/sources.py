"""The source a front end asks a session to stream: a camera by index (at a size, when given), a
video file, or a folder of images.

    session = Session(lambda: open_for_stream("camera", camera_index=0, camera_size=(1280, 720)), config, events)
"""

from __future__ import annotations

from pathlib import Path

from engine.capture.frames import CameraSource, FrameSource, VideoFileSource, open_source


def open_for_stream(kind: str, path: str = "", camera_index: int = 0,
                    camera_size: tuple[int, int] | None = None) -> FrameSource:
    """kind "camera": camera `camera_index`; any other kind: the file or folder at `path`.
    InputError (one line) when it cannot be opened."""
    if kind == "camera":
        width, height = camera_size or (None, None)
        return CameraSource(camera_index, width, height)
    return VideoFileSource(path) if Path(path).is_file() else open_source(path)
