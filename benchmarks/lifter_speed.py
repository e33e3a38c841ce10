"""Lifter cost per frame on CPU, as a fraction of the detector's, on the same frames of a real clip.

    python benchmarks/lifter_speed.py [--video ../shared/data/video/taiji_720p.mp4] [--frames 150]

Live: each frame is detected, then lifted (one causal call on the last `--window` frames, as the
GUI does), both timed in the same loop; then the same live calls back to back, without the
detector in between to evict the network's weights from the CPU's caches. File: one call for the
whole clip's detections. Prints milliseconds per frame and the ratio to the detector.
Threads: torch is limited to --threads (default 1) so the numbers mean the same on any machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    default_video = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "taiji_720p.mp4"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", default=str(default_video if default_video.is_file() else ""))
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--window", type=int, default=8, help="frames handed to each live call")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint", default="")
    a = ap.parse_args()
    import cv2
    import torch

    from engine.capture.detector import PoseDetector
    from engine.lift.network import NetworkLifter
    from engine.lift.modes import LiftConfig

    torch.set_num_threads(a.threads)
    video = a.video
    if not video:
        from engine.core.resources import sample_clip

        video = str(sample_clip())
    cap = cv2.VideoCapture(video)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while len(frames) < a.frames:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    # live, as the GUI runs it: each frame is detected, then lifted; the two are timed in the same
    # loop so that the machine's ups and downs weigh on both alike
    lifter = NetworkLifter(LiftConfig(mode="lifter", checkpoint=a.checkpoint, device="cpu"))
    dets, det_times, live = [], [], []
    with PoseDetector() as det:
        for i, f in enumerate(frames):
            t0 = time.perf_counter()
            dets.append(det.detect(f, int(i * 1e9 / fps)))
            t1 = time.perf_counter()
            lifter.lift(dets[max(0, i - a.window + 1):i + 1], causal=True)
            t2 = time.perf_counter()
            det_times.append(t1 - t0)
            live.append(t2 - t1)
    det_ms = 1000 * float(np.median(det_times[5:]))
    live_ms = 1000 * float(np.median(live[5:]))
    # the same live calls again, back to back (the network's weights stay in the CPU's caches)
    lifter = NetworkLifter(LiftConfig(mode="lifter", checkpoint=a.checkpoint, device="cpu"))
    warm = []
    for i in range(len(dets)):
        t0 = time.perf_counter()
        lifter.lift(dets[max(0, i - a.window + 1):i + 1], causal=True)
        warm.append(time.perf_counter() - t0)
    warm_ms = 1000 * float(np.median(warm[5:]))
    t0 = time.perf_counter()
    lifter.lift(dets, causal=False)
    file_ms = 1000 * (time.perf_counter() - t0) / len(dets)
    print(f"video: {Path(video).name}, {len(frames)} frames, torch threads {a.threads}")
    print(f"detector:            {det_ms:7.2f} ms/frame (median)")
    print(f"lifter, live call:   {live_ms:7.2f} ms/frame (median; swap fix on {a.window} frames + network) "
          f"= {100 * live_ms / det_ms:.1f}% of the detector")
    print(f"lifter, live calls back to back: {warm_ms:5.2f} ms/frame = {100 * warm_ms / det_ms:.1f}% of the detector")
    print(f"lifter, whole file:  {file_ms:7.2f} ms/frame = {100 * file_ms / det_ms:.1f}% of the detector")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
