"""What the 2D detector hands to the 3D stage for one frame."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from engine.core.skeletons import KEYPOINT_SCORE_MIN


@dataclass(frozen=True, eq=False)
class Detection:
    """One person in one frame, in the detector's keypoint format (engine.core.skeletons.MEDIAPIPE_33).

    keypoints_px: (K, 2) pixel coordinates (x right, y down) in the full image.
    scores: (K,) in [0, 1]; 0 means the keypoint is missing.
    world_m: (K, 3) the detector's own metric 3D, hip-centred, camera axes (x right, y down,
        z forward), or None when the detector gives none.
    image_size: (width, height) in pixels.
    """

    keypoints_px: np.ndarray
    scores: np.ndarray
    world_m: np.ndarray | None
    image_size: tuple[int, int]

    @cached_property
    def box_xyxy(self) -> np.ndarray:
        """(4,) bounding box of the confident keypoints, in pixels (a detection's arrays are not
        changed in place, so it is computed once)."""
        pts = self.keypoints_px[self.scores > KEYPOINT_SCORE_MIN]
        if len(pts) == 0:
            pts = self.keypoints_px
        return np.concatenate([pts.min(axis=0), pts.max(axis=0)])
