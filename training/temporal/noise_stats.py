"""The detector's error statistics, measured on real footage without 3D truth.

    python -m training.temporal.noise_stats --out training/temporal/detector_noise.json VIDEO...

Runs the detector over each video (training.common.real_truth.detect_video; --cache keeps the
tracks) and measures, per keypoint of the 33:

- 2D jitter: the robust spread (1.4826 x median absolute value) of the second difference
  x(t+1) - 2x(t) + x(t-1) divided by sqrt(6) (the spread of white noise that would give it), in
  person-box sizes, for keypoints scored above 0.5; and the same for scores 0.3-0.5 and under 0.3
  (how much worse a doubtful keypoint is);
- 3D jitter of the detector's own hip-relative 3D, per camera axis, metres, the same way;
- the scores' distribution (quantiles) per keypoint, and how long a score stays on one side of 0.5;
- frames with nobody found (rate, mean run length), and front/back flips (engine.lift.body_flip)
  as a share of frames and their mean run length;
- bone-length variation of the detector's 3D (coefficient of variation, limbs).

The truth takes are never read here: training draws its detector-like inputs from these figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engine.core.skeletons import MP_LIMBS
from engine.lift.body_flip import _hip_relative, find_flips
from engine.motion.gaps import runs

MIN_FPS = 20.0  # slower clips' second differences hold too much real motion
_MAD = 1.4826


def _robust(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(_MAD * np.median(np.abs(x))) if len(x) > 10 else float("nan")


def _box(kp: np.ndarray, sc: np.ndarray) -> np.ndarray:
    out = np.full(len(kp), np.nan)
    for t in range(len(kp)):
        pts = kp[t][sc[t] > 0.5]
        if len(pts) > 3:
            out[t] = float(np.ptp(pts, axis=0).max())
    return out


def _run_lengths(mask: np.ndarray) -> list[int]:
    return [b - a for a, b in runs(mask)]


def clip_stats(kp: np.ndarray, sc: np.ndarray, world: np.ndarray, valid: np.ndarray) -> dict[str, np.ndarray]:
    """One clip's raw measurements (lists to pool across clips)."""
    box = _box(kp, sc)
    ok = valid & np.isfinite(box)
    three = ok[2:] & ok[1:-1] & ok[:-2]
    d2 = (kp[2:] - 2 * kp[1:-1] + kp[:-2]) / box[1:-1, None, None]  # (T-2, 33, 2)
    rel = _hip_relative(world)
    d3 = rel[2:] - 2 * rel[1:-1] + rel[:-2]
    s_min = np.minimum(np.minimum(sc[2:], sc[1:-1]), sc[:-2])
    flips = find_flips(kp[valid], sc[valid], world[valid]) if valid.sum() > 2 else np.zeros(0, bool)
    lengths = np.linalg.norm(world[valid][:, [c for _, c in MP_LIMBS]] - world[valid][:, [p for p, _ in MP_LIMBS]], axis=-1)
    return {"d2": d2[three], "d3": d3[three], "s": s_min[three], "scores": sc[valid], "valid": valid,
            "flips": flips, "bone_cv": lengths.std(0) / np.maximum(lengths.mean(0), 1e-6)}


def pool(clips: list[dict[str, np.ndarray]]) -> dict:
    d2 = np.concatenate([c["d2"] for c in clips])
    d3 = np.concatenate([c["d3"] for c in clips])
    s = np.concatenate([c["s"] for c in clips])
    scores = np.concatenate([c["scores"] for c in clips])
    k = d2.shape[1]
    white = 1 / np.sqrt(6)
    jitter_2d = [_robust(d2[:, j][s[:, j] > 0.5].ravel()) * white for j in range(k)]
    bands = {}
    for name, lo, hi in (("mid", 0.3, 0.5), ("low", 0.0, 0.3)):
        ratio = [_robust(d2[:, j][(s[:, j] > lo) & (s[:, j] <= hi)].ravel()) * white / max(jitter_2d[j], 1e-9)
                 for j in range(k)]
        bands[name] = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else 3.0
    jitter_3d = [[_robust(d3[:, j, a]) * white for a in range(3)] for j in range(k)]
    quantiles = np.quantile(scores, np.linspace(0, 1, 11), axis=0).T  # (33, 11)
    above = scores > 0.5
    score_runs = [np.mean(_run_lengths(above[:, j]) + _run_lengths(~above[:, j]) or [1]) for j in range(k)]
    missing = [_run_lengths(~c["valid"]) for c in clips]
    flips = [_run_lengths(c["flips"]) for c in clips]
    frames = sum(len(c["valid"]) for c in clips)
    return {
        "jitter_2d_box": np.round(jitter_2d, 5).tolist(),
        "jitter_score_factor": {k_: round(v, 3) for k_, v in bands.items()},
        "jitter_3d_m": np.round(jitter_3d, 5).tolist(),
        "score_quantiles": np.round(quantiles, 4).tolist(),
        "score_run_frames": np.round(score_runs, 2).tolist(),
        "missing_rate": round(sum(map(sum, missing)) / max(frames, 1), 4),
        "missing_run_frames": round(float(np.mean(sum(missing, []) or [0])), 2),
        "flip_rate": round(sum(map(sum, flips)) / max(sum(len(c["flips"]) for c in clips), 1), 4),
        "flip_run_frames": round(float(np.mean(sum(flips, []) or [0])), 2),
        "bone_cv_3d": round(float(np.mean([c["bone_cv"].mean() for c in clips])), 4),
        "frames": frames,
    }


def main(argv: list[str] | None = None) -> int:
    from training.common.real_truth import detect_video

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("videos", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    clips, names = [], []
    for video in a.videos:
        track, fps = detect_video(video)
        if fps < MIN_FPS:
            print(f"{video.name}: {fps:.0f} fps, under {MIN_FPS:.0f}: left out")
            continue
        clips.append(clip_stats(track.keypoints_px.astype(np.float64), track.scores.astype(np.float64),
                                track.world_m.astype(np.float64), track.valid.copy()))
        names.append(video.name)
    stats = pool(clips) | {"clips": names}
    a.out.write_text(json.dumps(stats, indent=1) + "\n")
    print(json.dumps({k: v for k, v in stats.items() if not isinstance(v, list)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
