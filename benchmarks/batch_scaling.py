"""Clips per minute of `monocap batch --jobs N` against `--jobs 1` on the same clips, in one run.

    python benchmarks/batch_scaling.py [VIDEO] [--clips 6] [--frames 60] [--jobs 2]

Cuts VIDEO (default: the bundled sample) into CLIPS clips of FRAMES frames, then runs the batch
runner over them with one worker and with JOBS workers, each into a fresh folder, and prints
clips per minute, frames per second and their ratio. Worker start-up (imports, model loading)
is part of the cost, as it is for a user.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.core.resources import sample_clip
from engine.session.batch import BatchJob, default_jobs, plan_items, run_batch
from engine.session.pipeline import PipelineConfig


def cut_clips(video: Path, folder: Path, clips: int, frames: int) -> list[Path]:
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS) or 24.0
    paths = []
    for c in range(clips):
        path = folder / f"clip{c:02d}.mp4"
        writer = None
        for _ in range(frames):
            ok, img = cap.read()
            if not ok:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, img = cap.read()
            if writer is None:
                h, w = img.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
            writer.write(img)
        writer.release()
        paths.append(path)
    cap.release()
    return paths


def timed(files: list[Path], out: Path, jobs: int) -> tuple[float, int]:
    job = BatchJob(str(out), PipelineConfig(), ("npz", "bvh"))
    start = time.perf_counter()
    summary = run_batch(plan_items(files), job, jobs=jobs, resume=False)
    elapsed = time.perf_counter() - start
    if summary.failed:
        raise SystemExit(f"batch failed: {summary.failed[0].error}")
    return elapsed, sum(r.frames for r in summary.done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=sample_clip())
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = cut_clips(args.video, tmp, args.clips, args.frames)
        rows = []
        for jobs in (1, args.jobs):
            elapsed, frames = timed(files, tmp / f"out{jobs}", jobs)
            rows.append((jobs, elapsed, frames))
            print(f"--jobs {jobs}: {len(files)} clips, {frames} frames in {elapsed:.1f} s: "
                  f"{len(files) / elapsed * 60:.1f} clips/min, {frames / elapsed:.1f} frames/s")
        print(f"speed-up of --jobs {args.jobs} over --jobs 1: {rows[0][1] / rows[1][1]:.2f}x")


if __name__ == "__main__":
    main()
