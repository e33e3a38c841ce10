"""What every 3D mode is: its configuration and the interface the pipeline calls.

Output joints are metres, relative to the skeleton's root, in camera axes (x right, y down,
z forward), so root estimation and the world transform work the same for every mode.

A mode offers two calls: `lift` for a whole clip (or any list of frames), and `start_live` for a
live source, which returns a `LiveLift` that takes one frame at a time and keeps whatever the
mode needs between frames. `needs_images` says whether the mode reads each frame's image beside
its detection (then the image is passed as (H, W, 3) uint8 RGB).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from engine.capture.detection import Detection
from engine.core.skeletons import MONOCAP_BODY, Skeleton
from engine.lift.device import AUTO_DEVICE

# The detector's 3D fitted to its 2D keypoints is the default: on real footage with real 3D truth
# it is the most accurate mode, on every view (benchmarks/accuracy_real.py, docs/RESULTS.md).
DEFAULT_MODE = "fit"
MODE_LABELS = {
    "fit": "detector 3D fitted to the 2D keypoints",
    "temporal": "fit + learned temporal network",
    "lifter": "Monocap lifter (2D + detector 3D, trained)",
    "detector": "detector 3D (MediaPipe world keypoints)",
    "image": "image network (needs a checkpoint)",
}


@dataclass(frozen=True)
class LiftConfig:
    # "fit": the detector's 3D, flips undone, fitted to the 2D keypoints; "detector": the
    # detector's own metric 3D; "lifter": the trained network behind the detector;
    # "image": an image-network checkpoint
    mode: str = DEFAULT_MODE
    skeleton: str = MONOCAP_BODY.name
    checkpoint: str = ""  # model file for network modes; empty: the bundled one
    device: str = AUTO_DEVICE  # one of engine.lift.device.DEVICES


class LiveLift(Protocol):
    """A mode's state for one live source: one frame in, one pose out, in the frames' order."""

    def push(self, detection: Detection | None, image_rgb: np.ndarray | None = None) -> np.ndarray:
        """-> (J, 3) root-relative metres of this frame, NaN when the detection is None.

        The newest frame may use only the frames pushed before it. image_rgb: this frame's image,
        required when the mode `needs_images`.
        """


class Lifter(Protocol):
    skeleton: Skeleton
    needs_images: bool  # True: every call needs each frame's image (RGB) beside its detection

    def lift(self, detections: list[Detection | None], causal: bool = False,
             images: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
        """Lifts a list of frames -> (T, J, 3) root-relative metres, NaN where the detection is None.

        causal=True: each frame may use only the frames before it. images: the frames (RGB), one
        per detection, when the mode `needs_images`.
        """

    def start_live(self) -> LiveLift:
        """A fresh live state for one source."""


class FrameByFrame:
    """The live call of a mode that lifts every frame on its own (no state between frames)."""

    def __init__(self, lifter: Lifter):
        self._lifter = lifter

    def push(self, detection: Detection | None, image_rgb: np.ndarray | None = None) -> np.ndarray:
        if detection is None:
            return np.full((self._lifter.skeleton.num_joints, 3), np.nan)
        images = None if image_rgb is None else [image_rgb]
        return self._lifter.lift([detection], causal=True, images=images)[0]
