"""What every 3D mode is: its configuration and the interface the pipeline calls.

Output joints are metres, relative to the skeleton's root, in camera axes (x right, y down,
z forward), so root estimation and the world transform work the same for every mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine.capture.detection import Detection
from engine.core.skeletons import MONOCAP_BODY, Skeleton


# The trained lifter (docs/LIFTER.md) is the default: on the project's checks it is more accurate
# on held-out mocap than the detector-like 3D it takes in, and far steadier on real video
# (docs/RESULTS.md).
DEFAULT_MODE = "lifter"
MODE_LABELS = {
    "lifter": "Monocap lifter (2D + detector 3D, trained)",
    "detector": "detector 3D (MediaPipe world keypoints)",
    "image": "image network (needs a checkpoint)",
}


@dataclass(frozen=True)
class LiftConfig:
    # "lifter": the trained network behind the detector; "detector": the detector's own metric 3D;
    # "image": an image-network checkpoint
    mode: str = DEFAULT_MODE
    skeleton: str = MONOCAP_BODY.name
    checkpoint: str = ""  # model file for network modes; empty: the bundled one
    device: str = "auto"  # "auto" (CUDA when present), "cpu", "cuda"


class Lifter(Protocol):
    skeleton: Skeleton

    def lift(self, detections: list[Detection | None], causal: bool) -> np.ndarray:
        """Lifts a window of frames -> (T, J, 3) root-relative metres, NaN where the detection is None.

        causal=True (live): the last frame may use only the frames before it.
        """
