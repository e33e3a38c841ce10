"""The image network as the pipeline's third 3D mode, from the CLI and the engine."""

import numpy as np
import pytest

from engine.capture.frames import VideoFileSource
from engine.lift.modes import LiftConfig, available_modes
from engine.lift.nets.checkpoint import save_checkpoint
from engine.lift.nets.image_pose_net import ImagePoseNet
from engine.session.pipeline import PipelineConfig
from engine.session.session import Session
from tests.engine.cli.test_cli import _assert_one_clear_line, monocap
from tests.engine.video_helpers import read_frames, write_video


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    net = ImagePoseNet(num_joints=17, base_width=4, layers=(1, 1, 1), input_size=64).eval()
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    return save_checkpoint(path, "ImagePoseNet", net.constructor_kwargs(), net.state_dict(), {})


def test_image_mode_runs_through_the_pipeline(tmp_path, sample_clip, tiny_checkpoint):
    assert "image" in available_modes()
    video = write_video(tmp_path / "c.mp4", read_frames(sample_clip, 12), fps=24)
    config = PipelineConfig(lift=LiftConfig(mode="image", checkpoint=str(tiny_checkpoint), device="cpu"))
    take = Session(VideoFileSource(video), config).process()
    assert take.skeleton.name == "h36m_17"
    assert take.joints_m.shape == (12, 17, 3)
    assert take.valid.sum() >= 10
    assert np.isfinite(take.joints_m[take.valid]).all()


def test_image_mode_without_a_checkpoint_is_one_clear_line(tmp_path, sample_clip):
    _assert_one_clear_line(monocap("process", sample_clip, "--mode", "image", "-o", tmp_path), "checkpoint")


def test_cli_image_mode_writes_what_it_can_and_says_why_not_bvh(tmp_path, sample_clip, tiny_checkpoint):
    short = write_video(tmp_path / "s.mp4", read_frames(sample_clip, 8), fps=24)
    result = monocap("process", short, "--mode", "image", "--checkpoint", tiny_checkpoint, "-o", tmp_path / "o", "-q")
    assert result.returncode == 0, result.stderr
    assert "s.bvh not written" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "o" / "s.npz").exists() and (tmp_path / "o" / "s.csv").exists()


def test_image_mode_streams_live_with_each_frames_image(sample_clip, tiny_checkpoint):
    from engine.session.events import SessionEvents

    video_frames = read_frames(sample_clip, 6)
    config = PipelineConfig(lift=LiftConfig(mode="image", checkpoint=str(tiny_checkpoint), device="cpu"))
    poses = []
    end = Session(lambda: _ListSource(video_frames), config, SessionEvents(pose=poses.append)).stream()
    assert end.error is None and len(poses) == 6
    assert all(p.pose.joints_m.shape == (17, 3) for p in poses if p.pose.joints_m is not None)
    assert sum(p.pose.joints_m is not None for p in poses) >= 4


class _ListSource:
    is_live = False
    name = "frames"
    fps = 24.0

    def __init__(self, images):
        from engine.capture.frames import Frame

        self.frame_count = len(images)
        self._frames = [Frame(i, int(i * 1e9 / self.fps), im) for i, im in enumerate(images)]

    def __iter__(self):
        return iter(self._frames)

    def close(self):
        pass
