"""The full image network on a tiny synthetic image set: stick figures of known 3D pose, drawn
with OpenCV through a known camera. Training must lower the losses and overfit a handful of
samples to low error; the checkpoint must then run in the engine's image 3D mode."""

import time

import numpy as np
import pytest
import torch

from engine.lift.image_mode import ImageLifter
from training.common import metrics
from training.image_net.data import ImagePoseDataset
from training.image_net.evaluate import evaluate_samples, predict
from training.image_net.train import ImageNetTrainConfig, save_model, train

from .synthetic_figures import FOCAL, H36M, make_samples


def test_renderer_agrees_with_the_crop_path():
    """The dataset's 2D labels sit on the drawn figure, and the 3D target is the root-relative pose
    turned into the crop's virtual camera (same bone lengths, root at the origin)."""
    (s,) = make_samples(1, seed=7)
    ds = ImagePoseDataset([s], "h36m_17", input_size=64, augment=None)
    item = ds[0]
    img = item["image"].numpy()
    uv = item["joints2d"].numpy()
    cols = np.clip(((uv + 1) / 2 * 64).astype(int), 0, 63)
    background = img[:, 0, 0]
    on_figure = [np.abs(img[:, y, x] - background).sum() > 0.5 for x, y in cols]
    assert np.mean(on_figure) > 0.9
    p3 = item["pose3d"].numpy()
    np.testing.assert_allclose(p3[0], 0, atol=1e-6)
    np.testing.assert_allclose(H36M.bone_lengths(p3), H36M.bone_lengths(s.joints3d_m), rtol=1e-5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions: more threads only contend on a shared machine
    torch.manual_seed(0)
    train3d = make_samples(8, seed=1)
    train2d = make_samples(4, seed=2, with3d=False)
    common = dict(input_size=64, base_width=8, layers=(1, 1, 1), regressor_hidden=256, camera_hidden=64,
                  batch_size=8, lr=3e-3, augment=None, num_workers=0, log_every=10, checkpoint_every=0,
                  lr_decay_at=(0.8,), loss=ImageNetTrainConfig().loss)
    t0 = time.time()
    cfg1 = ImageNetTrainConfig(stage="heatmap", steps=80, **common)
    model, hist1 = train(cfg1, train3d, train2d, device="cpu")
    cfg2 = ImageNetTrainConfig(stage="joint", steps=700, fraction_3d=0.75, **common)
    model, hist2 = train(cfg2, train3d, train2d, model=model, device="cpu")
    path = save_model(tmp_path_factory.mktemp("ckpt") / "image_net.pt", model, cfg2, cfg2.steps)
    torch.set_num_threads(threads)
    return dict(model=model.eval(), hist1=hist1, hist2=hist2, train3d=train3d, train2d=train2d, path=path,
                seconds=time.time() - t0)


@pytest.mark.slow
def test_losses_fall(trained):
    h1, h2 = trained["hist1"], trained["hist2"]
    assert h1[-1]["heatmap"] < 0.5 * h1[0]["heatmap"]
    assert h2[-1]["total"] < 0.5 * h2[0]["total"]
    for term in ("pose3d", "projection", "heatmap", "bone"):
        assert h2[-1][term] < 0.3 * h2[0][term], (term, h2[0][term], h2[-1][term])
    print(f"\ntraining took {trained['seconds']:.1f} s; stage 2 first/last: "
          f"{ {k: round(v, 4) for k, v in h2[0].items()} } / { {k: round(v, 4) for k, v in h2[-1].items()} }")


def test_overfits_a_handful_to_low_error(trained):
    model, samples = trained["model"], trained["train3d"]
    report = evaluate_samples(model, samples, batch_size=8)
    data = ImagePoseDataset(samples, "h36m_17", 64, augment=None)
    gt = predict(model, data)["gt3d"] * 1000
    baseline = metrics.mpjpe(np.broadcast_to(gt.mean(axis=0), gt.shape), gt)  # the mean pose for all
    unscaled = report["unscaled"]["mpjpe"]
    print(f"\noverfit MPJPE {unscaled:.1f} mm (mean-pose baseline {baseline:.1f} mm), "
          f"PA {report['procrustes']['mpjpe']:.1f} mm, PCK150 {report['unscaled']['pck150']:.3f}, "
          f"AUC {report['unscaled']['auc']:.3f}, 2D error {report['error2d_norm']:.4f}")
    assert unscaled < 30.0 and unscaled < 0.3 * baseline
    assert report["unscaled"]["pck150"] > 0.97
    assert report["error2d_norm"] < 0.08  # 4 % of the crop, 2.5 px of 64
    assert set(report["by_group"]) <= {"near", "far"}


def test_two_d_only_samples_learn_the_projection(trained):
    model = trained["model"]
    data = ImagePoseDataset(trained["train2d"], "h36m_17", 64, augment=None)
    batch = {k: torch.stack([data[i][k] for i in range(len(data))]) for k in ("image", "joints2d")}
    with torch.no_grad():
        out = model(batch["image"])
    err = (out["proj2d"] - batch["joints2d"]).norm(dim=-1).mean().item()
    assert err < 0.1


def test_checkpoint_runs_in_the_engine(trained):
    lifter = ImageLifter(trained["path"], device="cpu", focal_px=FOCAL)
    assert lifter.skeleton.name == "h36m_17"
    samples = trained["train3d"]
    images = [s.image for s in samples]
    boxes = [s.person_box() for s in samples]
    out = lifter.lift_images(images, boxes)
    gt = np.stack([s.joints3d_m - s.joints3d_m[0] for s in samples])
    assert out.shape == (8, 17, 3)
    np.testing.assert_allclose(out[:, 0], 0, atol=1e-9)
    err_mm = metrics.mpjpe(out, gt) * 1000
    assert err_mm < 30.0, err_mm

    class Det:  # the engine's detections carry 2D keypoints and scores
        def __init__(self, kp):
            self.keypoints_px, self.scores = kp, np.ones(len(kp))

    dets = [Det(samples[0].joints2d_px), None, Det(samples[2].joints2d_px)]
    res = lifter.lift(dets, images=[images[0], images[1], images[2]])
    assert np.isnan(res[1]).all() and np.isfinite(res[[0, 2]]).all()
    assert metrics.mpjpe(res[[0, 2]], gt[[0, 2]]) * 1000 < 50.0
