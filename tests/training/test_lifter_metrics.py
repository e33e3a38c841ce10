import numpy as np
import pytest

from engine.core.skeletons import Skeleton
from training.common.metrics import table_row_m
from training.common.temporal_metrics import acceleration_error, bone_length_variation, jitter


def test_table_row_from_metres_on_hand_computed_cases():
    gt = np.array([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
    row = table_row_m(gt + np.array([0.0, 0.0, 0.1]), gt)  # every joint 100 mm off
    assert row["mpjpe_mm"] == pytest.approx(100.0) and row["pck150"] == 1.0
    # AUC over 0..150 mm in 31 steps: thresholds >= 100 mm count (100, 105, ..., 150: 11 of 31)
    assert row["auc"] == pytest.approx(11 / 31)
    assert table_row_m(gt + np.array([0.0, 0.0, 0.2]), gt)["pck150"] == 0.0
    assert table_row_m(2 * gt, gt)["scaled_mpjpe_mm"] == pytest.approx(0.0, abs=1e-9)
    c, s = np.cos(0.7), np.sin(0.7)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    moved = table_row_m(1.5 * gt @ rot.T + 0.2, gt)
    assert moved["pa_mpjpe_mm"] == pytest.approx(0.0, abs=1e-6) and moved["mpjpe_mm"] > 100


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
