"""Footage with several people, made from real single-person clips, with known identities.

Each person is a vertical strip cut around the performer of one real clip, scaled and pasted
onto a plain canvas at a position that the scenario moves frame by frame; later strips are drawn
over earlier ones, so a crossing really hides the person behind. The strip rectangles of every
frame are the ground truth: a detection belongs to the person whose visible strip holds its hip
centre.

The performers are the man doing tai chi and the football juggler of the shared clips; where
the shared data is absent, the bundled sample clip's man plays both: the second one mirrored,
played backwards from 5 s in, his blue and white shirt turned red and white, and cut out of his
room (the pose model's segmentation mask) to stand before a blurred copy of it in other colours,
so that he looks like someone else somewhere else, as the juggler does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import SAMPLE_CLIP, SHARED_DATA
from tests.engine.video_helpers import write_video

CANVAS = (640, 360)  # width, height
BLUE_HUES = (90, 135)  # OpenCV hues (180 a full turn)
HUE_TURN = 70  # blue to red; the room's browns to greens


@dataclass(frozen=True)
class Performer:
    clip: Path
    first: int  # the first frame used
    left: int  # the strip's left edge and width, in the clip's pixels
    width: int
    scale: float  # clip pixels -> canvas pixels
    backwards: bool = False  # played backwards from `first`, and forwards again from frame 0
    mirrored: bool = False
    elsewhere: bool = False  # his blue clothes turned red, cut out and set before his room in other colours

    def frame_numbers(self, count: int) -> list[int]:
        return [abs(self.first - i) if self.backwards else self.first + i for i in range(count)]

    def strips(self, count: int) -> list[np.ndarray]:
        numbers = self.frame_numbers(count)
        strips = _strips_from_the_start(self, max(numbers) + 1)
        assert len(strips) > max(numbers), f"{self.clip.name} is shorter than frame {max(numbers)}"
        return [strips[n] for n in numbers]

    def strip(self, frame: np.ndarray) -> np.ndarray:
        strip = frame[:, self.left:self.left + self.width]
        size = (int(self.width * self.scale), int(frame.shape[0] * self.scale))
        strip = cv2.resize(strip, size, interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(strip[:, ::-1] if self.mirrored else strip)


def performers() -> dict[str, Performer]:
    video = SHARED_DATA / "video"
    taiji, juggler = video / "taiji_720p.mp4", video / "sam2_man_football_juggling_front.mp4"  # both 1280x720
    if taiji.is_file() and juggler.is_file():
        return {"taiji": Performer(taiji, 0, 460, 360, 0.5), "juggler": Performer(juggler, 0, 500, 380, 0.5)}
    return {"taiji": Performer(SAMPLE_CLIP, 0, 230, 180, 1.0),  # 640x360: the same man, scaled
            "juggler": Performer(SAMPLE_CLIP, 120, 230, 180, 1.0, backwards=True, mirrored=True, elsewhere=True)}


def made_from_the_sample_clip() -> bool:
    return performers()["taiji"].clip == SAMPLE_CLIP


# What the tracker gets wrong today on the sample clip's footage, where the two men differ in the
# colours of their shirts and rooms only: the man walking across in front of the other.
CROSSING_FAILS_ON_THE_SAMPLE = pytest.mark.xfail(
    made_from_the_sample_clip(), strict=False,
    reason="footage made from the sample clip (the shared clips are absent): once the man in front has walked "
           "past, the detector reports only the man behind for a few frames and the tracker gives him the "
           "other's number (a 100 px jump, the shirts red and blue)")


@functools.lru_cache(maxsize=4)
def _strips_from_the_start(performer: Performer, count: int) -> tuple[np.ndarray, ...]:
    frames = _decoded(performer.clip, count)
    if performer.elsewhere:
        frames = _elsewhere(frames)
    return tuple(performer.strip(frame) for frame in frames)


def _decoded(clip: Path, count: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(clip))
    frames = []
    while len(frames) < count:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def _turn_hues(image_bgr: np.ndarray, where: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)
    hue = hsv[..., 0].astype(np.int32)
    hsv[..., 0] = np.where(where, (hue + HUE_TURN) % 180, hue)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def _elsewhere(frames: list[np.ndarray]) -> list[np.ndarray]:
    """A clip's frames, its person's blue clothes turned red, before a blurred copy of the room in
    other colours."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from engine.core.resources import resource_path

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(resource_path("models/pose_landmarker_full.task"))),
        running_mode=vision.RunningMode.VIDEO, output_segmentation_masks=True)
    out = []
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        for k, frame in enumerate(frames):
            found = landmarker.detect_for_video(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)), k * 40)
            person = found.segmentation_masks[0].numpy_view() if found.segmentation_masks else np.zeros(frame.shape[:2])
            person = person.reshape(frame.shape[:2] + (1,))
            hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
            blue = (hsv[..., 0] >= BLUE_HUES[0]) & (hsv[..., 0] < BLUE_HUES[1]) & (hsv[..., 1] > 60)
            room = _turn_hues(cv2.GaussianBlur(frame, (0, 0), 8), np.ones(frame.shape[:2], bool))
            out.append((_turn_hues(frame, blue) * person + room * (1.0 - person)).astype(np.uint8))
    return out


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


def make_footage(out: Path, lefts: np.ndarray, names: tuple[str, ...] = ("taiji", "juggler"),
                 fps: float = 24.0) -> Footage:
    """lefts: (T, P) canvas x of each strip's left edge per frame (NaN: that person is out of view)."""
    t = len(lefts)
    w, h = CANVAS
    cast = performers()
    strips = [cast[n].strips(t) for n in names]
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
