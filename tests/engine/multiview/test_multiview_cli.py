"""`monocap calibrate` and `monocap process` with several videos: the files they write and the one-line
errors for the mistakes a user makes (no calibration, a wrong image size, cameras at other rates)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.cli import main
from engine.multiview.calibration_files import read_calibration, write_calibration
from tests.engine.multiview.synthetic import ring_rig
from tests.engine.multiview.test_board import _views


def _video(path, size, fps=30.0, frames=6):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), 40 + (20 * i) % 200, np.uint8))
    writer.release()
    return path


def test_calibrate_intrinsics_writes_a_calibration_that_reads_back(tmp_path, capsys):
    from tests.engine.multiview.test_board import Board

    folder = tmp_path / "photos"
    folder.mkdir()
    for name, image in _views(Board.parse("6x5", 30)):
        cv2.imwrite(str(folder / f"{name}.png"), image)
    out = tmp_path / "cam1.toml"
    assert main(["calibrate", "intrinsics", str(folder), "--board", "6x5", "--square-mm", "30", "--name", "cam1",
                 "-o", str(out)]) == 0
    cam = read_calibration(out).camera("cam1")
    assert cam.K[0, 0] == pytest.approx(900.0, rel=0.01) and cam.image_size == (640, 480)
    assert "board found in 6 of 6 images" in capsys.readouterr().out


def test_calibrate_convert_between_formats(tmp_path):
    src = tmp_path / "rig.toml"
    write_calibration(ring_rig(3), src)
    assert main(["calibrate", "convert", str(src), str(tmp_path / "easy"), "--format", "easymocap", "-q"]) == 0
    assert read_calibration(tmp_path / "easy").names == ("cam1", "cam2", "cam3")


def test_several_videos_without_a_calibration_is_one_line(tmp_path, capsys):
    a, b = _video(tmp_path / "cam1.mp4", (1280, 720)), _video(tmp_path / "cam2.mp4", (1280, 720))
    assert main(["process", str(a), str(b), "-o", str(tmp_path / "out"), "-q"]) == 2
    assert "need --calibration" in capsys.readouterr().err


def test_a_video_of_another_size_than_its_calibration_is_one_line(tmp_path, capsys):
    write_calibration(ring_rig(2), tmp_path / "rig.toml")
    a, b = _video(tmp_path / "cam1.mp4", (1280, 720)), _video(tmp_path / "cam2.mp4", (640, 360))
    assert main(["process", str(a), str(b), "--calibration", str(tmp_path / "rig.toml"),
                 "-o", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "cam2.mp4: the video is 640x360 but camera cam2 was calibrated at 1280x720" in err
    assert len(err.strip().splitlines()) == 1


def test_cameras_at_other_frame_rates_are_one_line(tmp_path, capsys):
    write_calibration(ring_rig(2), tmp_path / "rig.toml")
    a, b = _video(tmp_path / "cam1.mp4", (1280, 720), 30.0), _video(tmp_path / "cam2.mp4", (1280, 720), 15.0)
    assert main(["process", str(a), str(b), "--calibration", str(tmp_path / "rig.toml"),
                 "-o", str(tmp_path / "out"), "-q"]) == 2
    assert "disagree on frame rate" in capsys.readouterr().err


def test_more_videos_than_cameras_is_one_line(tmp_path, capsys):
    write_calibration(ring_rig(2), tmp_path / "rig.toml")
    videos = [str(_video(tmp_path / f"v{i}.mp4", (1280, 720))) for i in range(3)]
    assert main(["process", *videos, "--calibration", str(tmp_path / "rig.toml"), "-o", str(tmp_path / "o"), "-q"]) == 2
    assert "3 videos but the calibration has 2 cameras" in capsys.readouterr().err


def person_and_empty_wall(tmp_path, sample_clip) -> None:
    """tmp_path/cam1.mp4: 40 frames of the sample clip; cam2.mp4: a camera filming an empty wall;
    rig.toml: two cameras of the clip's size."""
    from engine.multiview.cameras import Camera, Rig

    cap = cv2.VideoCapture(str(sample_clip))
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(str(tmp_path / "cam1.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, size)
    for _ in range(40):
        writer.write(cap.read()[1])
    writer.release()
    cap.release()
    _video(tmp_path / "cam2.mp4", size, frames=40)
    rig = Rig(tuple(Camera(c.name, size, [[600.0, 0, size[0] / 2], [0, 600.0, size[1] / 2], [0, 0, 1]], c.dist, c.R, c.t)
                    for c in ring_rig(2).cameras))
    write_calibration(rig, tmp_path / "rig.toml")


def test_a_view_that_never_sees_the_person_leaves_the_others_working(tmp_path, capsys, sample_clip):
    person_and_empty_wall(tmp_path, sample_clip)
    out = tmp_path / "out"
    assert main(["process", str(tmp_path / "cam1.mp4"), str(tmp_path / "cam2.mp4"), "--calibration",
                 str(tmp_path / "rig.toml"), "-o", str(out), "--formats", "npz,bvh"]) == 0
    err = capsys.readouterr().err
    assert "cam2.mp4: nobody was seen in it" in err and "the take is that one camera's" in err
    assert (out / "cam1_cam2.bvh").stat().st_size > 1000 and (out / "cam1_cam2.npz").is_file()


def test_a_camera_at_another_rate_is_left_out_while_two_agree(tmp_path):
    from engine.session.multi_camera import _open_views

    rig = ring_rig(3)
    paths = [_video(tmp_path / "cam1.mp4", (1280, 720), 15.0), _video(tmp_path / "cam2.mp4", (1280, 720), 30.0),
             _video(tmp_path / "cam3.mp4", (1280, 720), 30.0)]
    notes: list[str] = []
    kept = _open_views(paths, rig, notes)
    assert [v.path.name for v in kept] == ["cam2.mp4", "cam3.mp4"]
    assert len(notes) == 1 and notes[0].startswith("cam1.mp4: 15 fps against 30 fps") and "left out" in notes[0]


def test_options_several_cameras_do_not_take_yet_are_one_line(tmp_path, capsys):
    write_calibration(ring_rig(2), tmp_path / "rig.toml")
    a, b = _video(tmp_path / "cam1.mp4", (1280, 720)), _video(tmp_path / "cam2.mp4", (1280, 720))
    for option, said in ((["--hands"], "without --hands or --face"), (["--face"], "without --hands or --face"),
                         (["--people", "two"], "--people two: give a number of people"),
                         (["--person", "2"], "--person N takes one camera's video"),
                         (["--people", "all", "--person", "2"], "--person 2: give a person number")):
        assert main(["process", str(a), str(b), "--calibration", str(tmp_path / "rig.toml"), *option,
                     "-o", str(tmp_path / "out"), "-q"]) == 2
        err = capsys.readouterr().err
        assert said in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
