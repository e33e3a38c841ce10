"""A take recorded live is refined by the same offline pass as `monocap process`: recording a whole
file gives exactly the arrays `process` gives on it; a part of a file, or a camera's recorded video,
keeps the live take's frames; a failed pass keeps the live take."""

from __future__ import annotations

import numpy as np
import pytest

from engine.capture.frames import open_source
from engine.core.take import load_npz, save_npz
from engine.session.events import SessionEvents
from engine.session.refine import RefineJob, Refiner, refine
from engine.session.session import Session
from engine.session.settings import pipeline_config
from tests.engine.video_helpers import read_frames, write_video

CONFIG = pipeline_config(mode="fit")


@pytest.fixture(scope="module")
def clip(tmp_path_factory, sample_clip):
    return write_video(tmp_path_factory.mktemp("clip") / "clip.mp4", read_frames(sample_clip, 36), fps=24)


def _record(clip, takes, start_at: int = 0):
    saved = []

    def on_pose(t):
        if t.frame.index + 1 == start_at:
            session.set_recording(True)

    session = Session(lambda: open_source(clip), CONFIG, SessionEvents(pose=on_pose, take_saved=saved.append), takes_dir=takes)
    session.set_recording(start_at == 0)
    session.stream(realtime=False)
    assert len(saved) == 1
    return saved[0]


def _processed(clip, tmp_path):
    """The take `monocap process` writes for the clip, read back."""
    return load_npz(save_npz(Session(lambda: open_source(clip), CONFIG).process(), tmp_path / "processed.npz"))


def _same(a, b) -> None:
    assert a.num_frames == b.num_frames
    for name in ("joints_m", "valid", "timestamps_s", "keypoints_px", "keypoint_scores"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_recording_a_whole_file_gives_the_arrays_process_gives(clip, tmp_path):
    saved = _record(clip, tmp_path / "takes")
    live = load_npz(saved.path)
    assert saved.source_path == clip and saved.source_frames == tuple(range(36))
    result = refine(RefineJob.for_saved(saved, CONFIG))
    assert result.error == "" and result.frames == 36
    refined = load_npz(saved.path)
    _same(refined, _processed(clip, tmp_path))
    assert not np.array_equal(np.nan_to_num(refined.joints_m), np.nan_to_num(live.joints_m))  # not the causal take
    assert refined.metadata["refined_from"] == clip.name


def test_part_of_a_file_keeps_the_live_takes_frames_and_times(clip, tmp_path):
    saved = _record(clip, tmp_path / "takes", start_at=10)
    live = load_npz(saved.path)
    assert saved.source_frames == tuple(range(10, 36))
    refine(RefineJob.for_saved(saved, CONFIG))
    refined = load_npz(saved.path)
    assert refined.num_frames == live.num_frames == 26
    np.testing.assert_allclose(refined.timestamps_s - refined.timestamps_s[0], live.timestamps_s - live.timestamps_s[0])


def test_a_cameras_take_is_refined_from_the_video_recorded_beside_it(clip, tmp_path):
    saved = _record(clip, tmp_path / "takes")
    job = RefineJob.for_saved(type(saved)(saved.name, saved.path, saved.take, saved.video_path), CONFIG)
    assert job.source == str(saved.video_path)
    result = refine(job)
    assert result.error == "" and load_npz(saved.path).num_frames == saved.take.num_frames


def test_a_pass_that_fails_keeps_the_live_take(clip, tmp_path):
    saved = _record(clip, tmp_path / "takes")
    before = saved.path.read_bytes()
    job = RefineJob(str(saved.path), str(tmp_path / "gone.mp4"), saved.source_frames, CONFIG)
    result = refine(job)
    assert "gone.mp4" in result.error and "\n" not in result.error
    assert saved.path.read_bytes() == before


def test_the_refiner_runs_the_pass_in_a_process_of_its_own(clip, tmp_path):
    saved = _record(clip, tmp_path / "takes")
    done = []
    with Refiner() as refiner:
        refiner.submit(RefineJob.for_saved(saved, CONFIG), done.append)
        import time

        deadline = time.monotonic() + 180
        while not done and time.monotonic() < deadline:
            time.sleep(0.1)
    assert done and done[0].error == "" and done[0].frames == 36
    _same(load_npz(saved.path), _processed(clip, tmp_path))
