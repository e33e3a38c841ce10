"""Where the cameras stand, from the person alone: a synthetic ring of cameras, and pose2sim_single's
four videos against its Qualisys calibration."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import InputError
from engine.multiview.cameras import Rig
from engine.multiview.self_calibration import CameraDistance, PersonHeight, calibrate_from_person
from tests.conftest import SHARED_DATA, shared_missing
from tests.engine.multiview.synthetic import body_keypoints, observe, ring_rig

POSE2SIM = SHARED_DATA / "truth" / "pose2sim_single"


def pose_errors(estimated: Rig, truth: Rig) -> tuple[np.ndarray, np.ndarray]:
    """(degrees, metres) per camera after the one similarity that best maps the estimated centres
    onto the true ones."""
    A = np.stack([c.centre_m for c in estimated.cameras])
    B = np.stack([c.centre_m for c in truth.cameras])
    ma, mb = A.mean(0), B.mean(0)
    U, S, Vt = np.linalg.svd((A - ma).T @ (B - mb))
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
    Rw = (U @ D @ Vt).T
    s = np.trace(np.diag(S) @ D) / ((A - ma) ** 2).sum()
    degrees, metres = [], []
    for e, t in zip(estimated.cameras, truth.cameras):
        rel = t.R @ (e.R @ Rw.T).T
        degrees.append(np.degrees(np.arccos(np.clip((np.trace(rel) - 1) / 2, -1, 1))))
        metres.append(np.linalg.norm(s * Rw @ (e.centre_m - ma) + mb - t.centre_m))
    return np.array(degrees), np.array(metres)


def test_a_ring_of_cameras_is_found_from_a_moving_body():
    truth = ring_rig(3, spread_deg=150)
    kp, sc = observe(truth, body_keypoints(45), noise_px=1.0)
    rng = np.random.default_rng(3)
    kp[1, rng.integers(0, 45, 8), 15] += 200.0  # a few keypoints far off: the robust loss leaves them out
    result = calibrate_from_person(list(truth.cameras), kp, sc, CameraDistance("cam1", "cam2", float(
        np.linalg.norm(truth[0].centre_m - truth[1].centre_m))))
    degrees, metres = pose_errors(result.rig, truth)
    assert degrees.max() < 0.5 and metres.max() < 0.02, (degrees, metres)
    assert result.reprojection_px < 2.0
    d = np.linalg.norm(result.rig[0].centre_m - result.rig[1].centre_m)
    assert d == pytest.approx(np.linalg.norm(truth[0].centre_m - truth[1].centre_m), rel=1e-6)


def test_the_scale_from_the_persons_height_is_near_the_truth():
    truth = ring_rig(2, spread_deg=80)
    kp, sc = observe(truth, body_keypoints(60), noise_px=0.5)
    result = calibrate_from_person(list(truth.cameras), kp, sc, PersonHeight(1.75))
    d_est = np.linalg.norm(result.rig[0].centre_m - result.rig[1].centre_m)
    d_true = np.linalg.norm(truth[0].centre_m - truth[1].centre_m)
    assert abs(d_est / d_true - 1) < 0.2  # the synthetic figure is built about 1.7 m tall


def test_a_camera_that_never_sees_the_person_is_named():
    truth = ring_rig(3, spread_deg=150)
    kp, sc = observe(truth, body_keypoints(40))
    sc[2] = 0.0
    with pytest.raises(InputError, match="cam3: could not be placed"):
        calibrate_from_person(list(truth.cameras), kp, sc, PersonHeight(1.75))


@pytest.mark.slow
@pytest.mark.skipif(not (POSE2SIM / "videos").is_dir(), reason=shared_missing("pose2sim_single's videos"))
def test_pose2sim_cameras_from_the_person_within_3_degrees_and_10_cm():
    """Through the entry point the command line and the app share (engine/session/camera_placement.py)."""
    from engine.multiview.calibration_files import read_calibration
    from engine.session.camera_placement import PersonMethod, PlacementRequest, place_cameras

    shipped = read_calibration(POSE2SIM / "Calib.qca.txt")
    videos = tuple(POSE2SIM / "videos" / f"{c}.mp4" for c in shipped.names)
    distance = float(np.linalg.norm(shipped[0].centre_m - shipped[1].centre_m))  # one length measured with a tape
    placement = place_cameras(PlacementRequest(videos, (POSE2SIM / "Calib.qca.txt",),
                                               PersonMethod(distance=("cam01", "cam02", distance))))
    degrees, metres = pose_errors(placement.rig, shipped)
    assert degrees.max() < 3.0 and metres.max() < 0.10, (degrees, metres)
    assert max(placement.camera_px.values()) < 5.0, placement.camera_px  # each camera's median, in px
    assert sum("taken as the decoder's crop" in note for note in placement.notes) == 2  # cam01, cam02: 1080 of 1088
