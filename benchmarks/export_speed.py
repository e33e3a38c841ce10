"""Speed of the export: solve + write BVH for a 10-minute take, against writing its CSV.

Builds a 10-minute, 30 fps take (18,000 frames) by looping real motion capture
(../shared/data/mocap/cmu_asf/01_01.bvh, resampled to 30 fps, mapped to MONOCAP_BODY), then
times: solving (gaps, ground, foot contact, rotations) + writing the BVH, and, as a reference in
the same run, writing the same take's CSV. Prints frames per second and the ratio to real time.

    python benchmarks/export_speed.py [--minutes 10] [--fps 30]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from engine.animation.formats import ExportOptions, read_take, select_frames, write_take
from engine.animation.rig_mappings import to_body_take
from engine.core.take import Take
from engine.core.take_csv import write_csv

SOURCE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mocap" / "cmu_asf" / "01_01.bvh"


def long_take(minutes: float, fps: float) -> Take:
    clip = select_frames(to_body_take(read_take(SOURCE)), ExportOptions(fps=fps))
    n = int(minutes * 60 * fps)
    reps = int(np.ceil(n / clip.num_frames))
    # play forwards then backwards so the loop has no jumps
    joints = np.concatenate([clip.joints_m, clip.joints_m[::-1]] * (reps // 2 + 1))[:n]
    return Take(joints, clip.skeleton, fps, np.arange(n) / fps, np.ones(n, bool))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=30.0)
    args = ap.parse_args()
    take = long_take(args.minutes, args.fps)
    duration = take.num_frames / take.fps
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_take(take, Path(tmp) / "t.bvh", ExportOptions())
        bvh_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_csv(take, Path(tmp) / "t.csv")
        csv_s = time.perf_counter() - t0
        size = (Path(tmp) / "t.bvh").stat().st_size
    print(f"take: {take.num_frames} frames, {duration / 60:.1f} min at {take.fps:g} fps")
    print(f"solve + write BVH: {bvh_s:.2f} s = {take.num_frames / bvh_s:,.0f} frames/s = "
          f"{duration / bvh_s:.0f}x real time ({size / 1e6:.1f} MB)")
    print(f"reference, write CSV of the same take: {csv_s:.2f} s; BVH/CSV time ratio {bvh_s / csv_s:.2f}")


if __name__ == "__main__":
    main()
