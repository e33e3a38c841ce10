"""Frames per second of the whole pipeline with hands on vs off, on the same clip, in one run.

    python benchmarks/hands_speed.py [VIDEO] [--repeat N]

Both runs are `engine.session.session.Session.process` on the same file (decoding, body
detection, 3D, temporal stage, and with hands on the hand tracker on its second thread and the
fingers' temporal stage), alternated; the best of each counts. Prints both rates, their ratio
(target >= 0.6) and the share of frames each hand was found in.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.capture.frames import VideoFileSource
from engine.session.pipeline import PipelineConfig
from engine.session.session import Session

DEFAULT_VIDEO = Path(__file__).resolve().parent.parent / "resources" / "sample" / "taiji_sample.mp4"


def pipeline(video: Path, hands: bool):
    source = VideoFileSource(video)
    start = time.perf_counter()
    take = Session(source, PipelineConfig(hands=hands)).process()
    elapsed = time.perf_counter() - start
    source.close()
    return take, take.num_frames / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of each; the best counts")
    args = parser.parse_args()
    off, on = [], []
    take = None
    for _ in range(args.repeat):
        off.append(pipeline(args.video, False)[1])
        take, rate = pipeline(args.video, True)
        on.append(rate)
    a, b = max(off), max(on)
    found = take.metadata.get("finger_frames", [0, 0])
    print(f"video: {args.video.name}, {take.num_frames} frames")
    print(f"hands off: {a:6.1f} fps  runs {[round(x, 1) for x in off]}")
    print(f"hands on:  {b:6.1f} fps  runs {[round(x, 1) for x in on]}")
    print(f"ratio on / off: {b / a:6.3f}  (target >= 0.6)")
    print(f"fingers in {found[0]} (left) and {found[1]} (right) of {take.num_frames} frames")


if __name__ == "__main__":
    main()
