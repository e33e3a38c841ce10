"""Hands and fingers: the hand model recipe, left/right from the body, fingers on the body, and
finger curl through the solver into BVH files on both rigs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.animation.formats import ExportOptions, read_take, write_take
from engine.animation.rig import get_rig
from engine.capture.detection import Detection
from engine.capture.hands import HandTracker, hand_crop
from engine.core.errors import InputError
from engine.core.joint_angles import joint_angle
from engine.core.skeletons import FINGERS, MONOCAP_BODY, MONOCAP_HANDS, MP_HAND_KEYPOINTS, finger_joint_names
from engine.motion.fingers import offline_fingers
from engine.motion.smoothing import SmoothingConfig
from tests.engine.animation.test_bvh_export import spin_take
from tests.engine.capture.model_recipes import task_from_recipe
from tests.engine.synthetic_hands import hand_points, hands_take, palm_frame

REPO = Path(__file__).resolve().parents[3]
HAND_TASK = REPO / "resources" / "models" / "hand_landmarker.task"


def test_hand_task_builds_from_the_wheel_as_shipped(tmp_path):
    out = task_from_recipe(tmp_path, "make_hand_task.py", "hand_landmarker.task")
    assert out.read_bytes() == HAND_TASK.read_bytes(), "the shipped hand model is not what the recipe builds"


def test_hand_tracker_opens_and_closes_the_model_and_names_a_missing_one(tmp_path):
    from engine.capture.hands import HandsConfig

    with pytest.raises(InputError, match="nope.task"):
        HandTracker(HandsConfig(model_path=str(tmp_path / "nope.task")))
    with HandTracker() as tracker:
        blank = np.zeros((240, 320, 3), np.uint8)
        assert not tracker.track(blank, None, 0).found.any()
    assert all(lm is None for lm in tracker._landmarkers.values())


# ---------------------------------------------------------------------------------------------
# left and right come from the body


def _body_detection(left_wrist: np.ndarray, right_wrist: np.ndarray) -> Detection:
    kp = np.zeros((33, 2))
    scores = np.ones(33)
    for side, wrist in (("left", left_wrist), ("right", right_wrist)):
        w, pinky, index, thumb = MP_HAND_KEYPOINTS[side]
        kp[w] = wrist
        kp[pinky] = wrist + (20.0, 8.0)
        kp[index] = wrist + (20.0, -8.0)
        kp[thumb] = wrist + (10.0, -14.0)
    return Detection(kp, scores, None, (640, 480))


def _fake_hand(wrist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keypoints = wrist + np.linspace(0.0, 40.0, 21)[:, None] * np.array([1.0, 0.0])
    return keypoints, np.zeros((21, 3))


@pytest.mark.parametrize("alternate", [False, True])
def test_hands_keep_their_side_when_they_cross(monkeypatch, alternate):
    """Each side's landmarker sees whatever hand is nearest its crop's centre, as a tracker that
    latches onto the wrong hand would; the hand given for a side must always be that side's."""
    frames = 80
    x = np.linspace(150.0, 450.0, frames)
    left = np.stack([x, np.full(frames, 240.0)], axis=1)  # the left hand moves right ...
    right = np.stack([x[::-1], np.full(frames, 250.0)], axis=1)  # ... the right hand left: they cross

    with HandTracker(alternate=alternate) as tracker:
        state = {"t": 0}

        def nearest_hand(image, side, crop, ms):
            centre = crop[0]
            hands = (left[state["t"]], right[state["t"]])
            wrist = min(hands, key=lambda w: np.linalg.norm(w + (20.0, 0.0) - centre))
            return _fake_hand(wrist)

        monkeypatch.setattr(tracker, "_track_side", nearest_hand)
        monkeypatch.setattr(tracker, "_restart", lambda side: None)
        image = np.zeros((480, 640, 3), np.uint8)
        kept = np.zeros((frames, 2), bool)
        for t in range(frames):
            state["t"] = t
            result = tracker.track(image, _body_detection(left[t], right[t]), t * 33_000_000)
            for k, truth in enumerate((left[t], right[t])):
                if result.found[k]:
                    kept[t, k] = True
                    assert np.linalg.norm(result.keypoints_px[k, 0] - truth) < 1e-6, f"frame {t}: side {k} swapped"
        assert kept.mean() > 0.8  # away from the crossing itself both hands are kept


def test_alternating_sides_run_one_landmarker_per_frame_and_carry_the_other(monkeypatch):
    """Live: with both hands held, one side per frame; the other keeps its hand, moved with the
    body wrist. A side that loses its hand is searched for without waiting its turn."""
    with HandTracker(alternate=True) as tracker:
        calls = []
        lost = set()

        def hand_at_crop(image, side, crop, ms):
            calls.append((ms, side))
            return None if side in lost else _fake_hand(crop[0] - (20.0, 0.0))

        monkeypatch.setattr(tracker, "_track_side", hand_at_crop)
        image = np.zeros((480, 640, 3), np.uint8)
        for t in range(20):
            left, right = np.array([200.0 + 5 * t, 240.0]), np.array([420.0, 240.0 - 3 * t])
            det = _body_detection(left, right)
            result = tracker.track(image, det, t * 33_000_000)
            assert result.found.all()
            ran = {side for ms, side in calls if ms == t * 33}
            assert len(ran) == (2 if t == 0 else 1)
            for k, (side, wrist) in enumerate(zip(("left", "right"), (left, right))):
                where = hand_crop(det, side, tracker.config)[0] - (20.0, 0.0)  # where the fake finds it
                assert np.linalg.norm(result.keypoints_px[k, 0] - where) < 1e-6, (t, k)
        assert tracker.runs == 21
        lost.add("left")
        det = _body_detection(np.array([300.0, 240.0]), np.array([420.0, 200.0]))
        found = [tracker.track(image, det, t * 33_000_000).found for t in range(20, 26)]
        assert not any(f[0] for f in found[2:])  # the left hand is gone once its turn has come
        right = [ms // 33 for ms, side in calls if side == "right" and ms >= 20 * 33]
        assert set(range(22, 26)) <= set(right)  # no turns while one side is lost


def test_a_hand_far_from_its_body_wrist_is_dropped(monkeypatch):
    with HandTracker() as tracker:
        restarted = []
        monkeypatch.setattr(tracker, "_track_side", lambda image, side, crop, ms: _fake_hand(np.array([600.0, 50.0])))
        monkeypatch.setattr(tracker, "_restart", restarted.append)
        det = _body_detection(np.array([100.0, 300.0]), np.array([300.0, 300.0]))
        result = tracker.track(np.zeros((480, 640, 3), np.uint8), det, 0)
        assert not result.found.any()
        assert restarted == ["left", "right"]


def test_hands_found_on_real_footage_sit_at_the_body_wrists():
    """A woman exercising, front view (the shared clip), or the bundled sample's man doing tai chi."""
    from engine.capture.detector import PoseDetector
    from engine.capture.frames import open_source
    from tests.conftest import shared_clip_or_sample

    source = open_source(shared_clip_or_sample("tfjs_woman_exercise_moves_front_composite.mp4"))
    found = 0
    with PoseDetector() as detector, HandTracker() as tracker:
        for frame in source:
            if frame.index >= 60:
                break
            det = detector.detect(frame.image, frame.timestamp_ns)
            hands = tracker.track(frame.image, det, frame.timestamp_ns)
            for k, side in enumerate(("left", "right")):
                if hands.found[k]:
                    found += 1
                    wrists = det.keypoints_px[[MP_HAND_KEYPOINTS[s][0] for s in ("left", "right")]]
                    own, other = np.linalg.norm(hands.keypoints_px[k, 0] - wrists, axis=1)[[k, 1 - k]]
                    assert own <= other
                    spread = np.linalg.norm(hands.world_m[k] - hands.world_m[k, 0], axis=1).max()
                    assert 0.05 < spread < 0.3  # metres: a hand's size
    source.close()
    assert found >= 30  # of 120 hand-frames; the hands are small in both clips


# ---------------------------------------------------------------------------------------------
# fingers on the body, and through the solver


def test_offline_fingers_attach_at_the_wrist_with_locked_lengths():
    body = spin_take(frames=90, turns=0.25)
    t_count = body.num_frames
    rng = np.random.default_rng(0)
    hands_cam = np.zeros((t_count, 2, 21, 3))
    for t in range(t_count):
        for k, side in enumerate(("left", "right")):
            # camera axes are world axes with y and z flipped (engine/core/coords.py)
            pts = hand_points(palm_frame(body.joints_m[t], side), 30.0) * np.array([1.0, -1.0, -1.0])
            hands_cam[t, k, 1:] = pts + rng.normal(0, 0.002, pts.shape)
    found = np.ones((t_count, 2), bool)
    found[40:44, 0] = False  # a short gap: bridged
    found[60:, 1] = False  # a long one: no fingers there
    from engine.core.coords import CAMERA_TO_WORLD

    joints, info = offline_fingers(body.joints_m, hands_cam, found, CAMERA_TO_WORLD, body.fps, SmoothingConfig())
    assert joints.shape == (t_count, MONOCAP_HANDS.num_joints, 3)
    np.testing.assert_allclose(joints[:, :22][:, [0, 5, 8]], body.joints_m[:, [0, 5, 8]])
    left = [MONOCAP_HANDS.index(n) for n in finger_joint_names("left")]
    right = [MONOCAP_HANDS.index(n) for n in finger_joint_names("right")]
    assert np.isfinite(joints[:, left]).all()
    assert np.isfinite(joints[:59, right]).all() and np.isnan(joints[62:, right]).all()
    bones = joints[:, left[1]] - joints[:, left[0]]
    lengths = np.linalg.norm(bones, axis=-1)
    assert lengths.std() < 1e-9, "finger bone lengths are not locked"
    truth = hand_points(palm_frame(body.joints_m[10], "left"), 30.0) + body.joints_m[10, MONOCAP_BODY.index("left_wrist")]
    assert np.abs(joints[10, left] - truth).max() < 0.006  # within the noise, at the body's wrist
    assert info["finger_frames"][1] < t_count


def _curl_take():
    body = spin_take(frames=120, turns=0.3)
    curl = np.concatenate([np.full(40, 5.0), np.linspace(5.0, 80.0, 40), np.full(40, 80.0)])
    return hands_take(body, curl), curl


def _angle_deg(m: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip((np.trace(m, axis1=-2, axis2=-1) - 1) / 2, -1, 1)))


@pytest.mark.parametrize("rig", ["monocap", "mixamo"])
def test_finger_curl_survives_the_bvh_on_both_rigs(tmp_path, rig):
    take, curl = _curl_take()
    path = write_take(take, tmp_path / "hands.bvh", ExportOptions(rig=rig, ground=False, foot_contact=False))
    back = read_take(path)
    rig_def = get_rig(rig, fingers=True)
    finger_joints = [j.name for j in rig_def.joints if any(f in j.name.lower() for f in FINGERS)]
    assert len(finger_joints) == 30  # three per finger, five fingers, two hands
    names = back.skeleton.joint_names
    assert all(n in names for n in finger_joints)
    if rig == "mixamo":
        assert "mixamorig:LeftHandThumb1" in names and "mixamorig:RightHandPinky3" in names
    for side in ("left", "right"):
        for finger in FINGERS[1:]:
            a, b, c = (rig_def.joints[rig_def.joint_at(f"{side}_{finger}{k}")].name for k in (1, 2, 3))
            p = {n: back.joints_m[:, names.index(n)] for n in (a, b, c)}
            got = np.degrees(np.arccos(np.clip(np.einsum(
                "ti,ti->t", *(v / np.linalg.norm(v, axis=1, keepdims=True) for v in (p[b] - p[a], p[c] - p[b]))), -1, 1)))
            assert got[:40].max() < 45.0 < got[80:].min(), \
                f"{side} {finger}: open {got[:40].max():.0f}, closed {got[80:].min():.0f}"
            np.testing.assert_allclose(got, curl, atol=2.0)
    # the BVH's own channels: the middle joint's local rotation is the curl (rest: straight fingers)
    from engine.animation.solver import SolverOptions, rig_motion, solve

    motion = rig_motion(solve(take, SolverOptions(foot_contact=False, ground=False)), rig_def)
    pip = rig_def.joint_at("left_index2")
    assert _angle_deg(motion.local_rotations[:40, pip]).max() < 45 < _angle_deg(motion.local_rotations[80:, pip]).min()


def test_finger_curl_is_a_joint_angle_choice():
    take, curl = _curl_take()
    got = joint_angle(take.joints_m, take.skeleton, "left_index_curl")
    np.testing.assert_allclose(got, curl, atol=1e-6)


def test_fingers_follow_the_palm_when_a_hand_is_missing(tmp_path):
    take, _ = _curl_take()
    joints = take.joints_m.copy()
    right = [MONOCAP_HANDS.index(n) for n in finger_joint_names("right")]
    joints[50:70, right] = np.nan  # the right hand out of view for a while
    path = write_take(take.with_joints(joints), tmp_path / "gap.bvh", ExportOptions(ground=False, foot_contact=False))
    back = read_take(path)
    assert np.isfinite(back.joints_m).all()
    csv = read_take(write_take(take.with_joints(joints), tmp_path / "gap.csv"))
    assert csv.skeleton is MONOCAP_HANDS and csv.valid.all()
    assert np.isnan(csv.joints_m[55, right]).all()
    trc = read_take(write_take(take.with_joints(joints), tmp_path / "gap.trc"))
    assert trc.skeleton is MONOCAP_HANDS and trc.valid.all()


def test_a_take_without_hands_exports_no_fingers(tmp_path):
    body = spin_take(frames=30)
    back = read_take(write_take(body, tmp_path / "body.bvh", ExportOptions(rig="mixamo")))
    assert not any("Index" in n or "Thumb" in n for n in back.skeleton.joint_names)
    assert read_take(write_take(body, tmp_path / "body.csv")).skeleton is MONOCAP_BODY


def test_live_capture_with_hands_gives_finger_joints_and_closes_the_hand_model(sample_clip):
    from engine.capture.detector import PoseDetector
    from engine.capture.frames import open_source
    from engine.session.live_stage import TrackingStage
    from engine.session.pipeline import LiveTracker, PipelineConfig

    tracker = LiveTracker(PipelineConfig(hands=True))
    assert tracker.skeleton is MONOCAP_HANDS
    poses = []
    source = open_source(sample_clip)
    with PoseDetector() as detector, TrackingStage(tracker, lambda f, d, pose, item: poses.append(pose)) as stage:
        for frame in source:
            if frame.index >= 12:
                break
            stage.submit(frame, detector.detect(frame.image, frame.timestamp_ns))
    source.close()
    assert len(poses) == 12
    with_body = [p for p in poses if p.joints_m is not None]
    assert with_body and all(p.joints_m.shape == (MONOCAP_HANDS.num_joints, 3) for p in with_body)
    assert all(p.hands is not None for p in poses)
    assert all(lm is None for lm in stage._hands._landmarkers.values())


def test_a_live_recording_keeps_frames_whose_hand_is_out_of_view(tmp_path):
    from engine.session.recorder import TakeRecorder, read_recording

    take, _ = _curl_take()
    right = [MONOCAP_HANDS.index(n) for n in finger_joint_names("right")]
    recorder = TakeRecorder(tmp_path, "t", MONOCAP_HANDS, take.fps, write_video=False)
    for t in range(30):
        joints = take.joints_m[t].copy()
        if t >= 10:
            joints[right] = np.nan
        recorder.append(take.timestamps_s[t], joints, None, None)
    recorder.flush()
    back = read_recording(tmp_path, "t")  # what a cut-short recording is recovered from
    assert back.valid.all() and back.skeleton is MONOCAP_HANDS
    finished, _ = recorder.finish()
    assert finished.valid.all()
    assert np.isnan(back.joints_m[20, right]).all() and np.isfinite(back.joints_m[5, right]).all()


def test_a_recording_with_hands_keeps_their_2d_keypoints_and_old_recordings_still_read(tmp_path):
    import json

    from engine.core.take import load_npz
    from engine.session.recorder import TakeRecorder, read_recording, recover_all

    take, _ = _curl_take()
    hands = np.random.default_rng(1).uniform(0, 600, (30, 2, 21, 2))
    hands[10:20, 1] = np.nan  # the right hand not found
    recorder = TakeRecorder(tmp_path, "t", MONOCAP_HANDS, take.fps, write_video=False)
    for t in range(30):
        recorder.append(take.timestamps_s[t], take.joints_m[t], None, None, hands_px=hands[t])
    recorder.flush()
    cut_short = read_recording(tmp_path, "t")
    np.testing.assert_allclose(cut_short.hand_keypoints_px, hands, atol=1e-3)
    recorder.abort()
    assert recover_all(tmp_path) == [("t", tmp_path / "t.npz")]
    np.testing.assert_allclose(load_npz(tmp_path / "t.npz").hand_keypoints_px, hands, atol=1e-3)
    # a recording of the body alone has none, and one from before hands were recorded reads as before
    body = TakeRecorder(tmp_path, "b", MONOCAP_BODY, take.fps, write_video=False)
    body.append(0.0, take.joints_m[0, :22], None, None)
    body.flush()
    header = json.loads((tmp_path / "b.rec.json").read_text())
    assert "num_hand_keypoints" not in header
    finished, path = body.finish()
    assert finished.hand_keypoints_px is None and load_npz(path).hand_keypoints_px is None
    from engine.session.recorder import _record_dtype

    header = {"name": "old", "skeleton": MONOCAP_HANDS.name, "joint_names": list(MONOCAP_HANDS.joint_names),
              "parents": list(MONOCAP_HANDS.parents), "keypoint_skeleton": "mediapipe_33", "num_keypoints": 33,
              "fps": take.fps, "source": "", "image_size": None, "metadata": {}}
    (tmp_path / "old.rec.json").write_text(json.dumps(header))
    recs = np.zeros(5, _record_dtype(MONOCAP_HANDS.num_joints, 33))  # records without hands
    recs["t"], recs["valid"], recs["joints"] = np.arange(5) / take.fps, 1, take.joints_m[:5]
    (tmp_path / "old.rec").write_bytes(recs.tobytes())
    before = read_recording(tmp_path, "old")
    assert before.num_frames == 5 and before.hand_keypoints_px is None and before.skeleton is MONOCAP_HANDS


def test_live_fingers_soak_keeps_memory_flat():
    import tracemalloc

    from engine.core.coords import CAMERA_TO_WORLD
    from engine.motion.fingers import LiveFingers

    body = spin_take(frames=50).joints_m
    fingers = LiveFingers(SmoothingConfig())
    rng = np.random.default_rng(3)
    hands = np.zeros((2, 21, 3))
    hands[:, 1:] = hand_points(np.eye(3), 20.0)

    def run(n, start):
        for i in range(start, start + n):
            found = rng.random(2) > 0.2
            out = fingers.push(body[i % 50], hands + rng.normal(0, 0.001, hands.shape), found, CAMERA_TO_WORLD, i / 30)
            assert out.shape == (MONOCAP_HANDS.num_joints, 3)

    run(300, 0)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    run(2000, 300)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 200_000, f"memory grew by {grown} bytes over 2000 frames"
