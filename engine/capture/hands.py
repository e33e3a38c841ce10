"""Hand tracking: 21 keypoints per hand in 2D and 3D, found in crops placed from the body.

The body detector's wrist, index, pinky and thumb keypoints place one crop per hand (as holistic
trackers do), and one MediaPipe HandLandmarker per side runs on that crop in tracking mode, so its
palm detector runs only when that side's hand was lost. Left and right come from the body: each
side has its own crop and landmarker, and a hand whose wrist is not at that side's body wrist is
dropped (the model's own left/right guess is never used).

Crops are axis-aligned (scaled, never rotated), so the hand model's metric 3D keeps the camera's
axes (x right, y down, z forward).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.capture.detection import Detection
from engine.core.errors import InputError
from engine.core.native_log import native_stderr_silenced
from engine.core.resources import resource_path
from engine.core.skeletons import (
    HAND_EDGES,  # noqa: F401 - still importable from here
    KEYPOINT_SCORE_MIN,
    MP_HAND_KEYPOINTS,
)

DEFAULT_HAND_MODEL = "models/hand_landmarker.task"
NUM_HAND_KEYPOINTS = 21
SIDES = ("left", "right")
# MediaPipe's 21 hand keypoints: the wrist, then four per finger from the base to the tip.
HAND_KEYPOINT_NAMES = (
    "wrist",
    "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_mcp", "index_pip", "index_dip", "index_tip",
    "middle_mcp", "middle_pip", "middle_dip", "middle_tip",
    "ring_mcp", "ring_pip", "ring_dip", "ring_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)
CROP_PX = 256


@dataclass(frozen=True)
class HandsConfig:
    model_path: str = ""  # empty: the bundled model
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    min_body_score: float = KEYPOINT_SCORE_MIN  # a side whose body wrist/index/pinky score less is not searched
    crop_scale: float = 4.0  # crop side, in lengths wrist -> knuckles
    max_wrist_offset: float = 2.0  # in the same lengths: a hand found farther from the body's wrist is dropped
    search_every: int = 3  # a lost hand is searched for (the palm detector) every this many frames,
    search_every_long: int = 10  # and every this many once it has been lost for long_loss frames
    long_loss: int = 30
    # live capture: while both hands are tracked, one side per frame in turn; the other keeps its
    # last hand, moved with the body's wrist (docs/HANDS.md, "Speed")
    live_alternate: bool = True


@dataclass(frozen=True, eq=False)
class HandsFrame:
    """Both hands in one frame; index 0 is the person's left hand, 1 the right.

    keypoints_px: (2, 21, 2) pixels in the full image, NaN where a hand was not found.
    world_m: (2, 21, 3) metres, the hand model's own 3D with the wrist at the origin, camera axes
        (x right, y down, z forward); NaN where not found.
    found: (2,) bool.
    """

    keypoints_px: np.ndarray
    world_m: np.ndarray
    found: np.ndarray

    @staticmethod
    def empty() -> "HandsFrame":
        return HandsFrame(np.full((2, NUM_HAND_KEYPOINTS, 2), np.nan), np.full((2, NUM_HAND_KEYPOINTS, 3), np.nan),
                          np.zeros(2, bool))


def hand_crop(detection: Detection, side: str, config: HandsConfig) -> tuple[np.ndarray, float] | None:
    """The crop for one side: (centre (2,) px, side length px), or None when the body does not
    show that hand well enough."""
    wrist, pinky, index, thumb = MP_HAND_KEYPOINTS[side]
    if detection.scores[[wrist, pinky, index]].min() < config.min_body_score:
        return None
    kp = detection.keypoints_px
    knuckles = (2.0 * kp[index] + kp[pinky]) / 3.0  # about the middle finger's base
    reach = max(np.linalg.norm(knuckles - kp[wrist]), np.linalg.norm(kp[thumb] - kp[wrist]), 4.0)
    centre = kp[wrist] + 1.2 * (knuckles - kp[wrist])
    return centre, config.crop_scale * reach


def _crop_matrix(centre: np.ndarray, size: float) -> np.ndarray:
    """(2, 3) affine map from image pixels to the CROP_PX square."""
    s = CROP_PX / size
    return np.array([[s, 0.0, CROP_PX / 2 - s * centre[0]], [0.0, s, CROP_PX / 2 - s * centre[1]]])


class HandTracker:
    """Finds both hands of the person the body detector found. Use as a context manager so the
    landmarkers are closed. Frames must come in order with increasing timestamps.

    alternate: while both sides hold their hand, only one side's landmarker runs per frame, in
    turn; the other side keeps its last hand (its 3D as it was, its keypoints moved by the body
    wrist's move since). A side that lost its hand, or whose body wrist is not seen, never waits."""

    def __init__(self, config: HandsConfig = HandsConfig(), alternate: bool = False):
        self.config = config
        self.alternate = alternate
        path = Path(config.model_path) if config.model_path else resource_path(DEFAULT_HAND_MODEL)
        if not path.is_file():
            raise InputError(f"{path}: hand model missing; rebuild it with `make model`")
        self._path = path
        os.environ.setdefault("GLOG_minloglevel", "2")
        import cv2
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._cv2, self._mp, self._vision, self._base = cv2, mp, vision, BaseOptions
        self._landmarkers: dict[str, object] = {}
        for side in SIDES:
            self._landmarkers[side] = self._new_landmarker()
        self._last_ms = -1
        self._missed = {side: 0 for side in SIDES}
        # the two sides' landmarkers run at once (MediaPipe releases the GIL)
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(len(SIDES), thread_name_prefix="monocap-hand")
        self.restarts = 0  # landmarkers restarted after latching onto the wrong hand
        self.runs = 0  # one side's landmarker run on one frame
        self._held: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # keypoints, world, body wrist
        self._turn = 0

    def _new_landmarker(self):
        vision = self._vision
        options = vision.HandLandmarkerOptions(
            base_options=self._base(model_asset_path=str(self._path)),
            running_mode=vision.RunningMode.VIDEO,
            num_hands=1,
            min_hand_detection_confidence=self.config.min_detection_confidence,
            min_hand_presence_confidence=self.config.min_presence_confidence,
            min_tracking_confidence=self.config.min_tracking_confidence,
        )
        with native_stderr_silenced():
            return vision.HandLandmarker.create_from_options(options)

    def __enter__(self) -> "HandTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for side, landmarker in list(self._landmarkers.items()):
            if landmarker is not None:
                landmarker.close()
            self._landmarkers[side] = None

    def track(self, image_bgr: np.ndarray, detection: Detection | None, timestamp_ns: int) -> HandsFrame:
        """image_bgr: (H, W, 3) uint8, the frame the body `detection` was found in."""
        out = HandsFrame.empty()
        if detection is None:
            return out
        ms = max(int(timestamp_ns // 1_000_000), self._last_ms + 1)
        self._last_ms = ms
        reach = np.zeros(2)
        crops = {}
        for k, side in enumerate(SIDES):
            crop = hand_crop(detection, side, self.config)
            if crop is None or not self._searches(self._missed[side]):
                self._missed[side] += 1
                self._held.pop(side, None)
                continue
            crops[k] = crop
        held = None
        if self.alternate and len(crops) == 2 and all(side in self._held for side in SIDES):
            held = 1 - self._turn
            self._turn = held
            del crops[held]
        jobs = {k: (crop, self._pool.submit(self._track_side, image_bgr, SIDES[k], crop, ms))
                for k, crop in crops.items()}
        self.runs += len(jobs)
        for k, (crop, job) in jobs.items():
            side = SIDES[k]
            found = job.result()
            self._missed[side] = 0 if found is not None else self._missed[side] + 1
            self._held.pop(side, None)
            if found is not None:
                out.keypoints_px[k], out.world_m[k] = found
                out.found[k] = True
                reach[k] = crop[1] / self.config.crop_scale
        if held is not None:
            keypoints, world, wrist = self._held[SIDES[held]]
            moved = detection.keypoints_px[MP_HAND_KEYPOINTS[SIDES[held]][0]] - wrist
            out.keypoints_px[held], out.world_m[held], out.found[held] = keypoints + moved, world, True
        for k in jobs:
            if out.found[k]:
                side = SIDES[k]
                wrist = detection.keypoints_px[MP_HAND_KEYPOINTS[side][0]].copy()
                self._held[side] = (out.keypoints_px[k].copy(), out.world_m[k].copy(), wrist)
        for k in jobs:
            if not out.found[k]:
                continue
            if not self._belongs(out, detection, k, reach[k]):
                out.keypoints_px[k], out.world_m[k], out.found[k] = np.nan, np.nan, False
                self._held.pop(SIDES[k], None)
                self._missed[SIDES[k]] = 1
                self._restart(SIDES[k])  # it latched onto the other hand, or onto something else
        return out

    def _searches(self, missed: int) -> bool:
        """Whether a side that has missed its hand for `missed` frames runs its landmarker now."""
        if missed == 0:
            return True
        every = self.config.search_every if missed <= self.config.long_loss else self.config.search_every_long
        return missed % every == 0

    def _belongs(self, hands: HandsFrame, detection: Detection, k: int, reach: float) -> bool:
        """Whether the hand found in side k's crop is that side's hand: its wrist near that side's
        body wrist, nearer than to the other body wrist, and not the hand the other side found
        nearer to its own wrist."""
        wrists = detection.keypoints_px[[MP_HAND_KEYPOINTS[s][0] for s in SIDES]]
        mine = hands.keypoints_px[k, 0]
        own, other = np.linalg.norm(mine - wrists[k]), np.linalg.norm(mine - wrists[1 - k])
        if own > self.config.max_wrist_offset * reach or other < own:
            return False
        if hands.found[1 - k] and np.linalg.norm(hands.keypoints_px[1 - k, 0] - mine) < 0.5 * reach:
            return own <= np.linalg.norm(hands.keypoints_px[1 - k, 0] - wrists[1 - k])
        return True

    def _restart(self, side: str) -> None:
        self._landmarkers[side].close()
        self._landmarkers[side] = self._new_landmarker()
        self.restarts += 1

    def _track_side(self, image_bgr: np.ndarray, side: str, crop: tuple[np.ndarray, float], ms: int):
        cv2, mp = self._cv2, self._mp
        centre, size = crop
        m = _crop_matrix(centre, size)
        patch = cv2.warpAffine(image_bgr, m, (CROP_PX, CROP_PX), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT)
        rgb = cv2.cvtColor(patch, cv2.COLOR_BGR2RGB)
        result = self._landmarkers[side].detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), ms)
        if not result.hand_landmarks or not result.hand_world_landmarks:
            return None
        norm = np.array([[p.x, p.y] for p in result.hand_landmarks[0]], dtype=np.float64) * CROP_PX
        keypoints = (norm - m[:, 2]) / m[0, 0]
        world = np.array([[p.x, p.y, p.z] for p in result.hand_world_landmarks[0]], dtype=np.float64)
        return keypoints, world - world[0]
