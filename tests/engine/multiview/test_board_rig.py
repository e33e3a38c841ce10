"""Extrinsics from a ChArUco board seen by two and three synthetic cameras at once: each camera's
photos rendered through its true pose, the rig found back within 0.5 degrees and 1 cm."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.core.errors import InputError
from engine.multiview.board import Board
from engine.multiview.board_rig import calibrate_from_board
from engine.multiview.cameras import Camera
from engine.multiview.charuco import CharucoBoard
from tests.engine.multiview.boards import BACKGROUND, board_pose_facing, render

SIZE = (640, 480)
K = np.array([[900.0, 0, 320.0], [0, 900.0, 240.0], [0, 0, 1]])
BOARD = CharucoBoard.parse("7x5", square_mm=60, marker_mm=45)
TARGET = np.array([0.0, 0.0, 1.3])  # where the cameras look, in camera 0's axes (metres, y down)
# the board's middle and its turn (Rodrigues) at each moment, facing the cameras
MOMENTS = [((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)), ((0.25, 0.1, 0.0), (0.1, 0.05, 0.1)),
           ((-0.25, -0.1, 0.1), (-0.1, 0.0, -0.05)), ((0.0, 0.3, 0.05), (0.0, -0.12, 0.05)),
           ((0.3, -0.25, 0.1), (0.05, 0.1, -0.1)), ((-0.2, 0.2, -0.1), (0.12, -0.05, 0.0)),
           ((0.1, -0.3, -0.2), (-0.05, 0.1, 0.1)), ((-0.3, 0.0, 0.2), (0.0, 0.0, -0.1))]


def _look_at(centre: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = (target - centre) / np.linalg.norm(target - centre)
    x = np.cross([0.0, 1.0, 0.0], z)
    x /= np.linalg.norm(x)
    R = np.stack([x, np.cross(z, x), z])
    return R, -R @ centre


def _cameras(count: int, dist=np.zeros(5)) -> list[Camera]:
    centres = [np.zeros(3), np.array([0.9, -0.15, 0.25]), np.array([-0.8, 0.1, 0.3])][:count]
    out = []
    for i, c in enumerate(centres):
        R, t = (np.eye(3), np.zeros(3)) if i == 0 else _look_at(c, TARGET)
        out.append(Camera(f"cam{i + 1}", SIZE, K, dist, R, t))
    return out


def _moments(cameras: list[Camera], hidden=lambda moment, camera: False, board=BOARD):
    """(label, an image per camera) per moment; hidden(m, v): camera v does not see the board at m."""
    out = []
    for m, (tilt, offset) in enumerate(MOMENTS):
        R_wb, t_wb = board_pose_facing(board, TARGET + np.array(offset), tilt)
        images = []
        for v, cam in enumerate(cameras):
            if hidden(m, v):
                images.append(np.full((SIZE[1], SIZE[0], 3), BACKGROUND, np.uint8))
            else:
                images.append(render(board, cam.K, cam.R @ R_wb, cam.R @ t_wb + cam.t, SIZE, seed=10 * m + v,
                                     dist=cam.dist))
        out.append((f"moment {m}", images))
    return out


def board_videos(folder, cameras: list[Camera], suffix: str = ".mp4") -> list:
    """A video per camera (MJPG, 10 fps) of the board at every moment, named after the camera."""
    paths = []
    for v, cam in enumerate(cameras):
        path = folder / f"{cam.name}{suffix}"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, SIZE)
        for _, images in _moments(cameras):
            writer.write(images[v])
        writer.release()
        paths.append(path)
    return paths


def _angle_deg(A: np.ndarray, B: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip((np.trace(A.T @ B) - 1) / 2, -1, 1))))


def assert_rig_close(found, truth, degrees=0.5, metres=0.01):
    for f, t in zip(found, truth):
        assert _angle_deg(f.R, t.R) < degrees, f.name
        assert np.linalg.norm(f.centre_m - t.centre_m) < metres, f.name


@pytest.mark.parametrize("count", [2, 3])
def test_a_board_seen_together_gives_back_the_cameras(count):
    truth = _cameras(count)
    intrinsics = [c.with_pose(np.eye(3), np.zeros(3)) for c in truth]
    result = calibrate_from_board(intrinsics, _moments(truth), BOARD)
    assert result.moments == len(MOMENTS) and result.rms_px < 0.6
    assert_rig_close(result.rig, truth)
    assert result.rig[0].R == pytest.approx(np.eye(3)) and result.rig[0].t == pytest.approx(np.zeros(3))


def test_cameras_that_see_the_board_together_only_in_pairs_are_chained():
    truth = _cameras(3)
    intrinsics = [c.with_pose(np.eye(3), np.zeros(3)) for c in truth]
    # cam3 sees the board only with cam2 (moments 4-7), never with cam1 (moments 0-3)
    result = calibrate_from_board(intrinsics, _moments(truth, lambda m, v: (v == 2 and m < 4) or (v == 0 and m >= 4)), BOARD)
    assert result.found == {"cam1": 4, "cam2": 8, "cam3": 4}
    assert_rig_close(result.rig, truth)


def test_a_board_never_seen_by_two_cameras_together_names_them():
    truth = _cameras(3)
    intrinsics = [c.with_pose(np.eye(3), np.zeros(3)) for c in truth]
    moments = _moments(truth, lambda m, v: v == 2 and m < 4 or v != 2 and m >= 4)  # cam3 alone at moments 4-7
    with pytest.raises(InputError, match=r"^cam3: never saw the board at the same moment as cam1, cam2"):
        calibrate_from_board(intrinsics, moments, BOARD)


def test_a_camera_that_never_finds_the_board_is_named():
    truth = _cameras(2)
    intrinsics = [c.with_pose(np.eye(3), np.zeros(3)) for c in truth]
    with pytest.raises(InputError, match=r"^cam2: the charuco 7x5 board was found in none of 8 moments"):
        calibrate_from_board(intrinsics, _moments(truth, lambda m, v: v == 1), BOARD)


def test_the_bundle_adjustment_corrects_a_poor_first_guess(monkeypatch):
    """Each camera's pose from the board, chained, turned by 2 degrees and moved by 5 cm: the
    adjustment over every corner brings it back."""
    import engine.multiview.board_rig as board_rig

    chained = board_rig._medoid

    def off(poses):
        R, t = chained(poses)
        turn = cv2.Rodrigues(np.array([0.0, np.radians(2.0), 0.0]))[0]
        return turn @ R, t + np.array([0.05, 0.0, 0.0])

    monkeypatch.setattr(board_rig, "_medoid", off)
    truth = _cameras(3)
    result = calibrate_from_board([c.with_pose(np.eye(3), np.zeros(3)) for c in truth], _moments(truth), BOARD)
    assert_rig_close(result.rig, truth)


def test_a_distorting_lens_is_taken_into_account():
    """A wide webcam's barrel distortion: with the lens in the intrinsics every corner fits to a fifth
    of a pixel and each camera comes back within 2 mm (taken as a pinhole, about 6 mm and 0.37 px)."""
    truth = _cameras(3, dist=np.array([-0.4, 0.15, 0.001, -0.001, 0.0]))
    result = calibrate_from_board([c.with_pose(np.eye(3), np.zeros(3)) for c in truth], _moments(truth), BOARD)
    assert result.rms_px < 0.3
    assert_rig_close(result.rig, truth, degrees=0.1, metres=0.002)


def test_a_checkerboard_that_looks_the_same_turned_is_numbered_alike_in_every_camera():
    """A 6x4 checkerboard is the same turned half a turn: a camera mounted upside down numbers its
    corners from the other end. Each view's numbering is chosen by agreement with the other moments."""
    board = Board.parse("6x4", 60)
    truth = _cameras(3)
    upside_down = np.diag([-1.0, -1.0, 1.0])
    truth[2] = Camera("cam3", SIZE, K, np.zeros(5), upside_down @ truth[2].R, upside_down @ truth[2].t)
    result = calibrate_from_board([c.with_pose(np.eye(3), np.zeros(3)) for c in truth], _moments(truth, board=board), board)
    assert result.rms_px < 0.6
    assert_rig_close(result.rig, truth)


def test_a_camera_with_the_wrong_lens_is_named():
    truth = _cameras(3)
    lenses = [c.with_pose(np.eye(3), np.zeros(3)) for c in truth]
    lenses[1] = Camera("cam2", SIZE, K * [[1.5], [1.5], [1]], np.zeros(5), np.eye(3), np.zeros(3))  # another camera's file
    with pytest.raises(InputError, match=r"^cam2: its views of the board disagree with the other cameras'"):
        calibrate_from_board(lenses, _moments(truth), BOARD)
