"""What looking behind the people found costs the detector per frame, as ratios to the detector
without it, on one person in view and on two (one often behind the other).

    python benchmarks/peel_cost.py [--one VIDEO] [--two VIDEO] [--frames 100] [--rounds 2]

The detector of `monocap process` (engine/capture/detector.py) with and without the peel, for
one take (looking for 2 people, the default) and for everyone (`--people all`: looking for 6),
timed per frame over the same decoded frames in one run, settings interleaved by round. Also
says how many frames were peeled and how many people the peels found. Footage: a view of
../shared/data/truth/pose2sim_single (one person) and of pose2sim_two_people (two).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRUTH = ROOT.parent / "shared" / "data" / "truth"


def _frames(path: Path, count: int) -> tuple[list, float]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    out = []
    while len(out) < count:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(frame)
    cap.release()
    if not out:
        raise SystemExit(f"{path}: no frames could be read")
    return out, fps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", type=Path, default=TRUTH / "pose2sim_single" / "videos" / "cam01.mp4")
    ap.add_argument("--two", type=Path, default=TRUTH / "pose2sim_two_people" / "videos" / "cam02.mp4")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    from engine.capture.detector import DetectorConfig, PoseDetector
    from engine.session.people_takes import detector_for

    clips = {"1 person": _frames(a.one, a.frames), "2 people": _frames(a.two, a.frames)}
    settings = {"one take (looking for 2)": DetectorConfig(), "everyone (looking for 6)": detector_for(None)}
    ms: dict[tuple, list[float]] = {}
    cpu: dict[tuple, list[float]] = {}  # the process's CPU time: what other work on the machine changes least
    peeled: dict[tuple, tuple[int, int]] = {}
    for _ in range(a.rounds):
        for clip, (frames, fps) in clips.items():
            for label, config in settings.items():
                for peel in (False, True):
                    with PoseDetector(replace(config, peel=peel)) as det:
                        t0, c0 = time.perf_counter(), time.process_time()
                        for i, frame in enumerate(frames):
                            det.detect_people(frame, int(i * 1e9 / fps))
                        ms.setdefault((clip, label, peel), []).append((time.perf_counter() - t0) * 1e3 / len(frames))
                        cpu.setdefault((clip, label, peel), []).append((time.process_time() - c0) * 1e3 / len(frames))
                        peeled[(clip, label, peel)] = (det.peeled, det.peeled_found)
    med = statistics.median
    print("| footage | detector | without peel ms/frame | with peel ms/frame | ratio | CPU ms/frame without / with | "
          "CPU ratio | frames peeled | people found by peels |")
    print("|---|---|---|---|---|---|---|---|---|")
    for clip, (frames, _) in clips.items():
        for label in settings:
            off, on = med(ms[(clip, label, False)]), med(ms[(clip, label, True)])
            count, found = peeled[(clip, label, True)]
            c_off, c_on = med(cpu[(clip, label, False)]), med(cpu[(clip, label, True)])
            print(f"| {clip} | {label} | {off:.1f} | {on:.1f} | {on / off:.2f} | {c_off:.1f} / {c_on:.1f} | "
                  f"{c_on / c_off:.2f} | {count}/{len(frames)} | {found} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
