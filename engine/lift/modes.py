"""The registry of 3D modes: turn the detector's keypoints into root-relative 3D joints.

Every mode has the same interface (`engine.lift.protocol.Lifter`), so switching is one setting
(`LiftConfig.mode`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from engine.capture.detection import Detection
from engine.core import skeletons
from engine.core.keypoint_maps import map_keypoints
from engine.lift.protocol import DEFAULT_MODE, MODE_LABELS, FrameByFrame, LiftConfig, Lifter, LiveLift

__all__ = ["DEFAULT_MODE", "MODE_LABELS", "LiftConfig", "Lifter", "LiveLift", "DetectorWorldLifter",
           "available_modes", "make_lifter"]


class DetectorWorldLifter:
    """The detector's own metric world keypoints, mapped onto the target skeleton."""

    needs_images = False

    def __init__(self, config: LiftConfig):
        self.skeleton = skeletons.get(config.skeleton)

    def start_live(self) -> LiveLift:
        return FrameByFrame(self)

    def lift(self, detections: list[Detection | None], causal: bool = False, images=None) -> np.ndarray:
        out = np.full((len(detections), self.skeleton.num_joints, 3), np.nan)
        for i, det in enumerate(detections):
            if det is not None and det.world_m is not None:
                joints = map_keypoints(det.world_m, self.skeleton.name)
                root = self.skeleton.parents.index(-1)
                out[i] = joints - joints[root]
        return out


def _image_mode(config: LiftConfig) -> Lifter:
    from engine.lift.image_mode import make_image_lifter

    return make_image_lifter(config)


def _fit_mode(config: LiftConfig) -> Lifter:
    from engine.lift.fit_mode import KeypointFitLifter

    return KeypointFitLifter(config)


def _temporal_mode(config: LiftConfig) -> Lifter:
    from engine.lift.temporal_mode import TemporalLifter

    return TemporalLifter(config)


def _network_lifter(config: LiftConfig) -> Lifter:
    """The "lifter" mode, Monocap's own network (engine.lift.network), imported only when chosen."""
    from engine.lift.network import NetworkLifter

    return NetworkLifter(config)


_MODES: dict[str, Callable[[LiftConfig], Lifter]] = {
    "detector": DetectorWorldLifter, "fit": _fit_mode, "temporal": _temporal_mode, "lifter": _network_lifter,
    "image": _image_mode}


def available_modes() -> list[str]:
    return sorted(_MODES)


def make_lifter(config: LiftConfig) -> Lifter:
    try:
        factory = _MODES[config.mode]
    except KeyError:
        raise ValueError(f"unknown 3D mode {config.mode!r}; choose one of {', '.join(available_modes())}") from None
    return factory(config)
