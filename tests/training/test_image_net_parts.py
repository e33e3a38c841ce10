"""The network's parts: ResNet-50 shapes, the seed-1 outputs, checkpoints, crops and losses."""

import numpy as np
import pytest
import torch

from engine import skeletons
from engine.errors import InputError
from engine.image_crop import intrinsics, make_crop, rotation_to_ray
from engine.nets.checkpoint import load_checkpoint, save_checkpoint
from engine.nets.image_pose_net import MODEL_REGISTRY, ImagePoseNet, decode_heatmaps
from engine.nets.resnet import ResNet, resnet50_trunk
from training.image_net_losses import gaussian_heatmaps, image_net_losses, reference_bones
from training.train_image_net import ImageNetTrainConfig, build_model, make_optimizer


def test_resnet50_has_the_published_size():
    # ResNet-50 without its classifier has 23.5 M parameters (25.6 M with the 1000-way fc).
    full = resnet50_trunk(5)
    n = sum(p.numel() for p in full.parameters())
    assert abs(n - 23_508_032) < 1000, n
    assert full.stage_channels == [256, 512, 1024, 2048]


def test_resnet_strides_and_tiny_widths():
    net = ResNet((1, 1, 1), base_width=4)
    outs = net.forward_stages(torch.zeros(1, 3, 64, 64))
    assert [o.shape[1:] for o in outs] == [(16, 16, 16), (32, 8, 8), (64, 4, 4)]


def test_image_pose_net_outputs_and_stride_free_res5a():
    net = ImagePoseNet(num_joints=17, base_width=4, layers=(1, 1, 1), input_size=64).eval()
    assert net.res5a.conv2.stride == (1, 1) and net.res5a.out_channels == 32  # < 4 * 8 * base_width
    out = net(torch.randn(2, 3, 64, 64))
    assert out["heatmaps"].shape == (2, 17, 8, 8)
    assert out["latent"].shape == (2, 17 + 34, 8, 8)
    assert torch.equal(out["heatmaps"], out["latent"][:, :17])
    assert [t.shape for t in out["intermediate"]] == [(2, 17, 4, 4), (2, 17, 4, 4)]
    assert out["pose3d"].shape == (2, 17, 3) and (out["camera"][:, 0] > 0).all()
    s, c = out["camera"][:, :1, None], out["camera"][:, None, 1:]
    torch.testing.assert_close(out["proj2d"], s * out["pose3d"][..., :2] + c)


def test_checkpoint_round_trip(tmp_path):
    net = ImagePoseNet(num_joints=14, skeleton="lsp_14", base_width=4, layers=(1, 1, 1), input_size=64,
                       depth_channels=5).eval()
    path = save_checkpoint(tmp_path / "m.pt", "ImagePoseNet", net.constructor_kwargs(), net.state_dict(), {"note": "x"})
    loaded, payload = load_checkpoint(path, MODEL_REGISTRY)
    assert loaded.skeleton == "lsp_14" and loaded.depth_channels == 5 and payload["extra"]["note"] == "x"
    x = torch.randn(1, 3, 64, 64)
    torch.testing.assert_close(loaded(x)["pose3d"], net(x)["pose3d"])
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="bad.pt"):
        load_checkpoint(tmp_path / "bad.pt", MODEL_REGISTRY)
    with pytest.raises(InputError, match="ResNet"):
        load_checkpoint(path, {"ResNet": ResNet})


def test_perspective_correction_of_an_off_centre_crop():
    K = intrinsics(500.0, (640, 480))
    root = np.array([1.5, 0.4, 4.0])  # far right of the image
    centre = (K @ root)[:2] / root[2]
    crop = make_crop(centre_px=centre, side_px=200, out_size=64, K=K)
    virt = crop.to_virtual(root)
    np.testing.assert_allclose(virt[:2], 0, atol=1e-9)  # the virtual camera looks at the root
    np.testing.assert_allclose(np.linalg.norm(virt), np.linalg.norm(root))
    np.testing.assert_allclose(crop.from_virtual(virt), root)
    assert np.allclose(crop.image_to_norm(centre), 0)
    # a person at the image centre needs no correction
    np.testing.assert_allclose(rotation_to_ray(np.array([0, 0, 2.0])), np.eye(3), atol=1e-12)


def test_crop_rotation_matches_the_3d_rotation():
    K = intrinsics(500.0, (640, 480))
    pts = np.array([[0.0, 0, 4], [0.3, -0.5, 4.2], [-0.2, 0.4, 3.9]])
    centre = np.array([320.0, 240.0])
    crop = make_crop(centre_px=centre, side_px=300, out_size=100, K=K, angle_deg=25)
    px = (pts @ K.T)[:, :2] / (pts @ K.T)[:, 2:]
    virt = crop.to_virtual(pts)
    # the rotated crop of the projection = the projection of the rotated pose by the crop's camera
    f_crop = 500.0 * 100 / 300
    expected = virt[:, :2] / virt[:, 2:] * f_crop / 50
    np.testing.assert_allclose(crop.image_to_norm(px), expected, atol=1e-9)


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
