"""Face tracking: MediaPipe's 478 face landmarks (468 mesh points and 5 per iris), found in a crop
placed from the body's head keypoints.

The body detector's nose, eyes, ears and mouth corners place one square crop around the head (as
holistic trackers do); once the face is found, the crop follows the face's own landmarks and
stays put while the face stays well inside it, so the landmarker's own tracking keeps its frame of
reference. One MediaPipe FaceLandmarker (`resources/models/face_landmarker.task`, built by
`resources/models/make_face_task.py` from the mediapipe wheel: the short-range face detector and
the face landmark model with attention) runs on that crop in video mode: its face detector runs
only when the face was lost, and a lost face is searched for every `search_every` frames.

Crops are axis-aligned (scaled, never rotated), so the landmarks keep the camera's axes
(x right, y down, z forward, z in the same pixel scale as x). docs/FACE.md.
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
from engine.core.skeletons import KEYPOINT_SCORE_MIN, MEDIAPIPE_33

DEFAULT_FACE_MODEL = "models/face_landmarker.task"
FACE_RECIPE = "resources/models/make_face_task.py"
NUM_FACE_LANDMARKS = 478  # 468 mesh points, then one iris (468-472) and the other (473-477)
CROP_PX = 256
# The body keypoints a face crop is placed from: nose, eyes, ears, mouth corners.
MP_HEAD_KEYPOINTS = tuple(MEDIAPIPE_33.index(n) for n in (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "mouth_left", "mouth_right"))
MP_EARS = (MEDIAPIPE_33.index("left_ear"), MEDIAPIPE_33.index("right_ear"))
MP_EYES_OUTER = (MEDIAPIPE_33.index("left_eye_outer"), MEDIAPIPE_33.index("right_eye_outer"))
MP_MOUTH = (MEDIAPIPE_33.index("mouth_left"), MEDIAPIPE_33.index("mouth_right"))
MP_NOSE = MEDIAPIPE_33.index("nose")


@dataclass(frozen=True)
class FaceConfig:
    model_path: str = ""  # empty: the bundled model
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    min_body_score: float = KEYPOINT_SCORE_MIN  # the head keypoints a crop is placed from
    crop_scale: float = 2.2  # crop side, in face widths (ear to ear, or the face's own width)
    recentre: float = 0.12  # the crop moves once the face's centre is this share of its side away
    search_every: int = 2  # a lost face is searched for every this many frames,
    search_every_long: int = 10  # and every this many once it has been lost for long_loss frames
    long_loss: int = 30


@dataclass(frozen=True, eq=False)
class FaceObservation:
    """One frame's face. landmarks_px: (478, 3) x, y in full-image pixels and z (depth, camera
    axes, the same pixel scale; its origin is the face's centre), NaN when not found."""

    landmarks_px: np.ndarray
    found: bool

    @staticmethod
    def empty() -> "FaceObservation":
        return FaceObservation(np.full((NUM_FACE_LANDMARKS, 3), np.nan), False)


def face_crop_from_body(detection: Detection, config: FaceConfig = FaceConfig()) -> tuple[np.ndarray, float] | None:
    """(centre (2,) px, side px) of a square around the head, or None when the body does not show
    the face well enough (the nose or both eyes unsure)."""
    kp, sc = detection.keypoints_px, detection.scores
    ok = sc[list(MP_HEAD_KEYPOINTS)] >= config.min_body_score
    if sc[MP_NOSE] < config.min_body_score or ok.sum() < 4:
        return None
    points = kp[list(MP_HEAD_KEYPOINTS)][ok]
    widths = [np.linalg.norm(kp[MP_EYES_OUTER[0]] - kp[MP_EYES_OUTER[1]]) * 2.0,
              np.linalg.norm(kp[MP_MOUTH[0]] - kp[MP_MOUTH[1]]) * 3.0]
    if sc[list(MP_EARS)].min() >= config.min_body_score:
        widths.append(np.linalg.norm(kp[MP_EARS[0]] - kp[MP_EARS[1]]))
    width = max(max(widths), 8.0)
    centre = 0.5 * (points.min(axis=0) + points.max(axis=0))
    return centre, config.crop_scale * width


def face_crop_from_landmarks(landmarks_px: np.ndarray, config: FaceConfig = FaceConfig()) -> tuple[np.ndarray, float]:
    lo, hi = landmarks_px[:, :2].min(axis=0), landmarks_px[:, :2].max(axis=0)
    return 0.5 * (lo + hi), config.crop_scale * 0.85 * float(max(hi - lo))


def _crop_matrix(centre: np.ndarray, size: float) -> np.ndarray:
    """(2, 3) affine map from image pixels to the CROP_PX square."""
    s = CROP_PX / size
    return np.array([[s, 0.0, CROP_PX / 2 - s * centre[0]], [0.0, s, CROP_PX / 2 - s * centre[1]]])


def face_model_path(config: FaceConfig = FaceConfig()) -> Path:
    """The face task file, or a one-line InputError naming the recipe that builds it."""
    path = Path(config.model_path) if config.model_path else resource_path(DEFAULT_FACE_MODEL)
    if not path.is_file():
        raise InputError(f"{path}: face model missing; build it with `python {FACE_RECIPE}` (or `make model`)")
    return path


class FaceTracker:
    """Finds the face of the person the body detector found. Use as a context manager (or call
    `close`) so the landmarker is closed. Frames must come in order with increasing timestamps."""

    def __init__(self, config: FaceConfig = FaceConfig()):
        self.config = config
        self._path = face_model_path(config)
        os.environ.setdefault("GLOG_minloglevel", "2")
        import cv2
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._cv2, self._mp = cv2, mp
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self._path)),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,
            min_face_detection_confidence=config.min_detection_confidence,
            min_face_presence_confidence=config.min_presence_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
        )
        with native_stderr_silenced():
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._last_ms = -1
        self._missed = 0
        self._crop: tuple[np.ndarray, float] | None = None  # where the face was found last
        self.runs = 0  # frames the landmarker ran on

    def __enter__(self) -> "FaceTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def _searches(self) -> bool:
        missed = self._missed
        if missed == 0:
            return True
        every = self.config.search_every if missed <= self.config.long_loss else self.config.search_every_long
        return missed % every == 0

    def _place(self, detection: Detection | None) -> tuple[np.ndarray, float] | None:
        body = face_crop_from_body(detection, self.config) if detection is not None else None
        if self._crop is None:
            return body
        return self._crop

    def track(self, image_bgr: np.ndarray, detection: Detection | None, timestamp_ns: int) -> FaceObservation:
        """image_bgr: (H, W, 3) uint8, the frame the body `detection` was found in (None: nobody)."""
        if self._landmarker is None:
            raise RuntimeError("the face tracker is closed")
        ms = max(int(timestamp_ns // 1_000_000), self._last_ms + 1)
        self._last_ms = ms
        crop = self._place(detection)
        if crop is None or not self._searches():
            self._missed += 1
            return FaceObservation.empty()
        self.runs += 1
        landmarks = self._run(image_bgr, crop, ms)
        if landmarks is None:
            self._missed += 1
            self._crop = None  # searched for from the body again
            return FaceObservation.empty()
        self._missed = 0
        self._crop = self._follow(crop, landmarks)
        return FaceObservation(landmarks, True)

    def _follow(self, crop: tuple[np.ndarray, float], landmarks: np.ndarray) -> tuple[np.ndarray, float]:
        """The crop for the next frame: the same while the face stays well inside it, else one
        placed on the face."""
        centre, size = face_crop_from_landmarks(landmarks, self.config)
        old_centre, old_size = crop
        if np.linalg.norm(centre - old_centre) <= self.config.recentre * old_size and 0.85 <= size / old_size <= 1.18:
            return crop
        return centre, size

    def _run(self, image_bgr: np.ndarray, crop: tuple[np.ndarray, float], ms: int) -> np.ndarray | None:
        cv2, mp = self._cv2, self._mp
        centre, size = crop
        m = _crop_matrix(centre, size)
        patch = cv2.warpAffine(image_bgr, m, (CROP_PX, CROP_PX), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT)
        rgb = cv2.cvtColor(patch, cv2.COLOR_BGR2RGB)
        result = self._landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), ms)
        if not result.face_landmarks or len(result.face_landmarks[0]) < NUM_FACE_LANDMARKS:
            return None
        crop_px = np.array([[p.x, p.y, p.z] for p in result.face_landmarks[0][:NUM_FACE_LANDMARKS]],
                           dtype=np.float64) * CROP_PX
        out = np.empty_like(crop_px)
        out[:, :2] = (crop_px[:, :2] - m[:, 2]) / m[0, 0]
        out[:, 2] = crop_px[:, 2] / m[0, 0]
        return out
