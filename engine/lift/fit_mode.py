"""The "fit" 3D mode: the detector's 3D, read the right way round and fitted to its 2D keypoints.

Steps per clip (or live window): front/back flips undone (engine.lift.body_flip), every frame
fitted to its 2D keypoints (engine.lift.keypoint_fit: image-plane positions from the 2D, depth
from the detector), limb depths cut to the subject's bone lengths, then mapped onto the target
skeleton. Live calls fit only the window's last frame and keep the bone lengths of the last
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
from engine.lift.keypoint_fit import LIMB_BONES, clip_limb_depths, fit_frame, limb_lengths
from engine.lift.protocol import LiftConfig

LIVE_LENGTH_FRAMES = 300


class KeypointFitLifter:
    """engine.lift.protocol.Lifter for the detector's 3D fitted to the 2D keypoints."""

    def __init__(self, config: LiftConfig, fov_deg: float = DEFAULT_FOV_DEG):
        self.skeleton = skeletons.get(config.skeleton)
        self.fov_deg = fov_deg
        self._root = self.skeleton.parents.index(-1)
        self._live_fitted: deque[np.ndarray] = deque(maxlen=LIVE_LENGTH_FRAMES)

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
            self._live_fitted.append(fitted[-1][np.unique(np.ravel(LIMB_BONES))])
            lengths = self._live_lengths()
        else:
            lengths = limb_lengths(fitted)
        for n, frame in zip(todo, fitted):
            joints = map_keypoints(clip_limb_depths(frame, lengths), self.skeleton.name)
            out[idx[n]] = joints - joints[self._root]
        return out

    def _live_lengths(self) -> np.ndarray:
        used = np.unique(np.ravel(LIMB_BONES))
        frames = np.zeros((len(self._live_fitted), max(used) + 1, 3))
        frames[:, used] = np.array(self._live_fitted)
        return limb_lengths(frames)
