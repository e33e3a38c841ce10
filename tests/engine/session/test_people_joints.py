"""A person's joints hidden for a moment take their place from the person's own motion, and each
take says how sure it is of each joint."""

import numpy as np

from engine.capture.detection import Detection
from engine.capture.track import DetectionTrack
from engine.core.skeletons import MEDIAPIPE_33
from engine.session.people_joints import HIDDEN_SCORE, hidden_from_own_motion, joint_confidence

MP_L_WRIST = MEDIAPIPE_33.index("left_wrist")

FPS = 30.0


def _moving_wrist(frames: int = 30) -> np.ndarray:
    """(T, 33, 3) root-relative joints: all still but the left wrist, which moves along x."""
    rel = np.tile(np.linspace(-0.5, 0.5, 33)[None, :, None] * np.array([1.0, 2.0, 0.3]), (frames, 1, 1))
    rel[:, MP_L_WRIST, 0] = np.linspace(0.0, 0.6, frames)
    root = MEDIAPIPE_33.parents.index(-1)
    return rel - rel[:, root:root + 1]


def test_a_joint_hidden_for_a_moment_follows_its_own_motion_not_the_guess():
    rel = _moving_wrist()
    truth = rel.copy()
    confidence = np.ones(rel.shape[:2])
    rel[10:14, MP_L_WRIST] = [2.0, 2.0, 2.0]  # the detector's guess, on the body in front
    confidence[10:14, MP_L_WRIST] = HIDDEN_SCORE / 2
    out, filled = hidden_from_own_motion(rel, confidence, MEDIAPIPE_33, FPS, max_gap_s=0.5)
    assert filled == 4
    assert np.allclose(out[10:14, MP_L_WRIST], truth[10:14, MP_L_WRIST])  # its own straight path
    others = np.ones(33, bool)
    others[MP_L_WRIST] = False
    assert np.array_equal(out[:, others], rel[:, others])


def test_a_joint_hidden_long_or_at_the_ends_keeps_the_guess():
    rel = _moving_wrist(60)
    confidence = np.ones(rel.shape[:2])
    confidence[10:40, MP_L_WRIST] = 0.0  # a second: too long to bridge at 0.5 s
    confidence[55:, MP_L_WRIST] = 0.0  # to the end: nothing after it to go by
    out, filled = hidden_from_own_motion(rel, confidence, MEDIAPIPE_33, FPS, max_gap_s=0.5)
    assert filled == 0 and np.array_equal(out, rel)


def test_joint_confidence_is_the_detectors_score_and_zero_without_anyone():
    track = DetectionTrack()
    scores = np.full(33, 0.9)
    scores[MP_L_WRIST] = 0.2
    track.append(0.0, Detection(np.zeros((33, 2)), scores, None, (640, 480)))
    track.append(1 / FPS, None)
    confidence = joint_confidence(track, MEDIAPIPE_33)
    assert confidence.shape == (2, 33)
    assert confidence[0, MP_L_WRIST] == np.float32(0.2) and confidence[0, 0] == np.float32(0.9)
    assert not confidence[1].any()


def test_each_persons_take_carries_how_sure_it_is_of_each_joint():
    from engine.capture.people import TrackedPerson
    from engine.capture.people_tracks import PeopleTracks
    from engine.lift.modes import LiftConfig, make_lifter
    from engine.session.people_takes import EveryoneDetected
    from engine.session.pipeline import PipelineConfig
    from tests.engine.lift.test_keypoint_fit import detection_list, turning_person

    kp, sc, world = turning_person(frames=40, turns=0.1)
    sc = sc.copy()
    sc[10:14, MP_L_WRIST] = 0.1  # hidden for four frames
    tracks = PeopleTracks()
    for t, det in enumerate(detection_list(kp, sc, world)):
        tracks.append(t / FPS, [TrackedPerson(1, det)], det.image_size)
    config = PipelineConfig(lift=LiftConfig(mode="detector"))
    take = EveryoneDetected.from_tracks(tracks, make_lifter(config.lift), FPS, "synthetic").take(1, config)
    wrist = take.skeleton.index("left_wrist")
    assert take.joint_confidence is not None and take.joint_confidence.shape == take.joints_m.shape[:2]
    assert (take.joint_confidence[10:14, wrist] < HIDDEN_SCORE).all() and (take.joint_confidence[20, wrist] > 0.5)
    assert take.metadata["hidden_joint_frames"] >= 4
