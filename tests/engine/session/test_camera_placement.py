"""Placing the cameras as a front end asks for it (engine/session/camera_placement.py): one video per
camera, each camera's lens file, the scale; the person's keypoints in each video are a synthetic
figure seen by a ring of known cameras, handed in as the detections of those videos (the seam a
front end uses to place again without detecting again). The rig placed matches the true one; a
run that fails or is cancelled writes nothing and keeps the calibration file there was."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from engine.capture.detection import Detection
from engine.capture.people import TrackedPerson
from engine.capture.people_tracks import PeopleTracks
from engine.core.errors import InputError
from engine.multiview.calibration_files import read_calibration, write_calibration
from engine.multiview.cameras import Rig
from engine.session.camera_placement import PersonMethod, PlacementRequest, lens_names, place_cameras
from engine.session.pipeline import Cancelled
from tests.engine.multiview.synthetic import body_keypoints, observe, ring_rig
from tests.engine.multiview.test_self_calibration import pose_errors

FPS = 30.0


def person_tracks(kp: np.ndarray, sc: np.ndarray, size: tuple[int, int]) -> PeopleTracks:
    """One view's detections: the person's keypoints_px (T, 33, 2) and scores (T, 33) as one tracked person."""
    tracks = PeopleTracks()
    for i, (k, s) in enumerate(zip(kp, sc)):
        found = [TrackedPerson(1, Detection(k.astype(np.float32), s.astype(np.float32), None, size))] if s.any() else []
        tracks.append(i / FPS, found, size)
    return tracks


def rig_videos(folder, rig: Rig, kp: np.ndarray, sc: np.ndarray):
    """A short video per camera at its calibrated size, the lens files (intrinsics alone, poses
    forgotten), and the person's detections in each video."""
    videos, lenses, detected = [], [], {}
    for v, cam in enumerate(rig):
        video = folder / f"{cam.name}.mp4"
        writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), FPS, cam.image_size)
        for _ in range(3):
            writer.write(np.zeros((cam.image_size[1], cam.image_size[0], 3), np.uint8))
        writer.release()
        lens = folder / f"{cam.name}_lens.toml"
        write_calibration(Rig((cam.with_pose(np.eye(3), np.zeros(3)),)), lens)
        videos.append(video)
        lenses.append(lens)
        detected[video] = person_tracks(kp[v], sc[v], cam.image_size)
    return videos, lenses, detected


def test_the_cameras_placed_from_the_person_match_the_true_rig(tmp_path):
    truth = ring_rig(3, spread_deg=150)
    kp, sc = observe(truth, body_keypoints(45), noise_px=1.0)
    videos, lenses, detected = rig_videos(tmp_path, truth, kp, sc)
    assert lens_names(videos[::-1], lenses) == ["cam3", "cam2", "cam1"]  # each video takes its camera by name
    distance = float(np.linalg.norm(truth[0].centre_m - truth[1].centre_m))
    out = tmp_path / "rig.toml"
    request = PlacementRequest(tuple(videos), tuple(lenses[::-1]), PersonMethod(distance=("cam1", "cam2", distance)))
    placement = place_cameras(request, detected=detected, output=out)
    written = read_calibration(out)
    assert written.names == ("cam1", "cam2", "cam3")
    degrees, metres = pose_errors(written, truth)
    assert degrees.max() < 0.5 and metres.max() < 0.02, (degrees, metres)  # degrees, and centres within 2 cm
    assert set(placement.camera_px) == {"cam1", "cam2", "cam3"}
    assert all(0.1 < px < 2.0 for px in placement.camera_px.values()), placement.camera_px  # 1 px noise
    assert "3 cameras placed" in placement.summary and f"{placement.error_px:.2f} px" in placement.summary
    assert np.linalg.norm(written[0].centre_m - written[1].centre_m) == pytest.approx(distance, rel=1e-6)


def test_a_failed_or_cancelled_placement_keeps_the_calibration_there_was(tmp_path):
    truth = ring_rig(3, spread_deg=150)
    kp, sc = observe(truth, body_keypoints(40), noise_px=1.0)
    sc[2] = 0.5  # the third camera sees the person, never surely enough to be placed
    videos, lenses, detected = rig_videos(tmp_path, truth, kp, sc)
    out = tmp_path / "rig.toml"
    out.write_text("# the calibration made last week\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    request = PlacementRequest(tuple(videos), tuple(lenses), PersonMethod(height_m=1.75))
    with pytest.raises(InputError, match=r"^cam3: could not be placed from the person .* every camera sees them"):
        place_cameras(request, detected=detected, output=out)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        place_cameras(PlacementRequest(tuple(videos[:2]), tuple(lenses), PersonMethod(height_m=1.75)),
                      cancel=cancel, detected=detected, output=out)
    assert out.read_text() == "# the calibration made last week\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary left either


def test_what_cannot_be_placed_is_one_line(tmp_path):
    truth = ring_rig(2, spread_deg=80)
    kp, sc = observe(truth, body_keypoints(30))
    videos, lenses, detected = rig_videos(tmp_path, truth, kp, sc)
    cases = [
        (PlacementRequest(tuple(videos), tuple(lenses), PersonMethod(height_m=17.5)), "a height of 17.5 m"),
        (PlacementRequest(tuple(videos), tuple(lenses), PersonMethod()), "give the person's height or the distance"),
        (PlacementRequest(tuple(videos), tuple(lenses), PersonMethod(distance=("cam1", "cam9", 3.0))),
         r"the distance's camera cam9: no such camera .* \(have cam1, cam2\)"),
        (PlacementRequest(tuple(videos[:1]), tuple(lenses), PersonMethod(height_m=1.7)), "two cameras or more"),
        (PlacementRequest(tuple(videos), tuple(lenses[:1]), PersonMethod(height_m=1.7)), "hold 1 cameras for 2 videos"),
        (PlacementRequest((videos[0], tmp_path / "gone.mp4"), tuple(lenses), PersonMethod(height_m=1.7)),
         "gone.mp4: no such video file"),
    ]
    for request, said in cases:
        with pytest.raises(InputError, match=said) as caught:
            place_cameras(request, detected=detected, output=tmp_path / "rig.toml")
        assert "\n" not in str(caught.value)
    small = tmp_path / "small"
    small.mkdir()
    write_calibration(Rig(tuple(c.with_pose(np.eye(3), np.zeros(3)) for c in ring_rig(2))), small / "lenses.toml")
    writer = cv2.VideoWriter(str(small / "cam1.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (640, 360))
    writer.write(np.zeros((360, 640, 3), np.uint8))
    writer.release()
    with pytest.raises(InputError, match=r"cam1.mp4: the video is 640x360 but camera cam1 was calibrated at 1280x720"):
        place_cameras(PlacementRequest((small / "cam1.mp4", videos[1]), (small / "lenses.toml",),
                                       PersonMethod(height_m=1.7)), detected=detected)
    assert not (tmp_path / "rig.toml").exists()


def test_stop_ends_the_detection_at_the_next_frame_and_writes_nothing(tmp_path):
    """Real detection (the sample clip as two cameras, tests/app/rig_footage.py): progress counts the
    frames of both videos, and Stop ends the run at the next frame."""
    from tests.app.rig_footage import write_pair

    cam1, cam2, rig = write_pair(tmp_path, frames=24)
    cancel, reports = threading.Event(), []

    def progress(done, total):
        reports.append((done, total))
        if done >= 3:
            cancel.set()

    out = tmp_path / "placed.toml"
    with pytest.raises(Cancelled):
        place_cameras(PlacementRequest((cam1, cam2), (rig,), PersonMethod(height_m=1.7)), progress, cancel, output=out)
    assert reports == [(1, 48), (2, 48), (3, 48)] and not out.exists()
