"""Reads a recorded take's images (NAME.avi) by frame number for playback."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class TakeVideo:
    def __init__(self, path: str | Path):
        import cv2

        self._cv2 = cv2
        self.path = Path(path)
        self._cap = cv2.VideoCapture(str(self.path))
        self._next = 0
        self._last: tuple[int, np.ndarray] | None = None
        self.ok = self._cap.isOpened()

    def read(self, index: int) -> np.ndarray | None:
        if not self.ok:
            return None
        if self._last is not None and self._last[0] == index:
            return self._last[1]
        if index != self._next:
            self._cap.set(self._cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = self._cap.read()
        if not ok:
            self._next = -1
            return None
        self._next = index + 1
        self._last = (index, image)
        return image

    def close(self) -> None:
        self._cap.release()
