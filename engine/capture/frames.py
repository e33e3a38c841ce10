"""Frame sources: a video file, a camera, or a folder of images, behind one interface."""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from engine.core.errors import InputError
from engine.core.take import DEFAULT_FPS
from engine.core.video_files import VIDEO_SUFFIXES  # noqa: F401 - still importable from here

MIN_VIDEO_FPS, MAX_VIDEO_FPS = 1.0, 1000.0  # header rates outside this are taken as damaged
MAX_FRAME_SIDE = 8192
MAX_FRAME_PIXELS = MAX_FRAME_SIDE**2  # 8K video and 360° footage fit; a frame beyond needs gigabytes to process
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True, eq=False)
class Frame:
    """image: (H, W, 3) uint8 BGR. timestamp_ns: from the start of the source."""

    index: int
    timestamp_ns: int
    image: np.ndarray


class FrameSource(Protocol):
    name: str
    fps: float
    is_live: bool

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...

    @property
    def frame_count(self) -> int | None: ...


def _cv2():
    import cv2

    from engine.core.native_log import quiet_opencv

    quiet_opencv()
    return cv2


class VideoFileSource:
    """Every frame of a video file, in order. Raises InputError for files that are not video."""

    is_live = False
    PREFETCH = 4

    def __init__(self, path: str | Path):
        cv2 = _cv2()
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.exists():
            raise InputError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a folder, not a video (use `monocap batch` for folders)")
        _check_readable(self.path)
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise InputError(f"{self.path}: cannot be opened as a video (unsupported or not a video file)")
        self._check_frame_size(cv2)
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise InputError(f"{self.path}: contains no readable video frames")
        self._first = first
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and MIN_VIDEO_FPS <= fps <= MAX_VIDEO_FPS else DEFAULT_FPS
        self.notes: list[str] = []  # what the user should know about this file, for the front end to say
        if fps and self.fps != fps:
            self.notes.append(f"the header's frame rate {fps:g} fps is not plausible for a video; "
                              f"timing it at {DEFAULT_FPS:g} fps")
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._count = count if count > 0 else None
        self.image_size = (first.shape[1], first.shape[0])
        self.decode_errors = 0

    def _check_frame_size(self, cv2) -> None:
        """InputError when the container says its frames are larger than MAX_FRAME_PIXELS, before
        any is decoded."""
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        if width * height > MAX_FRAME_PIXELS:
            self._cap.release()
            raise InputError(f"{self.path}: its frames are {width}x{height} pixels, more than a frame may have "
                             f"({MAX_FRAME_SIDE}x{MAX_FRAME_SIDE}); scale the video down first")

    @property
    def frame_count(self) -> int | None:
        return self._count

    def __iter__(self) -> Iterator[Frame]:
        """Decodes on a helper thread a few frames ahead (bounded), so decoding overlaps detection."""
        first, self._first = self._first, None
        if first is None:
            raise RuntimeError("a video source can be iterated once")
        frames: queue.Queue = queue.Queue(maxsize=self.PREFETCH)
        self._stop = threading.Event()
        reader = threading.Thread(target=self._decode_into, args=(first, frames), daemon=True, name="video-decode")
        reader.start()
        index = 0
        try:
            while True:
                image = frames.get()
                if image is None:
                    break
                yield Frame(index, int(round(index * 1e9 / self.fps)), image)
                index += 1
        finally:
            self._stop.set()
            while reader.is_alive():
                try:
                    frames.get_nowait()
                except queue.Empty:
                    reader.join(timeout=0.05)
        if self._count is not None and index < self._count * 0.9:
            self.decode_errors = self._count - index

    def _decode_into(self, first: np.ndarray, frames: queue.Queue) -> None:
        image = first
        while image is not None and not self._stop.is_set():
            frames.put(image)
            ok, image = self._cap.read()
            if not ok:
                image = None
        frames.put(None)

    def close(self) -> None:
        self._cap.release()


def _check_readable(path: Path) -> None:
    """InputError saying why a file cannot be read (permission, ...) before a decoder would call it
    unsupported."""
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


class CameraSource:
    """A live camera. Timestamps are wall-clock since the first frame, whose time.monotonic_ns()
    is `clock_origin_ns`."""

    is_live = True

    def __init__(self, index: int = 0, width: int | None = None, height: int | None = None, backend: int | None = None):
        cv2 = _cv2()
        self.index = index
        self.name = f"camera {index}"
        from engine.core.native_log import native_stderr_silenced

        with native_stderr_silenced():
            self._cap = cv2.VideoCapture(index) if backend is None else cv2.VideoCapture(index, backend)
        if not self._cap.isOpened():
            self._cap.release()
            raise InputError(f"camera {index}: not found or already in use (try another index, or open a video file)")
        if width and height:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1.0 <= fps <= 240.0 else DEFAULT_FPS
        self._stopped = False
        self.clock_origin_ns: int | None = None

    @property
    def frame_count(self) -> int | None:
        return None

    def __iter__(self) -> Iterator[Frame]:
        start = None
        index = 0
        failures = 0
        while not self._stopped:
            ok, image = self._cap.read()
            if not ok or image is None:
                failures += 1
                if failures >= 30:
                    raise InputError(f"{self.name}: stopped sending frames (unplugged?)")
                time.sleep(0.01)
                continue
            failures = 0
            now = time.monotonic_ns()
            if start is None:
                start = self.clock_origin_ns = now
            yield Frame(index, now - start, image)
            index += 1

    def stop(self) -> None:
        self._stopped = True

    def close(self) -> None:
        self._stopped = True
        self._cap.release()


class ImageFolderSource:
    """Images in a folder, sorted by name, played at `fps`."""

    is_live = False

    def __init__(self, folder: str | Path, fps: float = DEFAULT_FPS):
        self.path = Path(folder)
        self.name = self.path.name
        self.fps = fps
        if not self.path.is_dir():
            raise InputError(f"{self.path}: not a folder")
        self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise InputError(f"{self.path}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
        self.decode_errors = 0

    @property
    def frame_count(self) -> int | None:
        return len(self.files)

    def __iter__(self) -> Iterator[Frame]:
        cv2 = _cv2()
        for index, file in enumerate(self.files):
            image = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if image is None:
                raise InputError(f"{file}: cannot be read as an image")
            yield Frame(index, int(round(index * 1e9 / self.fps)), image)

    def close(self) -> None:
        pass


def open_source(spec: str | Path | int, fps: float = DEFAULT_FPS) -> FrameSource:
    """A camera index (int or digits), an image folder, or a video file."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CameraSource(int(spec))
    path = Path(spec)
    if path.is_dir():
        return ImageFolderSource(path, fps)
    return VideoFileSource(path)
