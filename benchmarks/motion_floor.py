"""How much real human motion itself scores on the jitter measure, at the frame rates of the clips.

    python benchmarks/motion_floor.py [--fps 5,12,24,30] [--cache DIR]

benchmarks/jitter.py's measure (the mean over the 12 limb joints, relative to the hip midpoint, of
|x(t+1) - 2x(t) + x(t-1)| * fps^2, m/s^2) applied to motion capture (../shared/data/mocap, CMU;
every take of the iClone and DAZ conversions, resampled to each rate). Motion capture has no
detector noise, so each figure is what the motion alone gives: a 3D mode that follows the motion
cannot shake much less than this at that rate. Per motion type: the median, the quartile below
and the least of its takes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.common.mocap import TARGET_FPS, _resample, load_clips

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
# the 12 limb joints (shoulder, elbow, wrist, hip, knee, ankle per side) and the two hips, by rig
LIMBS = {"cmu_iclone": [f"CC_Base_{s}_{j}" for s in "LR" for j in ("Upperarm", "Forearm", "Hand", "Thigh", "Calf", "Foot")],
         "cmu_daz": [f"{s}{j}" for s in "lr" for j in ("Shldr", "ForeArm", "Hand", "Thigh", "Shin", "Foot")]}
HIPS = {"cmu_iclone": ("CC_Base_L_Thigh", "CC_Base_R_Thigh"), "cmu_daz": ("lThigh", "rThigh")}


def motion_jitter(positions: np.ndarray, limbs: list[int], hips: tuple[int, int], fps: float) -> float:
    """positions (T, J, 3) metres at fps -> the jitter measure of its limb joints about the hips."""
    x = positions[:, limbs] - positions[:, list(hips)].mean(axis=1, keepdims=True)
    return float(np.linalg.norm(x[2:] - 2 * x[1:-1] + x[:-2], axis=-1).mean() * fps ** 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", default="5,12,24,30")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "monocap-training")
    a = ap.parse_args()
    rates = [float(f) for f in a.fps.split(",")]
    clips, skeletons = load_clips(a.data, a.cache, rigs=tuple(LIMBS))
    rows: dict[tuple[str, float], list[float]] = {}
    for clip in clips:
        names = skeletons[clip.rig].joint_names
        limbs = [names.index(n) for n in LIMBS[clip.rig]]
        hips = tuple(names.index(n) for n in HIPS[clip.rig])
        for fps in rates:
            positions = _resample(clip.positions_m.astype(np.float64), TARGET_FPS, fps)
            rows.setdefault((clip.motion, fps), []).append(motion_jitter(positions, limbs, hips, fps))
    print("| motion | takes | " + " | ".join(f"{f:g} fps: median / lower quartile / least" for f in rates) + " |")
    print("|---|---|" + "---|" * len(rates))
    for motion in sorted({m for m, _ in rows}):
        cells = [rows[(motion, f)] for f in rates]
        print(f"| {motion} | {len(cells[0])} | " + " | ".join(
            f"{np.median(v):.2f} / {np.percentile(v, 25):.2f} / {min(v):.2f}" for v in cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
