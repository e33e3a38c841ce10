"""A camera's intrinsics from photos or a video of a checkerboard or a ChArUco board (OpenCV's calibration).

    board = parse_board("4x7", square_mm=60)                   # or "charuco:7x5", marker_mm=30
    result = calibrate_intrinsics(board_images(["photos/"]), board, name="cam01")

A checkerboard counts only where it is seen whole; a ChArUco board (engine/multiview/charuco.py)
also where part of it is seen.

The corners are looked for on a copy of each image scaled to at most DETECT_MAX_PX on its longer
side (fast, and as reliable on large images), then refined on the full image. A video is sampled
at most MAX_VIDEO_VIEWS frames, spread over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from engine.core.errors import InputError
from engine.core.video_files import is_video_file
from engine.multiview.cameras import Camera
from engine.multiview.charuco import DEFAULT_DICTIONARY, BoardView, CharucoBoard

DETECT_MAX_PX = 1000
MAX_VIDEO_VIEWS = 40
MIN_VIEWS = 3  # photos of the board a calibration needs
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
FREE_K3_VIEWS = 15
COVERAGE_GRID = 4  # the image's coverage by the board is counted on a grid of this many cells a side
DEFAULT_BOARD = "4x7"  # a checkerboard of 5 x 8 squares (its inner corners), as docs/MULTICAMERA.md suggests
DEFAULT_SQUARE_MM = 60.0


@dataclass(frozen=True)
class Board:
    """A checkerboard: inner corners per row and column, square side in metres."""

    columns: int
    rows: int
    square_m: float

    @classmethod
    def parse(cls, text: str, square_mm: float) -> "Board":
        try:
            cols, rows = (int(v) for v in text.lower().replace("×", "x").split("x"))
        except ValueError:
            raise InputError(f"--board {text}: give the inner corners as COLUMNSxROWS, e.g. 4x7") from None
        if cols < 2 or rows < 2 or cols == rows and cols < 3:
            raise InputError(f"--board {text}: a checkerboard has at least 2x3 inner corners")
        if not square_mm > 0:
            raise InputError(f"--square-mm {square_mm}: the side of a square must be a positive length")
        return cls(cols, rows, square_mm / 1000.0)

    def object_points(self) -> np.ndarray:
        """(N, 3) the corners on the board's plane, metres, in OpenCV's corner order."""
        grid = np.mgrid[0:self.columns, 0:self.rows].T.reshape(-1, 2)
        return np.hstack([grid * self.square_m, np.zeros((len(grid), 1))]).astype(np.float32)

    @property
    def label(self) -> str:
        return f"{self.columns}x{self.rows}"

    def find(self, image_bgr: np.ndarray) -> BoardView | None:
        """Every inner corner (ids in OpenCV's corner order), or None when the whole board is not seen."""
        corners = find_corners(image_bgr, self)
        if corners is None:
            return None
        return BoardView(np.arange(len(corners)), self.object_points(), corners)


def parse_board(text: str, square_mm: float, marker_mm: float | None = None,
                dictionary: str = DEFAULT_DICTIONARY) -> Board | CharucoBoard:
    """`--board`: COLUMNSxROWS inner corners of a checkerboard, or charuco:COLUMNSxROWS squares."""
    if text.lower().startswith("charuco:"):
        return CharucoBoard.parse(text.split(":", 1)[1], square_mm, marker_mm, dictionary)
    return Board.parse(text, square_mm)


@dataclass(frozen=True)
class IntrinsicsResult:
    camera: Camera  # pose: identity (intrinsics only)
    rms_px: float  # OpenCV's reprojection error over every corner used
    used: list[str]  # images where the board was found
    missed: list[str] = field(default_factory=list)  # images where it was not
    coverage: float = 0.0  # share of the image's grid cells that held corners


def find_corners(image_bgr: np.ndarray, board: Board) -> np.ndarray | None:
    """(N, 2) the board's inner corners in pixels, or None when the whole board is not seen."""
    import cv2

    gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY) if image_bgr.ndim == 3 else image_bgr
    scale = min(1.0, DETECT_MAX_PX / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
    found, corners = cv2.findChessboardCorners(small, (board.columns, board.rows), flags)
    if not found:
        found, corners = cv2.findChessboardCornersSB(small, (board.columns, board.rows), cv2.CALIB_CB_NORMALIZE_IMAGE)
        if not found:
            return None
    corners = corners.astype(np.float32) / scale
    window = max(3, int(round(4 / scale)))
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 50, 0.01)
    corners = cv2.cornerSubPix(gray, corners.reshape(-1, 1, 2), (window, window), (-1, -1), criteria)
    return corners.reshape(-1, 2)


def board_images(paths: Iterable[str | Path]) -> Iterator[tuple[str, np.ndarray]]:
    """(name, image) for every photo in the given files and folders, and frames spread over videos."""
    import cv2

    for path in (Path(p) for p in paths):
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES or is_video_file(p))
            if not files:
                raise InputError(f"{path}: no photos or videos of the board in this folder")
            yield from board_images(files)
        elif not path.is_file():
            raise InputError(f"{path}: no such file or folder")
        elif is_video_file(path):
            cap = cv2.VideoCapture(str(path))
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            wanted = set(np.linspace(0, max(count - 1, 0), min(MAX_VIDEO_VIEWS, max(count, 1))).astype(int).tolist())
            index = 0
            while True:
                ok, image = cap.read()
                if not ok:
                    break
                if index in wanted:
                    yield f"{path.name}#{index}", image
                index += 1
            cap.release()
        else:
            image = cv2.imread(str(path))
            if image is None:
                raise InputError(f"{path}: not an image OpenCV can read")
            yield path.name, image


def calibrate_intrinsics(images: Iterable[tuple[str, np.ndarray]], board: Board | CharucoBoard,
                         name: str = "camera") -> IntrinsicsResult:
    """OpenCV's calibration (k1, k2, p1, p2, k3) from every image where the board is found (a
    checkerboard whole; a ChArUco board whole or in part). InputError (one line) when it is found in
    fewer than MIN_VIEWS or the images differ in size."""
    views, missed = [], []
    size = None
    for label, image in images:
        h, w = image.shape[:2]
        if size is None:
            size = (w, h)
        elif size != (w, h):
            raise InputError(f"{label}: {w}x{h}, but the first board image is {size[0]}x{size[1]}; "
                             "give one camera's images at one size")
        view = board.find(image)
        if view is None:
            missed.append(label)
        else:
            views.append((label, view))
    if size is None:
        raise InputError(f"{name}: no board images were given")
    return intrinsics_from_views(views, missed, size, board, name)


def intrinsics_from_views(views: list[tuple[str, BoardView]], missed: list[str], size: tuple[int, int],
                          board: Board | CharucoBoard, name: str) -> IntrinsicsResult:
    """The calibration from the board's views already found in one camera's images of `size` (w, h)."""
    import cv2

    w, h = size
    cells = np.zeros((COVERAGE_GRID, COVERAGE_GRID), dtype=bool)
    for _, view in views:
        gx = np.clip((view.image_points[:, 0] / w * COVERAGE_GRID).astype(int), 0, COVERAGE_GRID - 1)
        gy = np.clip((view.image_points[:, 1] / h * COVERAGE_GRID).astype(int), 0, COVERAGE_GRID - 1)
        cells[gy, gx] = True
    used = [label for label, _ in views]
    if len(used) < MIN_VIEWS:
        check = "--board (squares), --dictionary and --marker-mm" if isinstance(board, CharucoBoard) \
            else "--board (inner corners)"
        raise InputError(f"{name}: the {board.label} board was found in {len(used)} of "
                         f"{len(used) + len(missed)} images (at least {MIN_VIEWS} needed); check {check} "
                         "and show the board, flat and sharp, at several angles")
    object_points = [view.object_points.reshape(-1, 1, 3).astype(np.float32) for _, view in views]
    image_points = [view.image_points.reshape(-1, 1, 2).astype(np.float32) for _, view in views]
    # few views cannot pin the sixth-order radial term down: it is kept at 0 until there are enough
    flags = cv2.CALIB_FIX_K3 if len(used) < FREE_K3_VIEWS else 0
    rms, K, dist, _, _ = cv2.calibrateCamera(object_points, image_points, size, None, None, flags=flags)
    camera = Camera(name, size, K, dist.ravel()[:5], np.eye(3), np.zeros(3))
    return IntrinsicsResult(camera, float(rms), used, missed, float(cells.mean()))
