"""The same person in several views: of everyone a view sees in a frame, the one whose keypoints
triangulate with the followed person's in the anchor view (the views agree on where they are).
A detector that takes a person's back for their front labels every left keypoint right: a
candidate is compared as labelled and mirrored, and the better of the two counts (the fusion
resolves left and right afterwards). With several people (`group_tracks`), every view's tracks are
grouped into people by the frames they agree in, and a view's frames that agree with none of the
person's other views (`disagreeing_frames`: its tracker followed someone else for a while) are left out."""

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


# two tracks of two views are one person when their keypoints agree in at least this many frames
# and in at least this share of the frames both are seen in
MIN_LINK_FRAMES = 3
MIN_LINK_SHARE = 0.5


def group_tracks(rig: Rig, views: list[int], keypoints_px: list[np.ndarray], scores: list[np.ndarray]) -> list[list[int]]:
    """Everyone the views' people trackers followed, grouped into people: track n is seen by camera
    views[n] of the rig, keypoints_px[n] (T, K, 2) and scores[n] (T, K) on one timeline (0 where
    not seen). Two tracks of two views are linked by the frames they agree in (`agreement`, labels
    as given or mirrored); the links are taken strongest first, and a link that would put two
    tracks of one view seen in the same frame into one person (two people a camera sees at once)
    is left out. Returns the groups of track indices, each sorted, in order of their first track."""
    seen = [s.max(axis=1) > 0 for s in scores]
    links = []
    for a in range(len(views)):
        for b in range(a + 1, len(views)):
            both = seen[a] & seen[b]
            if views[a] == views[b] or not both.any():
                continue
            rows = np.flatnonzero(both)
            score = agreement(Rig((rig[views[a]], rig[views[b]])), keypoints_px[a][rows], scores[a][rows],
                              keypoints_px[b][rows], scores[b][rows])
            agree = int((score <= MATCH_FRACTION).sum())
            if agree >= MIN_LINK_FRAMES and agree >= MIN_LINK_SHARE * int(np.isfinite(score).sum()):
                links.append((agree, a, b))
    group = list(range(len(views)))
    for _, a, b in sorted(links, key=lambda link: (-link[0], link[1], link[2])):
        ga, gb = group[a], group[b]
        if ga == gb:
            continue
        members_a = [n for n in range(len(views)) if group[n] == ga]
        members_b = [n for n in range(len(views)) if group[n] == gb]
        if any(views[m] == views[n] and (seen[m] & seen[n]).any() for m in members_a for n in members_b):
            continue
        for n in members_b:
            group[n] = ga
    return [[n for n in range(len(views)) if group[n] == g] for g in dict.fromkeys(group)]


def disagreeing_frames(rig: Rig, keypoints_px: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """(V, T) where a view's keypoints of one person (keypoints_px (V, T, K, 2), scores (V, T, K), 0
    where not seen) agree with no other view's that can be compared in that frame: someone else
    under the same track for a while. False where no other view can be compared."""
    count = len(rig)
    agrees = np.zeros(scores.shape[:2], bool)
    compared = np.zeros(scores.shape[:2], bool)
    for a in range(count):
        for b in range(a + 1, count):
            score = agreement(Rig((rig[a], rig[b])), keypoints_px[a], scores[a], keypoints_px[b], scores[b])
            ok, finite = score <= MATCH_FRACTION, np.isfinite(score)
            agrees[a] |= ok
            agrees[b] |= ok
            compared[a] |= finite
            compared[b] |= finite
    return compared & ~agrees
