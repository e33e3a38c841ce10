"""What the people tracker (engine/capture/people.py) reads off a detection: where a person is
(their hip centre, their box and its overlap with another), how they are built (limb lengths over
torso length), whether they touch the image's border or stand clear of everyone else, and how far
apart two sets of looks (engine/capture/appearance.py) are."""

from __future__ import annotations

import numpy as np

from engine.capture.appearance import appearance_distance
from engine.capture.detection import Detection
from engine.core.skeletons import KEYPOINT_CONFIDENT, MP_L_HIP, MP_L_SHOULDER, MP_LIMBS, MP_R_HIP, MP_R_SHOULDER

_LIMB_ENDS = (np.array([a for a, _ in MP_LIMBS]), np.array([b for _, b in MP_LIMBS]))


def hip_centre(detection: Detection) -> np.ndarray:
    """(2,) pixels: the midpoint of the hips, or of the keypoint box when the hips are unsure."""
    kp, sc = detection.keypoints_px, detection.scores
    if sc[MP_L_HIP] > KEYPOINT_CONFIDENT * 0.6 and sc[MP_R_HIP] > KEYPOINT_CONFIDENT * 0.6:
        return (kp[MP_L_HIP] + kp[MP_R_HIP]) / 2
    box = detection.box_xyxy
    return (box[:2] + box[2:]) / 2


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


EDGE_MARGIN = 0.02  # of the image width: keypoints nearer the border are guesses of a body cut off


def body_descriptor(detection: Detection) -> np.ndarray | None:
    """(8,) limb lengths / torso length, NaN for limbs not seen well; None without a torso or
    when the body touches the image's border."""
    kp, sc = detection.keypoints_px, detection.scores
    if min(sc[MP_L_SHOULDER], sc[MP_R_SHOULDER], sc[MP_L_HIP], sc[MP_R_HIP]) < KEYPOINT_CONFIDENT:
        return None
    if at_border(detection.box_xyxy, detection.image_size):
        return None
    torso = np.linalg.norm((kp[MP_L_SHOULDER] + kp[MP_R_SHOULDER]) / 2 - (kp[MP_L_HIP] + kp[MP_R_HIP]) / 2)
    if torso < 1.0:
        return None
    a, b = _LIMB_ENDS
    out = np.linalg.norm(kp[a] - kp[b], axis=1) / torso
    out[np.minimum(sc[a], sc[b]) < KEYPOINT_CONFIDENT] = np.nan
    return out


def descriptor_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Mean |log ratio| over limbs seen in both; 0 (no evidence) when they share fewer than 3."""
    if a is None or b is None:
        return 0.0
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if ok.sum() < 3:
        return 0.0
    return float(np.mean(np.abs(np.log(a[ok] / b[ok]))))


def at_border(box: np.ndarray, image_size: tuple[int, int]) -> bool:
    w, h = image_size
    margin = EDGE_MARGIN * w
    return w > 0 and (box[0] < margin or box[1] < margin or box[2] > w - margin or box[3] > h - margin)


def covered_share(det: Detection, detections: list[Detection], boxes: tuple = ()) -> float:
    """The largest share of a detection's box that another detection's box (or one of `boxes`,
    (4,) x0, y0, x1, y1 each) covers."""
    box = det.box_xyxy
    area = max(float((box[2] - box[0]) * (box[3] - box[1])), 1.0)
    most = 0.0
    for o in [other.box_xyxy for other in detections if other is not det] + list(boxes):
        ow, oh = min(box[2], o[2]) - max(box[0], o[0]), min(box[3], o[3]) - max(box[1], o[1])
        if ow > 0 and oh > 0:
            most = max(most, float(ow * oh) / area)
    return most


def seen_clear(det: Detection, detections: list[Detection], most: float = 0.1) -> bool:
    """Whether a detection shows its own clothes only: no other detection's box covers more than
    `most` of its box (someone half behind someone else shows the other's colours), and it does not
    touch the image's border (someone coming in shows only part of them)."""
    return not at_border(det.box_xyxy, det.image_size) and covered_share(det, detections) <= most


def looks_distance(known: list[np.ndarray], seen: list[np.ndarray | None]) -> float | None:
    """The smallest appearance distance between any of two people's looks; None without evidence."""
    found = [d for a in known for b in seen if (d := appearance_distance(a, b)) is not None]
    return min(found) if found else None
