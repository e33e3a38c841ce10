"""Footage where one person really hides another: each performer of tests/engine/people_footage.py
is cut out of their clip by the pose model's segmentation mask and pasted, pixel by pixel, onto
one canvas; the one drawn last covers the one behind wherever they overlap (not side by side,
not a rectangle: the person in front's own pixels over the other's body). A table (a box of real
pixels, cut from the first performer's clip, with a darker top edge) may stand in front of
everyone, hiding the lower body of whoever is behind it.

Truth per frame: each performer's keypoints, found by the detector in their own clip alone and
moved and scaled as pasted. A detection in the footage belongs to the performer whose keypoints it
lies nearest (mean distance over the keypoints the detector is sure of in both, in units of that
performer's box height), when that is under `BELONGS` and the other performer is clearly further.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.capture.detection import Detection
from engine.core.skeletons import KEYPOINT_CONFIDENT
from tests.engine.people_footage import CANVAS, performers
from tests.engine.video_helpers import write_video

BELONGS = 0.25  # mean keypoint distance in box heights under which a detection is that performer's
BACKGROUND = (112, 118, 124)  # BGR of the canvas: a plain wall


@dataclass(frozen=True)
class Cutout:
    """One performer's frames as cut out: images (T, h, w, 3), masks (T, h, w) in [0, 1],
    keypoints (T, 33, 2) in the cutout's pixels and their scores (T, 33) (0 where not found)."""

    images: np.ndarray
    masks: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray


@functools.lru_cache(maxsize=2)
def cutout(name: str, count: int) -> Cutout:
    """`count` frames of performer `name`, with the pose model's mask and keypoints of each."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from engine.core.resources import resource_path

    strips = performers()[name].strips(count)
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(resource_path("models/pose_landmarker_full.task"))),
        running_mode=vision.RunningMode.VIDEO, output_segmentation_masks=True)
    h, w = strips[0].shape[:2]
    masks = np.zeros((count, h, w), np.float32)
    kp, sc = np.zeros((count, 33, 2)), np.zeros((count, 33))
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        for k, strip in enumerate(strips):
            found = landmarker.detect_for_video(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(strip, cv2.COLOR_BGR2RGB)), k * 40)
            if found.segmentation_masks:
                masks[k] = found.segmentation_masks[0].numpy_view().reshape(h, w)
                lms = found.pose_landmarks[0]
                kp[k] = [[p.x * w, p.y * h] for p in lms]
                sc[k] = [min(p.visibility or 0.0, p.presence or 0.0) for p in lms]
    return Cutout(np.stack(strips), masks, kp, sc)


@dataclass(frozen=True)
class Occlusion:
    path: Path
    keypoints: np.ndarray  # (T, P, 33, 2) each performer's keypoints on the canvas (NaN: not known)
    scores: np.ndarray  # (T, P, 33)
    names: tuple[str, ...]  # drawn in this order: the last in front
    visible: np.ndarray  # (T, P) the share of each performer's pixels in view (not hidden, not outside)
    table: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 on the canvas, in front of everyone

    def behind_table(self, frame: int, performer: int) -> np.ndarray:
        """(33,) which of the performer's keypoints the table hides in this frame (the table stands
        on the canvas' bottom edge: below it is hidden too)."""
        if self.table is None:
            return np.zeros(33, bool)
        x0, y0, x1, _ = self.table
        kp = self.keypoints[frame, performer]
        with np.errstate(invalid="ignore"):
            return (kp[:, 0] >= x0) & (kp[:, 0] < x1) & (kp[:, 1] >= y0)

    def person_of(self, frame: int, det: Detection) -> int:
        """The performer a detection is, or -1 when it is not clearly one of them."""
        dist = []
        for p in range(len(self.names)):
            kp, sc = self.keypoints[frame, p], self.scores[frame, p]
            both = (sc > KEYPOINT_CONFIDENT) & (det.scores > KEYPOINT_CONFIDENT) & np.isfinite(kp).all(axis=1)
            if both.sum() < 4:
                dist.append(np.inf)
                continue
            ys = kp[sc > KEYPOINT_CONFIDENT, 1]
            height = max(float(ys.max() - ys.min()), 1.0)
            dist.append(float(np.linalg.norm(kp[both] - det.keypoints_px[both], axis=1).mean()) / height)
        best = int(np.argmin(dist))
        others = [d for p, d in enumerate(dist) if p != best]
        if dist[best] < BELONGS and all(d > 2 * dist[best] for d in others):
            return best
        return -1


def make_occlusion(out: Path, placements: np.ndarray, names: tuple[str, ...] = ("taiji", "juggler"),
                   fps: float = 24.0, table: tuple[int, int, int, int] | None = None) -> Occlusion:
    """placements: (T, P, 3) each performer's canvas x of the cutout's left edge, y of its top and
    scale, per frame (x NaN: out of view). Drawn in order: the last performer in front; then the
    `table` (x0, y0, x1, y1), if any, in front of them all."""
    t = len(placements)
    w, h = CANVAS
    cuts = [cutout(n, t) for n in names]
    top = None if table is None else _table_top(table)
    frames = []
    kps = np.full((t, len(names), 33, 2), np.nan)
    scs = np.zeros((t, len(names), 33))
    visible = np.zeros((t, len(names)))
    for i in range(t):
        canvas = np.empty((h, w, 3), np.float32)
        canvas[:] = BACKGROUND
        owner = np.full((h, w), -1)
        areas = np.zeros(len(names))
        for p, cut in enumerate(cuts):
            x, y, scale = placements[i, p]
            if not np.isfinite(x):
                continue
            image = cv2.resize(cut.images[i], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            mask = cv2.resize(cut.masks[i], (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
            x0, y0 = int(round(x)), int(round(y))
            a, b = max(x0, 0), min(x0 + image.shape[1], w)
            c, d = max(y0, 0), min(y0 + image.shape[0], h)
            if b <= a or d <= c:
                continue
            areas[p] = max(float((mask > 0.5).sum()), 1.0)
            alpha = mask[c - y0:d - y0, a - x0:b - x0, None]
            owner[c:d, a:b][alpha[..., 0] > 0.5] = p
            canvas[c:d, a:b] = alpha * image[c - y0:d - y0, a - x0:b - x0] + (1 - alpha) * canvas[c:d, a:b]
            kps[i, p] = cut.keypoints[i] * scale + [x0, y0]
            scs[i, p] = cut.scores[i]
        if top is not None:
            x0, y0, x1, y1 = table
            canvas[y0:y1, x0:x1] = top
            owner[y0:y1, x0:x1] = -1
        frames.append(np.clip(canvas, 0, 255).astype(np.uint8))
        visible[i] = np.bincount(owner[owner >= 0], minlength=len(names))[: len(names)] / areas
    write_video(out, frames, fps=fps)
    return Occlusion(out, kps, scs, names, visible, table)


def _table_top(table: tuple[int, int, int, int]) -> np.ndarray:
    """The table's pixels: the lower left of the first frame of the first performer's clip, left of
    the performer (a floor, a wall: real texture), its top tenth darker, as a table's edge."""
    from tests.engine.people_footage import _decoded

    x0, y0, x1, y1 = table
    frame = _decoded(performers()["taiji"].clip, 1)[0]
    fh, fw = frame.shape[:2]
    texture = cv2.resize(frame[fh // 2:, : fw * 3 // 10], (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA).astype(np.float32)
    edge = max(4, (y1 - y0) // 10)
    texture[:edge] *= 0.45
    return texture


def behind_a_table(t: int = 72) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The taiji man walks from the left, in clear view, to behind a table and sits down there
    (he sinks until the table hides him from above the hips down), gets up and walks back out to
    the left; the juggler stands on the right, in clear view. -> (placements, table)."""
    out = np.empty((t, 2, 3))
    a, b, c = t // 6, t // 3, 2 * t // 3
    x = np.concatenate([np.full(a, 10.0), np.linspace(10.0, 250.0, b - a), np.full(c - b, 250.0),
                        np.linspace(250.0, 10.0, t - c)])
    sink = np.clip(np.minimum(np.arange(t) - b + 6, c + 6 - np.arange(t)) / 6.0, 0.0, 1.0)  # 0 standing, 1 sitting
    out[:, 0] = np.stack([x, 40.0 * sink, np.ones(t)], axis=1)
    out[:, 1] = (470.0, 40.0, 0.85)
    return out, (200, 215, 460, CANVAS[1])


def walking_behind(t: int = 72) -> np.ndarray:
    """The juggler stands in the middle, in front; the taiji man, further back (smaller, higher),
    walks across behind him from left to right."""
    out = np.empty((t, 2, 3))
    out[:, 0] = np.stack([np.linspace(20.0, 470.0, t), np.full(t, 20.0), np.full(t, 0.85)], axis=1)
    out[:, 1] = (230.0, 0.0, 1.0)
    return out


def crossing_paths(t: int = 72) -> np.ndarray:
    """Both walk across, towards each other: the taiji man from the left further back, the juggler
    from the right in front; they overlap in the middle third."""
    out = np.empty((t, 2, 3))
    out[:, 0] = np.stack([np.linspace(20.0, 440.0, t), np.full(t, 20.0), np.full(t, 0.85)], axis=1)
    out[:, 1] = np.stack([np.linspace(440.0, 20.0, t), np.zeros(t), np.ones(t)], axis=1)
    return out


def takes_people(footage: Occlusion, tracks, ids: list[int]) -> dict[int, dict[int, int]]:
    """For each tracker id: how many of its frames are each performer's (-1: not clearly anyone's)."""
    out: dict[int, dict[int, int]] = {}
    for pid in ids:
        track = tracks.track(pid)
        counts: dict[int, int] = {}
        for i in range(len(track)):
            det = track.detection(i)
            if det is not None:
                who = footage.person_of(i, det)
                counts[who] = counts.get(who, 0) + 1
        out[pid] = counts
    return out


def found_share(footage: Occlusion, tracks, ids: list[int], performer: int, min_visible: float = 0.5) -> float:
    """The share of the frames where at least `min_visible` of `performer` is in view in which one
    of the takes `ids` holds them."""
    wanted = np.flatnonzero(footage.visible[:, performer] >= min_visible)
    found = 0
    for i in wanted:
        found += any((det := tracks.track(pid).detection(i)) is not None and footage.person_of(i, det) == performer
                     for pid in ids)
    return found / max(len(wanted), 1)
