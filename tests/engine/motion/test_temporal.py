"""The temporal stage: smoother must not mean less accurate (checked on CMU motion capture, or a
generated take of the same format where the shared data is absent)."""

import numpy as np
import pytest

from engine.animation.bvh_reader import guess_scale_to_m, read_bvh
from engine.motion.bones import estimate_bone_lengths, impose_bone_lengths
from engine.motion.live_filters import LIVE_BETA, LIVE_CUTOFF_FACTOR
from engine.motion.smoothing import OneEuroFilter, SmoothingConfig, zero_phase_lowpass
from engine.motion.temporal import filter_and_lock


def _mocap_at_30fps(path):
    motion = read_bvh(path)
    step = max(int(round(motion.fps / 30)), 1)
    pos = motion.positions(guess_scale_to_m(motion))[::step][:600]
    return pos, motion.skeleton(), motion.fps / step


def _rmse(a, b):
    return float(np.sqrt(np.nanmean(np.sum((a - b) ** 2, axis=-1))))


@pytest.mark.parametrize("rel", ["cmu_iclone/001_01.bvh", "cmu_daz/martial/03.bvh", "cmu_asf/01_01.bvh"])
def test_offline_filter_is_closer_to_truth_than_jittery_input(mocap_file, rel):
    truth, skeleton, fps = _mocap_at_30fps(mocap_file(rel))
    root_truth = truth[:, 0].copy()
    rel_truth = truth - root_truth[:, None]
    rng = np.random.default_rng(0)
    noisy_rel = rel_truth + rng.normal(scale=0.015, size=rel_truth.shape)
    noisy_root = root_truth + rng.normal(scale=0.03, size=root_truth.shape)
    noisy_rel -= noisy_rel[:, :1]
    valid = np.ones(len(truth), bool)
    rel_f, root_f, _ = filter_and_lock(noisy_rel, noisy_root, valid, fps, skeleton, SmoothingConfig())
    assert _rmse(rel_f, rel_truth) < 0.8 * _rmse(noisy_rel, rel_truth)
    assert _rmse(root_f[:, None], root_truth[:, None]) < 0.6 * _rmse(noisy_root[:, None], root_truth[:, None])


def test_live_one_euro_is_closer_to_truth_than_jittery_input(mocap_file):
    truth, skeleton, fps = _mocap_at_30fps(mocap_file("cmu_iclone/001_01.bvh"))
    rel_truth = truth - truth[:, :1]
    rng = np.random.default_rng(1)
    noisy = rel_truth + rng.normal(scale=0.015, size=rel_truth.shape)
    filt = OneEuroFilter(SmoothingConfig().cutoff_hz() * LIVE_CUTOFF_FACTOR, beta=LIVE_BETA)
    out = np.array([filt(noisy[i], i / fps) for i in range(len(noisy))])
    assert _rmse(out, rel_truth) < 0.97 * _rmse(noisy, rel_truth)


def test_gaps_stay_invalid_and_short_gaps_do_not_split_the_filter():
    t = np.arange(120) / 30.0
    x = np.sin(2 * np.pi * 0.5 * t)[:, None, None] * np.ones((1, 2, 3))
    valid = np.ones(120, bool)
    valid[40:44] = False  # short gap
    valid[80:110] = False  # long gap
    x[~valid] = np.nan
    y = zero_phase_lowpass(x, valid, 30.0, 4.0, max_gap_s=0.5)
    assert np.isnan(y[~valid]).all()
    assert np.isfinite(y[valid]).all()
    assert np.abs(y[valid] - x[valid]).max() < 0.05  # a slow motion passes through unchanged


def test_locked_bones_are_exact_and_symmetric():
    from engine.core.skeletons import MONOCAP_BODY

    rng = np.random.default_rng(2)
    joints = rng.normal(size=(50, MONOCAP_BODY.num_joints, 3))
    lengths = estimate_bone_lengths(joints, np.ones(50, bool), MONOCAP_BODY)
    locked = impose_bone_lengths(joints, MONOCAP_BODY, lengths)
    bl = MONOCAP_BODY.bone_lengths(locked)
    assert np.allclose(bl.std(axis=0), 0, atol=1e-9)
    k, rk = MONOCAP_BODY.index("left_knee"), MONOCAP_BODY.index("right_knee")
    assert lengths[k] == pytest.approx(lengths[rk])


def test_strength_outside_range_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        SmoothingConfig(strength=1.5)
