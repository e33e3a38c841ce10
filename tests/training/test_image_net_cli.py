"""The training and evaluation commands end to end on a tiny Human3.6M-format folder."""

import json

import cv2
import numpy as np
import torch

from engine.core import skeletons
from engine.lift.nets.checkpoint import read_checkpoint
from training.image_net import evaluate as eval_image_net
from training.image_net import train as train_image_net
from training.image_net.augment import AugmentConfig
from training.image_net.data import ImagePoseDataset, MixedSampler

from .synthetic_figures import FOCAL, FRAME, make_samples


def _write_h36m(root, subject, samples):
    ann = root / "annotations"
    ann.mkdir(parents=True, exist_ok=True)
    images, joints = [], {}
    for i, s in enumerate(samples):
        name = f"s_{subject:02d}/img_{i:06d}.jpg"
        (root / "images" / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / "images" / name), cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR))
        images.append({"id": i, "file_name": name, "width": FRAME, "height": FRAME, "subject": subject,
                       "action_idx": 2, "subaction_idx": 1, "cam_idx": 1, "frame_idx": i})
        joints[str(i)] = (s.joints3d_m * 1000).tolist()  # world = camera here (R = I, t = 0)
    (ann / f"Human36M_subject{subject}_data.json").write_text(json.dumps({"images": images, "annotations": []}))
    (ann / f"Human36M_subject{subject}_camera.json").write_text(json.dumps(
        {"1": {"R": np.eye(3).tolist(), "t": [0, 0, 0], "f": [FOCAL, FOCAL], "c": [FRAME / 2, FRAME / 2]}}))
    (ann / f"Human36M_subject{subject}_joint_3d.json").write_text(json.dumps({"2": {"1": joints}}))


def test_train_then_eval_commands(tmp_path, capsys):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = tmp_path / "h36m"
        for subject in (1, 5, 6, 7, 8, 9, 11):
            _write_h36m(data, subject, make_samples(2, seed=subject))
        out = tmp_path / "run"
        common = ["--h36m", str(data), "--h36m-frame-step", "1", "--base-width", "4", "--layers", "1,1,1",
                  "--input-size", "64", "--batch-size", "4", "--num-workers", "0", "--log-every", "1",
                  "--out", str(out)]
        assert train_image_net.main(["--stage", "heatmap", "--steps", "2"] + common) == 0
        stage1 = out / "heatmap_final.pt"
        assert train_image_net.main(["--stage", "joint", "--steps", "2", "--init", str(stage1),
                                     "--pretrained-lr-mult", "0.1"] + common) == 0
        ckpt = read_checkpoint(out / "joint_final.pt")
        assert ckpt["extra"]["config"]["pretrained_lr_mult"] == 0.1
        assert ckpt["extra"]["config"]["init"] == str(stage1) and ckpt["extra"]["skeleton"] == "h36m_17"
        assert ckpt["kwargs"]["layers"] == [1, 1, 1]
        capsys.readouterr()
        report_path = tmp_path / "report.json"
        assert eval_image_net.main([str(out / "joint_final.pt"), "--h36m", str(data), "--h36m-frame-step", "1",
                                    "--out", str(report_path)]) == 0
        report = json.loads(report_path.read_text())["h36m"]
        assert report["count"] == 4  # subjects 9 and 11, two frames each
        assert set(report) >= {"unscaled", "scaled", "procrustes", "by_group"}
        assert report["procrustes"]["mpjpe"] <= report["unscaled"]["mpjpe"]
        # a missing data set is one clear line, not a traceback
        assert train_image_net.main(["--stage", "joint", "--steps", "1", "--h36m", str(tmp_path / "nope")]) == 1
        assert "nope" in capsys.readouterr().err
    finally:
        torch.set_num_threads(threads)


def test_flip_swaps_left_and_right():
    (s,) = make_samples(1, seed=3)
    plain = ImagePoseDataset([s], "h36m_17", 64, augment=None)[0]
    flip_only = AugmentConfig(scale_range=(1, 1), shift=0, rotation_prob=0, flip_prob=1.0, channel_gain=0,
                              brightness=0, contrast=0)
    flipped = ImagePoseDataset([s], "h36m_17", 64, augment=flip_only)[0]
    perm = skeletons.get("h36m_17").mirror_permutation()
    torch.testing.assert_close(flipped["joints2d"][perm] * torch.tensor([-1.0, 1]), plain["joints2d"])
    torch.testing.assert_close(flipped["pose3d"][perm] * torch.tensor([-1.0, 1, 1]), plain["pose3d"])
    torch.testing.assert_close(flipped["image"], plain["image"].flip(-1))


def test_augmentation_keeps_labels_on_the_figure():
    (s,) = make_samples(1, seed=4)
    ds = ImagePoseDataset([s], "h36m_17", 64, augment=AugmentConfig(channel_gain=0, brightness=0, contrast=0))
    for _ in range(5):
        item = ds[0]
        img, uv, vis = item["image"].numpy(), item["joints2d"].numpy(), item["vis2d"].numpy() > 0
        cols = np.clip(((uv[vis] + 1) / 2 * 64).astype(int), 0, 63)
        bg = np.array([40 / 255 - 0.485, 40 / 255 - 0.456, 40 / 255 - 0.406]) / np.array([0.229, 0.224, 0.225])
        on = [np.abs(img[:, y, x] - bg).sum() > 0.3 for x, y in cols]
        assert np.mean(on) > 0.8


def test_mixed_sampler_share_of_3d():
    sampler = MixedSampler(10, 90, fraction_3d=0.5, num_samples=200, rank=0, world_size=2)
    idx = np.array(list(sampler))
    assert len(idx) == 200 and (idx < 10).mean() == 0.5
    other = np.array(list(MixedSampler(10, 90, 0.5, 200, rank=1, world_size=2)))
    assert not np.array_equal(idx, other)
