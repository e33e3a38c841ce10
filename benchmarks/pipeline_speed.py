"""Frames per second of the whole pipeline vs the detector alone, on the same frames, in one run.

    python benchmarks/pipeline_speed.py [VIDEO] [--frames N]

Reference: decode every frame of VIDEO into memory, then time the detector alone on them.
Pipeline: `engine.session.session.Session.process` on the same file (decoding, detection, 3D, root,
temporal stage). Prints both rates and their ratio (target >= 0.85).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.capture.detector import PoseDetector
from engine.capture.frames import VideoFileSource
from engine.lift.modes import DEFAULT_MODE, LiftConfig
from engine.session.pipeline import PipelineConfig
from engine.session.session import Session

DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "taiji_720p.mp4"


def detector_alone(video: Path) -> tuple[int, float]:
    source = VideoFileSource(video)
    frames = list(source)
    source.close()
    with PoseDetector() as detector:
        start = time.perf_counter()
        for f in frames:
            detector.detect(f.image, f.timestamp_ns)
        elapsed = time.perf_counter() - start
    return len(frames), elapsed


def pipeline(video: Path, mode: str) -> tuple[int, float]:
    source = VideoFileSource(video)
    start = time.perf_counter()
    take = Session(source, PipelineConfig(lift=LiftConfig(mode=mode))).process()
    elapsed = time.perf_counter() - start
    source.close()
    return take.num_frames, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--mode", default=DEFAULT_MODE)
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of each; the best counts")
    args = parser.parse_args()
    det, pipe = [], []
    for _ in range(args.repeat):
        n, t = detector_alone(args.video)
        det.append(n / t)
        n, t = pipeline(args.video, args.mode)
        pipe.append(n / t)
    d, p = max(det), max(pipe)
    print(f"video: {args.video.name}, {n} frames, mode {args.mode}")
    print(f"detector alone (frames pre-decoded): {d:6.1f} fps  runs {[round(x, 1) for x in det]}")
    print(f"whole pipeline (decode included):    {p:6.1f} fps  runs {[round(x, 1) for x in pipe]}")
    print(f"ratio pipeline / detector alone:     {p / d:6.3f}  (target >= 0.85)")


if __name__ == "__main__":
    main()
