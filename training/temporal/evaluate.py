"""Held-out mocap figures of the temporal stage against `fit`, the input it corrects.

    python -m training.temporal.evaluate --model resources/models/temporal_net.npz [--sequences 300]

Test-split clips only (training.common.mocap: a motion type never trained on and whole held-out
clips), each sequence seen by a random camera (fixed seed), in four conditions: the detector's
measured noise, clean projections (the truth as the detector's 3D), and each with only the 12 limb
keypoints. MPJPE (hip-relative, camera axes) and PA-MPJPE over the 12 limb joints of every frame,
mm; files (centred windows) and live (no frame after the newest).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.lift.nets.temporal_net import TemporalNet, with_presence
from training.common.metrics import joint_errors
from training.common.mocap import load_clips, split_of
from training.temporal.data import LIMB_POINTS, MocapSequences, Sequences, SynthConfig

CONDITIONS = {"noisy": SynthConfig(), "clean": SynthConfig(noise=0.0),
              "noisy, 12 limb keypoints": SynthConfig(limbs_only_rate=1.0),
              "clean, 12 limb keypoints": SynthConfig(noise=0.0, limbs_only_rate=1.0)}


def live_corrections(net: TemporalNet, features: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(T, C-1), (T,) -> (T, 33, 3): each frame corrected with no frame after it."""
    half = net.receptive_field // 2
    t = len(features)
    out = np.zeros((t, 33, 3), np.float32)
    padded = np.concatenate([np.zeros((half, features.shape[1]), np.float32), features])
    pres = np.concatenate([np.zeros(half, bool), present])
    windows = []
    for i in range(t):
        p = np.concatenate([pres[i:i + half + 1], np.zeros(half, bool)])
        f = np.concatenate([padded[i:i + half + 1], np.zeros((half, features.shape[1]), np.float32)])
        windows.append(with_presence(f, p))
    out[:] = net.forward_centre(np.array(windows))
    return out


def scores(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    p, g = pred[:, LIMB_POINTS].astype(np.float64), truth[:, LIMB_POINTS].astype(np.float64)
    return (float(joint_errors(p, g, align="none").mean() * 1000),
            float(joint_errors(p, g, align="procrustes").mean() * 1000))


def evaluate(net: TemporalNet, seqs: Sequences) -> dict[str, tuple[float, float]]:
    fit, file_, live, truth = [], [], [], []
    for i in range(len(seqs.present)):
        ok = seqs.present[i]
        x = with_presence(seqs.features[i], ok)
        file_.append((seqs.fit3d[i] + net.correct_clip(x))[ok])
        live.append((seqs.fit3d[i] + live_corrections(net, seqs.features[i], ok))[ok])
        fit.append(seqs.fit3d[i][ok])
        truth.append(seqs.truth3d[i][ok])
    g = np.concatenate(truth)
    return {"fit": scores(np.concatenate(fit), g), "temporal (file)": scores(np.concatenate(file_), g),
            "temporal (live)": scores(np.concatenate(live), g)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("resources/models/temporal_net.npz"))
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "monocap-training")
    ap.add_argument("--sequences", type=int, default=300)
    a = ap.parse_args(argv)
    net = TemporalNet.load(a.model)
    clips, skeletons = load_clips(a.data, a.cache)
    source = MocapSequences([c for c in clips if split_of(c) == "test"], skeletons)
    print("| condition | `fit` MPJPE | temporal, file | temporal, live | `fit` PA-MPJPE | temporal, file | temporal, live |")
    print("|---|---|---|---|---|---|---|")
    for name, cfg in CONDITIONS.items():
        cfg = replace(cfg, missing_rate=0.0 if cfg.noise == 0 else cfg.missing_rate)
        seqs = source.sample(a.sequences, np.random.default_rng(1234), cfg)
        r = evaluate(net, seqs)
        cells = [f"{r[k][0]:.1f}" for k in r] + [f"{r[k][1]:.1f}" for k in r]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
