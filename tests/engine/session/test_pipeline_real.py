"""The whole pipeline on real footage (the shared taiji clip, or the bundled sample, its first 10 s
at 640x360): stable bones, smooth joints, a take even with gaps."""

import numpy as np
import pytest

from engine.capture.detector import PoseDetector
from engine.capture.frames import VideoFileSource
from engine.core.errors import NoValidFramesError
from engine.core.keypoint_maps import map_keypoints
from engine.core.skeletons import MONOCAP_BODY
from engine.session.pipeline import LiveTracker, PipelineConfig, detect_source, take_from_track
from engine.session.session import Session
from tests.conftest import shared_clip_or_sample
from tests.engine.video_helpers import read_frames, write_video


@pytest.fixture(scope="module")
def taiji_track():
    source = VideoFileSource(shared_clip_or_sample("taiji_720p.mp4"))
    frames = source.frame_count
    with PoseDetector() as detector:
        track = detect_source(source, detector)
    source.close()
    return track, source.fps, frames


def _mean_acceleration(joints, fps):
    acc = np.diff(joints, n=2, axis=0) * fps * fps
    return float(np.nanmean(np.linalg.norm(acc, axis=-1)))


def test_taiji_bones_stable_and_motion_smooth(taiji_track):
    track, fps, frames = taiji_track
    take = take_from_track(track, fps, PipelineConfig(), source_name="taiji")
    assert take.num_frames == frames and take.valid.mean() > 0.95
    j = take.joints_m[take.valid]
    bones = MONOCAP_BODY.bone_lengths(j)
    assert (bones.std(axis=0) / bones.mean(axis=0)).max() < 0.005

    raw = map_keypoints(track.world_m[track.valid].astype(float), MONOCAP_BODY.name)
    raw_bones = MONOCAP_BODY.bone_lengths(raw)
    assert (raw_bones.std(axis=0) / raw_bones.mean(axis=0)).max() > 0.02  # the raw detector does vary
    rel = j - j[:, :1]
    raw_rel = raw - raw[:, :1]
    assert _mean_acceleration(raw_rel, fps) > 4 * _mean_acceleration(rel, fps)

    height = np.ptp(j[:, :, 1], axis=1).max()
    assert 1.4 < height < 2.1
    feet = j[:, [MONOCAP_BODY.index(n) for n in ("left_ankle", "right_ankle", "left_toe", "right_toe")], 1]
    assert abs(np.percentile(feet.min(axis=1), 5)) < 0.01  # the floor is y = 0
    assert take.metadata["valid_frames"] == int(take.valid.sum())


def test_live_tracker_is_causal_and_steady(taiji_track):
    track, fps, _ = taiji_track
    tracker = LiveTracker(PipelineConfig())
    out = []
    for i in range(len(track)):
        frame = tracker.push(i, track.timestamps_s[i], track.detection(i))
        out.append(frame.joints_m if frame.joints_m is not None else np.full((22, 3), np.nan))
    out = np.array(out)
    assert tracker.calibrated
    after = out[int(4 * fps):]
    bones = MONOCAP_BODY.bone_lengths(after[np.isfinite(after).all(axis=(1, 2))])
    assert (bones.std(axis=0) / bones.mean(axis=0)).max() < 1e-6
    raw = map_keypoints(track.world_m.astype(float), MONOCAP_BODY.name)[int(4 * fps):]
    assert _mean_acceleration(raw - raw[:, :1], fps) > 1.4 * _mean_acceleration(after - after[:, :1], fps)
    # causal: the result for frame i does not change when later frames differ
    tracker2 = LiveTracker(PipelineConfig())
    for i in range(60):
        last = tracker2.push(i, track.timestamps_s[i], track.detection(i))
    assert np.allclose(last.joints_m, out[59])


def test_frames_without_a_person_are_marked_invalid(tmp_path, sample_clip):
    person = read_frames(sample_clip, 30)
    blank = [np.full_like(person[0], 40) for _ in range(15)]
    video = write_video(tmp_path / "gap.mp4", person[:15] + blank + person[15:], fps=24)
    source = VideoFileSource(video)
    take = Session(source, PipelineConfig()).process()
    assert take.num_frames == 45
    assert take.valid[:12].all() and take.valid[-12:].all()
    assert not take.valid[18:27].any()
    assert np.isnan(take.joints_m[~take.valid]).all()
    assert np.isfinite(take.joints_m[take.valid]).all()


def test_nobody_at_all_is_a_clear_error(tmp_path):
    video = write_video(tmp_path / "empty_room.mp4", [np.full((240, 320, 3), 90, np.uint8)] * 10)
    with pytest.raises(NoValidFramesError, match="empty_room.mp4: nobody was found"):
        Session(VideoFileSource(video), PipelineConfig()).process()
