"""The "fit" 3D mode: the detector's 3D, read the right way round and fitted to its 2D keypoints.

Steps per clip (or live window): front/back flips undone (engine.lift.body_flip), every frame
fitted to its 2D keypoints (engine.lift.keypoint_fit: image-plane positions from the 2D, depth
from the detector), leg depths cut to the subject's bone lengths, then mapped onto the target
skeleton. Live calls fit only the window's last frame; bone lengths come from the last
LIVE_LENGTH_FRAMES frames.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from engine.capture.detection import Detection
from engine.core import skeletons
from engine.core.keypoint_maps import map_keypoints
from engine.lift.body_flip import find_flips, unflip
from engine.lift.camera import DEFAULT_FOV_DEG, Intrinsics
from engine.lift.keypoint_fit import clip_leg_depths, fit_frame, leg_bone_lengths, subject_leg_lengths
from engine.lift.protocol import LiftConfig

LIVE_LENGTH_FRAMES = 300


class KeypointFitLifter:
    """engine.lift.protocol.Lifter for the detector's 3D fitted to the 2D keypoints."""

    def __init__(self, config: LiftConfig, fov_deg: float = DEFAULT_FOV_DEG):
        self.skeleton = skeletons.get(config.skeleton)
        self.fov_deg = fov_deg
        self._root = self.skeleton.parents.index(-1)
        self._live_lengths: deque[np.ndarray] = deque(maxlen=LIVE_LENGTH_FRAMES)

    def lift(self, detections: list[Detection | None], causal: bool = False) -> np.ndarray:
        out = np.full((len(detections), self.skeleton.num_joints, 3), np.nan)
        idx = [i for i, d in enumerate(detections) if d is not None and d.world_m is not None]
        if not idx or (causal and idx[-1] != len(detections) - 1):
            return out
        kp = np.array([detections[i].keypoints_px for i in idx], np.float64)
        sc = np.array([detections[i].scores for i in idx], np.float64)
        world = np.array([detections[i].world_m for i in idx], np.float64)
        kp, sc, world = unflip(kp, sc, world, find_flips(kp, sc, world))
        intrinsics = Intrinsics.from_fov(detections[idx[-1]].image_size, self.fov_deg)
        todo = range(len(idx) - 1, len(idx)) if causal else range(len(idx))
        fitted = np.array([fit_frame(world[n], kp[n], sc[n], intrinsics) for n in todo])
        if causal:
            self._live_lengths.append(leg_bone_lengths(world[-1]))
            lengths = subject_leg_lengths(np.array(self._live_lengths))
        else:
            lengths = subject_leg_lengths(leg_bone_lengths(world))
        for n, frame in zip(todo, fitted):
            joints = map_keypoints(clip_leg_depths(frame, lengths), self.skeleton.name)
            out[idx[n]] = joints - joints[self._root]
        return out
