"""The VMC encode's cost with fingers against without, on the same frames in the same run.

    python benchmarks/vmc_fingers.py [--video resources/sample/taiji_sample.mp4] [--frames 120]

The clip goes once through the detector, the hand tracker and the live tracker with hands (as
`monocap stream --hands` does); each pose is then encoded by two VMC encoders, interleaved frame
by frame: one given the body alone (monocap_body, 20 bones), one the body with fingers
(monocap_hands, 50 bones). Prints each encode's median and 95th percentile CPU time, their
ratio, the datagram sizes and the share of frames in which the hands were found.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def tracked_poses(video: str, frames: int):
    from engine.capture.detector import PoseDetector
    from engine.capture.frames import open_source
    from engine.capture.hands import HandTracker
    from engine.lift.modes import LiftConfig, make_lifter
    from engine.session.pipeline import LiveTracker, PipelineConfig

    config = PipelineConfig(lift=LiftConfig(mode="detector"), hands=True, live_calibration_s=0.5)
    tracker = LiveTracker(config, make_lifter(config.lift))
    poses = []
    source = open_source(video)
    with PoseDetector(config.detector) as detector, HandTracker(config.hand) as hands:
        for frame in source:
            detection = detector.detect(frame.image, frame.timestamp_ns)
            found = hands.track(frame.image, detection, frame.timestamp_ns)
            pose = tracker.push(frame.index, frame.timestamp_ns / 1e9, detection, None, found)
            if pose.joints_m is not None:
                poses.append(pose)
            if len(poses) >= frames:
                break
    source.close()
    return poses


def main() -> int:
    from dataclasses import replace

    from engine.core.skeletons import MONOCAP_BODY
    from engine.streaming.vmc import VmcEncoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=str(Path(__file__).resolve().parents[1] / "resources/sample/taiji_sample.mp4"))
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=5, help="encodes of each pose by each encoder")
    args = parser.parse_args()

    poses = tracked_poses(args.video, args.frames)
    nb = MONOCAP_BODY.num_joints
    bodies = [replace(p, joints_m=p.joints_m[:nb], skeleton=MONOCAP_BODY) for p in poses]
    seen = np.mean([np.isfinite(p.joints_m[nb:]).all(axis=1).reshape(2, 20).all(axis=1) for p in poses], axis=0)
    body_ms, hands_ms = [], []
    sizes = {"body": 0, "hands": 0}
    for _ in range(args.repeats):
        body_enc, hands_enc = VmcEncoder(warmup_s=0.5), VmcEncoder(warmup_s=0.5)
        for i, (body, pose) in enumerate(zip(bodies, poses)):
            order = ((body_enc, body, body_ms, "body"), (hands_enc, pose, hands_ms, "hands"))
            for encoder, frame, times, name in (order if i % 2 else order[::-1]):
                t0 = time.process_time()
                sizes[name] = len(encoder.encode(frame))
                times.append((time.process_time() - t0) * 1e3)
    b, h = np.array(body_ms), np.array(hands_ms)
    print(f"{len(poses)} poses of {args.video} ({args.repeats} encodes each); hands found in "
          f"{seen[0]:.0%} (left), {seen[1]:.0%} (right) of them; load average {os.getloadavg()[0]:.1f}")
    print(f"VMC encode, body only : median {np.median(b):.2f} ms, p95 {np.percentile(b, 95):.2f} ms, "
          f"{sizes['body']} bytes")
    print(f"VMC encode, with hands: median {np.median(h):.2f} ms, p95 {np.percentile(h, 95):.2f} ms, "
          f"{sizes['hands']} bytes")
    print(f"ratio with / without fingers: {np.median(h) / np.median(b):.2f} (medians), "
          f"{h.sum() / b.sum():.2f} (totals)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
