"""The temporal stage's training side: detector-like sequences, the measured noise, training, and
the exported model file against the torch network it came from."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.core.errors import InputError
from engine.core.resources import resource_path
from engine.lift.fit_mode import KeypointFitLifter
from engine.lift.modes import LiftConfig
from engine.lift.nets.temporal_net import TemporalNet, frame_features, with_presence
from engine.lift.temporal_mode import DEFAULT_MODEL
from training.common.mocap import load_clips, split_of
from training.temporal.data import LIMB_POINTS, MocapSequences, Sequences, SynthConfig
from training.temporal.model import TemporalConvNet, load_npz, save_ensemble, save_npz
from training.temporal.noise_stats import clip_stats, pool
from training.temporal.train import INPUT_GROUPS, TrainConfig, drop_inputs, loss_fn, train, train_ensemble, window_batch

DETECTIONS = Path(__file__).resolve().parents[1] / "engine" / "data" / "taiji_detections_40.npz"


def real_features() -> np.ndarray:
    """(40, C_in) features of the detector's output on 40 frames of real footage, through `fit`."""
    from engine.capture.detection import Detection

    d = np.load(DETECTIONS)
    size = tuple(int(v) for v in d["size"])
    dets = [Detection(d["kp"][i].astype(np.float64), d["scores"][i].astype(np.float64),
                      d["world"][i].astype(np.float64), size) for i in range(len(d["kp"]))]
    idx, kp, sc, fitted = KeypointFitLifter(LiftConfig(mode="fit")).fit_clip(dets)
    assert len(idx) == 40
    return with_presence(frame_features(kp, sc, fitted), np.ones(40, bool))


def test_numpy_forward_matches_torch_on_real_inputs():
    net = TemporalNet.load(resource_path(DEFAULT_MODEL))
    model = load_npz(resource_path(DEFAULT_MODEL)).eval()
    x = real_features()
    with torch.no_grad():
        expect = model(torch.from_numpy(x[None])).numpy()[0]
    got = net.forward(x[None])[0]
    assert np.abs(expect).max() > 1e-3  # the shipped model does correct `fit`
    np.testing.assert_allclose(got, expect, atol=1e-4)
    windows = np.stack([x[i:i + net.receptive_field] for i in range(len(x) - net.receptive_field + 1)])
    np.testing.assert_allclose(net.forward_centre(windows), expect, atol=1e-4)


def test_export_round_trip(tmp_path):
    torch.manual_seed(0)
    model = TemporalConvNet(16, (3, 9))
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.1)
    save_npz(model, {"why": "test"}, tmp_path / "m.npz")
    x = real_features()
    with torch.no_grad():
        expect = model(torch.from_numpy(x[None])).numpy()[0]
    np.testing.assert_allclose(TemporalNet.load(tmp_path / "m.npz").forward(x[None])[0], expect, atol=1e-4)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


def random_members(tmp_path, count: int = 2) -> tuple[list[TemporalConvNet], list[Path]]:
    models, paths = [], []
    for m in range(count):
        torch.manual_seed(m)
        model = TemporalConvNet(16, (3, 9))
        for p in model.parameters():
            torch.nn.init.normal_(p, std=0.1)
        paths.append(tmp_path / f"m{m}.npz")
        save_npz(model.eval(), {"seed": m}, paths[-1])
        models.append(model)
    return models, paths


def test_an_ensemble_file_averages_its_members_in_numpy_as_in_torch(tmp_path):
    models, paths = random_members(tmp_path)
    save_ensemble(paths, {"why": "test"}, tmp_path / "e.npz")
    net = TemporalNet.load(tmp_path / "e.npz")
    assert net.members == 2 and net.receptive_field == 27
    x = real_features()
    with torch.no_grad():
        each = [m(torch.from_numpy(x[None])).numpy()[0] for m in models]
    assert np.abs(each[0] - each[1]).max() > 1e-2  # the members differ, so the mean is a real test
    np.testing.assert_allclose(net.forward(x[None])[0], 0.5 * (each[0] + each[1]), atol=1e-4)
    windows = np.stack([x[i:i + 27] for i in range(len(x) - 26)])
    np.testing.assert_allclose(net.forward_centre(windows), 0.5 * (each[0] + each[1]), atol=1e-4)
    with torch.no_grad():  # each member reads back into torch as it was written
        back = load_npz(tmp_path / "e.npz", member=1).eval()(torch.from_numpy(x[None])).numpy()[0]
    np.testing.assert_allclose(back, each[1], atol=1e-5)
    with np.load(tmp_path / "e.npz", allow_pickle=False) as data:
        assert int(data["members"]) == 2 and all(data[k].dtype != object for k in data.files)


@pytest.mark.parametrize("damage", ["missing_array", "wrong_shape", "count"])
def test_a_damaged_ensemble_member_is_one_line_naming_the_file(tmp_path, damage):
    _, paths = random_members(tmp_path)
    save_ensemble(paths, {}, tmp_path / "e.npz")
    with np.load(tmp_path / "e.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    if damage == "missing_array":
        del arrays["member1/block0.w"]
    elif damage == "wrong_shape":
        arrays["member1/out.w"] = arrays["member1/out.w"][:5]
    else:
        arrays["members"] = np.array(3)
    bad = tmp_path / "ensemble_net.npz"
    np.savez(bad, **arrays)
    with pytest.raises(InputError, match="ensemble_net.npz") as err:
        TemporalNet.load(bad)
    assert "\n" not in str(err.value) and "member" in str(err.value)


class RandomSource:
    """Stands in for MocapSequences: random sequences (the ensemble's bookkeeping, not its learning)."""

    def sample(self, count, rng, synth):
        return Sequences(rng.normal(size=(count, 41, 198)).astype(np.float32), np.ones((count, 41), bool),
                         rng.normal(size=(count, 41, 33, 3)).astype(np.float32),
                         rng.normal(size=(count, 41, 33, 3)).astype(np.float32))


def test_training_several_seeds_writes_one_ensemble_and_reuses_finished_members(tmp_path):
    cfg = TrainConfig(minutes=0, max_steps=3, channels=16, batch=8, pool=4, renew=1)
    logs = []
    train_ensemble(RandomSource(), cfg, [4, 7], tmp_path / "members", tmp_path / "e.npz", log=logs.append)
    net = TemporalNet.load(tmp_path / "e.npz")
    assert net.members == 2
    assert sorted(p.name for p in (tmp_path / "members").iterdir()) == ["e.seed4.npz", "e.seed7.npz"]
    first = (tmp_path / "e.npz").read_bytes()
    logs.clear()
    train_ensemble(RandomSource(), cfg, [4, 7], tmp_path / "members", tmp_path / "e.npz", log=logs.append)
    assert sum("reusing" in m for m in logs) == 2 and (tmp_path / "e.npz").read_bytes() == first
    logs.clear()
    train_ensemble(RandomSource(), replace(cfg, max_steps=4), [4], tmp_path / "members", tmp_path / "e.npz",
                   log=logs.append)
    assert not any("reusing" in m for m in logs)  # another recipe trains afresh


def test_noise_stats_recover_a_known_jitter():
    rng = np.random.default_rng(0)
    t = np.arange(400) / 30.0
    base = np.zeros((400, 33, 2)) + rng.uniform(100, 500, (1, 33, 2))
    base[..., 0] += 40 * np.sin(t)[:, None]  # slow motion, box about 400 px
    base[:, 0] = (100, 100)
    base[:, 1] = (500, 500)
    sigma_px = 2.0
    kp = base + rng.normal(0, sigma_px, base.shape)
    kp[:, :2] = base[:, :2]
    world = rng.normal(0, 0.3, (1, 33, 3)) + rng.normal(0, 0.01, (400, 33, 3))
    stats = pool([clip_stats(kp, np.full((400, 33), 0.9), world, np.ones(400, bool))])
    box = 400.0
    measured = np.array(stats["jitter_2d_box"][2:]) * box
    assert np.median(measured) == pytest.approx(sigma_px, rel=0.15)
    assert np.median(np.array(stats["jitter_3d_m"])[2:]) == pytest.approx(0.01 * np.sqrt(1.5), rel=0.3)


@pytest.fixture(scope="module")
def sequences_source(mocap_root, mocap_cache) -> MocapSequences:
    clips, skeletons = load_clips(mocap_root, mocap_cache)
    return MocapSequences([c for c in clips if split_of(c) == "train"], skeletons)


def test_detector_like_sequences_are_what_fit_sees(sequences_source):
    rng = np.random.default_rng(0)
    noisy = sequences_source.sample(6, rng, SynthConfig(frames=41, limbs_only_rate=0.0, missing_rate=0.2))
    clean = sequences_source.sample(6, np.random.default_rng(0), SynthConfig(frames=41, noise=0.0))
    assert noisy.features.shape == (6, 41, 33 * 6) and noisy.truth3d.shape == (6, 41, 33, 3)
    hips = 0.5 * (noisy.truth3d[:, :, 23] + noisy.truth3d[:, :, 24])
    assert np.abs(hips).max() < 1e-5  # hip-relative
    err = lambda s: np.linalg.norm(s.fit3d - s.truth3d, axis=-1)[..., LIMB_POINTS].mean()
    assert err(clean) < 0.06 < err(noisy) < 0.2  # fit of clean projections is close; the noise is real
    assert (~noisy.present).any() and noisy.present[:, 20].all()
    limbs = sequences_source.sample(4, rng, SynthConfig(frames=41, limbs_only_rate=1.0))
    others = np.setdiff1d(np.arange(33), LIMB_POINTS)
    assert (limbs.features[..., 66 + others] == 0).all() and (limbs.features[..., 66 + np.array(LIMB_POINTS)] > 0).all()


def test_live_windows_never_see_past_the_allowed_frames(sequences_source):
    seqs = sequences_source.sample(4, np.random.default_rng(1), SynthConfig(frames=41))
    x, _, _, _ = window_batch(seqs, 200, 27, np.random.default_rng(2), TrainConfig(live_share=1.0, edge_share=0.0))
    after = x[:, 13 + 3:, -1]
    assert (after == 0).all()  # at most 2 frames after the centre
    assert (x[:, 13, -1] == 1).all()


def test_an_input_group_left_out_stays_out_of_the_written_model(tmp_path):
    """An ablation (--without 2d,scores) trains and writes a network that ignores those inputs, so
    the engine scores the ablated network on real footage as it was trained."""
    rng = np.random.default_rng(0)
    b, t = 6, 41
    seqs = Sequences(rng.normal(size=(b, t, 198)).astype(np.float32), np.ones((b, t), bool),
                     rng.normal(size=(b, t, 33, 3)).astype(np.float32), rng.normal(size=(b, t, 33, 3)).astype(np.float32))
    cfg = TrainConfig(channels=16, without=("2d", "scores"))
    model = TemporalConvNet(cfg.channels)
    drop_inputs(model, cfg.without)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(5):
        x, fit3d, truth, _ = window_batch(seqs, 32, model.receptive_field, rng, cfg)
        opt.zero_grad()
        loss_fn(model, x, fit3d, truth).backward()
        opt.step()
    save_npz(model, {}, tmp_path / "a.npz")
    net = TemporalNet.load(tmp_path / "a.npz")
    x = with_presence(seqs.features[0], seqs.present[0])
    moved = x.copy()
    moved[:, INPUT_GROUPS["2d"]] += 0.3
    moved[:, INPUT_GROUPS["scores"]] = 0.1
    assert np.abs(net.correct_clip(x)).max() > 1e-4  # it learned something from the 3D
    assert np.allclose(net.correct_clip(moved), net.correct_clip(x), atol=1e-6)
    moved[:, INPUT_GROUPS["3d"]] += 0.3
    assert not np.allclose(net.correct_clip(moved), net.correct_clip(x), atol=1e-6)


def test_a_training_run_without_a_time_or_step_budget_is_refused(tmp_path):
    with pytest.raises(ValueError, match="budget"):
        train(None, TrainConfig(minutes=0, max_steps=0), tmp_path / "t.npz")


@pytest.mark.slow
def test_a_short_training_run_learns_and_writes_a_loadable_model(sequences_source, tmp_path):
    out = tmp_path / "t.npz"
    synth = SynthConfig(frames=41)
    cfg = TrainConfig(minutes=5, max_steps=80, channels=32, batch=64, pool=16, renew=1, renew_every=1000, lr=3e-3)
    train(sequences_source, cfg, out, synth, log=lambda m: None)
    net = TemporalNet.load(out)
    assert net.receptive_field == 27
    seqs = sequences_source.sample(cfg.pool, np.random.default_rng(cfg.seed), synth)  # the pool it trained on
    fit_err = np.linalg.norm(seqs.fit3d - seqs.truth3d, axis=-1)[:, 13:-13][..., LIMB_POINTS].mean()
    corrected = np.array([seqs.fit3d[i] + net.correct_clip(with_presence(seqs.features[i], seqs.present[i]))
                          for i in range(cfg.pool)])
    assert np.linalg.norm(corrected - seqs.truth3d, axis=-1)[:, 13:-13][..., LIMB_POINTS].mean() < 0.97 * fit_err
