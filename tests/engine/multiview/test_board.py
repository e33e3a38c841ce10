"""Intrinsics from photos of a checkerboard: rendered boards seen by a known camera, and
pose2sim_single's own calibration photos against the focal lengths of its Calib.qca.txt."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.errors import InputError
from engine.multiview.board import Board, board_images, calibrate_intrinsics
from engine.multiview.calibration_files import read_calibration
from tests.conftest import SHARED_DATA, shared_missing

POSE2SIM = SHARED_DATA / "truth" / "pose2sim_single"
K = np.array([[900.0, 0, 330.0], [0, 900.0, 245.0], [0, 0, 1]])


def _render(board: Board, rvec, tvec, size=(640, 480)) -> np.ndarray:
    """The board (white margin one square wide) as the camera K sees it at pose (rvec, tvec)."""
    sq = 40
    cols, rows = board.columns + 1, board.rows + 1
    tex = np.full(((rows + 2) * sq, (cols + 2) * sq), 255, np.uint8)
    for r in range(rows):
        for c in range(cols):
            if (r + c) % 2 == 0:
                tex[(r + 1) * sq:(r + 2) * sq, (c + 1) * sq:(c + 2) * sq] = 0
    # texture pixel (u, v) lies at board metres ((u - 2 sq) / sq * s, (v - 2 sq) / sq * s): the first inner corner at 0
    s = board.square_m
    corners_tex = np.array([[0, 0], [tex.shape[1], 0], [tex.shape[1], tex.shape[0]], [0, tex.shape[0]]], np.float32)
    corners_m = np.hstack([(corners_tex - 2 * sq) / sq * s, np.zeros((4, 1))]).astype(np.float32)
    img_pts = cv2.projectPoints(corners_m, rvec, tvec, K, None)[0].reshape(4, 2).astype(np.float32)
    H = cv2.getPerspectiveTransform(corners_tex, img_pts)
    image = cv2.warpPerspective(tex, H, size, borderValue=200)
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)


def _views(board: Board):
    poses = [((0.2, 0.3, 0.05), (-0.1, -0.1, 0.9)), ((-0.3, 0.1, 0.0), (-0.15, -0.05, 1.0)),
             ((0.1, -0.35, 0.1), (-0.05, -0.12, 0.85)), ((0.35, 0.2, -0.1), (-0.12, -0.02, 1.1)),
             ((-0.2, -0.3, 0.2), (-0.02, -0.15, 0.95)), ((0.0, 0.4, 0.0), (-0.1, -0.1, 1.0))]
    return [(f"view{i}", _render(board, np.array(r), np.array(t))) for i, (r, t) in enumerate(poses)]


def test_rendered_boards_give_back_the_camera():
    board = Board.parse("6x5", square_mm=30)
    result = calibrate_intrinsics(_views(board), board, "cam")
    assert len(result.used) == 6 and result.rms_px < 0.5
    np.testing.assert_allclose(result.camera.K[[0, 1], [0, 1]], [900.0, 900.0], rtol=0.01)
    assert result.camera.image_size == (640, 480)


def test_a_board_never_found_is_one_line():
    with pytest.raises(InputError, match=r"board was found in 0 of 6 images.*--board"):
        calibrate_intrinsics(_views(Board.parse("6x5", 30)), Board.parse("8x7", 30), "cam")
    with pytest.raises(InputError, match="COLUMNSxROWS"):
        Board.parse("six by five", 30)


def test_images_of_another_size_are_one_line():
    board = Board.parse("6x5", square_mm=30)
    views = _views(board)[:3] + [("big", cv2.resize(_views(board)[3][1], (800, 600)))]
    with pytest.raises(InputError, match="800x600, but the first board image is 640x480"):
        calibrate_intrinsics(views, board, "cam")


def test_a_video_of_the_board_is_sampled(tmp_path):
    board = Board.parse("6x5", square_mm=30)
    path = tmp_path / "board.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (640, 480))
    for _, image in _views(board):
        for _ in range(3):
            writer.write(image)
    writer.release()
    result = calibrate_intrinsics(board_images([path]), board, "cam")
    assert len(result.used) >= 6
    np.testing.assert_allclose(result.camera.K[0, 0], 900.0, rtol=0.02)


@pytest.mark.skipif(not (POSE2SIM / "calibration_images").is_dir(), reason=shared_missing("pose2sim_single's board photos"))
@pytest.mark.parametrize("cam", ["cam01", "cam02", "cam03", "cam04"])
def test_pose2sim_board_photos_within_two_percent_of_the_qualisys_focal_lengths(cam):
    shipped = read_calibration(POSE2SIM / "Calib.qca.txt").camera(cam)
    result = calibrate_intrinsics(board_images([POSE2SIM / "calibration_images" / cam]), Board.parse("4x7", 60), cam)
    assert len(result.used) >= 6
    assert result.camera.image_size == shipped.image_size
    for axis in (0, 1):
        assert abs(result.camera.K[axis, axis] / shipped.K[axis, axis] - 1) < 0.02
