"""A take recorded live from two cameras (two real files standing in for webcams, the sample clip
and its view from a second camera, tests/app/rig_footage.py) is redone offline from every view's
keypoints kept beside it: the whole take fused at once and through the zero-lag temporal stage of
`monocap process CAM1 CAM2`; a recording cut short or a redo that fails keeps the live take."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.core.skeletons import MONOCAP_BODY
from engine.core.take import load_npz
from engine.session.pipeline import PipelineConfig
from tests.app.rig_footage import write_pair

ROOT = MONOCAP_BODY.parents.index(-1)


def _cover(video: Path, covered: range) -> None:
    """The video with those frames black: the camera covered."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    fps, images = cap.get(cv2.CAP_PROP_FPS), []
    while (image := cap.read()[1]) is not None:
        images.append(image)
    cap.release()
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), fps, images[0].shape[1::-1])
    for i, image in enumerate(images):
        writer.write(image * 0 if i in covered else image)
    writer.release()


def _record(folder: Path, frames: int = 60, fail_finish: bool = False, monkeypatch=None, covered: range = range(0)):
    from engine.session.camera_rig import CameraRigSession, RigView
    from engine.session.events import SessionEvents

    cam1, cam2, rig = write_pair(folder, frames=frames)
    _cover(cam2, covered)
    saved, ended = [], []
    if fail_finish:  # the take cannot be finished, as when the program is killed while recording
        from engine.session.recorder import TakeRecorder

        def broken(self):
            raise OSError("killed")

        monkeypatch.setattr(TakeRecorder, "finish", broken)
    session = CameraRigSession([RigView("file", path=str(cam1)), RigView("file", path=str(cam2))], rig,
                               PipelineConfig(), SessionEvents(take_saved=saved.append, ended=ended.append),
                               takes_dir=folder / "takes")
    session.set_recording(True)
    session.stream()
    return saved, ended[0]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rig")
    saved, end = _record(folder)
    assert end.error is None and len(saved) == 1
    return saved[0]


def _copy(saved, folder: Path) -> Path:
    """The recorded take and its views in a folder of the test's own, so tests do not share changes."""
    for p in Path(saved.path).parent.glob(f"{saved.name}.*"):
        shutil.copy(p, folder / p.name)
    return folder / Path(saved.path).name


def test_a_two_camera_take_is_redone_as_the_offline_pass_of_its_views(recorded, tmp_path):
    from engine.multiview.triangulation import fuse_views
    from engine.session.multi_camera import _take, _View
    from engine.session.views_redo import ViewsRedoJob, first_camera_alone, pose_rate, read_views, redo

    path = _copy(recorded, tmp_path)
    live = load_npz(path)
    assert live.num_frames >= 30 and live.valid.mean() > 0.8
    rig, kp, sc, wm = read_views(path)
    assert rig.names == ("cam1", "cam2") and kp.shape == (2, live.num_frames, 33, 2)
    assert (sc[1].max(axis=1) > 0).mean() > 0.8  # the second camera's person was kept, pose by pose
    seen = sc[0] > 0
    assert np.allclose(kp[0][seen], live.keypoints_px[seen], atol=1e-3)  # the first camera's, as the take's

    job = ViewsRedoJob.for_saved(recorded.__class__(recorded.name, path, live, None), PipelineConfig())
    result = redo(job)
    assert not result.error and result.frames == live.num_frames, result
    redone = load_npz(path)
    # what `process_views` makes of these keypoints: the whole take fused at once, the zero-lag stage
    rate = pose_rate(live)
    fused = first_camera_alone(fuse_views(rig, kp, sc, wm), rig, kp, sc, wm)
    offline = _take(fused, rig, _View(Path("cam1"), rig[0], rate), live.keypoints_px, live.keypoint_scores,
                    PipelineConfig(), rate, ["cam1", "cam2"])
    assert np.array_equal(redone.valid, offline.valid) and redone.valid.sum() >= 0.8 * live.num_frames
    assert np.allclose(redone.joints_m, offline.joints_m, equal_nan=True, atol=1e-6)
    assert np.array_equal(redone.timestamps_s, live.timestamps_s)  # the live take's frames, one for one
    assert redone.fps == pytest.approx(rate) and rate < live.fps * 1.01
    both = redone.valid & live.valid
    pose_live = live.joints_m[both] - live.joints_m[both, ROOT:ROOT + 1]
    pose_redone = redone.joints_m[both] - redone.joints_m[both, ROOT:ROOT + 1]
    assert np.abs(pose_live - pose_redone).mean() > 0.002  # not the causal live joints
    meta = redone.metadata
    assert "monocap process" in meta["refined"] and meta["temporal"] == "offline zero-phase"
    assert meta["cameras"] == ["cam1", "cam2"] and meta["calibration"] == "rig.toml"
    assert redone.image_size == live.image_size


def test_a_redo_that_fails_keeps_the_live_take_and_says_why(recorded, tmp_path):
    from engine.session.views_redo import ViewsRedoJob, redo

    path = _copy(recorded, tmp_path)
    before = path.read_bytes()
    views = path.with_suffix(".views")
    views.write_bytes(views.read_bytes()[: len(views.read_bytes()) // 2])  # half the poses' views
    result = redo(ViewsRedoJob(str(path), PipelineConfig()))
    assert "keypoints kept hold" in result.error and "\n" not in result.error
    assert path.read_bytes() == before
    path.with_suffix(".views.toml").unlink()  # a take without its views is not redone
    assert ViewsRedoJob.for_saved(recorded.__class__(recorded.name, path, load_npz(path), None),
                                  PipelineConfig()) is None


def test_a_recording_cut_short_keeps_its_live_take_and_its_views(tmp_path, monkeypatch):
    from engine.session.recorder import recover_all
    from engine.session.views_redo import ViewsRedoJob, read_views, redo

    saved, end = _record(tmp_path, frames=30, fail_finish=True, monkeypatch=monkeypatch)
    assert not saved and end.error is not None
    monkeypatch.undo()
    (name, path), = recover_all(tmp_path / "takes")
    live = load_npz(path)
    assert live.num_frames >= 10 and live.metadata["recovered"]
    _, kp, _, _ = read_views(path)
    assert kp.shape[1] == live.num_frames
    result = redo(ViewsRedoJob(str(path), PipelineConfig()))  # a recovered take can still be redone
    assert not result.error, result
    assert "refined" in load_npz(path).metadata


@pytest.mark.parametrize("covered", [range(24, 48), {*range(0, 16), *range(44, 60)}], ids=["middle", "start"])
def test_poses_the_first_camera_alone_saw_stay_in_the_redone_take(tmp_path, covered):
    from engine.session.views_redo import ViewsRedoJob, read_views, redo

    saved, end = _record(tmp_path, frames=72, covered=covered)  # the second camera covered for about 1 s
    assert end.error is None
    live = saved[0].take
    _, _, sc, _ = read_views(saved[0].path)
    alone = (sc[0].max(axis=1) > 0) & (sc[1].max(axis=1) == 0)
    assert alone.sum() >= 3 and live.valid[alone].all()  # live: the first camera's own pose went on (fewer poses when busy)
    assert not redo(ViewsRedoJob.for_saved(saved[0], PipelineConfig())).error
    redone = load_npz(saved[0].path)
    assert redone.valid[live.valid].all()  # the redone take keeps a pose wherever the live one had one
    steps = np.linalg.norm(np.diff(redone.joints_m[:, ROOT], axis=0), axis=-1)
    assert np.nanmax(steps) < 0.15, steps  # metres a frame: the change of depth is smoothed, no jump
