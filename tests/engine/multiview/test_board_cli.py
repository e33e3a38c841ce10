"""`monocap calibrate intrinsics --board charuco:...`, `calibrate board` and `calibrate board-image`
end to end: rendered photos and videos in, a calibration file that reads back out."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.cli import main
from engine.multiview.calibration_files import read_calibration, write_calibration
from engine.multiview.cameras import Rig
from engine.multiview.charuco import CharucoBoard
from tests.engine.multiview import test_board_rig as rig_case
from tests.engine.multiview import test_charuco as intrinsics_case

CHARUCO = ["--board", "charuco:7x5", "--square-mm", "60", "--marker-mm", "45"]


def test_intrinsics_from_charuco_photos(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, image, _, _ in intrinsics_case._views(intrinsics_case.WHOLE + intrinsics_case.PART):
        cv2.imwrite(str(folder / f"{name}.png"), image)
    out = tmp_path / "cam1.toml"
    assert main(["calibrate", "intrinsics", str(folder), "--board", "charuco:7x5", "--square-mm", "40",
                 "--marker-mm", "30", "--name", "cam1", "-o", str(out)]) == 0
    cam = read_calibration(out).camera("cam1")
    assert cam.K[0, 0] == pytest.approx(900.0, rel=0.01) and cam.K[1, 1] == pytest.approx(900.0, rel=0.01)
    assert "board found in 9 of 9 images" in capsys.readouterr().out


def _intrinsics_file(path, cameras):
    write_calibration(Rig(tuple(c.with_pose(np.eye(3), np.zeros(3)) for c in cameras)), path)
    return path


def test_calibrate_board_from_synchronised_videos(tmp_path, capsys):
    truth = rig_case._cameras(2)
    paths = [str(p) for p in rig_case.board_videos(tmp_path, truth)]
    # the cameras' intrinsics in one file, in the other order: videos are matched by name
    intrinsics = _intrinsics_file(tmp_path / "lenses.toml", truth[::-1])
    out = tmp_path / "rig.toml"
    assert main(["calibrate", "board", *paths, "--intrinsics", str(intrinsics), *CHARUCO, "-o", str(out)]) == 0
    rig_case.assert_rig_close(read_calibration(out).cameras, truth)
    said = capsys.readouterr().out
    assert "2 cameras placed from the board seen together in 8 moments" in said and "cam2 8 moments" in said


def test_calibrate_board_names_the_camera_never_seen_with_the_others(tmp_path, capsys):
    truth = rig_case._cameras(3)
    folders = [tmp_path / f"{cam.name}_photos" for cam in truth]
    for folder in folders:
        folder.mkdir()
    for m, (_, images) in enumerate(rig_case._moments(truth, lambda m, v: v == 2 and m < 4 or v != 2 and m >= 4)):
        for folder, image in zip(folders, images):
            cv2.imwrite(str(folder / f"{m:03d}.png"), image)
    intrinsics = [str(_intrinsics_file(tmp_path / f"{cam.name}.toml", [cam])) for cam in truth]
    out = tmp_path / "rig.toml"
    assert main(["calibrate", "board", *map(str, folders), "--intrinsics", *intrinsics, *CHARUCO, "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cam3: never saw the board at the same moment as cam1, cam2" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_photo_folders_of_unequal_counts_are_one_line(tmp_path, capsys):
    truth = rig_case._cameras(2)
    for cam, count in zip(truth, (3, 2)):
        (tmp_path / cam.name).mkdir()
        for i in range(count):
            cv2.imwrite(str(tmp_path / cam.name / f"{i}.png"), np.zeros((480, 640, 3), np.uint8))
    intrinsics = _intrinsics_file(tmp_path / "lenses.toml", truth)
    assert main(["calibrate", "board", str(tmp_path / "cam1"), str(tmp_path / "cam2"), "--intrinsics", str(intrinsics),
                 *CHARUCO, "-o", str(tmp_path / "rig.toml"), "-q"]) == 2
    assert "photos per camera: cam1/ 3, cam2/ 2" in capsys.readouterr().err


def test_board_image_prints_a_board_the_detector_finds(tmp_path, capsys):
    out = tmp_path / "board.png"
    assert main(["calibrate", "board-image", *CHARUCO, "-o", str(out)]) == 0
    picture = cv2.imread(str(out))
    board = CharucoBoard.parse("7x5", 60, 45)
    view = board.find(picture)
    assert view is not None and len(view.ids) == len(board.object_points())
    # printed at 300 dpi a square is 60 mm: 60 / 25.4 * 300 = 709 px between neighbouring corners
    step = np.linalg.norm(view.image_points[1] - view.image_points[0])
    assert step == pytest.approx(60 / 25.4 * 300, rel=0.01)
    assert "print at 100 %" in capsys.readouterr().out


def test_calibrate_board_with_lenses_calibrated_at_another_size_is_one_line(tmp_path, capsys):
    truth = rig_case._cameras(2)
    folders = [tmp_path / cam.name for cam in truth]
    for folder in folders:
        folder.mkdir()
    for m, (_, images) in enumerate(rig_case._moments(truth)[:3]):
        for folder, image in zip(folders, images):
            cv2.imwrite(str(folder / f"{m}.png"), image)
    lenses = [c.with_pose(np.eye(3), np.zeros(3)) for c in truth]
    wrong = Rig((lenses[0], type(lenses[1])(lenses[1].name, (1280, 720), lenses[1].K, lenses[1].dist, np.eye(3), np.zeros(3))))
    write_calibration(wrong, tmp_path / "lenses.toml")
    assert main(["calibrate", "board", *map(str, folders), "--intrinsics", str(tmp_path / "lenses.toml"), *CHARUCO,
                 "-o", str(tmp_path / "rig.toml"), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "the video is 640x480 but camera cam2 was calibrated at 1280x720" in err and len(err.splitlines()) == 1


def test_board_image_of_a_checkerboard_is_one_line(tmp_path, capsys):
    assert main(["calibrate", "board-image", "--board", "4x7", "-o", str(tmp_path / "board.png")]) == 2
    assert "draws ChArUco boards" in capsys.readouterr().err
    assert not (tmp_path / "board.png").exists()


def test_videos_that_do_not_tell_their_length_are_read_one_moment_a_second(tmp_path, monkeypatch):
    from engine.multiview.board_rig import synchronised_frames

    paths = []
    for name in ("cam1", "cam2"):
        path = tmp_path / f"{name}.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
        for i in range(35):
            writer.write(np.full((48, 64, 3), i * 7, np.uint8))
        writer.release()
        paths.append(path)

    opened = cv2.VideoCapture

    class Unmeasured:  # as some .webm files: no frame count
        def __init__(self, path):
            self._cap = opened(path)

        def get(self, prop):
            return 0.0 if prop == cv2.CAP_PROP_FRAME_COUNT else self._cap.get(prop)

        def __getattr__(self, name):
            return getattr(self._cap, name)

    monkeypatch.setattr(cv2, "VideoCapture", Unmeasured)
    moments = list(synchronised_frames(paths))
    assert [label for label, _ in moments] == ["frame 0", "frame 10", "frame 20", "frame 30"]
    assert all(len(images) == 2 for _, images in moments)
