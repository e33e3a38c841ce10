"""The "temporal" 3D mode: `fit`, then a learned temporal network's correction of its 3D.

`fit` (engine.lift.fit_mode) gives each frame's 33 points in 3D, flips undone and fitted to the 2D;
the network (engine.lift.nets.temporal_net, numpy, no torch) reads a window of frames of the
keypoints, their scores and that 3D and corrects the centre frame. Files: windows centred on each
frame (13 frames either side). Live (`start_live`): the same network with no frame after the
newest one, so it adds no latency.

The model ships as resources/models/temporal_net.npz. When that file is missing or damaged the
mode says so in one line (`notice`, also logged) naming the file and the command that rebuilds it,
and runs `fit`. A model file named by the user (LiftConfig.checkpoint) that cannot be read is an
error instead.
"""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path

import numpy as np

from engine.capture.detection import Detection
from engine.core.errors import InputError
from engine.core.resources import resource_path
from engine.lift.camera import DEFAULT_FOV_DEG
from engine.lift.fit_mode import KeypointFitLifter, LiveFitLift
from engine.lift.keypoint_fit import clip_leg_depths
from engine.lift.nets.temporal_net import CHANNELS_IN, TemporalNet, frame_features, with_presence
from engine.lift.protocol import LiftConfig

DEFAULT_MODEL = "models/temporal_net.npz"
REBUILD_COMMAND = ("python -m training.temporal.train --max-steps 2436 --seed 1 --without 2d,scores "
                   "--out resources/models/temporal_net.npz")
# The corrected legs are cut to the subject's bone lengths again, as `fit` cuts them (a straight leg
# seen straight stays straight).
CUT_LEGS = True
_LOG = logging.getLogger(__name__)
_CACHE: dict[str, TemporalNet] = {}


def load_bundled(path: Path) -> TemporalNet:
    key = str(path)
    if key not in _CACHE:
        _CACHE[key] = TemporalNet.load(path)
    return _CACHE[key]


class TemporalLifter:
    """engine.lift.protocol.Lifter: `fit` corrected by the temporal network."""

    needs_images = False

    def __init__(self, config: LiftConfig, fov_deg: float = DEFAULT_FOV_DEG):
        self.fit = KeypointFitLifter(config, fov_deg)
        self.skeleton = self.fit.skeleton
        self.notice = ""  # set when the model could not be read and the mode runs `fit`
        self.net: TemporalNet | None = None
        if config.checkpoint:
            self.net = TemporalNet.load(config.checkpoint)  # the user's own file: its error is theirs to see
            return
        path = resource_path(DEFAULT_MODEL)
        try:
            self.net = load_bundled(path)
        except InputError as exc:
            self.notice = f"temporal model missing or damaged ({path.name}): running fit; rebuild it with `{REBUILD_COMMAND}`"
            _LOG.warning("%s (%s)", self.notice, exc)

    @staticmethod
    def cut(joints_33: np.ndarray, leg_lengths: np.ndarray | None) -> np.ndarray:
        return clip_leg_depths(joints_33, leg_lengths) if CUT_LEGS and leg_lengths is not None else joints_33

    def start_live(self) -> "LiveTemporalLift | LiveFitLift":
        return self.fit.start_live() if self.net is None else LiveTemporalLift(self)

    def lift(self, detections: list[Detection | None], causal: bool = False, images=None) -> np.ndarray:
        if self.net is None:
            return self.fit.lift(detections, causal)
        if causal:
            live = self.start_live()
            return np.stack([live.push(d) for d in detections]) if detections else \
                np.full((0, self.skeleton.num_joints, 3), np.nan)
        out = np.full((len(detections), self.skeleton.num_joints, 3), np.nan)
        idx, kp, sc, fitted = self.fit.fit_clip(detections)
        if not len(idx):
            return out
        features = np.zeros((len(detections), CHANNELS_IN - 1), np.float32)
        features[idx] = frame_features(kp, sc, fitted)
        present = np.zeros(len(detections), bool)
        present[idx] = True
        corrected = fitted + self.net.correct_clip(with_presence(features, present))[idx]
        for n, i in enumerate(idx):
            out[i] = self.fit.to_skeleton(self.cut(corrected[n], self.fit.last_leg_lengths))
        return out


class LiveTemporalLift:
    """One live source: `fit`'s live state and the network's window of past frames."""

    def __init__(self, lifter: TemporalLifter):
        self._lifter = lifter
        self._fit = lifter.fit.start_live()
        self._half = lifter.net.receptive_field // 2
        self._past: deque[np.ndarray | None] = deque(maxlen=self._half + 1)

    def push(self, detection: Detection | None, image_rgb: np.ndarray | None = None) -> np.ndarray:
        fitted = self._fit.push_fitted(detection)
        if fitted is None:
            self._past.append(None)
            return np.full((self._lifter.skeleton.num_joints, 3), np.nan)
        kp, sc, pose = fitted
        self._past.append(frame_features(kp[None], sc[None], pose[None])[0])
        rf = self._lifter.net.receptive_field
        features = np.zeros((rf, CHANNELS_IN - 1), np.float32)
        present = np.zeros(rf, bool)
        start = self._half + 1 - len(self._past)
        for k, f in enumerate(self._past):
            if f is not None:
                features[start + k] = f
                present[start + k] = True
        window = with_presence(features, present)
        corrected = pose + self._lifter.net.forward_centre(window[None])[0]
        return self._lifter.fit.to_skeleton(self._lifter.cut(corrected, self._fit.leg_lengths))
