import numpy as np
import pytest

from engine.skeletons import Skeleton
from training.lifter_eval_metrics import auc3d, mpjpe, pa_mpjpe, pck3d, scaled_mpjpe
from training.temporal_metrics import acceleration_error, bone_length_variation, jitter


def test_mpjpe_family_on_hand_computed_cases():
    gt = np.array([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
    pred = gt + np.array([0.0, 0.0, 0.1])  # every joint 100 mm off
    assert mpjpe(pred, gt) == pytest.approx(100.0)
    assert pck3d(pred, gt, 150) == 1.0 and pck3d(pred, gt, 50) == 0.0
    # AUC over 0..150 mm in 31 steps: thresholds >= 100 mm count (100, 105, ..., 150: 11 of 31)
    assert auc3d(pred, gt) == pytest.approx(11 / 31)
    assert scaled_mpjpe(2 * gt, gt) == pytest.approx(0.0, abs=1e-9)
    c, s = np.cos(0.7), np.sin(0.7)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    assert pa_mpjpe(1.5 * gt @ rot.T + 0.2, gt) == pytest.approx(0.0, abs=1e-6)
    assert mpjpe(1.5 * gt @ rot.T + 0.2, gt) > 100


def test_bone_variation_jitter_and_acceleration_error():
    sk = Skeleton("two", ("a", "b"), (-1, 0))
    t = np.arange(10)
    steady = np.stack([np.zeros((10, 3)), np.tile([1.0, 0, 0], (10, 1))], axis=1)
    assert bone_length_variation(steady, sk) == pytest.approx(0.0)
    wobbly = steady.copy()
    wobbly[::2, 1, 0] = 1.1
    wobbly[1::2, 1, 0] = 0.9
    assert bone_length_variation(wobbly, sk) == pytest.approx(0.1)
    moving = steady + (t * 0.1)[:, None, None]  # constant velocity: no acceleration
    assert jitter(moving, 30) == pytest.approx(0.0)
    # b alternates +-0.1 m: acceleration 0.4 m/frame^2 * 30^2 on one joint of two
    assert jitter(wobbly, 30) == pytest.approx(0.4 * 900 / 2)
    assert acceleration_error(wobbly, steady, 30) == pytest.approx(0.4 * 900 / 2)
