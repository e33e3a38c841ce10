"""Live capture from two calibrated cameras (two real files standing in for webcams)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import SHARED_DATA, shared_missing

POSE2SIM = SHARED_DATA / "truth" / "pose2sim_single"


class Slowed:
    """A video's frames due `fps` a second (a slow webcam, so that a busy test machine keeps up)."""

    is_live = False

    def __init__(self, path, fps: float):
        from engine.capture.frames import VideoFileSource


        self.source, self.fps = VideoFileSource(path), fps
        self.name = self.source.name
        self.frame_count = self.source.frame_count

    def __iter__(self):
        from engine.capture.frames import Frame

        for frame in self.source:
            yield Frame(frame.index, int(frame.index * 1e9 / self.fps), frame.image)

    def close(self) -> None:
        self.source.close()


@pytest.mark.slow
@pytest.mark.skipif(not (POSE2SIM / "videos").is_dir(), reason=shared_missing("pose2sim_single"))
def test_two_cameras_give_a_triangulated_pose_per_step():
    from engine.capture.paced_source import PacedSource
    from engine.core.skeletons import MONOCAP_BODY
    from engine.multiview.calibration_files import read_calibration
    from engine.multiview.cameras import Rig
    from engine.session.multi_camera_live import LiveCameras

    shipped = read_calibration(POSE2SIM / "Calib.qca.txt")
    rig = Rig((shipped.camera("cam01"), shipped.camera("cam03")))
    sources = [PacedSource(Slowed(POSE2SIM / "videos" / f"{c}.mp4", fps=2.0)) for c in ("cam01", "cam03")]
    frames = []
    made = LiveCameras(sources, rig).stream(max_frames=8, on_frame=frames.append)
    assert made == len(frames) == 8
    posed = [f for f in frames if f.joints_m is not None]
    # a second camera's frame late on a busy machine leaves a step to the first camera's own 3D
    assert len(posed) >= 6 and sum(f.views == 2 for f in posed) >= 5, [f.views for f in frames]
    head, ankle = MONOCAP_BODY.index("head"), MONOCAP_BODY.index("left_ankle")
    heights = [f.joints_m[head, 1] - f.joints_m[ankle, 1] for f in posed]
    assert 1.2 < float(np.median(heights)) < 2.1  # metres, from the calibration: a person's size
    assert all(f.captured_ns > 0 for f in frames)


def test_several_cameras_without_a_calibration_is_one_line(tmp_path, capsys):
    from engine.cli import main

    assert main(["process", "--camera", "0", "--camera", "1", "-o", str(tmp_path), "-q"]) == 2
    assert "several --camera need --calibration" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not (POSE2SIM / "videos").is_dir(), reason=shared_missing("pose2sim_single"))
def test_process_with_two_cameras_records_a_take(tmp_path, monkeypatch):
    import engine.cli.process_views as process_views
    from engine.capture.paced_source import PacedSource
    from engine.cli import main
    from engine.core.take import load_npz
    from engine.multiview.calibration_files import read_calibration, write_calibration
    from engine.multiview.cameras import Rig

    shipped = read_calibration(POSE2SIM / "Calib.qca.txt")
    write_calibration(Rig((shipped.camera("cam01"), shipped.camera("cam03"))), tmp_path / "rig.toml")
    files = {0: "cam01", 1: "cam03"}  # webcams 0 and 1 film what pose2sim's cam01 and cam03 filmed
    monkeypatch.setattr(process_views, "CameraSource",
                        lambda index: PacedSource(Slowed(POSE2SIM / "videos" / f"{files[index]}.mp4", fps=8.0)))
    out = tmp_path / "out"
    assert main(["process", "--camera", "0", "--camera", "1", "--calibration", str(tmp_path / "rig.toml"),
                 "-o", str(out), "--formats", "npz,bvh", "-q"]) == 0
    take = load_npz(out / "cameras0_1.npz")
    assert take.num_frames >= 5 and take.valid.mean() > 0.7
    assert "monocap process" in take.metadata["refined"]  # redone from every view's keypoints once stopped
    assert (out / "cameras0_1.bvh").stat().st_size > 1000


def test_a_live_camera_at_another_size_than_calibrated_is_one_line(tmp_path):
    import cv2

    from engine.capture.frames import VideoFileSource
    from engine.core.errors import InputError
    from engine.session.multi_camera_live import LiveCameras
    from tests.engine.multiview.synthetic import ring_rig

    paths = []
    for name, size in (("a.mp4", (1280, 720)), ("b.mp4", (640, 480))):
        writer = cv2.VideoWriter(str(tmp_path / name), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, size)
        for _ in range(30):
            writer.write(np.zeros((size[1], size[0], 3), np.uint8))
        writer.release()
        paths.append(tmp_path / name)
    live = LiveCameras([VideoFileSource(p) for p in paths], ring_rig(2))
    with pytest.raises(InputError, match="b.mp4: the video is 640x480 but camera cam2 was calibrated at 1280x720"):
        live.stream(max_frames=30)
