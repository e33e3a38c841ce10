"""Footage with several people, made from the shared single-person clips, with known identities.

Each person is a vertical strip cut around the performer of one real clip, scaled and pasted
onto a plain canvas at a position that the scenario moves frame by frame; later strips are drawn
over earlier ones, so a crossing really hides the person behind. The strip rectangles of every
frame are the ground truth: a detection belongs to the person whose visible strip holds its hip
centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .video_helpers import write_video

CANVAS = (640, 360)  # width, height
SCALE = 0.5  # the source clips are 1280x720
# (clip, first frame, strip's left edge and width in the source clip's pixels)
PERFORMERS = {
    "taiji": ("taiji_720p.mp4", 0, 460, 360),
    "juggler": ("sam2_man_football_juggling_front.mp4", 0, 500, 380),
}


@dataclass(frozen=True)
class Footage:
    path: Path
    boxes: np.ndarray  # (T, P, 4) x0, y0, x1, y1 of each person's strip on the canvas, NaN when outside
    names: tuple[str, ...]  # P performers, drawn in this order (the last on top)

    def person_at(self, frame: int, point_xy: np.ndarray) -> int:
        """The person whose visible strip holds `point_xy` in `frame`, or -1."""
        for p in reversed(range(len(self.names))):
            x0, y0, x1, y1 = self.boxes[frame, p]
            if np.isfinite(x0) and x0 <= point_xy[0] <= x1 and y0 <= point_xy[1] <= y1:
                return p
        return -1


def _strips(shared_data: Path, name: str, count: int) -> list[np.ndarray]:
    clip, first, left, width = PERFORMERS[name]
    cap = cv2.VideoCapture(str(shared_data / "video" / clip))
    cap.set(cv2.CAP_PROP_POS_FRAMES, first)
    out = []
    while len(out) < count:
        ok, frame = cap.read()
        if not ok:
            break
        strip = frame[:, left:left + width]
        out.append(cv2.resize(strip, (int(width * SCALE), int(frame.shape[0] * SCALE)), interpolation=cv2.INTER_AREA))
    cap.release()
    assert len(out) == count, f"{clip} is shorter than {count} frames"
    return out


def make_footage(shared_data: Path, out: Path, lefts: np.ndarray, names: tuple[str, ...] = ("taiji", "juggler"),
                 fps: float = 24.0) -> Footage:
    """lefts: (T, P) canvas x of each strip's left edge per frame (NaN: that person is out of view)."""
    t = len(lefts)
    w, h = CANVAS
    strips = [_strips(shared_data, n, t) for n in names]
    frames, boxes = [], np.full((t, len(names), 4), np.nan)
    for i in range(t):
        canvas = np.full((h, w, 3), 118, np.uint8)
        for p, name in enumerate(names):
            if not np.isfinite(lefts[i, p]):
                continue
            strip = strips[p][i]
            x0 = int(round(lefts[i, p]))
            a, b = max(x0, 0), min(x0 + strip.shape[1], w)
            if b <= a:
                continue
            canvas[: strip.shape[0], a:b] = strip[:, a - x0:b - x0]
            boxes[i, p] = (a, 0, b, strip.shape[0])
        frames.append(canvas)
    write_video(out, frames, fps=fps)
    return Footage(out, boxes, names)


def side_by_side(t: int = 48) -> np.ndarray:
    return np.tile([[60.0, 400.0]], (t, 1))


def crossing(t: int = 72) -> np.ndarray:
    """The taiji man stands in the middle; the juggler walks across in front of him, left to right."""
    lefts = np.empty((t, 2))
    lefts[:, 0] = 230.0
    lefts[:, 1] = np.linspace(-20.0, 470.0, t)
    return lefts


def leave_and_return(t: int = 72) -> np.ndarray:
    """The taiji man stays at the left; the juggler walks out of the right edge, waits, comes back."""
    lefts = np.empty((t, 2))
    lefts[:, 0] = 40.0
    q = t // 4
    out_x = np.linspace(380.0, 700.0, q)
    away = t - 2 * q - q // 2
    lefts[:, 1] = np.concatenate([out_x, np.full(away, np.nan), out_x[::-1], np.full(q // 2, 380.0)])
    return lefts


def taking_their_place(t: int = 96) -> np.ndarray:
    """The juggler stands at the right, walks out of the right edge; half a second later the taiji
    man, of about his build, walks in from there to the same place."""
    lefts = np.full((t, 2), np.nan)
    q = t // 4
    out_x = np.linspace(380.0, 700.0, q)
    lefts[:q, 1] = 380.0
    lefts[q:2 * q, 1] = out_x
    lefts[2 * q + 12:3 * q + 12, 0] = out_x[::-1]
    lefts[3 * q + 12:, 0] = 380.0
    return lefts


def identity_switches(footage: Footage, tracks) -> tuple[int, dict[int, set[int]]]:
    """Counts identity switches of `tracks` (engine.people_tracks.PeopleTracks) against the truth.

    A switch: a person's detection carries a different tracker id than at their previous
    detection, or a tracker id lands on a different person than before. Returns the count and,
    per person, the tracker ids that were given to them.
    """
    from engine.capture.people import hip_centre

    last_id: dict[int, int] = {}
    owner: dict[int, int] = {}
    given: dict[int, set[int]] = {p: set() for p in range(len(footage.names))}
    switches = 0
    for pid in tracks.people():
        track = tracks.track(pid)
        for i in range(len(track)):
            det = track.detection(i)
            if det is None:
                continue
            truth = footage.person_at(i, hip_centre(det))
            if truth < 0:
                continue
            given[truth].add(pid)
    for i in range(len(tracks)):
        for pid in tracks.people():
            det = tracks.track(pid).detection(i)
            if det is None:
                continue
            truth = footage.person_at(i, hip_centre(det))
            if truth < 0:
                continue
            if truth in last_id and last_id[truth] != pid:
                switches += 1
            if pid in owner and owner[pid] != truth:
                switches += 1
            last_id[truth] = pid
            owner[pid] = truth
    return switches, given
