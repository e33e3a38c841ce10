"""Keypoints seen by several calibrated cameras -> 3D points in the world, frame by frame.

    fused = fuse_views(rig, keypoints_px, scores, world_m)

For each keypoint: a linear triangulation (DLT) on undistorted coordinates, each view weighted by
the detector's confidence; the views whose reprojection is off by more than OUTLIER_FRACTION of the
person's height in that view dropped worst first while two views remain; left and right resolved
per view and limb (of every labelling of the views, the path over the frames that reprojects best
with the fewest confident swaps and no limb jumping sides between frames: a labelling and its
mirror fit the views alike, the motion tells them apart); and where fewer than two views agree on a
keypoint, the monocular 3D of the most confident view that sees it, turned into the world with
that camera's rotation and placed on the keypoints triangulated in the same frame. Last, every
keypoint is refined with its rays and the limbs' usual lengths (engine/multiview/refine.py): along
the directions two views hardly pin down, the limbs keep their length.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import product

import numpy as np

from engine.core.skeletons import KEYPOINT_SCORE_MIN, MEDIAPIPE_33
from engine.multiview.cameras import Rig
from engine.multiview.refine import LENGTH_SIGMA_M, bone_lengths, limb_lengths, refine_points, usual_lengths

OCCLUDED_SCORE = 0.0  # a view's keypoint below this score, where another view is sure of it, is left out
# the cost of swapping a view's limb, per unit of its confidence, against its reprojection error as a
# share of the person's height (the detector's labels stand unless the views clearly disagree)
SWAP_COST = 0.015
BODY_HEIGHT_M = 1.7  # a limb's move between frames counts as a share of a body's height
HISTORY_FRAMES = 300  # live: the limbs' lengths held are the median of this many frames before
HISTORY_MIN_FRAMES = 30  # and only once this many are in (a few frames' lengths are not yet the body's)
OUTLIER_FRACTION = 0.06  # a view off by more than this share of the person's height is an outlier
MIN_ANCHORS = 4  # keypoints triangulated in a frame before a monocular view is placed on them
# Limbs whose left and right a view may swap, as groups of the detector's mirror pairs.
SWAP_GROUPS = (((11, 12),), ((13, 14), (15, 16), (17, 18), (19, 20), (21, 22)), ((23, 24),),
               ((25, 26), (27, 28), (29, 30), (31, 32)), ((7, 8), (1, 4), (2, 5), (3, 6), (9, 10)))

TRIANGULATED, MONOCULAR = 2, 1


@dataclass(frozen=True)
class FusedPoints:
    """points_m: (T, K, 3) world metres, NaN where no view saw the keypoint. source: (T, K) how each was
    made (TRIANGULATED, MONOCULAR, 0 none). views: (T, K) views used. reproj_px: (T, K) mean
    reprojection error of the views used (NaN unless triangulated). swapped: (V, T, len(SWAP_GROUPS))
    the limbs whose left and right were swapped in a view. confidence: (T, K) mean score of the views used.
    keypoints_px (V, T, K, 2) and weights (V, T, K): what each view says after the swaps, and the
    weight each view's keypoint kept (0: unseen, or dropped as an outlier; a monocular keypoint keeps its view's)."""

    points_m: np.ndarray
    source: np.ndarray
    views: np.ndarray
    reproj_px: np.ndarray
    swapped: np.ndarray
    confidence: np.ndarray
    keypoints_px: np.ndarray
    weights: np.ndarray


class FusionHistory:
    """What live fusion remembers between frames (causal: only frames already fused): the last place
    of each keypoint, so left and right go on from there, and the limbs' lengths of the last
    HISTORY_FRAMES frames, whose median is held once there are HISTORY_MIN_FRAMES."""

    def __init__(self, frames: int = HISTORY_FRAMES):
        self.last: np.ndarray | None = None  # (K, 3) world metres, NaN where never seen
        self._lengths: deque = deque(maxlen=frames)

    def lengths(self) -> np.ndarray | None:
        if len(self._lengths) < HISTORY_MIN_FRAMES:
            return None
        with _quiet():
            return usual_lengths(np.stack(self._lengths))

    def push(self, points: np.ndarray) -> None:
        """points (T, K, 3) fused, in order."""
        for frame in points:
            have = np.isfinite(frame).all(axis=-1)
            self.last = np.where(have[:, None], frame, np.nan if self.last is None else self.last)
            if have.any():
                self._lengths.append(limb_lengths(frame))


def dlt(projections: np.ndarray, normalised: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted linear triangulation. projections (V, 3, 4); normalised (V, ..., 2) undistorted
    coordinates; weights (V, ...) (0: view not used). Returns (..., 3), NaN where under two views."""
    v = projections.shape[0]
    shape = normalised.shape[1:-1]
    x = np.nan_to_num(normalised.reshape(v, -1, 2))
    w = np.where(np.isfinite(normalised).all(axis=-1), weights, 0.0).reshape(v, -1)
    ok = (w > 0).sum(axis=0) >= 2
    out = np.full((x.shape[1], 3), np.nan)
    if ok.any():
        # A^T A of the weighted rows w (x P3 - P1), w (y P3 - P2) of every view, summed view by view;
        # its least eigenvector is A's null vector (the point, homogeneous)
        normal = np.zeros((int(ok.sum()), 4, 4))
        for i, P in enumerate(projections):
            wi, xi = w[i, ok, None], x[i, ok]
            rx = wi * (xi[:, :1] * P[2] - P[0])
            ry = wi * (xi[:, 1:] * P[2] - P[1])
            normal += rx[:, :, None] * rx[:, None, :] + ry[:, :, None] * ry[:, None, :]
        _, vectors = np.linalg.eigh(normal)
        h = vectors[:, :, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[ok] = h[:, :3] / h[:, 3:]
    return out.reshape(*shape, 3)


def reprojection_px(rig: Rig, points_m: np.ndarray, keypoints_px: np.ndarray) -> np.ndarray:
    """(V, ...) pixel distance between each view's keypoints (V, ..., 2) and the points (..., 3) projected."""
    return np.stack([np.linalg.norm(cam.project(points_m) - keypoints_px[i], axis=-1) for i, cam in enumerate(rig)])


def person_height_px(keypoints_px: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(V, T) the height of the confident keypoints' box in each view, px (NaN when none)."""
    pts = np.where((weights > 0)[..., None], keypoints_px, np.nan)
    with np.errstate(all="ignore"), _quiet():
        return np.nanmax(pts[..., 1], axis=-1) - np.nanmin(pts[..., 1], axis=-1)


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def _swap_permutation(groups: tuple[int, ...]) -> np.ndarray:
    perm = np.arange(MEDIAPIPE_33.num_joints)
    for g in groups:
        for a, b in SWAP_GROUPS[g]:
            perm[a], perm[b] = b, a
    return perm


def resolve_left_right(rig: Rig, normalised: np.ndarray, keypoints_px: np.ndarray,
                       weights: np.ndarray, swap_cost: float = SWAP_COST,
                       groups: tuple[int, ...] | None = None, before: np.ndarray | None = None) -> np.ndarray:
    """(V, T, G) which views' limbs to swap. For each limb, every labelling of the views (each view
    as the detector says or mirrored) is scored per frame by how far its triangulation reprojects
    (a share of the person's height), plus swap_cost times the confidence of each view it swaps
    (the detector's labels stand unless the geometry says otherwise; None: no swap at all); then
    one labelling per frame is chosen over the whole run (a Viterbi path) so the limbs do not jump
    from one side to the other between frames: a labelling and its mirror fit the views alike, and
    only the motion tells which keeps left on the left. groups: the SWAP_GROUPS looked at (None: all).
    before: (K, 3) the keypoints fused just before these frames (live: the path goes on from them)."""
    v_count, t_count = weights.shape[:2]
    swapped = np.zeros((v_count, t_count, len(SWAP_GROUPS)), dtype=bool)
    if v_count < 2 or swap_cost is None:
        return swapped
    P = np.stack([c.projection for c in rig])
    with _quiet():
        height = np.nanmedian(person_height_px(keypoints_px, weights), axis=0)  # (T,)
    masks = np.array(list(product((False, True), repeat=v_count)))  # (S, V) the labellings
    looked = [g for g in range(len(SWAP_GROUPS)) if groups is None or g in groups]
    idx = np.array([k for g in looked for pair in SWAP_GROUPS[g] for k in pair])
    mirror = np.array([k for g in looked for a, b in SWAP_GROUPS[g] for k in (b, a)])
    # every labelling of every limb at once: (V, S, T, N) with N the limbs' keypoints side by side.
    # Only the first half is triangulated (view 0 as labelled): the mirror of labelling s is S-1-s,
    # the same geometry with each left/right pair's places exchanged.
    half = masks[: len(masks) // 2]
    pick = np.where(half.T[:, :, None], mirror[None, None], idx[None, None])  # (V, S/2, N)
    n = np.stack([normalised[i][:, pick[i]].transpose(1, 0, 2, 3) for i in range(v_count)])
    px = np.stack([keypoints_px[i][:, pick[i]].transpose(1, 0, 2, 3) for i in range(v_count)])
    w = np.stack([weights[i][:, pick[i]].transpose(1, 0, 2) for i in range(v_count)])
    points = dlt(P, n, w)  # (S/2, T, N, 3)
    err = reprojection_px(rig, points, px)
    places = np.arange(len(idx)).reshape(-1, 2)[:, ::-1].ravel()  # each pair's two places exchanged
    points = np.concatenate([points, points[::-1][..., places, :]])
    err = np.concatenate([err, err[:, ::-1][..., places]], axis=1)
    w = np.concatenate([w, w[:, ::-1][..., places]], axis=1)
    used = (w > 0) & np.isfinite(err)
    start = 0
    for g in looked:
        part = slice(start, start + 2 * len(SWAP_GROUPS[g]))
        start = part.stop
        wg, ug = w[..., part], used[..., part]
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.where(ug, err[..., part] * wg, 0).sum(axis=(0, 3)) / np.maximum((ug * wg).sum(axis=(0, 3)), 1e-9)
            conf = (wg.mean(axis=3) * masks.T[:, :, None]).sum(axis=0)  # (S, T) confidence of the views swapped
            unary = np.where(ug.sum(axis=(0, 3)) >= part.stop - part.start, score / height + swap_cost * conf, np.inf)
        path = _steady_path(unary, points[..., part, :], None if before is None else before[idx[part]])
        swapped[:, :, g] = masks[path].T
    return swapped


def _jump(points: np.ndarray, last: np.ndarray) -> np.ndarray:
    """(S_prev, S) the cost of going from each labelling's last keypoints (S_prev, n, 3) to each
    one's now (S, n, 3): their mean move over BODY_HEIGHT_M (sharing no keypoint: the farthest)."""
    with np.errstate(invalid="ignore"), _quiet():
        move = np.nanmean(np.linalg.norm(points[None] - last[:, None], axis=-1), axis=-1)
    worst = np.nanmax(move) if np.isfinite(move).any() else 0.0
    return np.where(np.isfinite(move), move, worst) / BODY_HEIGHT_M


def _steady_path(unary: np.ndarray, points: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """(T,) the labelling per frame minimising the sum of unary (S, T) costs and each frame's jump
    from the last (the mean move of the limb's keypoints (S, T, n, 3)); before (n, 3): the limb's
    keypoints in the frame before the first."""
    s_count, t_count = unary.shape
    seen = np.isfinite(unary).any(axis=0)
    cost = np.where(seen, unary, 0.0)
    cost = np.where(np.isfinite(cost), cost, 1e6)
    back = np.zeros((t_count, s_count), dtype=int)
    total = cost[:, 0].copy()
    if before is not None:
        total += _jump(points[:, 0], before[None])[0]
    last = points[:, 0]
    for t in range(1, t_count):
        step = total[:, None] + _jump(points[:, t], last)
        back[t] = np.argmin(step, axis=0)
        total = step[back[t], np.arange(s_count)] + cost[:, t]
        here = np.isfinite(points[:, t]).all(axis=-1).any(axis=-1)  # a frame without the limb keeps the last
        last = np.where(here[:, None, None], points[:, t], last[back[t]])
    path = np.zeros(t_count, dtype=int)
    path[-1] = int(np.argmin(total))
    for t in range(t_count - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def apply_swaps(array: np.ndarray, swapped: np.ndarray) -> np.ndarray:
    """array (V, T, K, ...) with each view's frame's limbs swapped as `swapped` (V, T, G) says."""
    out = array.copy()
    for g in range(swapped.shape[2]):
        perm = _swap_permutation((g,))
        vs, ts = np.nonzero(swapped[:, :, g])
        out[vs, ts] = out[vs, ts][:, perm]  # on top of the groups swapped before
    return out


def fuse_views(rig: Rig, keypoints_px: np.ndarray, scores: np.ndarray, world_m: np.ndarray | None = None,
               outlier_fraction: float = OUTLIER_FRACTION, occluded_score: float = OCCLUDED_SCORE,
               swap_cost: float | None = SWAP_COST, lengths: np.ndarray | None = None,
               length_sigma_m: float | None = LENGTH_SIGMA_M, history: FusionHistory | None = None) -> FusedPoints:
    """keypoints_px (V, T, K, 2), scores (V, T, K) (0 where a view has nobody), world_m (V, T, K, 3)
    each view's monocular 3D (hip-centred, camera axes) or None. Views in the rig's order.
    swap_cost None: left and right as the detector says. lengths: (E,) the limbs' lengths to hold
    (refine.EDGES; None: the median of these frames'); length_sigma_m None: no refinement.
    history: live, frame by frame: the frames fused before (left and right go on from the last,
    the limbs' lengths are theirs), updated with these."""
    v_count = len(rig)
    weights = np.where(scores >= KEYPOINT_SCORE_MIN, scores, 0.0)
    normalised = np.stack([cam.normalise(keypoints_px[i]) for i, cam in enumerate(rig)])
    swapped = resolve_left_right(rig, normalised, keypoints_px, weights, swap_cost,
                                 before=None if history is None else history.last)
    keypoints_px, normalised, weights = (apply_swaps(a, swapped) for a in (keypoints_px, normalised, weights))
    if world_m is not None:
        world_m = apply_swaps(world_m, swapped)
    sure = (weights >= occluded_score).any(axis=0)
    weights = np.where((weights < occluded_score) & sure[None], 0.0, weights)
    P = np.stack([c.projection for c in rig])
    limit = outlier_fraction * person_height_px(keypoints_px, weights)  # (V, T)
    w = weights.copy()
    points = dlt(P, normalised, w)
    err = reprojection_px(rig, points, keypoints_px)
    for _ in range(max(v_count - 2, 0)):
        used = w > 0
        over = np.where(used, err / np.maximum(limit[..., None], 1.0), -np.inf)
        worst = np.argmax(over, axis=0)
        drop = (np.take_along_axis(over, worst[None], 0)[0] > 1.0) & (used.sum(axis=0) > 2)
        if not drop.any():
            break
        vi, ti, ki = worst[drop], *np.nonzero(drop)
        w[vi, ti, ki] = 0.0
        points = dlt(P, normalised, w)
        err = reprojection_px(rig, points, keypoints_px)
    used = w > 0
    bad = (np.where(used, err - limit[..., None], -np.inf) > 0).any(axis=0)
    triangulated = np.isfinite(points).all(axis=-1) & (used.sum(axis=0) >= 2) & ~bad
    points[~triangulated] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        reproj = np.where(triangulated, np.where(used, err, 0).sum(axis=0) / np.maximum(used.sum(axis=0), 1), np.nan)
        confidence = np.where(triangulated, np.where(used, w, 0).sum(axis=0) / np.maximum(used.sum(axis=0), 1), 0.0)
    source = np.where(triangulated, TRIANGULATED, 0)
    views = np.where(triangulated, used.sum(axis=0), 0)
    if world_m is not None:
        _monocular_fill(rig, points, source, views, confidence, weights, world_m, normalised)
    kept = np.where(triangulated[None], w, 0.0)
    mono = source == MONOCULAR
    best = np.argmax(weights, axis=0)
    vi, ti, ki = best[mono], *np.nonzero(mono)
    kept[vi, ti, ki] = weights[vi, ti, ki]
    if lengths is None and history is not None:
        lengths = history.lengths()
    if length_sigma_m is not None:
        points = refine_points(rig, normalised, kept, points, bone_lengths(points) if lengths is None else lengths,
                               length_sigma_m=length_sigma_m)
        err = reprojection_px(rig, points, keypoints_px)
        with np.errstate(invalid="ignore", divide="ignore"):
            reproj = np.where(triangulated, np.where(used, err, 0).sum(axis=0) / np.maximum(used.sum(axis=0), 1), np.nan)
    if history is not None:
        history.push(points)
    return FusedPoints(points, source, views, reproj, swapped, confidence, keypoints_px, kept)


def _monocular_fill(rig: Rig, points: np.ndarray, source: np.ndarray, views: np.ndarray, confidence: np.ndarray,
                    weights: np.ndarray, world_m: np.ndarray, normalised: np.ndarray) -> None:
    """In place: keypoints no two views agree on, on the ray of the most confident view that sees
    them, at the depth of its monocular 3D placed on the frame's triangulated keypoints."""
    missing = (source == 0) & (weights > 0).any(axis=0)
    for t in np.flatnonzero(missing.any(axis=1)):
        anchors = source[t] == TRIANGULATED
        if anchors.sum() < MIN_ANCHORS:
            continue
        for k in np.flatnonzero(missing[t]):
            v = int(np.argmax(weights[:, t, k]))
            local = world_m[v, t] @ rig[v].R  # camera axes -> world axes (R.T applied to row vectors)
            if not np.isfinite(local[k]).all():
                continue
            ok = anchors & np.isfinite(local).all(axis=1)
            if ok.sum() < MIN_ANCHORS:
                continue
            guess = local[k] + np.mean(points[t, ok] - local[ok], axis=0)
            ray = rig[v].R.T @ np.array([*normalised[v, t, k], 1.0])
            if np.isfinite(ray).all():
                centre = rig[v].centre_m
                ray /= np.linalg.norm(ray)
                guess = centre + ray * float((guess - centre) @ ray)
            points[t, k] = guess
            source[t, k], views[t, k], confidence[t, k] = MONOCULAR, 1, weights[v, t, k]
