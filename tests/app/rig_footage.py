"""Two calibrated views of a real person without ../shared: the bundled sample clip as the left
camera and the same clip shifted as a second camera 0.5 m to its right would see it (a rectified
stereo pair: every keypoint the detector finds agrees across the views), and their calibration
as Monocap's TOML. Real video, decoded and detected as webcams' frames would be."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.multiview.calibration_files import write_calibration
from engine.multiview.cameras import Camera, Rig
from tests.conftest import SAMPLE_CLIP

FOCAL_PX = 500.0
BASELINE_M = 0.5
DISPARITY_PX = 80  # the person stands f * b / d = 3.1 m away, about 1.7 m tall


def write_pair(folder: Path, frames: int | None = None, loops: int = 1, size_delta: int = 0,
               fps2: float | None = None) -> tuple[Path, Path, Path]:
    """cam1.mp4, cam2.mp4 (`loops` times the clip, or its first `frames`) and rig.toml; size_delta:
    the second video that many pixels narrower and shorter than its calibration; fps2: the second
    video's frame rate (None: the clip's)."""
    cap = cv2.VideoCapture(str(SAMPLE_CLIP))
    fps = cap.get(cv2.CAP_PROP_FPS)
    images = []
    while frames is None or len(images) < frames:
        ok, image = cap.read()
        if not ok:
            break
        images.append(image)
    cap.release()
    h, w = images[0].shape[:2]
    shift = np.float32([[1, 0, -DISPARITY_PX], [0, 1, 0]])
    paths = folder / "cam1.mp4", folder / "cam2.mp4"
    size2 = (w - size_delta, h - size_delta)
    writers = [cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"mp4v"), rate, s)
               for p, s, rate in zip(paths, ((w, h), size2), (fps, fps2 or fps))]
    for _ in range(loops):
        for image in images:
            writers[0].write(image)
            moved = cv2.warpAffine(image, shift, (w, h), borderMode=cv2.BORDER_REPLICATE)
            writers[1].write(moved[: size2[1], : size2[0]])
    for writer in writers:
        writer.release()
    K = [[FOCAL_PX, 0, w / 2], [0, FOCAL_PX, h / 2], [0, 0, 1]]
    cams = (Camera("cam1", (w, h), K, np.zeros(5), np.eye(3), np.zeros(3)),
            Camera("cam2", (w, h), K, np.zeros(5), np.eye(3), np.array([-BASELINE_M, 0.0, 0.0])))
    rig_path = folder / "rig.toml"
    write_calibration(Rig(cams), rig_path)
    return paths[0], paths[1], rig_path
