"""A camera's lens calibrated as the user moves a board (a checkerboard or a ChArUco board) in front
of it, for a front end's guided panel: every frame's corners, the views kept, the image's coverage
and the reprojection error so far, then the camera's calibration file.

    guide = GuidedIntrinsics(parse_board("4x7", square_mm=60), name="cam01")
    end = guide.run(open_for_stream("camera", camera_index=0), on_step=show, cancel=flag)
    guide.save("cam01.toml")         # Monocap's TOML; InputError (one line) without enough views

The maths is engine/multiview/board.py's: the corners by the board's `find`, the calibration by
`intrinsics_from_views` over the views kept (what `monocap calibrate intrinsics` computes from the
same images). A frame is kept when the board is seen (a checkerboard whole, a ChArUco board at
least in part) and has moved from every view kept (KEEP_MOVE of the image's diagonal, on average
over the corners both saw) or turned (KEEP_TURN), at most MAX_VIEWS of them; only their corners
are kept. A camera keeps only its newest frame; a video file plays at its own rate, as a camera
filming it would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from engine.capture.frames import FrameSource
from engine.capture.latest_frame import LatestFrameGrabber
from engine.capture.paced_source import PacedSource
from engine.core.errors import InputError
from engine.multiview.board import (
    COVERAGE_GRID,
    DEFAULT_BOARD,
    DEFAULT_SQUARE_MM,
    MIN_VIEWS,
    Board,
    IntrinsicsResult,
    intrinsics_from_views,
    parse_board,
)
from engine.multiview.calibration_files import write_calibration
from engine.multiview.cameras import Rig
from engine.multiview.charuco import BoardView, CharucoBoard
from engine.session.pipeline import CancelFlag

KEEP_MOVE = 0.06  # a view is kept when its corners moved this share of the image's diagonal from every view kept
KEEP_TURN = 0.1  # ... or when its shape changed this much (corners about their middle, in units of its size)
MAX_VIEWS = 30

MIN_SHARED = 4  # corners two views must share to be compared (fewer: another part of a ChArUco board)

__all__ = ["Board", "BoardStep", "CharucoBoard", "GuidedIntrinsics", "COVERAGE_GRID", "DEFAULT_BOARD", "DEFAULT_SQUARE_MM",
           "MIN_VIEWS", "parse_board"]


@dataclass(frozen=True, eq=False)
class BoardStep:
    """One frame looked at. image: (H, W, 3) uint8 BGR; corners (N, 2) px or None when the board is
    not seen; cells (COVERAGE_GRID, COVERAGE_GRID) bool: the grid cells the views kept cover;
    rms_px: the calibration's reprojection error (None before MIN_VIEWS views); focal_px (fx, fy)."""

    index: int
    image: np.ndarray
    corners: np.ndarray | None
    kept: bool
    views: int
    frames: int
    cells: np.ndarray
    rms_px: float | None
    focal_px: tuple[float, float] | None

    @property
    def coverage(self) -> float:
        return float(self.cells.mean())


class GuidedIntrinsics:
    def __init__(self, board: Board | CharucoBoard, name: str = "camera"):
        self.board = board
        self.name = name
        self.result: IntrinsicsResult | None = None
        self.frames = 0  # frames looked at
        self._kept: list[tuple[str, BoardView]] = []  # (label, the corners found) of each view kept
        self._size: tuple[int, int] | None = None
        self._cells = np.zeros((COVERAGE_GRID, COVERAGE_GRID), dtype=bool)

    @property
    def views(self) -> int:
        return len(self._kept)

    def push(self, image_bgr: np.ndarray) -> BoardStep:
        """Looks for the board in one frame; keeps it when it shows the board somewhere new, then
        calibrates again on every view kept."""
        h, w = image_bgr.shape[:2]
        if self._size is None:
            self._size = (w, h)
        elif self._size != (w, h):
            raise InputError(f"{self.name}: a frame of {w}x{h} after frames of {self._size[0]}x{self._size[1]}; "
                             "calibrate one camera at one size")
        self.frames += 1
        view = self.board.find(image_bgr)
        corners = None if view is None else view.image_points
        kept = view is not None and len(self._kept) < MAX_VIEWS and self._is_new(view, np.hypot(w, h))
        if kept:
            self._kept.append((f"frame {self.frames}", view))
            gx = np.clip((corners[:, 0] / w * COVERAGE_GRID).astype(int), 0, COVERAGE_GRID - 1)
            gy = np.clip((corners[:, 1] / h * COVERAGE_GRID).astype(int), 0, COVERAGE_GRID - 1)
            self._cells[gy, gx] = True
            if len(self._kept) >= MIN_VIEWS:
                self.result = intrinsics_from_views(self._kept, [], self._size, self.board, self.name)
        r = self.result
        return BoardStep(self.frames, image_bgr, corners, kept, len(self._kept), self.frames, self._cells.copy(),
                         None if r is None else r.rms_px,
                         None if r is None else (float(r.camera.K[0, 0]), float(r.camera.K[1, 1])))

    def _is_new(self, view: BoardView, diagonal: float) -> bool:
        """Moved across the image, or turned (the corners' shape about their middle changed), since
        every view kept, over the corners both saw (few in common: another part of the board)."""
        for _, seen in self._kept:
            common, a, b = np.intersect1d(view.ids, seen.ids, return_indices=True)
            if len(common) < MIN_SHARED:
                continue
            here, there = view.image_points[a], seen.image_points[b]
            moved = np.linalg.norm(here - there, axis=1).mean() > KEEP_MOVE * diagonal
            turned = np.sqrt(((_shape(here) - _shape(there)) ** 2).sum(axis=1).mean()) > KEEP_TURN
            if not (moved or turned):
                return False
        return True

    def run(self, source: FrameSource, on_step: Callable[[BoardStep], None], cancel: CancelFlag,
            max_frames: int | None = None) -> int:
        """Looks at the source's newest frame, again and again, until it ends or `cancel`; -> frames looked at."""
        if not source.is_live:
            source = PacedSource(source)
        grabber = LatestFrameGrabber(source).start()
        try:
            while not cancel.is_set() and (max_frames is None or self.frames < max_frames):
                try:
                    frame = grabber.take(0.1)
                except StopIteration:
                    break
                if frame is not None:
                    on_step(self.push(frame.image))
                else:
                    time.sleep(0.001)
        finally:
            grabber.stop()
            source.close()
        return self.frames

    def problem(self) -> str:
        """The one line that says why there is no calibration yet ("" once there is one)."""
        if self.result is not None:
            return ""
        check = ("its squares, its markers' dictionary and size" if isinstance(self.board, CharucoBoard)
                 else "the board's inner corners")
        return (f"{self.name}: the {self.board.label} board was found in {self.views} views of "
                f"{self.frames} frames (at least {MIN_VIEWS} needed); check {check} "
                "and show the whole board, flat and sharp, at several angles")

    def save(self, path: str | Path) -> list[Path]:
        """The camera's calibration (intrinsics, no pose) as Monocap's TOML; InputError (one line)
        before MIN_VIEWS views of the board."""
        if self.result is None:
            raise InputError(self.problem())
        r = self.result
        note = f"intrinsics from {len(r.used)} views of a {self.board.label} board, " \
               f"reprojection error {r.rms_px:.2f} px, coverage {r.coverage:.0%}"
        return write_calibration(Rig((r.camera,)), path, note=note)


def _shape(corners: np.ndarray) -> np.ndarray:
    """(N, 2) the corners about their middle, divided by their RMS distance from it."""
    centred = corners - corners.mean(axis=0)
    return centred / max(float(np.sqrt((centred ** 2).sum(axis=1).mean())), 1e-9)
