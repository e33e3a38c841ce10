import os
from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.core.skeletons import MEDIAPIPE_33
from engine.lift.nets.lifter_net import load_lifter
from training.common.mocap import load_clips, split_of
from training.common.noise import LEG_SWAP, NoiseConfig
from training.lifter.data import AugmentConfig, MocapSource


def _source(mocap_root, cache, rig="cmu_daz", split="train"):
    clips, sk = load_clips(mocap_root, cache)
    return MocapSource([c for c in clips if split_of(c) == split], sk[rig], 1, -1)


def test_clean_samples_project_consistently(mocap_root, mocap_cache):
    src = _source(mocap_root, mocap_cache)
    clean = AugmentConfig(noise=NoiseConfig().scaled(0.0))
    b = src.sample(64, np.random.default_rng(0), clean)
    assert (b["scores"] > 0).mean() > 0.9  # only keypoints outside the image are missing
    # pelvis-relative labels; the clean 2D target is the normalised input where seen
    hips = b["mediapipe_33"][:, [MEDIAPIPE_33.index("left_hip"), MEDIAPIPE_33.index("right_hip")]].mean(1)
    assert np.abs(hips).max() < 1e-5
    seen = b["scores"][:, 0] > 0
    assert np.allclose(b["kp"][:, 0][seen], b["target_2d"][seen], atol=1e-4)


def test_noise_drops_and_swaps(mocap_root, mocap_cache):
    src = _source(mocap_root, mocap_cache)
    cfg = replace(NoiseConfig(), drop_rate=0.0, limb_drop_rate=0.0, face_drop_rate=0.0, low_score_rate=0.0, jitter=0.0,
                  swap_rate=2.0)  # every sample swaps one limb (arm or leg)
    rng = np.random.default_rng(1)
    idx = np.arange(50)
    b = src.sample(0, np.random.default_rng(1), AugmentConfig(noise=cfg, mirror=False), idx=idx)
    c = src.sample(0, np.random.default_rng(1), AugmentConfig(noise=NoiseConfig().scaled(0.0), mirror=False), idx=idx)
    left, right = LEG_SWAP["left"], LEG_SWAP["right"]
    seen = (b["scores"][:, 0] > 0) & (c["scores"][:, 0] > 0)
    legs_swapped = np.allclose(b["kp"][:, 0][:, left][seen[:, left]], c["kp"][:, 0][:, right][seen[:, left]], atol=1e-4)
    assert not np.allclose(b["kp"], c["kp"])  # something was swapped
    dropped = src.sample(32, rng, AugmentConfig(noise=replace(NoiseConfig(), limb_drop_rate=1.0)))
    assert ((dropped["scores"] == 0).sum(-1) >= 4).all()  # a whole limb (4-5 keypoints) is missing
    assert (dropped["kp"][dropped["scores"] == 0] == 0).all()
    del legs_swapped, rng


def test_smoke_training_writes_a_checkpoint_that_rebuilds_itself(mocap_root, mocap_cache, tmp_path):
    from training.lifter.train import PRESETS, TrainConfig, train

    cfg = replace(TrainConfig(), **PRESETS["smoke"], data_root=str(mocap_root), cache_dir=str(mocap_cache),
                  workdir=str(tmp_path), out=str(tmp_path / "lifter.pt"), variants=("hybrid",), ship="hybrid")
    train(cfg)
    model, blob = load_lifter(tmp_path / "lifter.pt")
    assert blob["kwargs"]["width"] == 64 and "cmu_daz" in blob["skeletons"]
    assert blob["decoder"]["mode"] == "hybrid"
    assert blob["decoder"]["encoder"].shape[1] == sum(model.formats.values())


def _ddp_worker(rank, world, shared, cache, work, port):
    os.environ.update({"WORLD_SIZE": str(world), "RANK": str(rank), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    from training.lifter.train import PRESETS, TrainConfig, train

    cfg = replace(TrainConfig(), **(PRESETS["smoke"] | {"heads_steps": 3, "finetune_steps": 2}), data_root=shared,
                  cache_dir=cache, workdir=work, out=os.path.join(work, "lifter.pt"), variants=("regularize",))
    train(cfg)


@pytest.mark.slow
def test_training_runs_under_distributed_data_parallel(mocap_root, mocap_cache, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(_ddp_worker, args=(2, str(mocap_root), str(mocap_cache), str(tmp_path), port),
                                nprocs=2, join=True)
    model, _ = load_lifter(tmp_path / "lifter.pt")
    assert model.formats["monocap_body"] == 22
