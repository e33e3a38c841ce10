"""Small real takes for tests that need valid files to start from: the sample clip's first 40
frames as the detector saw them (tests/engine/data), mapped onto Monocap's body."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.core.coords import CAMERA_TO_WORLD
from engine.core.keypoint_maps import map_keypoints
from engine.core.skeletons import MEDIAPIPE_33, MONOCAP_BODY
from engine.core.take import Take

DETECTIONS = Path(__file__).resolve().parent / "data" / "taiji_detections_40.npz"


def body_take(frames: int = 40, fps: float = 30.0) -> Take:
    """A real person's motion (metres, Y up, feet on y = 0) with its detector keypoints."""
    data = np.load(DETECTIONS)
    world = map_keypoints(data["world"].astype(np.float64), MONOCAP_BODY.name) @ CAMERA_TO_WORLD.T
    reps = -(-frames // len(world))
    joints = np.concatenate([world] * reps)[:frames]
    joints[..., 1] -= np.nanmin(joints[..., 1])
    kp = np.concatenate([data["kp"]] * reps)[:frames].astype(np.float64)
    scores = np.concatenate([data["scores"]] * reps)[:frames].astype(np.float64)
    size = tuple(int(v) for v in data["size"])
    return Take(joints, MONOCAP_BODY, fps, np.arange(frames) / fps, np.ones(frames, bool), keypoints_px=kp,
                keypoint_scores=scores, keypoint_skeleton=MEDIAPIPE_33, image_size=size,
                metadata={"source": "taiji_sample.mp4"})
