"""ChArUco boards: a checkerboard whose white squares hold ArUco markers (OpenCV's cv2.aruco).

    board = CharucoBoard.parse("7x5", square_mm=40, marker_mm=30, dictionary="DICT_4X4_50")
    view = board.find(image)        # the corners seen, each with its id: a part of the board counts
    board.image(2480)               # a printable picture of the board (pixels on its longer side)

Every marker names the corners around it, so a view that shows only part of the board (near the
image's edges and corners, where the lens distorts most, or cut by another camera's field) still
gives corners with known positions on the board, which a checkerboard cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.errors import InputError

DEFAULT_DICTIONARY = "DICT_4X4_50"
DEFAULT_MARKER_SHARE = 0.75  # a marker's side as a share of its square's when --marker-mm is not given
MIN_CORNERS = 6  # corners a partial view needs (not all on one line) to count
PRINT_MARGIN_SQUARES = 0.5


@dataclass(frozen=True)
class BoardView:
    """The board's corners found in one image: ids (N,), object_points (N, 3) metres on the board's
    plane (z = 0), image_points (N, 2) pixels."""

    ids: np.ndarray
    object_points: np.ndarray
    image_points: np.ndarray


@dataclass(frozen=True)
class CharucoBoard:
    """squares_x x squares_y squares (not inner corners), their side and the markers' side in metres."""

    squares_x: int
    squares_y: int
    square_m: float
    marker_m: float
    dictionary: str = DEFAULT_DICTIONARY

    @classmethod
    def parse(cls, text: str, square_mm: float, marker_mm: float | None = None,
              dictionary: str = DEFAULT_DICTIONARY) -> "CharucoBoard":
        import cv2

        try:
            sx, sy = (int(v) for v in text.lower().replace("×", "x").split("x"))
        except ValueError:
            raise InputError(f"--board charuco:{text}: give the squares as COLUMNSxROWS, e.g. charuco:7x5") from None
        if sx < 3 or sy < 3:
            raise InputError(f"--board charuco:{text}: a ChArUco board has at least 3x3 squares")
        if not square_mm > 0:
            raise InputError(f"--square-mm {square_mm}: the side of a square must be a positive length")
        marker_mm = DEFAULT_MARKER_SHARE * square_mm if marker_mm is None else marker_mm
        if not 0 < marker_mm < square_mm:
            raise InputError(f"--marker-mm {marker_mm}: a marker is smaller than its square ({square_mm} mm)")
        name = dictionary.upper()
        if not name.startswith("DICT_") or not hasattr(cv2.aruco, name):
            raise InputError(f"--dictionary {dictionary}: not an ArUco dictionary (e.g. DICT_4X4_50, DICT_5X5_100)")
        board = cls(sx, sy, square_mm / 1000.0, marker_mm / 1000.0, name)
        markers = (sx * sy) // 2
        available = len(board._cv_board().getDictionary().bytesList)
        if markers > available:
            raise InputError(f"--board charuco:{text} needs {markers} markers but {name} has {available}; "
                             "take a larger dictionary (e.g. DICT_4X4_100)")
        return board

    @property
    def label(self) -> str:
        return f"charuco {self.squares_x}x{self.squares_y}"

    def _cv_board(self):
        import cv2

        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        return cv2.aruco.CharucoBoard((self.squares_x, self.squares_y), self.square_m, self.marker_m, dictionary)

    def object_points(self) -> np.ndarray:
        """(N, 3) every inner corner on the board's plane, metres, indexed by corner id."""
        return np.asarray(self._cv_board().getChessboardCorners(), dtype=np.float32).reshape(-1, 3)

    def find(self, image_bgr: np.ndarray) -> BoardView | None:
        """The corners seen (at least MIN_CORNERS, not on one line), or None."""
        import cv2

        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY) if image_bgr.ndim == 3 else image_bgr
        board = self._cv_board()
        corners, ids, _, _ = cv2.aruco.CharucoDetector(board).detectBoard(gray)
        if ids is None or len(ids) < MIN_CORNERS or board.checkCharucoCornersCollinear(ids):
            return None
        ids = ids.ravel().astype(int)
        return BoardView(ids, self.object_points()[ids], corners.reshape(-1, 2).astype(np.float32))

    def image(self, longer_side_px: int) -> np.ndarray:
        """(H, W) uint8 a printable picture of the board with a white margin of half a square."""
        squares = max(self.squares_x, self.squares_y) + 2 * PRINT_MARGIN_SQUARES
        px = longer_side_px / squares
        margin = int(round(PRINT_MARGIN_SQUARES * px))
        size = (int(round(self.squares_x * px)) + 2 * margin, int(round(self.squares_y * px)) + 2 * margin)
        return self._cv_board().generateImage(size, marginSize=margin)
