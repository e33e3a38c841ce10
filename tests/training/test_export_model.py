"""The export recipe (`python -m training.export_model`, run by `make model`): the torch model and
its export, run in numpy as the program runs it, agree within 1e-4 on real inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.core.errors import InputError
from engine.core.resources import resource_path, sample_clip
from engine.lift.image_mode import ImageLifter
from engine.lift.nets.checkpoint import save_checkpoint
from engine.lift.nets.image_pose_net import ImagePoseNet
from engine.lift.nets.lifter_input import prepare_inputs
from engine.lift.nets.lifter_net import load_lifter
from engine.lift.nets.lifter_numpy import LifterNumpy
from engine.lift.nets.network_file import load_network
from training.export_model import main as export_main

DETECTIONS = Path(__file__).parents[1] / "engine" / "data" / "taiji_detections_40.npz"  # the detector's output
LIFTER = resource_path("models/lifter.pt")
TOLERANCE = 1e-4


def _detections():
    d = np.load(DETECTIONS)
    world = d["world"].astype(np.float32)
    valid = np.isfinite(world).all(axis=(-1, -2)).astype(np.float32)
    return d["kp"].astype(np.float64), d["scores"].astype(np.float32), np.nan_to_num(world), valid


@pytest.mark.skipif(not LIFTER.is_file(), reason="no trained lifter")
def test_lifter_export_agrees_with_torch_on_real_detections(tmp_path):
    out = tmp_path / "lifter.npz"
    assert export_main(["lifter", str(LIFTER), str(out)]) == 0
    model, _ = load_lifter(LIFTER)
    net = LifterNumpy(load_network(out, "LifterNet"))
    kp, sc, world, valid = _detections()
    # every frame alone, then a window of each frame and the ones before it, as the live path feeds it
    w = model.window
    idx = np.clip(np.arange(len(kp))[:, None] + np.arange(w)[None, :] - (w - 1), 0, len(kp) - 1)
    kp_n, _, _ = prepare_inputs(kp[idx], sc[idx], target=model.target)
    inputs = (kp_n, sc[idx], world[idx], valid[idx])
    with torch.no_grad():
        expected = model(*(torch.as_tensor(np.ascontiguousarray(a)) for a in inputs))
    got = net(*inputs)
    assert set(model.formats) <= set(got)
    for name in [*model.formats, "camera"]:
        diff = float(np.abs(expected[name].numpy() - got[name]).max())
        assert diff < TOLERANCE, f"{name}: numpy and torch differ by {diff}"
    assert float(np.abs(expected["monocap_body"].numpy()).max()) > 0.3  # metres of a real body, not zeros


@pytest.mark.skipif(not LIFTER.is_file(), reason="no trained lifter")
def test_shipped_lifter_export_is_the_trained_checkpoints():
    """resources/models/lifter.npz (what the program and the bundle run) holds lifter.pt's weights:
    `make model` was run after the last training."""
    shipped = load_network(resource_path("models/lifter.npz"), "LifterNet")
    model, blob = load_lifter(LIFTER)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    assert set(state) <= set(shipped.weights)
    for name, value in state.items():
        np.testing.assert_array_equal(shipped.weights[name], value, err_msg=name)
    assert shipped.kwargs == model.config()


def _image_net() -> ImagePoseNet:
    """A small ImagePoseNet with batch-norm statistics and output weights that are not the identity
    and zeros of a fresh one, so every layer shows in the output."""
    torch.manual_seed(3)
    net = ImagePoseNet(num_joints=17, base_width=8, layers=(1, 2, 1), input_size=96)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        torch.nn.init.normal_(net.regressor_fc[-1].weight, std=0.05)
    return net.eval()


def _sample_crops(lifter: ImageLifter, count: int) -> np.ndarray:
    """Crops around the person the detector finds in the first frames of the sample clip."""
    from engine.capture.detector import PoseDetector
    from engine.capture.frames import open_source
    from engine.lift.image_crop import box_from_keypoints

    crops = []
    source = open_source(sample_clip())
    try:
        with PoseDetector() as detector:
            for frame in source:
                det = detector.detect(frame.image, frame.timestamp_ns)
                if det is not None:
                    rgb = frame.image[..., ::-1].copy()
                    crops.append(lifter._crop(rgb, box_from_keypoints(det.keypoints_px, det.scores))[1])
                if len(crops) == count:
                    break
    finally:
        source.close()
    return np.stack(crops)


def test_image_network_export_agrees_with_torch_on_real_frames(tmp_path):
    net = _image_net()
    pt = save_checkpoint(tmp_path / "image.pt", "ImagePoseNet", net.constructor_kwargs(), net.state_dict(),
                         {"box_scale": 1.3})
    npz = tmp_path / "image.npz"
    assert export_main(["image", str(pt), str(npz)]) == 0
    lifter = ImageLifter(npz)
    assert lifter.box_scale == 1.3 and lifter.input_size == 96 and lifter.skeleton.name == "h36m_17"
    crops = _sample_crops(lifter, 3)
    with torch.no_grad():
        expected = net(torch.from_numpy(crops))["pose3d"].numpy()
    got = lifter.model.pose3d(crops)
    assert float(np.abs(expected).max()) > 0.05
    assert float(np.abs(expected - got).max()) < TOLERANCE
    # A .pt given to the program (a development install) runs the same numpy network.
    np.testing.assert_array_equal(ImageLifter(pt).model.pose3d(crops), got)


def test_export_says_in_one_line_what_is_wrong(tmp_path, capsys):
    net = _image_net()
    pt = save_checkpoint(tmp_path / "image.pt", "ImagePoseNet", net.constructor_kwargs(), net.state_dict(), {})
    assert export_main(["lifter", str(pt), str(tmp_path / "x.npz")]) == 2
    assert export_main(["image", str(pt), str(tmp_path / "x.onnx")]) == 2
    assert export_main(["image", str(tmp_path / "missing.pt"), str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "image.pt" in err[0] and ".npz" in err[1] and "missing.pt" in err[2], err
    assert not (tmp_path / "x.npz").exists()
    with pytest.raises(InputError, match="image.pt: not a lifter checkpoint"):
        load_network(tmp_path / "image.pt", "LifterNet")
