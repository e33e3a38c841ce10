"""Calibration boards photographed by known synthetic cameras: the board's printable picture warped
by the true homography of a pinhole camera, then blurred and given sensor noise."""

from __future__ import annotations

import cv2
import numpy as np

from engine.multiview.board import Board
from engine.multiview.charuco import CharucoBoard

TEXTURE_PX_PER_SQUARE = 60
MARGIN_PX = 30
BACKGROUND = 110


def board_texture(board: CharucoBoard) -> np.ndarray:
    size = (board.squares_x * TEXTURE_PX_PER_SQUARE + 2 * MARGIN_PX, board.squares_y * TEXTURE_PX_PER_SQUARE + 2 * MARGIN_PX)
    return board._cv_board().generateImage(size, marginSize=MARGIN_PX)


def checker_texture(board: Board) -> tuple[np.ndarray, int]:
    """A checkerboard of board.columns x board.rows inner corners in a white margin one square wide,
    and where its first inner corner (the board's origin) lies in it, in pixels from the corner."""
    sq = TEXTURE_PX_PER_SQUARE
    tex = np.full(((board.rows + 3) * sq, (board.columns + 3) * sq), 255, np.uint8)
    for r in range(board.rows + 1):
        for c in range(board.columns + 1):
            if (r + c) % 2 == 0:
                tex[(r + 1) * sq:(r + 2) * sq, (c + 1) * sq:(c + 2) * sq] = 0
    return tex, 2 * sq


def render(board: CharucoBoard | Board, K: np.ndarray, R: np.ndarray, t: np.ndarray, size: tuple[int, int],
           blur: float = 0.8, noise: float = 2.0, seed: int = 0, texture: np.ndarray | None = None,
           dist: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8: the board whose plane (z = 0, metres) lies at world->camera (R, t) before K,
    through the lens distortion `dist` (OpenCV's k1 k2 p1 p2 k3) when given."""
    if dist is not None and np.any(dist):
        ideal = render(board, K, R, t, size, blur=0, noise=0, texture=texture)
        grid = np.stack(np.meshgrid(np.arange(size[0]), np.arange(size[1])), axis=-1).reshape(-1, 1, 2).astype(np.float64)
        # each pixel of the distorted picture shows the ideal picture's pixel at its undistorted place
        source = cv2.undistortPoints(grid, K, np.asarray(dist, dtype=np.float64), P=K).reshape(size[1], size[0], 2)
        warped = cv2.remap(ideal[..., 0], source[..., 0].astype(np.float32), source[..., 1].astype(np.float32),
                           cv2.INTER_LINEAR, borderValue=BACKGROUND).astype(np.float32)
        return _finish(warped, blur, noise, seed)
    origin = MARGIN_PX
    if texture is None and isinstance(board, Board):
        texture, origin = checker_texture(board)
    texture = board_texture(board) if texture is None else texture
    # texture pixel centres -> board metres (the board's origin is the texture's margin corner)
    s = board.square_m / TEXTURE_PX_PER_SQUARE
    tex_to_board = np.array([[s, 0, (0.5 - origin) * s], [0, s, (0.5 - origin) * s], [0, 0, 1]])
    board_to_image = K @ np.column_stack([R[:, 0], R[:, 1], t])
    H = board_to_image @ tex_to_board
    mask = cv2.warpPerspective(np.full(texture.shape, 255, np.uint8), H, size, flags=cv2.INTER_LINEAR)
    image = cv2.warpPerspective(texture, H, size, flags=cv2.INTER_LINEAR)
    return _finish(np.where(mask > 0, image, BACKGROUND).astype(np.float32), blur, noise, seed)


def _finish(image: np.ndarray, blur: float, noise: float, seed: int) -> np.ndarray:
    """The optics' blur and the sensor's noise, as BGR uint8."""
    if blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    image = image + np.random.default_rng(seed).normal(0, noise, image.shape)
    return cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    return cv2.Rodrigues(np.array([rx, ry, rz], dtype=np.float64))[0]


def board_pose_facing(board: CharucoBoard | Board, centre_m: np.ndarray,
                      tilt: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """World pose (R, t: board -> world) of the board with its middle at centre_m, facing -z (towards
    cameras in front of it, world y down as OpenCV's first camera) and turned by `tilt` (Rodrigues)."""
    R = rotation(*tilt)
    if isinstance(board, Board):
        middle = np.array([(board.columns - 1) * board.square_m / 2, (board.rows - 1) * board.square_m / 2, 0.0])
    else:
        middle = np.array([board.squares_x * board.square_m / 2, board.squares_y * board.square_m / 2, 0.0])
    return R, np.asarray(centre_m, dtype=np.float64) - R @ middle
