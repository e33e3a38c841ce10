"""The guided lens calibration behind the app's panel, on pose2sim_single's own board photos (each
seen as a camera would see a board held still: over two frames), against the focal lengths of its
Qualisys calibration, and against `monocap calibrate intrinsics` on the same photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.conftest import SHARED_DATA, shared_missing

POSE2SIM = SHARED_DATA / "truth" / "pose2sim_single"


@pytest.mark.skipif(not (POSE2SIM / "calibration_images").is_dir(), reason=shared_missing("pose2sim_single"))
@pytest.mark.parametrize("cam", ["cam01", "cam03"])
def test_pose2sim_board_photos_within_two_percent_of_the_qualisys_focal_lengths(cam, tmp_path):
    from engine.multiview.calibration_files import read_calibration
    from engine.session.guided_calibration import Board, GuidedIntrinsics

    guide = GuidedIntrinsics(Board.parse("4x7", 60), cam)
    photos = sorted((POSE2SIM / "calibration_images" / cam).iterdir())
    for photo in photos:
        image = cv2.imread(str(photo))
        first, again = guide.push(image), guide.push(image)
        assert first.corners is not None or not first.kept
        assert not again.kept  # the same view twice is kept once
    assert guide.views >= 5 and guide.result.rms_px < 1.0 and guide.result.coverage >= 0.5
    guide.save(tmp_path / f"{cam}.toml")
    ours = read_calibration(tmp_path / f"{cam}.toml").camera(cam)
    truth = read_calibration(POSE2SIM / "Calib.qca.txt").camera(cam)
    np.testing.assert_allclose(ours.K[[0, 1], [0, 1]], truth.K[[0, 1], [0, 1]], rtol=0.02)
    assert ours.image_size == (1088, 1920)


def test_frames_of_another_size_are_one_line():
    from engine.core.errors import InputError
    from engine.session.guided_calibration import Board, GuidedIntrinsics

    guide = GuidedIntrinsics(Board.parse("4x7", 60), "cam01")
    guide.push(np.zeros((480, 640, 3), np.uint8))
    with pytest.raises(InputError, match="640x360 after frames of 640x480"):
        guide.push(np.zeros((360, 640, 3), np.uint8))
    assert "found in 0 views of 1 frames" in guide.problem()
