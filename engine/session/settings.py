"""The settings a run is made from, checked in one place for every front end: the command line's
options and the app's settings file give the same one-line error for the same bad value.

    config = pipeline_config(mode="fit", smoothing=0.5, fov_deg=60)     # InputError when a value is bad
    size = camera_size(640, 480)
    problem = mode_problem(config)                                      # "" when its 3D mode starts
"""

from __future__ import annotations

import math

from engine.capture.detector import DetectorConfig
from engine.capture.face import face_model_path
from engine.core.errors import InputError, describe_error
from engine.lift.camera import DEFAULT_FOV_DEG
from engine.lift.device import DEVICES
from engine.lift.modes import DEFAULT_MODE, MODE_LABELS, LiftConfig, available_modes, make_lifter
from engine.motion.smoothing import SmoothingConfig
from engine.session.pipeline import PipelineConfig

DEFAULT_SMOOTHING = SmoothingConfig().strength
DEFAULT_DEVICE = DEVICES[0]
FOV_RANGE_DEG = (10.0, 170.0)
CAMERA_SIZE_RANGE_PX = (16, 8192)


def _number(name: str, value, low: float, high: float, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and low <= number <= high):
        raise InputError(f"{name} {value}: {what}")
    return number


def check_smoothing(value) -> float:
    return _number("smoothing", value, 0.0, 1.0, "give a smoothing strength from 0 (raw) to 1 (very smooth)")


def check_fov(value) -> float:
    low, high = FOV_RANGE_DEG
    return _number("fov", value, low, high, f"a field of view must be between {low:g} and {high:g} degrees")


def check_mode(value) -> str:
    if value not in available_modes():
        raise InputError(f"mode {value}: unknown 3D mode; choose one of {', '.join(available_modes())}")
    return str(value)


def mode_choices() -> list[tuple[str, str]]:
    """(mode, what a person reads for it) for every 3D mode, in the order to offer them."""
    return [(mode, MODE_LABELS.get(mode, mode)) for mode in available_modes()]


def mode_problem(config: PipelineConfig) -> str:
    """Empty when the run's 3D mode can be built (its network and checkpoint loaded); else one line saying why not."""
    try:
        make_lifter(config.lift)
    except Exception as exc:  # noqa: BLE001 - any failure to build the mode is the message
        return f"The {MODE_LABELS.get(config.lift.mode, config.lift.mode)} cannot start: {describe_error(exc)}"
    return ""


def check_device(value) -> str:
    if value not in DEVICES:
        raise InputError(f"device {value}: choose one of {', '.join(DEVICES)}")
    return str(value)


def camera_size(width, height) -> tuple[int, int]:
    low, high = CAMERA_SIZE_RANGE_PX
    what = f"a camera image side must be a whole number of pixels from {low} to {high}"
    sides = []
    for name, value in (("camera width", width), ("camera height", height)):
        side = _number(name, value, low, high, what)
        if side != int(side):
            raise InputError(f"{name} {value}: {what}")
        sides.append(int(side))
    return sides[0], sides[1]


def pipeline_config(*, mode: str = DEFAULT_MODE, checkpoint: str = "", device: str = DEFAULT_DEVICE,
                    smoothing: float = DEFAULT_SMOOTHING, fov_deg: float = DEFAULT_FOV_DEG, root_motion: bool = True,
                    hands: bool = False, detector: DetectorConfig | None = None, person: int = 0,
                    face: bool = False) -> PipelineConfig:
    """A run's configuration from plain values; InputError (one line, naming the value) when one is bad
    (a missing face model included, when the face is asked for)."""
    if face:
        face_model_path()
    return PipelineConfig(face=face, lift=LiftConfig(mode=check_mode(mode), checkpoint=checkpoint, device=check_device(device)),
                          smoothing=SmoothingConfig(strength=check_smoothing(smoothing)), fov_deg=check_fov(fov_deg),
                          root_motion=root_motion, hands=hands, detector=detector or DetectorConfig(), person=person)
