"""The 2D/3D keypoint detector: MediaPipe PoseLandmarker (BlazePose GHUM full), tracking mode."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.capture.detection import Detection
from engine.core.errors import InputError
from engine.core.native_log import native_stderr_silenced
from engine.core.resources import resource_path

DEFAULT_MODEL = "models/pose_landmarker_full.task"


@dataclass(frozen=True)
class DetectorConfig:
    model_path: str = ""  # empty: the bundled model
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    # people looked for in each frame: the chosen one plus one more by default, so that a second
    # person is seen as someone else (engine/capture/people.py) instead of being taken for the first
    max_people: int = 2
    # live capture of one person (engine/capture/live_detector.py): a one-person landmarker, with a
    # look for max_people on every look_every-th frame (1: on every frame), on every frame for
    # crowded_frames after a look saw someone else, and when the person's box keeps less than keep_iou
    look_every: int = 5
    crowded_frames: int = 30
    keep_iou: float = 0.3

    def __post_init__(self) -> None:
        if self.max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {self.max_people}")
        if self.look_every < 1 or self.crowded_frames < 0 or not 0.0 <= self.keep_iou <= 1.0:
            raise ValueError("DetectorConfig: need look_every >= 1, crowded_frames >= 0, 0 <= keep_iou <= 1")


class PoseDetector:
    """Finds up to `config.max_people` people per frame. Use as a context manager so the landmarker is closed.

    Frames must be fed in order with increasing timestamps (video/tracking mode).
    """

    def __init__(self, config: DetectorConfig = DetectorConfig()):
        self.config = config
        path = Path(config.model_path) if config.model_path else resource_path(DEFAULT_MODEL)
        if not path.is_file():
            raise InputError(f"{path}: pose model missing; rebuild it with `make model`")
        os.environ.setdefault("GLOG_minloglevel", "2")
        import cv2
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._cv2, self._mp = cv2, mp

        self._vision = vision
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=config.max_people,
            min_pose_detection_confidence=config.min_detection_confidence,
            min_pose_presence_confidence=config.min_presence_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
        )
        with native_stderr_silenced():
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        self._frames_seen = 0
        self._last_ms = -1

    def __enter__(self) -> "PoseDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def detect(self, image_bgr: np.ndarray, timestamp_ns: int) -> Detection | None:
        """The detector's first person, or None. With several people in view that one may change
        from frame to frame: follow one with engine.capture.people instead."""
        people = self.detect_people(image_bgr, timestamp_ns)
        return people[0] if people else None

    def detect_people(self, image_bgr: np.ndarray, timestamp_ns: int) -> list[Detection]:
        """image_bgr: (H, W, 3) uint8 -> everyone found (at most max_people), in no set order."""
        cv2, mp = self._cv2, self._mp
        h, w = image_bgr.shape[:2]
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        ms = max(int(timestamp_ns // 1_000_000), self._last_ms + 1)
        self._last_ms = ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        if self._frames_seen < 3:
            with native_stderr_silenced():
                result = self._landmarker.detect_for_video(image, ms)
        else:
            result = self._landmarker.detect_for_video(image, ms)
        self._frames_seen += 1
        people = []
        for i, lms in enumerate(result.pose_landmarks):
            keypoints = np.array([[p.x * w, p.y * h] for p in lms], dtype=np.float64)
            scores = np.array([min(p.visibility or 0.0, p.presence or 0.0) for p in lms], dtype=np.float64)
            world = None
            if i < len(result.pose_world_landmarks):
                world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks[i]], dtype=np.float64)
            people.append(Detection(keypoints, np.clip(scores, 0.0, 1.0), world, (w, h)))
        return people
