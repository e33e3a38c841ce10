"""Real footage of a face for the face tests and benchmarks, cut from the shared clips at test time.

`vtuber_clip`: frames 30-129 of sam2_man_football_juggling_front.mp4 (Apache-2.0, Meta Platforms;
../shared/data/README.md), cropped to 640x480 around the head and upper body as a webcam frames a
VTuber. The man looks down at the ball, talks a little, and blinks once: both eyes close on the
clip's frames 74-75 (the source's 104-105) and are open again two frames later.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from tests.conftest import SHARED_DATA

SOURCE = SHARED_DATA / "video" / "sam2_man_football_juggling_front.mp4"
FIRST, COUNT = 30, 100
CROP_X, CROP_Y, WIDTH, HEIGHT = 480, 0, 640, 480
BLINK_FRAMES = (74, 75)  # the blink, in the cut clip's frames


def vtuber_clip(folder: Path) -> Path | None:
    """The cut clip written into `folder` (mp4), or None where the shared clip is absent."""
    if not SOURCE.is_file():
        return None
    out = folder / "face_vtuber_640x480.mp4"
    if out.is_file():
        return out
    cap = cv2.VideoCapture(str(SOURCE))
    fps = cap.get(cv2.CAP_PROP_FPS)
    tmp = folder / "face_vtuber_640x480.part.mp4"
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (WIDTH, HEIGHT))
    index = 0
    while True:
        ok, image = cap.read()
        if not ok or index >= FIRST + COUNT:
            break
        if index >= FIRST:
            writer.write(image[CROP_Y:CROP_Y + HEIGHT, CROP_X:CROP_X + WIDTH])
        index += 1
    writer.release()
    cap.release()
    tmp.replace(out)
    return out
