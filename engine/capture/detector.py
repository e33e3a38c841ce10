"""The 2D/3D keypoint detector: MediaPipe PoseLandmarker (BlazePose GHUM full), tracking mode.

With several people looked for, people partly hidden behind others are looked for again
("peeling"): MediaPipe's person finder keeps one of two overlapping people, and in tracking mode it
runs only while fewer people are tracked than looked for, so someone half behind someone else is
often not found at all. A peel paints the bodies of the people found grey (from their keypoints:
thick bones, the torso, the head; the landmarker's segmentation masks would do as well but cost
a quarter of a detector run on every frame) and runs the landmarker in image mode on what is
left; whoever it finds there, unlike anyone already found and not a fragment (`PEEL_MIN_HEIGHT`),
is added to the frame's people. It runs on every frame while two or more people were found within the last
`crowded_frames` frames, and on every `peel_every`-th frame otherwise (someone who may have come
in behind the person in view).
"""

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
    # with max_people > 1: look again behind the people found (the module's docstring), on every
    # frame while others were seen within crowded_frames, else on every peel_every-th frame (0: never)
    peel: bool = True
    peel_every: int = 30

    @property
    def peels(self) -> bool:
        return self.peel and self.max_people > 1

    def __post_init__(self) -> None:
        if self.max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {self.max_people}")
        if self.peel_every < 0:
            raise ValueError(f"peel_every must be at least 0, got {self.peel_every}")
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
        self._peeler = None  # made at the first peel
        self._peeler_options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)), running_mode=vision.RunningMode.IMAGE,
            num_poses=config.max_people, min_pose_detection_confidence=config.min_detection_confidence,
            min_pose_presence_confidence=config.min_presence_confidence)
        with native_stderr_silenced():
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        self._frames_seen = 0
        self._last_ms = -1
        self._since_peel = config.peel_every  # the first frame is peeled (peel_every > 0)
        self._since_crowded = config.crowded_frames + 1
        self.peeled = 0  # frames peeled
        self.peeled_found = 0  # people found by peels

    def __enter__(self) -> "PoseDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
        if self._peeler is not None:
            self._peeler.close()
            self._peeler = None

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
        people = _detections(result, w, h)
        if self.config.peels:
            people = self._peel(rgb, people)
        return people

    def _peel(self, rgb: np.ndarray, people: list[Detection]) -> list[Detection]:
        """The frame's people plus those a peel finds behind them (the module's docstring)."""
        cfg = self.config
        self._since_peel += 1
        self._since_crowded = 0 if len(people) > 1 else self._since_crowded + 1
        due = self._since_crowded <= cfg.crowded_frames or 0 < cfg.peel_every <= self._since_peel
        if not people or len(people) >= cfg.max_people or not due:
            return people
        self._since_peel = 0
        self.peeled += 1
        if self._peeler is None:
            with native_stderr_silenced():
                self._peeler = self._vision.PoseLandmarker.create_from_options(self._peeler_options)
        painted, mask = paint_silhouettes(rgb, people)
        found = _detections(self._peeler.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=painted)),
                            rgb.shape[1], rgb.shape[0])
        tallest = max(_height(p) for p in people)
        more = [d for d in found if _height(d) >= PEEL_MIN_HEIGHT * tallest and not on_paint(d, mask)
                and all(not same_person(d, p) for p in people)]
        more = more[: cfg.max_people - len(people)]
        self.peeled_found += len(more)
        if more:
            self._since_crowded = 0
        return people + more


PEEL_GREY = 127  # what the people found are painted over with
SAME_PERSON = 0.2  # mean keypoint distance, in box heights, under which two detections are one person
# a peel's find shorter than this part of the tallest person found is a fragment (a head over a
# shoulder) or someone far behind, whom the tracker would give no take (PeopleConfig.min_height_ratio)
PEEL_MIN_HEIGHT = 0.25
ON_PAINT = 0.5  # a peel's find with more of its sure keypoints on the paint is a remnant of someone painted out


def _height(det: Detection) -> float:
    box = det.box_xyxy
    return float(box[3] - box[1])


SILHOUETTE_WIDTH = 0.12  # of a person's box height: how thick their bones are painted


def paint_silhouettes(rgb: np.ndarray, people: list[Detection]) -> tuple[np.ndarray, np.ndarray]:
    """-> ((H, W, 3) a copy of the frame with each person's body painted grey from their
    keypoints: every bone a thick line, the torso filled, a disc on the head; (H, W) bool, where)."""
    import cv2

    from engine.core.skeletons import MEDIAPIPE_33, MP_L_HIP, MP_L_SHOULDER, MP_R_HIP, MP_R_SHOULDER

    mask = np.zeros(rgb.shape[:2], np.uint8)
    for person in people:
        kp = np.round(person.keypoints_px).astype(np.int32)
        width = max(int(SILHOUETTE_WIDTH * _height(person)), 3)
        for a, b in MEDIAPIPE_33.edges:
            cv2.line(mask, tuple(int(v) for v in kp[a]), tuple(int(v) for v in kp[b]), 1, width)
        cv2.fillConvexPoly(mask, kp[[MP_L_SHOULDER, MP_R_SHOULDER, MP_R_HIP, MP_L_HIP]], 1)
        cv2.circle(mask, tuple(int(v) for v in kp[0]), int(width * 1.2), 1, -1)
    painted = rgb.copy()
    painted[mask > 0] = PEEL_GREY
    return painted, mask > 0


def on_paint(det: Detection, mask: np.ndarray) -> bool:
    """Whether most of a peel's find's sure keypoints lie on the paint: what is left of someone
    painted out (an arm's edge, their legs between the lines), not someone behind them, whose
    visible keypoints lie off it."""
    from engine.core.skeletons import KEYPOINT_CONFIDENT

    h, w = mask.shape
    kp = np.round(det.keypoints_px[det.scores > KEYPOINT_CONFIDENT]).astype(int)
    kp = kp[(kp[:, 0] >= 0) & (kp[:, 0] < w) & (kp[:, 1] >= 0) & (kp[:, 1] < h)]
    return len(kp) == 0 or float(mask[kp[:, 1], kp[:, 0]].mean()) > ON_PAINT


def same_person(a: Detection, b: Detection) -> bool:
    """Whether two detections of one frame are one person: their keypoints lie within SAME_PERSON
    box heights of each other on average."""
    box = b.box_xyxy
    height = max(float(box[3] - box[1]), 1.0)
    return float(np.linalg.norm(a.keypoints_px - b.keypoints_px, axis=1).mean()) < SAME_PERSON * height


def _detections(result, w: int, h: int) -> list[Detection]:
    """A PoseLandmarker result -> one Detection per person, in the image's pixels."""
    people = []
    for i, lms in enumerate(result.pose_landmarks):
        keypoints = np.array([[p.x * w, p.y * h] for p in lms], dtype=np.float64)
        scores = np.array([min(p.visibility or 0.0, p.presence or 0.0) for p in lms], dtype=np.float64)
        world = None
        if i < len(result.pose_world_landmarks):
            world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks[i]], dtype=np.float64)
        people.append(Detection(keypoints, np.clip(scores, 0.0, 1.0), world, (w, h)))
    return people
