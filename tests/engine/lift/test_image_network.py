"""The image network's engine parts: ResNet-50, the seed-1 outputs, checkpoints, crops, the lifter."""

import numpy as np
import pytest
import torch

from engine.core.errors import InputError
from engine.lift.image_crop import intrinsics, make_crop, rotation_to_ray
from engine.lift.image_mode import ImageLifter
from engine.lift.nets.checkpoint import load_checkpoint, save_checkpoint
from engine.lift.nets.image_pose_net import MODEL_REGISTRY, ImagePoseNet
from engine.lift.nets.resnet import ResNet, resnet50_trunk


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


def test_image_lifter_shapes_and_missing_frames(tmp_path):
    net = ImagePoseNet(num_joints=17, base_width=4, layers=(1, 1, 1), input_size=64).eval()
    path = save_checkpoint(tmp_path / "m.pt", "ImagePoseNet", net.constructor_kwargs(), net.state_dict(), {})
    lifter = ImageLifter(path, device="cpu")
    assert lifter.skeleton.name == "h36m_17"
    frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    one = lifter.lift_image(frame, (40, 10, 90, 110))
    assert one.shape == (17, 3) and np.allclose(one[0], 0)

    class Box:
        box_xyxy = np.array([40.0, 10, 90, 110])

    out = lifter.lift([Box(), None, Box()], images=[frame, frame, None])
    assert out.shape == (3, 17, 3)
    np.testing.assert_allclose(out[0], one, atol=1e-5)
    assert np.isnan(out[1]).all() and np.isnan(out[2]).all()
    with pytest.raises(InputError, match="checkpoint"):
        ImageLifter("", device="cpu")
    with pytest.raises(InputError, match="nothere.pt"):
        ImageLifter(tmp_path / "nothere.pt", device="cpu")


def test_dataset_skeletons_are_registered_with_mirror_pairs():
    from engine.core import skeletons
    from engine.core.skeletons import MPI_INF_3DHP_17_IN_28

    assert len(skeletons.get("mpii_16").mirror_pairs) == 6
    assert len(skeletons.get("lsp_14").mirror_pairs) == 6
    assert len(skeletons.get("mpi_inf_3dhp_28").mirror_pairs) == 10
    # the 17 evaluation joints inside the 28, as MPI-INF-3DHP's own tools list them (1-based)
    assert [i + 1 for i in MPI_INF_3DHP_17_IN_28] == [8, 6, 15, 16, 17, 10, 11, 12, 24, 25, 26, 19, 20, 21, 5, 4, 7]
