"""The "fit" 3D mode: the detector's 3D, read the right way round and fitted to its 2D keypoints.

Steps per clip (or live window): front/back flips undone (engine.lift.body_flip), every frame
fitted to its 2D keypoints (engine.lift.keypoint_fit: image-plane positions from the 2D, depth
from the detector), leg depths cut to the subject's bone lengths, then mapped onto the target
skeleton. Live calls lift only the window's newest frame: flips by the causal fixer
(engine.lift.body_flip.LiveFlipFixer), bone lengths from the last LIVE_LENGTH_FRAMES frames.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from engine.capture.detection import Detection
from engine.core import skeletons
from engine.core.keypoint_maps import map_keypoints
from engine.lift.body_flip import LiveFlipFixer, find_flips, unflip
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
        self._live_flips = LiveFlipFixer()
        self._live_last: tuple[Detection, np.ndarray] | None = None  # the newest frame and its joints

    def lift(self, detections: list[Detection | None], causal: bool = False) -> np.ndarray:
        out = np.full((len(detections), self.skeleton.num_joints, 3), np.nan)
        idx = [i for i, d in enumerate(detections) if d is not None and d.world_m is not None]
        if causal:
            if idx and idx[-1] == len(detections) - 1:
                out[-1] = self._lift_live(detections[-1])
            return out
        if not idx:
            return out
        kp = np.array([detections[i].keypoints_px for i in idx], np.float64)
        sc = np.array([detections[i].scores for i in idx], np.float64)
        world = np.array([detections[i].world_m for i in idx], np.float64)
        kp, sc, world = unflip(kp, sc, world, find_flips(kp, sc, world))
        intrinsics = Intrinsics.from_fov(detections[idx[0]].image_size, self.fov_deg)
        lengths = subject_leg_lengths(leg_bone_lengths(world))
        for n, i in enumerate(idx):
            out[i] = self._to_skeleton(clip_leg_depths(fit_frame(world[n], kp[n], sc[n], intrinsics), lengths))
        return out

    def _lift_live(self, det: Detection) -> np.ndarray:
        """The newest frame of a live window; each frame is pushed through the live state once."""
        if self._live_last is not None and self._live_last[0] is det:
            return self._live_last[1]
        flipped = self._live_flips.push(det.keypoints_px, det.scores, det.world_m)
        kp, sc, world = unflip(det.keypoints_px[None], det.scores[None], det.world_m[None], np.array([flipped]))
        self._live_lengths.append(leg_bone_lengths(world[0]))
        lengths = subject_leg_lengths(np.array(self._live_lengths))
        intrinsics = Intrinsics.from_fov(det.image_size, self.fov_deg)
        joints = self._to_skeleton(clip_leg_depths(fit_frame(world[0], kp[0], sc[0], intrinsics), lengths))
        self._live_last = (det, joints)
        return joints

    def _to_skeleton(self, joints_33: np.ndarray) -> np.ndarray:
        joints = map_keypoints(joints_33, self.skeleton.name)
        return joints - joints[self._root]
