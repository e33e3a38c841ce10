"""Intrinsics from a ChArUco board: rendered boards seen by a known camera, whole and in part."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.errors import InputError
from engine.multiview.board import calibrate_intrinsics, parse_board
from engine.multiview.charuco import CharucoBoard
from tests.engine.multiview.boards import board_pose_facing, render

K = np.array([[900.0, 0, 330.0], [0, 900.0, 245.0], [0, 0, 1]])
SIZE = (640, 480)
BOARD = CharucoBoard.parse("7x5", square_mm=40, marker_mm=30)
WHOLE = [((0.3, 0.2, 0.05), (0, 0, 0.9)), ((-0.3, 0.1, 0.0), (0.05, 0.02, 1.0)), ((0.1, -0.35, 0.1), (-0.03, 0.03, 0.85)),
         ((0.35, 0.2, -0.1), (0.0, -0.04, 1.1)), ((-0.2, -0.3, 0.2), (0.02, 0.05, 0.95))]
# the board's middle near the image's corners and edges: a third to two thirds of it in view
PART = [((0.0, 0.3, 0.0), (-0.2, -0.14, 0.8)), ((0.2, 0.0, 0.1), (0.2, 0.15, 0.8)), ((-0.2, 0.2, 0.0), (0.22, -0.14, 0.85)),
        ((0.25, -0.1, 0.0), (-0.22, 0.12, 0.75))]


def _views(poses, board=BOARD):
    out = []
    for i, (tilt, centre) in enumerate(poses):
        R, t = board_pose_facing(board, np.array(centre), tilt)
        out.append((f"view{i}", render(board, K, R, t, SIZE, seed=i), R, t))
    return out


def test_charuco_boards_whole_and_in_part_give_back_the_camera():
    views = _views(WHOLE + PART)
    result = calibrate_intrinsics([(name, image) for name, image, _, _ in views], BOARD, "cam")
    assert len(result.used) == len(WHOLE) + len(PART) and result.rms_px < 0.5
    np.testing.assert_allclose(result.camera.K[[0, 1], [0, 1]], [900.0, 900.0], rtol=0.01)
    np.testing.assert_allclose(result.camera.K[:2, 2], [330.0, 245.0], atol=15)
    assert result.coverage > 0.9  # the partial views reach the image's corners


def test_a_part_of_the_board_gives_its_own_corners_where_the_camera_sees_them():
    whole = len(BOARD.object_points())
    for name, image, R, t in _views(PART):
        view = BOARD.find(image)
        assert view is not None, name
        assert 6 <= len(view.ids) < whole  # part of the board, found
        truth = cv2.projectPoints(view.object_points.astype(np.float64), cv2.Rodrigues(R)[0], t, K, None)[0]
        assert np.abs(truth.reshape(-1, 2) - view.image_points).max() < 1.0, name  # each corner under its own id


def test_a_charuco_board_never_found_names_its_options():
    views = [(name, image) for name, image, _, _ in _views(WHOLE[:3])]
    other = CharucoBoard.parse("7x5", 40, 30, dictionary="DICT_5X5_50")
    with pytest.raises(InputError, match=r"charuco 7x5 board was found in 0 of 3 images.*--dictionary"):
        calibrate_intrinsics(views, other, "cam")


@pytest.mark.parametrize("text, marker, dictionary, message", [
    ("charuco:7by5", None, "DICT_4X4_50", "COLUMNSxROWS"),
    ("charuco:7x5", 45.0, "DICT_4X4_50", "smaller than its square"),
    ("charuco:7x5", None, "DICT_9X9_50", "not an ArUco dictionary"),
    ("charuco:12x11", None, "DICT_4X4_50", "needs 66 markers but DICT_4X4_50 has 50"),
])
def test_bad_charuco_options_are_one_line(text, marker, dictionary, message):
    with pytest.raises(InputError, match=message):
        parse_board(text, 40.0, marker, dictionary)


def test_the_board_parser_tells_checkerboards_from_charuco():
    assert isinstance(parse_board("charuco:7x5", 40.0), CharucoBoard)
    assert parse_board("charuco:7x5", 40.0).marker_m == pytest.approx(0.030)
    assert parse_board("4x7", 60.0).label == "4x7"


# the board's middle near each corner and edge of the image, a quarter to a half of it in view
CORNERS = ([((0.2, 0.3, 0.0), (sx * 0.24, sy * 0.17, 0.8)) for sx in (-1, 1) for sy in (-1, 1)]
           + [((-0.25, 0.1, 0.1), (sx * 0.27, 0.0, 0.85)) for sx in (-1, 1)]
           + [((0.1, -0.3, 0.0), (0.0, sy * 0.2, 0.8)) for sy in (-1, 1)])


def test_partial_views_near_the_corners_pin_a_distorting_lens_down():
    """A wide webcam's barrel distortion: the 5 whole views alone give the focal length 1.2 % off and
    k2 of the wrong sign; with 8 partial views at the image's corners and edges (which a
    checkerboard cannot use) the focal length is within 1 % and k1 within 0.03."""
    dist = np.array([-0.3, 0.1, 0.0, 0.0, 0.0])
    views = []
    for i, (tilt, centre) in enumerate(WHOLE + CORNERS):
        R, t = board_pose_facing(BOARD, np.array(centre), tilt)
        views.append((f"view{i}", render(BOARD, K, R, t, SIZE, seed=i, dist=dist)))
    result = calibrate_intrinsics(views, BOARD, "cam")
    assert len(result.used) == len(WHOLE) + len(CORNERS) and result.rms_px < 0.5
    np.testing.assert_allclose(result.camera.K[[0, 1], [0, 1]], [900.0, 900.0], rtol=0.01)
    assert result.camera.dist[0] == pytest.approx(-0.3, abs=0.03)
