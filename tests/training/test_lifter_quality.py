"""The shipped lifter on a held-out slice of the shared mocap (clips and a motion type training never saw)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.core.resources import resource_path
from engine.core.skeletons import MONOCAP_BODY
from training.common.metrics import table_row_m
from training.common.noise import NoiseConfig
from training.lifter.evaluate import Model, held_out_batches
from training.lifter.train import TrainConfig

MODEL = resource_path("models/lifter.pt")
pytestmark = pytest.mark.skipif(not MODEL.is_file(), reason="no lifter model")


@pytest.fixture(scope="module")
def held_out(mocap_root, mocap_cache):
    model = Model(str(MODEL))
    cfg = replace(TrainConfig(), data_root=str(mocap_root), cache_dir=str(mocap_cache))
    return model, held_out_batches(cfg, model.net.window, model.net.target, NoiseConfig(), stride=15, seed=5)


def test_beats_the_mean_pose_on_held_out_motion(held_out):
    model, data = held_out
    preds, gts = [], []
    for _, b in data.values():
        preds.append(model(b)[MONOCAP_BODY.name])
        gts.append(b[MONOCAP_BODY.name])
    pred, gt = np.concatenate(preds), np.concatenate(gts)
    mean_pose = np.broadcast_to(gt.mean(0), gt.shape)  # even knowing the test set's mean pose
    got, trivial = table_row_m(pred, gt), table_row_m(mean_pose, gt)
    assert got["mpjpe_mm"] < 0.6 * trivial["mpjpe_mm"]
    assert got["pa_mpjpe_mm"] < 0.6 * trivial["pa_mpjpe_mm"]
    assert got["mpjpe_mm"] < 150  # with detector-like noise on the input


def test_every_format_lies_on_the_autoencoders_latent_space(held_out):
    model, data = held_out
    if model.enc is None:
        pytest.skip("model ships without the autoencoder")
    _, b = data["cmu_daz"]
    out = model(b)
    joints = torch.as_tensor(np.concatenate([out[f] for f in model.formats], axis=1), dtype=torch.float32)
    again = torch.einsum("jk,bkd->bjd", model.dec, torch.einsum("kj,bjd->bkd", model.enc, joints))
    # the outputs are (nearly) a fixed point of the autoencoder: the formats are one consistent answer
    # (exactly for the "hybrid" and "latent" variants, within millimetres for "regularize")
    assert (again - joints).norm(dim=-1).mean() < 0.015
