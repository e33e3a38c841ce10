"""Every 3D mode runs where torch cannot be imported (the desktop bundle), from the exported
networks; a torch checkpoint there gives one line naming the command that exports it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.core.resources import resource_path

ROOT = Path(__file__).resolve().parents[3]
DETECTIONS = ROOT / "tests" / "engine" / "data" / "taiji_detections_40.npz"

CHILD = """
import sys
sys.modules["torch"] = None  # `import torch` raises ImportError, as in the bundle
import numpy as np
from engine.capture.detection import Detection
from engine.core.errors import InputError
from engine.lift.image_mode import ImageLifter
from engine.lift.modes import LiftConfig, make_lifter

d = np.load(sys.argv[1])
dets = [Detection(kp, sc, w, (1280, 720)) for kp, sc, w in zip(d["kp"], d["scores"], d["world"])]
for mode in ("fit", "lifter", "detector"):
    joints = make_lifter(LiftConfig(mode=mode, device="cpu")).lift(dets)
    assert joints.shape[0] == len(dets) and np.isfinite(joints).all(), mode
    print("ok", mode, joints.shape)
frame = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
image = make_lifter(LiftConfig(mode="image", checkpoint=sys.argv[2], device="cuda"))
assert np.isfinite(image.lift(dets[:2], images=[frame, frame])).all()
print("ok image")
try:
    ImageLifter(sys.argv[3])
except InputError as exc:
    print("error:", exc)
print("torch imported:", sys.modules.get("torch") is not None)
"""


@pytest.mark.skipif(not resource_path("models/lifter.npz").is_file(), reason="no exported lifter (make model)")
def test_every_mode_runs_without_torch(tmp_path):
    torch = pytest.importorskip("torch")  # to write the checkpoints the child reads
    from engine.lift.nets.checkpoint import save_checkpoint
    from engine.lift.nets.image_pose_net import ImagePoseNet
    from training.export_model import main as export_main

    torch.manual_seed(0)
    net = ImagePoseNet(num_joints=17, base_width=4, layers=(1, 1, 1), input_size=64).eval()
    pt = save_checkpoint(tmp_path / "image net.pt", "ImagePoseNet", net.constructor_kwargs(), net.state_dict(), {})
    npz = tmp_path / "image net.npz"
    assert export_main(["image", str(pt), str(npz)]) == 0
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD), str(DETECTIONS), str(npz), str(pt)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [ln.split()[1] for ln in lines if ln.startswith("ok")] == ["fit", "lifter", "detector", "image"]
    error = next(ln for ln in lines if ln.startswith("error:"))
    assert "image net.pt: a torch checkpoint" in error
    assert "python -m training.export_model image" in error and "image net.npz" in error
    assert "torch imported: False" in lines
