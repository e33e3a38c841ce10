"""The default 3D mode against the detector's own 3D on real footage with real 3D truth."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.lift.modes import DEFAULT_MODE, LiftConfig
from tests.conftest import SHARED_DATA, shared_missing
from training.common.real_truth import (
    detect_video,
    mean_score,
    mirrored,
    mode_config,
    score_modes,
    score_view,
    truth_clips,
)


@pytest.fixture(scope="module")
def truth_root():
    root = SHARED_DATA / "truth"
    if not root.is_dir():
        pytest.skip(shared_missing("the footage with real 3D truth (truth/pose2sim_*)"))
    return root


def _pose(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(scale=0.3, size=(12, 3))


NAMES = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
         "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


def test_scores_forgive_what_each_metric_promises_to_forgive():
    rng = np.random.default_rng(0)
    truth = np.stack([_pose(rng) for _ in range(20)])
    valid = np.ones((20, 12), bool)
    angle = 0.7
    rot = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    moved = truth + np.array([0.3, -0.2, 2.0])  # translation: every metric forgives it
    s = score_view(moved, truth, valid, NAMES)
    assert s["pa_mpjpe_mm"] < 1e-6 and s["mpjpe_hip_mm"] < 1e-6 and s["pck150"] == 1.0
    turned = 1.3 * truth @ rot.T  # rotation and scale: only PA-MPJPE forgives them
    s = score_view(turned, truth, valid, NAMES)
    assert s["pa_mpjpe_mm"] < 1e-6 and s["mpjpe_hip_mm"] > 100
    missing = moved.copy()
    missing[:5] = np.nan  # frames without a prediction are misses, not free
    s = score_view(missing, truth, valid, NAMES)
    assert s["frames"] == 15 and s["pck150"] == pytest.approx(0.75)


@pytest.mark.parametrize("clip_index", [0])
def test_default_mode_is_no_worse_than_the_detector_on_real_truth(truth_root, clip_index):
    clips = truth_clips(truth_root)
    if len(clips) <= clip_index:
        pytest.skip("no truth clip")
    clip = clips[clip_index]
    tracks = [detect_video(v) for v in clip.videos]
    scores = score_modes(clip, tracks, ["detector", DEFAULT_MODE])
    det, default = scores["detector"], scores[DEFAULT_MODE]
    assert mean_score(default, "pa_mpjpe_mm") <= mean_score(det, "pa_mpjpe_mm"), (det, default)
    for view, d, m in zip(clip.views, det, default):
        assert m["pa_mpjpe_mm"] <= 1.05 * d["pa_mpjpe_mm"], (view, d, m)


def test_default_mode_beats_the_detector_on_a_mirrored_back_view(truth_root):
    """The view seen from the back, mirrored: a person the detector has not seen, turning the
    other way; the fixes must not depend on which way the person faces."""
    clips = truth_clips(truth_root)
    if not clips:
        pytest.skip("no truth clip")
    clip = mirrored(clips[0])
    view = clip.views.index("cam02") if "cam02" in clip.views else 0
    one = replace(clip, views=(clip.views[view],), videos=(clip.videos[view],), joints_cam=clip.joints_cam[view:view + 1])
    scores = score_modes(one, [detect_video(one.videos[0], mirror=True)], ["detector", DEFAULT_MODE])
    assert scores[DEFAULT_MODE][0]["pa_mpjpe_mm"] <= scores["detector"][0]["pa_mpjpe_mm"], scores


def test_a_benchmark_mode_can_name_its_own_model_file():
    assert mode_config("temporal=/models/b.npz") == LiftConfig(mode="temporal", checkpoint="/models/b.npz")
    assert mode_config("fit") == LiftConfig(mode="fit")


def test_a_folder_without_truth_is_a_one_line_error(tmp_path):
    from engine.core.errors import InputError
    from training.common.real_truth import load_truth_clip

    (tmp_path / "truth.npz").write_bytes(b"not an npz")
    with pytest.raises(InputError, match="truth.npz: not a truth clip"):
        load_truth_clip(tmp_path)


def test_a_take_is_scored_in_its_cameras_axes():
    """The rotation the take stores brings its world joints back to the camera's axes."""
    from engine.capture.track import DetectionTrack
    from engine.core.skeletons import MEDIAPIPE_33
    from engine.motion.smoothing import SmoothingConfig
    from tests.engine.lift.test_keypoint_fit import detection_list, turning_person
    from training.common.real_truth import take_in_mode, take_joints_cam

    kp, sc, world = turning_person(frames=60, turns=0.1)
    world = world @ np.array([[1, 0, 0], [0, np.cos(0.3), -np.sin(0.3)], [0, np.sin(0.3), np.cos(0.3)]]).T  # camera tilted
    track = DetectionTrack()
    for t, det in enumerate(detection_list(kp, sc, world)):
        track.append(t / 30, det)
    take = take_in_mode(track, 30.0, "detector", "synthetic", SmoothingConfig(strength=0.0))
    cam = take_joints_cam(take, NAMES)
    ids = [MEDIAPIPE_33.index(n) for n in NAMES]
    expected = world[:, ids]
    hips = [NAMES.index("left_hip"), NAMES.index("right_hip")]
    got = cam - cam[:, hips].mean(axis=1, keepdims=True)
    want = expected - expected[:, hips].mean(axis=1, keepdims=True)
    rigid = [i for i, n in enumerate(NAMES) if "shoulder" in n or "hip" in n]  # limbs: bone lengths locked
    assert np.abs(got - want)[:, rigid].max() < 0.01


def _people_clip(tmp_path, frames: int = 12):
    """A truth clip of one person standing still 2 m before a camera, and their projected hips."""
    from training.common.real_truth import TruthClip

    rng = np.random.default_rng(1)
    joints = np.tile(_pose(rng) * 0.5 + np.array([0.0, 0.0, 2.0]), (1, frames, 1, 1))
    k = np.array([[1000.0, 0, 320], [0, 1000.0, 240], [0, 0, 1]])
    np.savez(tmp_path / "truth.npz", K=k[None])
    clip = TruthClip("one", ("cam",), (tmp_path / "cam.mp4",), NAMES, joints, np.ones((frames, len(NAMES)), bool))
    return clip, k


def _person_take(number: int, hips_px: np.ndarray, joints_cam: np.ndarray, fps: float = 30.0):
    """A take (world = camera axes) whose 2D hips are `hips_px` per frame."""
    from engine.core.skeletons import MEDIAPIPE_33, MP_L_HIP, MP_R_HIP
    from engine.core.take import Take
    from engine.session.people_takes import PersonTake

    t = len(hips_px)
    joints = np.zeros((t, MEDIAPIPE_33.num_joints, 3))
    joints[:, [MEDIAPIPE_33.index(n) for n in NAMES]] = joints_cam
    kp = np.zeros((t, MEDIAPIPE_33.num_joints, 2))
    kp[:, MP_L_HIP] = kp[:, MP_R_HIP] = hips_px
    take = Take(joints, MEDIAPIPE_33, fps, np.arange(t) / fps, np.ones(t, bool), kp, np.ones(kp.shape[:2]),
                MEDIAPIPE_33, (640, 480), {"world_to_camera_rotation": np.eye(3).tolist()})
    return PersonTake(number, take, 0, number)


def test_people_scores_count_coverage_and_flag_a_take_holding_two_people(tmp_path):
    from training.common.people_truth import score_people, truth_hips_px

    clip, _ = _people_clip(tmp_path)
    hips = truth_hips_px(tmp_path, 0, clip)
    truth = clip.joints_cam[0]
    far = hips + np.array([400.0, 0.0])  # someone else, 400 px away
    his = _person_take(1, hips, truth)
    hers = _person_take(2, far, truth + 0.3)
    s = score_people(clip, tmp_path, 0, [his, hers], 30.0)
    assert s.takes == 2 and s.coverage == 1.0 and not s.mixed and s.scores["pa_mpjpe_mm"] < 1e-6
    swapped = np.where(np.arange(12)[:, None] < 6, hips, far)  # his take goes over to her half way
    s = score_people(clip, tmp_path, 0, [_person_take(1, swapped, truth), _person_take(2, far, truth)], 30.0)
    assert s.mixed == [1] and s.covered == 6
    s = score_people(clip, tmp_path, 0, [hers], 30.0)  # nobody on him: no coverage, no score
    assert s.covered == 0 and np.isnan(s.scores["pa_mpjpe_mm"])


@pytest.mark.slow
def test_everyone_gets_a_take_and_the_person_behind_is_covered(truth_root):
    """pose2sim_two_people: the man, often behind the woman, is in a take of his own in at least
    90 % of the frames with truth in every view, and no take holds both of them."""
    from training.common.people_truth import detect_everyone, everyone_in_mode, score_people
    from training.common.real_truth import load_truth_clip

    folder = truth_root / "pose2sim_two_people"
    if not folder.is_dir():
        pytest.skip(shared_missing("truth/pose2sim_two_people"))
    clip = load_truth_clip(folder)
    for v, video in enumerate(clip.videos):
        tracks, fps, name = detect_everyone(video)
        takes, numbered = everyone_in_mode(tracks, fps, name, DEFAULT_MODE)
        s = score_people(clip, folder, v, takes, fps, tracks, numbered)
        assert s.coverage >= 0.9, (clip.views[v], s)
        assert not s.mixed, (clip.views[v], s)
        assert s.takes >= 2, (clip.views[v], s)
