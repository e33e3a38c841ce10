"""The full image network on a tiny synthetic image set: stick figures of known 3D pose, drawn
with OpenCV through a known camera. Training must lower the losses and overfit a handful of
samples to low error; the checkpoint must then run in the engine's image 3D mode."""

import time

import cv2
import numpy as np
import pytest
import torch

from engine import skeletons
from engine.image_crop import intrinsics
from engine.image_lifter import ImageLifter
from training import metrics
from training.datasets.image_samples import PoseSample
from training.eval_image_net import evaluate_samples, predict
from training.image_net_data import ImagePoseDataset
from training.train_image_net import ImageNetTrainConfig, save_model, train

H36M = skeletons.get("h36m_17")
FRAME = 96
FOCAL = 140.0
K = intrinsics(FOCAL, (FRAME, FRAME))

# Rest pose, camera axes (x right, y down, z forward), person facing the camera, metres.
REST = {
    "pelvis": (0, 0, 0), "right_hip": (-0.12, 0, 0), "right_knee": (-0.12, 0.42, 0), "right_ankle": (-0.12, 0.84, 0),
    "left_hip": (0.12, 0, 0), "left_knee": (0.12, 0.42, 0), "left_ankle": (0.12, 0.84, 0),
    "spine": (0, -0.25, 0), "thorax": (0, -0.5, 0), "neck_nose": (0, -0.62, 0), "head_top": (0, -0.78, 0),
    "left_shoulder": (0.18, -0.48, 0), "left_elbow": (0.18, -0.2, 0), "left_wrist": (0.18, 0.05, 0),
    "right_shoulder": (-0.18, -0.48, 0), "right_elbow": (-0.18, -0.2, 0), "right_wrist": (-0.18, 0.05, 0),
}
REST_ARR = np.array([REST[n] for n in H36M.joint_names], dtype=np.float64)


def _rot(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


def random_pose(rng):
    """Root-relative pose: each bone turned by a random rotation, then the whole body yawed."""
    local = np.zeros_like(REST_ARR)
    for child, parent in enumerate(H36M.parents):
        if parent < 0:
            continue
        offset = REST_ARR[child] - REST_ARR[parent]
        limit = 0.9 if H36M.joint_names[child].endswith(("elbow", "wrist", "knee", "ankle")) else 0.25
        local[child] = local[parent] + _rot(rng.normal(size=3), rng.uniform(-limit, limit)) @ offset
    return local @ _rot([0, 1, 0], rng.uniform(-0.8, 0.8)).T


def _colour(i):
    name = H36M.joint_names[i]
    hue = (i * 37) % 180
    base = np.array(cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2RGB)[0, 0], dtype=int)
    return tuple(int(v) for v in base) if not name.startswith("left") else tuple(int(v) for v in base[::-1])


def render(pose_cam):
    """(17, 3) camera-frame metres -> (FRAME, FRAME, 3) uint8 RGB and the (17, 2) pixel joints."""
    uvw = pose_cam @ K.T
    px = uvw[:, :2] / uvw[:, 2:]
    img = np.full((FRAME, FRAME, 3), 40, np.uint8)
    order = sorted(H36M.bones, key=lambda b: -(pose_cam[b[0], 2] + pose_cam[b[1], 2]))  # far first
    for p, c in order:
        cv2.line(img, tuple(np.round(px[p] * 4).astype(int)), tuple(np.round(px[c] * 4).astype(int)),
                 _colour(c), 2, cv2.LINE_AA, shift=2)
    for i in range(17):
        cv2.circle(img, tuple(np.round(px[i] * 4).astype(int)), 4, _colour(i), -1, cv2.LINE_AA, shift=2)
    return img, px


def make_samples(n, seed, with3d=True):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        root = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.2, 0.1), rng.uniform(3.6, 4.4)])
        pose = random_pose(rng) + root
        img, px = render(pose)
        out.append(PoseSample("h36m_17", px, np.ones(17, bool), image=img, joints3d_m=pose if with3d else None,
                              K_cam=K, subject="synthetic", group="near" if root[2] < 4 else "far",
                              meta={"pose_cam": pose}))
    return out


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
