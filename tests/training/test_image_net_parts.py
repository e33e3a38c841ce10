"""The image network's training parts: heatmap targets and decoding, losses, the optimiser."""

import pytest
import torch

from engine.core import skeletons
from engine.lift.nets.image_pose_net import decode_heatmaps
from training.image_net.losses import gaussian_heatmaps, image_net_losses, reference_bones
from training.image_net.train import ImageNetTrainConfig, build_model, make_optimizer


def test_heatmap_targets_and_decoding():
    uv = torch.tensor([[[0.3, -0.55], [-0.8, 0.1]]])
    hm = gaussian_heatmaps(uv, 16, 16, 1.0)
    assert hm.shape == (1, 2, 16, 16) and torch.isclose(hm.max(), torch.tensor(1.0), atol=0.15)
    torch.testing.assert_close(decode_heatmaps(hm), uv, atol=0.03, rtol=0)


def test_bones_of_2d_only_samples_come_from_a_training_subject():
    own = torch.tensor([[0.3, 0.4], [0.0, 0.0]])
    bank = torch.tensor([[1.0, 2.0]])
    ref, w = reference_bones({"bones": own}, bank)
    torch.testing.assert_close(ref, torch.tensor([[0.3, 0.4], [1.0, 2.0]]))
    assert w.tolist() == [1.0, 1.0]
    _, w = reference_bones({"bones": own}, None)
    assert w.tolist() == [1.0, 0.0]


def test_stage_one_trains_only_2d_and_lr_discrepancy():
    cfg = ImageNetTrainConfig(base_width=4, layers=(1, 1, 1), input_size=64, regressor_hidden=32,
                              camera_hidden=16, pretrained_lr_mult=0.1, lr=1e-3)
    net = build_model(cfg)
    opt = make_optimizer(net, cfg)
    lrs = {g["name"]: g["lr"] for g in opt.param_groups}
    assert lrs == {"pretrained": pytest.approx(1e-4), "fresh": pytest.approx(1e-3)}
    backbone = sum(p.numel() for p in net.backbone.parameters())
    assert sum(p.numel() for p in opt.param_groups[0]["params"]) == backbone
    out = net(torch.randn(2, 3, 64, 64))
    j = skeletons.get("h36m_17").num_joints
    batch = {"joints2d": torch.zeros(2, j, 2), "vis2d": torch.ones(2, j), "pose3d": torch.zeros(2, j, 3),
             "valid3d": torch.ones(2, j), "has3d": torch.ones(2), "bones": torch.ones(2, 16)}
    bones = torch.tensor(skeletons.get("h36m_17").bones)
    t1 = image_net_losses(out, batch, bones, "heatmap")
    assert set(t1) == {"heatmap", "intermediate", "total"}
    t1["total"].backward()
    assert net.regressor_fc[-1].weight.grad is None  # 3D regressor untouched in stage 1
    t2 = image_net_losses(net(torch.randn(2, 3, 64, 64)), batch, bones, "joint")
    assert {"pose3d", "projection", "bone"} <= set(t2)
