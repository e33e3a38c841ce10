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
    sources = [PacedSource(Slowed(POSE2SIM / "videos" / f"{c}.mp4", fps=4.0)) for c in ("cam01", "cam03")]
    frames = []
    made = LiveCameras(sources, rig).stream(max_frames=8, on_frame=frames.append)
    assert made == len(frames) == 8
    posed = [f for f in frames if f.joints_m is not None]
    assert len(posed) >= 6 and all(f.views == 2 for f in posed)
    head, ankle = MONOCAP_BODY.index("head"), MONOCAP_BODY.index("left_ankle")
    heights = [f.joints_m[head, 1] - f.joints_m[ankle, 1] for f in posed]
    assert 1.2 < float(np.median(heights)) < 2.1  # metres, from the calibration: a person's size
    assert all(f.captured_ns > 0 for f in frames)
