"""What a person's clothes look like: the colours of their lower torso and thighs, for telling
someone who comes back from someone new (engine/capture/people.py's re-finding).

A descriptor is two hue/saturation histograms (lower torso: from 40 % of the way down from the
shoulders to the hips; thighs: hips to halfway to the knees), each over 12 hues x 3 saturations
for coloured pixels plus 4 brightness bins for grey ones (black, grey, white clothes), each
normalised to sum 1. The upper back is left out (long hair covers it from behind), and so is
everything below the knees (shoes, floor). Two descriptors are compared by the Hellinger distance
of each region both have, the larger of the two: 0 for the same colours, 1 for colours in common
nowhere.
"""

from __future__ import annotations

import numpy as np

from engine.capture.detection import Detection
from engine.core.skeletons import KEYPOINT_CONFIDENT, MP_L_HIP, MP_L_KNEE, MP_L_SHOULDER, MP_R_HIP, MP_R_KNEE, MP_R_SHOULDER

HUES, SATURATIONS, GREYS = 12, 3, 4
GREY_BELOW = 40  # saturation (0-255) under which a pixel counts by its brightness alone
MIN_PIXELS = 60  # a region with fewer visible pixels says nothing
CROP_PX = 96  # the regions' part of the image is looked at this size at most (the colours, not the detail)
BINS = HUES * SATURATIONS + GREYS


def _quad(top_l: np.ndarray, top_r: np.ndarray, bottom_r: np.ndarray, bottom_l: np.ndarray) -> np.ndarray:
    """The quad narrowed by a sixth on each side, so that the background beside the body stays out."""
    quad = np.array([top_l, top_r, bottom_r, bottom_l], dtype=np.float64)
    for a, b in ((0, 1), (3, 2)):
        left, right = quad[a].copy(), quad[b].copy()
        quad[a] = left + (right - left) / 6
        quad[b] = right - (right - left) / 6
    return quad


def _histogram(hsv: np.ndarray, quad: np.ndarray) -> np.ndarray | None:
    import cv2

    h, w = hsv.shape[:2]
    x0, y0 = np.floor(quad.min(axis=0)).astype(int)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad - [x0, y0]).astype(np.int32), 1)
    pixels = hsv[y0:y1, x0:x1][mask.astype(bool)]
    if len(pixels) < MIN_PIXELS:
        return None
    hue, sat, val = (pixels[:, i].astype(np.int32) for i in range(3))
    grey = sat < GREY_BELOW
    hue_bin = np.minimum(hue * HUES // 180, HUES - 1)
    sat_bin = np.clip((sat - GREY_BELOW) * SATURATIONS // (256 - GREY_BELOW), 0, SATURATIONS - 1)
    coloured = hue_bin * SATURATIONS + sat_bin
    index = np.where(grey, HUES * SATURATIONS + np.minimum(val * GREYS // 256, GREYS - 1), coloured)
    counts = np.bincount(index, minlength=BINS).astype(np.float64)
    return counts / counts.sum()


def appearance(image_bgr: np.ndarray, detection: Detection) -> np.ndarray | None:
    """(2, BINS) histograms of the lower torso and the thighs (a row of NaN where that region is
    not seen well), or None when neither is."""
    import cv2

    kp, sc = detection.keypoints_px, detection.scores
    if min(sc[MP_L_SHOULDER], sc[MP_R_SHOULDER], sc[MP_L_HIP], sc[MP_R_HIP]) < KEYPOINT_CONFIDENT:
        return None
    ls, rs, lh, rh = kp[MP_L_SHOULDER], kp[MP_R_SHOULDER], kp[MP_L_HIP], kp[MP_R_HIP]
    regions = [_quad(ls + 0.4 * (lh - ls), rs + 0.4 * (rh - rs), rh, lh)]
    if min(sc[MP_L_KNEE], sc[MP_R_KNEE]) >= KEYPOINT_CONFIDENT:
        lk, rk = kp[MP_L_KNEE], kp[MP_R_KNEE]
        regions.append(_quad(lh, rh, rh + 0.5 * (rk - rh), lh + 0.5 * (lk - lh)))
    h, w = image_bgr.shape[:2]
    points = np.concatenate(regions)
    x0, y0 = np.clip(np.floor(points.min(axis=0)).astype(int), 0, [w - 1, h - 1])
    x1, y1 = np.clip(np.ceil(points.max(axis=0)).astype(int) + 1, [x0 + 1, y0 + 1], [w, h])
    crop = image_bgr[y0:y1, x0:x1]  # only the part the regions cover, at most CROP_PX on a side
    scale = min(1.0, CROP_PX / max(crop.shape[:2]))
    if scale < 1.0:
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_NEAREST)
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    out = np.full((2, BINS), np.nan)
    for i, quad in enumerate(regions):
        hist = _histogram(hsv, (quad - [x0, y0]) * scale)
        if hist is not None:
            out[i] = hist
    return None if np.isnan(out).all() else out


def appearance_distance(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """The larger Hellinger distance of the regions both descriptors have (someone else differs in
    one of them at least); None without one in common."""
    if a is None or b is None:
        return None
    both = ~(np.isnan(a).any(axis=1) | np.isnan(b).any(axis=1))
    if not both.any():
        return None
    overlap = np.sqrt(a[both] * b[both]).sum(axis=1)
    return float(np.max(np.sqrt(np.clip(1.0 - overlap, 0.0, 1.0))))
