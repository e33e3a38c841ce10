"""The same person in several views: of everyone a view sees in a frame, the one whose keypoints
triangulate with the followed person's in the anchor view (the views agree on where they are).
A detector that takes a person's back for their front labels every left keypoint right: a
candidate is compared as labelled and mirrored, and the better of the two counts (the fusion
resolves left and right afterwards)."""

from __future__ import annotations

import numpy as np

from engine.core.skeletons import KEYPOINT_SCORE_MIN, MEDIAPIPE_33
from engine.multiview.cameras import Rig
from engine.multiview.triangulation import dlt, person_height_px, reprojection_px

# a candidate whose keypoints reproject further than this share of the person's height is someone else
MATCH_FRACTION = 0.1
MIN_SHARED = 4  # confident keypoints both views must share in a frame to compare them
MIRROR = MEDIAPIPE_33.mirror_permutation()


def agreement(rig2: Rig, kp_a: np.ndarray, sc_a: np.ndarray, kp_b: np.ndarray, sc_b: np.ndarray) -> np.ndarray:
    """(T,) how far two views' keypoints (T, K, 2), scores (T, K) disagree on where the person is:
    the mean reprojection error of their triangulation over the person's height in view a (inf
    where they share fewer than MIN_SHARED confident keypoints); view b's labels as given or
    mirrored, whichever agrees better."""
    return np.minimum(_agreement(rig2, kp_a, sc_a, kp_b, sc_b),
                      _agreement(rig2, kp_a, sc_a, kp_b[..., MIRROR, :], sc_b[..., MIRROR]))


def _agreement(rig2: Rig, kp_a: np.ndarray, sc_a: np.ndarray, kp_b: np.ndarray, sc_b: np.ndarray) -> np.ndarray:
    w = np.stack([np.where(sc_a >= KEYPOINT_SCORE_MIN, sc_a, 0.0), np.where(sc_b >= KEYPOINT_SCORE_MIN, sc_b, 0.0)])
    kp = np.stack([kp_a, kp_b]).astype(np.float64)
    n = np.stack([rig2[0].normalise(kp[0]), rig2[1].normalise(kp[1])])
    pts = dlt(np.stack([c.projection for c in rig2]), n, w)
    err = reprojection_px(rig2, pts, kp)
    both = (w > 0).all(axis=0) & np.isfinite(err).all(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(both, err.mean(axis=0), 0).sum(axis=1) / both.sum(axis=1)
        height = person_height_px(kp[:1], w[:1])[0]
        out = mean / height
    return np.where((both.sum(axis=1) >= MIN_SHARED) & np.isfinite(out), out, np.inf)


def match_person(rig2: Rig, anchor_kp: np.ndarray, anchor_sc: np.ndarray, candidates_kp: np.ndarray,
                 candidates_sc: np.ndarray) -> np.ndarray:
    """(T,) which candidate of view b is the anchor's person in each frame (-1: none agrees).
    anchor_*: (T, K, 2) / (T, K) in view a; candidates_*: (P, T, K, 2) / (P, T, K) everyone view b
    tracked, aligned on view a's frames (scores 0 where a candidate is not seen)."""
    if len(candidates_kp) == 0:
        return np.full(len(anchor_kp), -1)
    scores = np.stack([agreement(rig2, anchor_kp, anchor_sc, kp, sc) for kp, sc in zip(candidates_kp, candidates_sc)])
    best = np.argmin(scores, axis=0)
    ok = np.take_along_axis(scores, best[None], 0)[0] <= MATCH_FRACTION
    return np.where(ok, best, -1)
