"""Every 3D mode says what it needs and offers the live call; the device is chosen in one place."""

import numpy as np
import pytest

from engine.capture.detection import Detection
from engine.lift.device import describe_device, pick_device
from engine.lift.modes import LiftConfig, make_lifter


def _detections(n=12, seed=0):
    rng = np.random.default_rng(seed)
    base_kp = rng.uniform(200, 400, size=(33, 2))
    base_world = rng.normal(scale=0.3, size=(33, 3))
    return [Detection(base_kp + rng.normal(scale=2, size=(33, 2)), np.full(33, 0.9),
                      base_world + rng.normal(scale=0.01, size=(33, 3)), (640, 480)) for _ in range(n)]


@pytest.mark.parametrize("mode", ["detector", "fit", "lifter"])
def test_live_pushes_give_the_causal_lift(mode):
    lifter = make_lifter(LiftConfig(mode=mode, device="cpu"))
    assert lifter.needs_images is False
    dets = _detections()
    dets[4] = None
    live = lifter.start_live()
    pushed = np.stack([live.push(d) for d in dets])
    assert np.isnan(pushed[4]).all()
    np.testing.assert_allclose(pushed, lifter.lift(dets, causal=True), atol=1e-6)
    assert pushed.shape == (12, lifter.skeleton.num_joints, 3)


def test_a_long_absence_starts_the_lifters_live_state_over():
    lifter = make_lifter(LiftConfig(mode="lifter", device="cpu"))
    dets = _detections(20)
    live = lifter.start_live()
    for d in dets[:10]:
        live.push(d)
    for _ in range(8):  # gone for 8 frames: the next person is lifted as from a fresh start
        live.push(None)
    again = np.stack([live.push(d) for d in dets[10:]])
    fresh = lifter.start_live()
    np.testing.assert_allclose(again, np.stack([fresh.push(d) for d in dets[10:]]), atol=1e-9)


def test_one_device_choice():
    import torch

    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert describe_device("cpu") == "CPU"
    assert describe_device("auto") == describe_device("cuda") == "CPU"  # the 3D modes run in numpy
