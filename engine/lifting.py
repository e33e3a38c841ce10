"""3D modes: turn the detector's keypoints into root-relative 3D joints of one skeleton.

Every mode has the same interface (`Lifter`), so switching is one setting (`LiftConfig.mode`).
Output joints are metres, relative to the skeleton's root, in camera axes (x right, y down,
z forward), so root estimation and the world transform work the same for every mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from .detection import Detection
from .keypoint_maps import map_keypoints
from .skeletons import MONOCAP_BODY, Skeleton


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


class DetectorWorldLifter:
    """The detector's own metric world keypoints, mapped onto the target skeleton."""

    def __init__(self, config: LiftConfig):
        from . import skeletons

        self.skeleton = skeletons.get(config.skeleton)

    def lift(self, detections: list[Detection | None], causal: bool = False) -> np.ndarray:
        out = np.full((len(detections), self.skeleton.num_joints, 3), np.nan)
        for i, det in enumerate(detections):
            if det is not None and det.world_m is not None:
                joints = map_keypoints(det.world_m, self.skeleton.name)
                root = self.skeleton.parents.index(-1)
                out[i] = joints - joints[root]
        return out


def _image_mode(config: LiftConfig) -> Lifter:
    from .image_lifter import make_image_lifter

    return make_image_lifter(config)


def _network_lifter(config: LiftConfig) -> Lifter:
    """The "lifter" mode, Monocap's own network (engine.lifter), imported only when chosen."""
    from .lifter import NetworkLifter

    return NetworkLifter(config)


_MODES: dict[str, Callable[[LiftConfig], Lifter]] = {
    "detector": DetectorWorldLifter, "lifter": _network_lifter, "image": _image_mode}


def register_mode(name: str, factory: Callable[[LiftConfig], Lifter]) -> None:
    _MODES[name] = factory


def available_modes() -> list[str]:
    return sorted(_MODES)


def make_lifter(config: LiftConfig) -> Lifter:
    try:
        factory = _MODES[config.mode]
    except KeyError:
        raise ValueError(f"unknown 3D mode {config.mode!r}; choose one of {', '.join(available_modes())}") from None
    return factory(config)
