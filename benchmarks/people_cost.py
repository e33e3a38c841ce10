"""What each extra person costs, per frame, as ratios to the detector looking for one person.

    python benchmarks/people_cost.py [--frames 48] [--rounds 2]

Footage: the shared clips' performers on one canvas (tests/engine/people_footage.py; the bundled
sample clip's man plays both where ../shared/data is absent), once with one person and once with
two, the same frames otherwise. Timed in one run, interleaved by round
so the machine's ups and downs weigh on all alike:
- the detector (MediaPipe) looking for 1, 2 and 3 people, on one person and on two;
- the people tracker's update for the people found, with the frames (the clothes' colours,
  as the product runs it) and without;
- live capture of everyone (engine/session/live_people.py, lifter mode): per frame with one
  person and with two, the detector's time left out.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _frames(path: Path) -> list:
    import cv2

    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        out.append(f)
    cap.release()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    import torch

    from engine.capture.detector import DetectorConfig, PoseDetector
    from engine.capture.people import PeopleTracker
    from engine.lift.modes import LiftConfig
    from engine.session.live_people import LivePeople
    from engine.session.pipeline import PipelineConfig
    from tests.engine.people_footage import make_footage

    torch.set_num_threads(1)
    t = a.frames
    with tempfile.TemporaryDirectory() as tmp:
        one = np.tile([[240.0, np.nan]], (t, 1))
        two = np.tile([[60.0, 400.0]], (t, 1))
        clips = {"1 person": _frames(make_footage(Path(tmp) / "one.mp4", one).path),
                 "2 people": _frames(make_footage(Path(tmp) / "two.mp4", two).path)}
    fps = 24.0
    det_ms: dict[tuple[str, int], list[float]] = {}
    track_us: dict[str, list[float]] = {}
    live_ms: dict[str, list[float]] = {}
    found_by_clip: dict[str, list] = {}
    for _ in range(a.rounds):
        for clip, frames in clips.items():
            for slots in (1, 2, 3):
                with PoseDetector(DetectorConfig(max_people=slots)) as det:
                    found = []
                    t0 = time.perf_counter()
                    for i, f in enumerate(frames):
                        found.append(det.detect_people(f, int(i * 1e9 / fps)))
                    det_ms.setdefault((clip, slots), []).append((time.perf_counter() - t0) * 1e3 / len(frames))
                if slots == 3:
                    found_by_clip[clip] = found
            for looks in (False, True):  # with the frames, as the product runs it, the clothes' colours too
                tracker = PeopleTracker()
                t0 = time.perf_counter()
                for i, dets in enumerate(found_by_clip[clip]):
                    tracker.update(i / fps, dets, frames[i] if looks else None)
                key = f"{clip}, {'with' if looks else 'without'} colours"
                track_us.setdefault(key, []).append((time.perf_counter() - t0) * 1e6 / len(frames))
            live = LivePeople(PipelineConfig(lift=LiftConfig(mode="lifter", device="cpu")), everyone=True)
            live.push(0, 0.0, found_by_clip[clip][0])  # the lifters' first call, outside the timing
            t0 = time.perf_counter()
            for i, dets in enumerate(found_by_clip[clip][1:], start=1):
                live.push(i, i / fps, dets)
            live_ms.setdefault(clip, []).append((time.perf_counter() - t0) * 1e3 / (len(frames) - 1))
    med = statistics.median
    ref = med(det_ms[("1 person", 1)])
    print(f"reference: detector looking for 1 person, on 1 person: {ref:.1f} ms/frame")
    for (clip, slots), v in det_ms.items():
        print(f"  detector, {clip:8s}, looking for {slots}: {med(v):6.1f} ms/frame  x{med(v) / ref:.2f}")
    for clip, v in track_us.items():
        print(f"  people tracker, {clip:24s}: {med(v):6.0f} us/frame  x{med(v) / 1e3 / ref:.4f}")
    for clip, v in live_ms.items():
        print(f"  live capture of everyone (lifter mode, no detector), {clip:8s}: {med(v):5.1f} ms/frame  x{med(v) / ref:.2f}")
    extra_det = med(det_ms[("2 people", 2)]) - med(det_ms[("1 person", 2)])
    extra_live = med(live_ms["2 people"]) - med(live_ms["1 person"])
    print(f"per extra person: detector +{extra_det:.1f} ms (x{extra_det / ref:.2f}), "
          f"live capture +{extra_live:.1f} ms (x{extra_live / ref:.2f}); "
          f"looking for a second person when one is in view: "
          f"+{med(det_ms[('1 person', 2)]) - ref:.1f} ms (x{med(det_ms[('1 person', 2)]) / ref - 1:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
