"""The detector's output over a whole source, kept compactly so memory stays flat per frame."""

from __future__ import annotations

import numpy as np

from engine.capture.detection import Detection
from engine.capture.hands import NUM_HAND_KEYPOINTS, HandsFrame
from engine.core.skeletons import KEYPOINT_SCORE_MIN, MEDIAPIPE_33


class DetectionTrack:
    """Growable float32 arrays of keypoints, scores and the detector's 3D, one row per frame."""

    def __init__(self, num_keypoints: int = MEDIAPIPE_33.num_joints, capacity: int = 1024):
        self.hands: HandTrack | None = None  # both hands per frame, when they are tracked
        self.face_curves: np.ndarray | None = None  # (T, C) the face's values, when the face is tracked
        self.k = num_keypoints
        self._n = 0
        self._kp = np.zeros((capacity, self.k, 2), np.float32)
        self._sc = np.zeros((capacity, self.k), np.float32)
        self._w = np.zeros((capacity, self.k, 3), np.float32)
        self._has_world = np.zeros(capacity, bool)
        self._valid = np.zeros(capacity, bool)
        self._t = np.zeros(capacity, np.float64)
        self.image_size: tuple[int, int] | None = None

    def __len__(self) -> int:
        return self._n

    def _grow(self) -> None:
        for name in ("_kp", "_sc", "_w", "_has_world", "_valid", "_t"):
            a = getattr(self, name)
            b = np.zeros((2 * len(a),) + a.shape[1:], a.dtype)
            b[: len(a)] = a
            setattr(self, name, b)

    def append(self, timestamp_s: float, detection: Detection | None) -> None:
        if self._n == len(self._valid):
            self._grow()
        i = self._n
        self._t[i] = timestamp_s
        if detection is not None:
            self._kp[i] = detection.keypoints_px
            self._sc[i] = detection.scores
            self._valid[i] = True
            self.image_size = detection.image_size
            if detection.world_m is not None:
                self._w[i] = detection.world_m
                self._has_world[i] = True
        self._n += 1

    def absorb(self, other: "DetectionTrack") -> None:
        """Takes the rows `other` (a track of the same frames) has and this one lacks."""
        rows = other.valid & ~self.valid
        for name in ("_kp", "_sc", "_w", "_has_world", "_valid"):
            getattr(self, name)[: self._n][rows] = getattr(other, name)[: self._n][rows]

    def median_height_px(self) -> float:
        """The median height of the box around the confident keypoints, over the frames seen."""
        y, confident = self.keypoints_px[self.valid, :, 1], self.scores[self.valid] > KEYPOINT_SCORE_MIN
        rows = confident.any(axis=1)
        if not rows.any():
            return 0.0
        y, confident = y[rows], confident[rows]
        heights = np.where(confident, y, -np.inf).max(axis=1) - np.where(confident, y, np.inf).min(axis=1)
        return float(np.median(heights))

    @property
    def keypoints_px(self) -> np.ndarray:
        return self._kp[: self._n]

    @property
    def scores(self) -> np.ndarray:
        return self._sc[: self._n]

    @property
    def world_m(self) -> np.ndarray:
        return self._w[: self._n]

    @property
    def valid(self) -> np.ndarray:
        return self._valid[: self._n]

    @property
    def timestamps_s(self) -> np.ndarray:
        return self._t[: self._n]

    def detection(self, i: int) -> Detection | None:
        if not self._valid[i]:
            return None
        world = self._w[i].astype(np.float64) if self._has_world[i] else None
        return Detection(self._kp[i].astype(np.float64), self._sc[i].astype(np.float64), world, self.image_size or (0, 0))

    def detections(self) -> list[Detection | None]:
        return [self.detection(i) for i in range(self._n)]


class HandTrack:
    """Both hands over a whole source, float32: keypoints_px (T, 2, 21, 2), world_m (T, 2, 21, 3)
    (engine.capture.hands.HandsFrame per frame; index 0 the left hand) and found (T, 2)."""

    def __init__(self, capacity: int = 1024):
        self._n = 0
        self._kp = np.full((capacity, 2, NUM_HAND_KEYPOINTS, 2), np.nan, np.float32)
        self._w = np.full((capacity, 2, NUM_HAND_KEYPOINTS, 3), np.nan, np.float32)
        self._found = np.zeros((capacity, 2), bool)

    def __len__(self) -> int:
        return self._n

    def append(self, hands: HandsFrame) -> None:
        if self._n == len(self._found):
            for name in ("_kp", "_w", "_found"):
                a = getattr(self, name)
                b = np.full((2 * len(a),) + a.shape[1:], np.nan if a.dtype != bool else False, a.dtype)
                b[: len(a)] = a
                setattr(self, name, b)
        self._kp[self._n] = hands.keypoints_px
        self._w[self._n] = hands.world_m
        self._found[self._n] = hands.found
        self._n += 1

    @property
    def keypoints_px(self) -> np.ndarray:
        return self._kp[: self._n]

    @property
    def world_m(self) -> np.ndarray:
        return self._w[: self._n]

    @property
    def found(self) -> np.ndarray:
        return self._found[: self._n]
