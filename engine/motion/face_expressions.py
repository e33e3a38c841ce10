"""The face's values for avatars, from the geometry of MediaPipe's 478 face landmarks
(engine/capture/face.py): the head's rotation, each eye's blink, the mouth's opening and the five
vowel shapes, the brows and the gaze. The mediapipe wheel holds no blendshape model, so each value
is a measured ratio, compared with the person's own neutral face (the median over the first
`calibration_s` seconds the face is seen), then smoothed with One Euro filters tuned for faces
(a blink lasts 100-150 ms). docs/FACE.md says how each is computed.

All distances are 3D (x, y in image pixels, z in the same scale), divided by the distance
between the outer eye corners, so they do not change with the face's size in the image.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from engine.core.coords import CAMERA_TO_WORLD
from engine.motion.smoothing import OneEuroFilter

# The named curves, in the order of a face value vector. Angles in degrees, the rest 0-1.
# "left" and "right" are the person's own. Head: yaw + turns to the person's left, pitch + looks
# down, roll + tilts towards the person's right shoulder. Gaze: yaw + to the person's left, pitch +
# down, both relative to the head.
FACE_CURVES = (
    "head_yaw_deg", "head_pitch_deg", "head_roll_deg",
    "blink_left", "blink_right",
    "mouth_open", "mouth_a", "mouth_i", "mouth_u", "mouth_e", "mouth_o",
    "brow_up_left", "brow_up_right", "brow_down_left", "brow_down_right",
    "gaze_yaw_deg", "gaze_pitch_deg",
)
FACE_INDEX = {name: i for i, name in enumerate(FACE_CURVES)}
ANGLE_CURVES = ("head_yaw_deg", "head_pitch_deg", "head_roll_deg", "gaze_yaw_deg", "gaze_pitch_deg")

# Face mesh indices (the person's left eye is on the image's right).
EYE = {  # outer corner, inner corner, upper lid (2), lower lid (2), as EAR's p1, p4, (p2, p3), (p6, p5)
    "left": (263, 362, (387, 385), (373, 380)),
    "right": (33, 133, (160, 158), (144, 153)),
}
LID_MID = {"left": (386, 374), "right": (159, 145)}
BROW = {"left": (300, 293, 334, 296, 336), "right": (70, 63, 105, 66, 107)}
IRIS_CENTRES = (468, 473)  # the two iris centres (each followed by four rim points)
MOUTH_INNER = (13, 14)  # upper and lower inner lip, mid-line
MOUTH_CORNERS = (61, 291)
CHIN, FOREHEAD = 152, 10

# Calibrated ratios -> 0-1. A blink is full at EYE_CLOSED of the neutral eye opening, none above
# EYE_OPEN of it; the mouth is fully open at MOUTH_FULL eye-corner distances more than neutral.
EYE_OPEN, EYE_CLOSED = 0.85, 0.45
MOUTH_FULL = 0.40
MOUTH_WIDE = 0.18  # of the neutral width: fully wide (I, E) or fully narrow (U, O)
BROW_UP, BROW_DOWN = 0.10, 0.06  # eye-corner distances brows move at most
EYEBALL = 2.5  # eye width / eyeball radius: an iris moved by dx eye widths turns the eye asin(2.5 dx)
# The vowels as (mouth open, mouth width) shapes, and the closed neutral mouth.
VOWELS = {"mouth_a": (0.85, 0.0), "mouth_i": (0.25, 0.8), "mouth_u": (0.25, -0.8), "mouth_e": (0.45, 0.5),
          "mouth_o": (0.6, -0.6)}
VOWEL_SPREAD = 0.3
# One Euro filters (min cutoff Hz, speed coefficient) per kind of value: the eyes and the mouth
# follow a blink: their speed is itself filtered at 8 Hz, and a value changing at 10-20 per second
# lifts the cutoff past 40 Hz, while the jitter of a still face keeps it near 3-5 Hz.
FILTERS = {"angle": (1.0, 0.3, 1.0), "fast": (3.0, 4.0, 8.0), "gaze": (1.5, 0.2, 1.0)}
DEFAULT_CALIBRATION_S = 2.0
_FEATURES = ("ear_left", "ear_right", "mouth_gap", "mouth_width", "brow_left", "brow_right", "iris_x", "iris_y")


def _d(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def head_rotation_cam(points: np.ndarray) -> np.ndarray:
    """(3, 3) the face's axes in the camera frame, columns: towards the person's left, up (chin to
    forehead), forwards out of the face."""
    x = points[EYE["left"][0]] - points[EYE["right"][0]]
    x = x / np.linalg.norm(x)
    up = points[FOREHEAD] - points[CHIN]
    up = up - x * (up @ x)
    up = up / np.linalg.norm(up)
    return np.column_stack([x, up, np.cross(x, up)])


def raw_features(points: np.ndarray) -> np.ndarray:
    """(8,) the measured ratios of one face (`_FEATURES`): each eye's aspect ratio, the mouth's gap
    and width, each brow's height above its eye, the irises' offset in the eye (x towards the
    person's left, y down, in eye widths)."""
    iod = _d(points[EYE["left"][0]], points[EYE["right"][0]])
    out = {}
    for side, (outer, inner, upper, lower) in EYE.items():
        lids = sum(_d(points[u], points[lo]) for u, lo in zip(upper, lower))
        out[f"ear_{side}"] = lids / (2.0 * _d(points[outer], points[inner]))
        corners = 0.5 * (points[outer] + points[inner])  # not the lid, which a blink moves
        out[f"brow_{side}"] = _d(points[list(BROW[side])].mean(axis=0), corners) / iod
    out["mouth_gap"] = _d(points[MOUTH_INNER[0]], points[MOUTH_INNER[1]]) / iod
    out["mouth_width"] = _d(points[MOUTH_CORNERS[0]], points[MOUTH_CORNERS[1]]) / iod
    axes = head_rotation_cam(points)
    offsets = []
    for side in EYE:
        outer, inner = points[EYE[side][0]], points[EYE[side][1]]
        centre = 0.25 * (outer + inner) + 0.25 * (points[LID_MID[side][0]] + points[LID_MID[side][1]])
        iris = min((points[i] for i in IRIS_CENTRES), key=lambda p: _d(p[:2], centre[:2]))
        width = _d(outer, inner)
        offsets.append([(iris - centre)[:2] @ axes[:2, 0] / np.linalg.norm(axes[:2, 0]) / width,
                        -(iris - centre)[:2] @ axes[:2, 1] / np.linalg.norm(axes[:2, 1]) / width])
    out["iris_x"], out["iris_y"] = np.mean(offsets, axis=0)
    return np.array([out[k] for k in _FEATURES])


def _mean_rotation(rotations: list[np.ndarray]) -> np.ndarray:
    u, _, vt = np.linalg.svd(np.sum(rotations, axis=0))
    r = u @ vt
    return r if np.linalg.det(r) > 0 else u @ np.diag([1.0, 1.0, -1.0]) @ vt


def _vowels(open_: float, wide: float) -> np.ndarray:
    p = np.array([open_, wide])
    shapes = np.array(list(VOWELS.values()))

    def weights(q):
        w = np.exp(-np.sum((shapes - q) ** 2, axis=1) / (2 * VOWEL_SPREAD ** 2))
        rest = np.exp(-np.sum(q ** 2) / (2 * VOWEL_SPREAD ** 2))
        return w / (w.sum() + rest)

    peak = np.array([weights(s)[k] for k, s in enumerate(shapes)])
    rest = weights(np.zeros(2))  # the closed neutral mouth is no vowel
    return np.clip((weights(p) - rest) / (peak - rest), 0.0, 1.0)


def values_from(features: np.ndarray, neutral: np.ndarray, head_rel: np.ndarray) -> np.ndarray:
    """(len(FACE_CURVES),) the face's values from its features, the neutral face's, and the head's
    rotation relative to the neutral head (camera axes)."""
    f = dict(zip(_FEATURES, features))
    n = dict(zip(_FEATURES, neutral))
    v = np.zeros(len(FACE_CURVES))
    world = CAMERA_TO_WORLD @ head_rel @ CAMERA_TO_WORLD
    yaw, pitch, roll = Rotation.from_matrix(world).as_euler("YXZ", degrees=True)
    # world axes: X the person's left, Y up, Z out of the face: + about Y turns to the left, + about X
    # turns the face down, + about Z tilts the head towards the right shoulder
    v[FACE_INDEX["head_yaw_deg"]], v[FACE_INDEX["head_pitch_deg"]], v[FACE_INDEX["head_roll_deg"]] = yaw, pitch, roll
    for side in ("left", "right"):
        ratio = f[f"ear_{side}"] / max(n[f"ear_{side}"], 1e-6)
        v[FACE_INDEX[f"blink_{side}"]] = np.clip((EYE_OPEN - ratio) / (EYE_OPEN - EYE_CLOSED), 0.0, 1.0)
        lift = f[f"brow_{side}"] - n[f"brow_{side}"]
        v[FACE_INDEX[f"brow_up_{side}"]] = np.clip(lift / BROW_UP, 0.0, 1.0)
        v[FACE_INDEX[f"brow_down_{side}"]] = np.clip(-lift / BROW_DOWN, 0.0, 1.0)
    open_ = float(np.clip((f["mouth_gap"] - n["mouth_gap"]) / MOUTH_FULL, 0.0, 1.0))
    wide = float(np.clip((f["mouth_width"] / max(n["mouth_width"], 1e-6) - 1.0) / MOUTH_WIDE, -1.0, 1.0))
    v[FACE_INDEX["mouth_open"]] = open_
    for name, value in zip(VOWELS, _vowels(open_, wide)):
        v[FACE_INDEX[name]] = value
    for axis, name in ((0, "gaze_yaw_deg"), (1, "gaze_pitch_deg")):
        shift = f[("iris_x", "iris_y")[axis]] - n[("iris_x", "iris_y")[axis]]
        v[FACE_INDEX[name]] = np.degrees(np.arcsin(np.clip(EYEBALL * shift, -1.0, 1.0)))
    return v


class FaceExpressions:
    """Landmarks frame by frame -> the face's values (causal). `push` returns None for a frame
    without a face (the filters start afresh when it is back, so nothing stale is ever given)."""

    def __init__(self, calibration_s: float = DEFAULT_CALIBRATION_S):
        self.calibration_s = calibration_s
        self._samples: list[np.ndarray] = []
        self._heads: list[np.ndarray] = []
        self._start_s: float | None = None
        self.neutral: np.ndarray | None = None
        self.neutral_head: np.ndarray | None = None
        kinds = ["angle"] * 3 + ["fast"] * 12 + ["gaze"] * 2
        self._filters = [OneEuroFilter(*FILTERS[k]) for k in kinds]

    @property
    def calibrated(self) -> bool:
        return self._start_s is not None and not self._collecting(None)

    def _collecting(self, t: float | None) -> bool:
        if self._start_s is None:
            return True
        return not self._samples or (t is not None and t - self._start_s <= self.calibration_s)

    def push(self, landmarks_px: np.ndarray | None, timestamp_s: float) -> np.ndarray | None:
        if landmarks_px is None or not np.isfinite(landmarks_px).all():
            for f in self._filters:
                f.reset()
            return None
        features = raw_features(landmarks_px)
        head = head_rotation_cam(landmarks_px)
        if self._start_s is None:
            self._start_s = timestamp_s
        if timestamp_s - self._start_s <= self.calibration_s:
            self._samples.append(features)
            self._heads.append(head)
            self.neutral = np.median(self._samples, axis=0)
            self.neutral_head = _mean_rotation(self._heads)
        raw = values_from(features, self.neutral, head @ self.neutral_head.T)
        return np.array([f(np.array([x]), timestamp_s)[0] for f, x in zip(self._filters, raw)])


def face_values_over(landmarks_px: np.ndarray, found: np.ndarray, timestamps_s: np.ndarray,
                     calibration_s: float = DEFAULT_CALIBRATION_S) -> np.ndarray:
    """(T, len(FACE_CURVES)) the values of a whole take (the same causal pass as live), NaN where
    the face was not found. landmarks_px: (T, 478, 3)."""
    face = FaceExpressions(calibration_s)
    out = np.full((len(found), len(FACE_CURVES)), np.nan)
    for i, (points, ok, t) in enumerate(zip(landmarks_px, found, timestamps_s)):
        v = face.push(points if ok else None, float(t))
        if v is not None:
            out[i] = v
    return out


def head_rotation_world(values: np.ndarray) -> np.ndarray:
    """(3, 3) the head's rotation (relative to the neutral head) in world axes, from a value
    vector's head angles (the inverse of `values_from`'s)."""
    yaw, pitch, roll = (values[FACE_INDEX[k]] for k in ("head_yaw_deg", "head_pitch_deg", "head_roll_deg"))
    return Rotation.from_euler("YXZ", [yaw, pitch, roll], degrees=True).as_matrix()
