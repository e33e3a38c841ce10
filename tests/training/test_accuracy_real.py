"""The default 3D mode against the detector's own 3D on real footage with real 3D truth."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.lift.modes import DEFAULT_MODE
from tests.conftest import SHARED_DATA, shared_missing
from training.common.real_truth import detect_video, mean_score, mirrored, score_modes, score_view, truth_clips


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
