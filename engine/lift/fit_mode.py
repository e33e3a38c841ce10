"""The "fit" 3D mode: the detector's 3D, read the right way round and fitted to its 2D keypoints.

Steps per clip (or live window): front/back flips undone (engine.lift.body_flip), every frame
fitted to its 2D keypoints (engine.lift.keypoint_fit: image-plane positions from the 2D, depth
from the detector), leg depths cut to the subject's bone lengths, then mapped onto the target
skeleton. Live (`start_live`, one frame at a time): flips by the causal fixer
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

    needs_images = False

    def __init__(self, config: LiftConfig, fov_deg: float = DEFAULT_FOV_DEG):
        self.skeleton = skeletons.get(config.skeleton)
        self.fov_deg = fov_deg
        self._root = self.skeleton.parents.index(-1)
        self.last_leg_lengths: np.ndarray | None = None

    def start_live(self) -> "LiveFitLift":
        return LiveFitLift(self)

    def lift(self, detections: list[Detection | None], causal: bool = False, images=None) -> np.ndarray:
        """causal=True lifts the frames in order as a live source would."""
        if causal:
            live = self.start_live()
            return np.stack([live.push(d) for d in detections]) if detections else \
                np.full((0, self.skeleton.num_joints, 3), np.nan)
        out = np.full((len(detections), self.skeleton.num_joints, 3), np.nan)
        idx, _, _, fitted = self.fit_clip(detections)
        for n, i in enumerate(idx):
            out[i] = self.to_skeleton(fitted[n])
        return out

    def fit_clip(self, detections: list[Detection | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """-> (frames with the detector's 3D (N,), their keypoints (N, 33, 2) and scores (N, 33) with
        the flips undone, the fitted hip-relative 3D of the 33 points (N, 33, 3), camera axes).
        The subject's leg bone lengths it cut by are then `self.last_leg_lengths`."""
        idx = np.array([i for i, d in enumerate(detections) if d is not None and d.world_m is not None], np.int64)
        if not len(idx):
            return idx, np.zeros((0, 33, 2)), np.zeros((0, 33)), np.zeros((0, 33, 3))
        kp = np.array([detections[i].keypoints_px for i in idx], np.float64)
        sc = np.array([detections[i].scores for i in idx], np.float64)
        world = np.array([detections[i].world_m for i in idx], np.float64)
        kp, sc, world = unflip(kp, sc, world, find_flips(kp, sc, world))
        intrinsics = Intrinsics.from_fov(detections[idx[0]].image_size, self.fov_deg)
        lengths = self.last_leg_lengths = subject_leg_lengths(leg_bone_lengths(world))
        fitted = np.array([clip_leg_depths(fit_frame(world[n], kp[n], sc[n], intrinsics), lengths)
                           for n in range(len(idx))])
        return idx, kp, sc, fitted

    def to_skeleton(self, joints_33: np.ndarray) -> np.ndarray:
        joints = map_keypoints(joints_33, self.skeleton.name)
        return joints - joints[self._root]


class LiveFitLift:
    """The fit mode's state for one live source: the causal flip fixer and recent leg lengths."""

    def __init__(self, lifter: KeypointFitLifter):
        self._lifter = lifter
        self._lengths: deque[np.ndarray] = deque(maxlen=LIVE_LENGTH_FRAMES)
        self._flips = LiveFlipFixer()
        self.leg_lengths: np.ndarray | None = None  # the subject's leg bone lengths of the last frame

    def push(self, detection: Detection | None, image_rgb: np.ndarray | None = None) -> np.ndarray:
        fitted = self.push_fitted(detection)
        if fitted is None:
            return np.full((self._lifter.skeleton.num_joints, 3), np.nan)
        return self._lifter.to_skeleton(fitted[2])

    def push_fitted(self, detection: Detection | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """One frame -> (keypoints (33, 2), scores (33,) with the flip undone, the fitted hip-relative
        3D (33, 3)), or None when the frame has no detector 3D."""
        lifter = self._lifter
        if detection is None or detection.world_m is None:
            return None
        flipped = self._flips.push(detection.keypoints_px, detection.scores, detection.world_m)
        kp, sc, world = unflip(detection.keypoints_px[None], detection.scores[None], detection.world_m[None],
                               np.array([flipped]))
        self._lengths.append(leg_bone_lengths(world[0]))
        lengths = self.leg_lengths = subject_leg_lengths(np.array(self._lengths))
        intrinsics = Intrinsics.from_fov(detection.image_size, lifter.fov_deg)
        return kp[0], sc[0], clip_leg_depths(fit_frame(world[0], kp[0], sc[0], intrinsics), lengths)
