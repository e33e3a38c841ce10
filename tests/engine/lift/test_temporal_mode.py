"""The "temporal" 3D mode: the shipped network loads without torch or pickle, corrects `fit`,
adds no lag live, and a missing or damaged model file falls back to `fit` with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.capture.detection import Detection
from engine.core.errors import InputError
from engine.core.resources import resource_path
from engine.lift import temporal_mode
from engine.lift.modes import LiftConfig, make_lifter
from engine.lift.nets.temporal_net import TemporalNet
from engine.lift.temporal_mode import DEFAULT_MODEL, REBUILD_COMMAND
from tests.engine.lift.test_keypoint_fit import INTR, SIZE, N, body_33

REPO = Path(__file__).resolve().parents[3]
DETECTIONS = REPO / "tests" / "engine" / "data" / "taiji_detections_40.npz"


def taiji_detections() -> list[Detection]:
    d = np.load(DETECTIONS)
    size = tuple(int(v) for v in d["size"])
    return [Detection(d["kp"][i].astype(np.float64), d["scores"][i].astype(np.float64),
                      d["world"][i].astype(np.float64), size) for i in range(len(d["kp"]))]


def swinging_arm(frames: int = 90, fps: float = 30.0, hz: float = 1.5) -> list[Detection]:
    """A person swinging the left forearm fast (1.5 Hz, 0.35 m), 3 m from the camera; the
    detector's 3D off by 1 cm and its keypoints by 1 px."""
    rng = np.random.default_rng(0)
    out = []
    for t in range(frames):
        pose = body_33()
        swing = 0.35 * np.sin(2 * np.pi * hz * t / fps)
        for k in ("left_wrist", "left_pinky", "left_index", "left_thumb"):
            pose[N(k)] += (swing, 0.0, 0.0)
        kp = INTR.project(pose + np.array([0.0, 0.0, 3.0])) + rng.normal(0, 1.0, (33, 2))
        world = pose + rng.normal(0, 0.01, (33, 3))
        out.append(Detection(kp, np.full(33, 0.9), world - 0.5 * (world[N("left_hip")] + world[N("right_hip")]), SIZE))
    return out


def lag_frames(signal: np.ndarray, reference: np.ndarray, most: int = 6) -> int:
    """The shift (frames) by which `signal` trails `reference`, by cross-correlation."""
    a = signal - signal.mean()
    b = reference - reference.mean()
    n = len(a)
    corr = [float(np.dot(a[k:], b[:n - k])) if k >= 0 else float(np.dot(a[:n + k], b[-k:])) for k in range(-most, most + 1)]
    return int(np.argmax(corr)) - most


def test_the_shipped_model_loads_without_pickle_and_is_small():
    path = resource_path(DEFAULT_MODEL)
    net = TemporalNet.load(path)
    assert path.stat().st_size < 1_000_000 * net.members and net.members <= 8
    assert net.receptive_field == 27
    with np.load(path, allow_pickle=False) as data:  # the missing-model line names the recipe that made it
        assert json.loads(str(data["config"]))["command"] == REBUILD_COMMAND
    lifter = make_lifter(LiftConfig(mode="temporal"))
    assert lifter.net is not None and lifter.notice == ""


def test_it_corrects_fit_on_real_detections_and_files_match_live_at_the_clip_end():
    dets = taiji_detections()
    fit = make_lifter(LiftConfig(mode="fit")).lift(dets)
    lifter = make_lifter(LiftConfig(mode="temporal"))
    out = lifter.lift(dets)
    change = np.linalg.norm(out - fit, axis=-1).mean()
    assert 0.002 < change < 0.1, change  # a real correction, not a different body
    live = lifter.lift(dets, causal=True)
    assert np.isfinite(live).all()
    # the last frame has no frame after it in either pass, and the same frames before it
    np.testing.assert_allclose(live[-1], out[-1], atol=1e-3)  # float32 sums in another order


def test_a_missing_frame_is_nan_and_its_neighbours_are_not():
    dets = taiji_detections()
    dets[20] = None
    lifter = make_lifter(LiftConfig(mode="temporal"))
    for causal in (False, True):
        out = lifter.lift(dets, causal=causal)
        assert np.isnan(out[20]).all() and np.isfinite(np.delete(out, 20, axis=0)).all()


def test_live_adds_no_lag_on_a_fast_move():
    dets = swinging_arm()
    lifter = make_lifter(LiftConfig(mode="temporal"))
    skeleton = lifter.skeleton
    wrist = skeleton.index("left_wrist")
    offline = lifter.lift(dets)[:, wrist, 0]
    live = lifter.lift(dets, causal=True)[:, wrist, 0]
    assert abs(lag_frames(live[27:], offline[27:])) <= 1
    assert lag_frames(np.roll(offline, 3)[27:], offline[27:]) == 3  # the measure sees a lag that is there
    assert np.ptp(live) > 0.4  # the swing is kept, not smoothed away


def test_a_missing_model_runs_fit_and_says_so_in_one_line(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(temporal_mode, "resource_path", lambda rel: tmp_path / "gone.npz")
    lifter = make_lifter(LiftConfig(mode="temporal"))
    assert lifter.net is None
    assert "gone.npz" in lifter.notice and REBUILD_COMMAND in lifter.notice and "\n" not in lifter.notice
    assert lifter.notice in caplog.text
    dets = taiji_detections()
    np.testing.assert_array_equal(lifter.lift(dets), make_lifter(LiftConfig(mode="fit")).lift(dets))
    assert np.isfinite(lifter.start_live().push(dets[0])).all()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "pickle", "wrong_shape"])
def test_a_damaged_model_is_refused_without_running_its_code(tmp_path, monkeypatch, damage):
    good = resource_path(DEFAULT_MODEL)
    bad = tmp_path / "temporal_net.npz"
    marker = tmp_path / "ran"
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[:5000])
    elif damage == "garbage":
        bad.write_bytes(b"not a model" * 100)
    elif damage == "pickle":
        class Evil:
            def __reduce__(self):
                return (Path.touch, (marker,))
        with np.load(good) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["conv_in.w"] = np.array([Evil()], dtype=object)
        np.savez(bad, **arrays)
    else:
        with np.load(good) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["out.w"] = arrays["out.w"][:5]
        np.savez(bad, **arrays)
    with pytest.raises(InputError, match="temporal_net.npz"):
        TemporalNet.load(bad)
    with pytest.raises(InputError):
        make_lifter(LiftConfig(mode="temporal", checkpoint=str(bad)))  # the user's own file: an error
    monkeypatch.setattr(temporal_mode, "resource_path", lambda rel: bad)
    monkeypatch.setattr(temporal_mode, "_CACHE", {})
    assert "temporal_net.npz" in make_lifter(LiftConfig(mode="temporal")).notice  # the bundled one: fit
    assert not marker.exists()


def test_the_mode_runs_without_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "from engine.lift.modes import LiftConfig, make_lifter\n"
            "from tests.engine.lift.test_temporal_mode import taiji_detections\n"
            "out = make_lifter(LiftConfig(mode='temporal')).lift(taiji_detections())\n"
            "assert out.shape[0] == 40\n")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)
