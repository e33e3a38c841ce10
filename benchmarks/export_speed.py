"""Speed of the export: a 10-minute take with fingers, solved once and written as BVH, FBX, glTF
(.glb) and CSV, in the same run.

Builds a 10-minute, 30 fps take (18,000 frames) by looping real motion capture
(../shared/data/mocap/cmu_asf/01_01.bvh, resampled to 30 fps, mapped to MONOCAP_BODY; a generated
take where the shared data is absent) with both hands' fingers curling (the test suite's
synthetic hands: 62 joints a frame), then times solving it on the Monocap rig with fingers
(gaps, ground, foot contact, rotations) and writing each rig format from that one solve, and
the whole `write_take` of each (solve + write). Writing the same take's CSV is the reference in
the same run. Prints seconds, the ratio to real time, the ratio to the BVH and the file sizes.

    python benchmarks/export_speed.py [--minutes 10] [--fps 30] [--rig monocap]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.animation.bvh_writer import write_bvh
from engine.animation.fbx_writer import write_fbx
from engine.animation.formats import ExportOptions, read_take, rig_motion_for, select_frames, write_take
from engine.animation.gltf_writer import write_gltf
from engine.animation.rig_mappings import to_body_take
from engine.core.take import Take
from engine.core.take_csv import write_csv
from tests.engine.mocap_sources import mocap_file
from tests.engine.synthetic_hands import hands_take


def long_take(minutes: float, fps: float, folder: Path) -> Take:
    clip = select_frames(to_body_take(read_take(mocap_file("cmu_asf/01_01.bvh", folder))), ExportOptions(fps=fps))
    n = int(minutes * 60 * fps)
    reps = int(np.ceil(n / clip.num_frames))
    # play forwards then backwards so the loop has no jumps
    joints = np.concatenate([clip.joints_m, clip.joints_m[::-1]] * (reps // 2 + 1))[:n]
    body = Take(joints, clip.skeleton, fps, np.arange(n) / fps, np.ones(n, bool))
    curl = 40.0 + 35.0 * np.sin(np.arange(n) / fps * 2.0)  # fingers opening and closing every 3 s
    return hands_take(body, curl)


CPU = {}  # what each timing spent on the CPU: on a busy machine the wall clock also counts others' work


def timed(fn, label: str = ""):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    CPU[label] = time.process_time() - c0
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--rig", default="monocap")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        take, build_s = timed(lambda: long_take(args.minutes, args.fps, folder))
        duration = take.num_frames / take.fps
        options = ExportOptions(rig=args.rig)
        print(f"take: {take.num_frames} frames, {duration / 60:.1f} min at {take.fps:g} fps, "
              f"{take.skeleton.num_joints} joints (built in {build_s:.1f} s)")
        motion, solve_s = timed(lambda: rig_motion_for(take, folder / "t.bvh", options), "solve")
        print(f"solve once (rig {args.rig}, {len(motion.rig.joints)} bones): {solve_s:.2f} s "
              f"= {duration / solve_s:.0f}x real time (CPU {CPU['solve']:.2f} s)")
        writers = {"bvh": lambda p: write_bvh(motion, p), "fbx": lambda p: write_fbx(motion, p),
                   "glb": lambda p: write_gltf(motion, p), "gltf": lambda p: write_gltf(motion, p)}
        write_s, sizes = {}, {}
        for ext, write in writers.items():
            path = folder / f"w.{ext}"
            _, write_s[ext] = timed(lambda: write(path), ext)
            sizes[ext] = path.stat().st_size
        for ext in writers:
            print(f"write {ext.upper():4} from the solve: {write_s[ext]:6.2f} s ({write_s[ext] / write_s['bvh']:.2f} of the "
                  f"BVH's; CPU {CPU[ext]:.2f} s), {sizes[ext] / 1e6:6.1f} MB ({sizes[ext] / sizes['bvh']:.2f} of the BVH's)")
        whole = {}
        for ext in ("bvh", "fbx", "glb"):
            _, whole[ext] = timed(lambda: write_take(take, folder / f"take.{ext}", options), "take_" + ext)
            cpu = CPU["take_" + ext]
            print(f"write_take {ext.upper():4} (solve + write): {whole[ext]:6.2f} s = {duration / whole[ext]:.0f}x real time "
                  f"({whole[ext] / whole['bvh']:.2f} of the BVH's); CPU {cpu:.2f} s = {duration / cpu:.0f}x real time")
        _, csv_s = timed(lambda: write_csv(take, folder / "t.csv"))
        print(f"reference, write CSV of the same take: {csv_s:.2f} s; BVH / CSV time {whole['bvh'] / csv_s:.2f}")


if __name__ == "__main__":
    main()
