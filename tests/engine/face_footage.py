"""Real footage of a face for the face tests and benchmarks, cut from the shared clips at test time.

Frames 30-129 of sam2_man_football_juggling_front.mp4 (Apache-2.0, Meta Platforms;
../shared/data/README.md), 24 fps, two framings of the same 100 frames, each 640x480:
- `wide`: the source's own pixels around the man (head to knees; the face about 45 px wide);
- `vtuber`: its 320x240 around the head and chest scaled to 640x480, as a webcam frames a VTuber
  (the head and upper body fill the image; the face about 100 px wide, upscaled so softer).
The man looks down at the ball, turns his head, talks a little, and blinks once: both eyes close on
the cut's frames 74-75 (the source's 104-105) and are open again two frames later.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from tests.conftest import SHARED_DATA

SOURCE = SHARED_DATA / "video" / "sam2_man_football_juggling_front.mp4"
FIRST, COUNT = 30, 100
WIDTH, HEIGHT = 640, 480
FRAMINGS = {"wide": (480, 0, 640, 480), "vtuber": (640, 40, 320, 240)}  # x, y, w, h in the source's 1280x720
BLINK_FRAMES = (74, 75)  # the blink, in the cut's frames


def face_clip(folder: Path, framing: str = "wide") -> Path | None:
    """The cut written into `folder` (mp4), or None where the shared clip is absent."""
    if not SOURCE.is_file():
        return None
    out = folder / f"face_{framing}_640x480.mp4"
    if out.is_file():
        return out
    x, y, w, h = FRAMINGS[framing]
    cap = cv2.VideoCapture(str(SOURCE))
    fps = cap.get(cv2.CAP_PROP_FPS)
    tmp = folder / f"face_{framing}.part.mp4"
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (WIDTH, HEIGHT))
    index = 0
    while True:
        ok, image = cap.read()
        if not ok or index >= FIRST + COUNT:
            break
        if index >= FIRST:
            writer.write(cv2.resize(image[y:y + h, x:x + w], (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC))
        index += 1
    writer.release()
    cap.release()
    tmp.replace(out)
    return out
