import numpy as np
import pytest
import torch

from training.common import metrics


def _pose(seed=0, n=1, j=5):
    return np.random.default_rng(seed).normal(size=(n, j, 3)) * 100.0


def test_mpjpe_hand_computed():
    gt = np.zeros((1, 2, 3))
    pred = np.array([[[3.0, 4.0, 0.0], [0.0, 0.0, 10.0]]])  # errors 5 and 10
    assert metrics.mpjpe(pred, gt) == pytest.approx(7.5)
    # valid mask leaves out the second joint
    assert metrics.mpjpe(pred, gt, valid=np.array([[True, False]])) == pytest.approx(5.0)
    # torch tensors work too
    assert metrics.mpjpe(torch.tensor(pred), torch.tensor(gt)) == pytest.approx(7.5)


def test_pck_and_auc_hand_computed():
    gt = np.zeros((1, 4, 3))
    pred = np.array([[[0, 0, 0], [100.0, 0, 0], [0, 150.0, 0], [0, 0, 200.0]]])
    assert metrics.pck3d(pred, gt) == pytest.approx(0.75)  # 0, 100, 150 within 150 mm
    assert metrics.pck3d(pred / 1000, gt, units="m") == pytest.approx(0.75)
    assert metrics.pck3d(pred, gt, threshold_mm=120) == pytest.approx(0.5)
    # AUC over t = 0, 5, ..., 150: joint 0 counts at all 31, joint 1 from t=100 (11),
    # joint 2 only at t=150 (1), joint 3 never.
    expected = (31 + 11 + 1 + 0) / (4 * 31)
    assert metrics.auc3d(pred, gt) == pytest.approx(expected)
    assert metrics.auc3d(pred / 1000, gt / 1000, units="m") == pytest.approx(expected)


def test_scaled_protocol_forgives_size_only():
    gt = _pose(1)
    assert metrics.mpjpe(gt * 0.8, gt) > 10
    assert metrics.scaled_mpjpe(gt * 0.8, gt) == pytest.approx(0.0, abs=1e-9)
    # the least-squares scale for a hand case: pred=(1,0,0), gt=(2,0,0) -> s = 2
    assert metrics.align_scale(np.array([[[1.0, 0, 0]]]), np.array([[[2.0, 0, 0]]]))[0, 0, 0] == pytest.approx(2.0)
    # a rotated pose is not forgiven by scaling
    rot = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]])
    assert metrics.scaled_mpjpe(gt @ rot.T, gt) > 10


def test_procrustes_forgives_similarity_but_not_shape_or_mirror():
    gt = _pose(2, n=3, j=8)
    angle = 0.7
    rot = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    pred = 1.3 * gt @ rot.T + np.array([10.0, -5, 3])
    assert metrics.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-6)
    assert metrics.mpjpe(pred, gt) > 10
    # a mirror image is not a rotation: Procrustes must not undo it
    mirrored = gt * np.array([-1.0, 1, 1])
    assert metrics.pa_mpjpe(mirrored, gt) > 1.0
    # a shape change survives alignment: move one joint of a triangle by 50 mm
    a = np.array([[[0.0, 0, 0], [100.0, 0, 0], [0, 100.0, 0]]])
    b = a.copy()
    b[0, 2, 2] = 50.0
    assert metrics.pa_mpjpe(b, a) > 1


def test_evaluate_by_group():
    gt = np.zeros((4, 2, 3))
    pred = gt.copy()
    pred[2:, :, 0] = 200.0  # the second group is 200 mm off everywhere
    res = metrics.evaluate(pred, gt, groups=np.array(["studio", "studio", "outdoor", "outdoor"]))
    assert res["unscaled"]["mpjpe"] == pytest.approx(100.0)
    assert res["by_group"]["studio"]["unscaled"]["pck150"] == 1.0
    assert res["by_group"]["outdoor"]["unscaled"]["pck150"] == 0.0
    assert res["by_group"]["outdoor"]["unscaled"]["mpjpe"] == pytest.approx(200.0)
    res_m = metrics.evaluate(pred / 1000, gt / 1000, units="m")
    assert res_m["unscaled"]["mpjpe"] == pytest.approx(100.0)  # reported in mm


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        metrics.mpjpe(np.zeros((1, 3, 3)), np.zeros((1, 4, 3)))
