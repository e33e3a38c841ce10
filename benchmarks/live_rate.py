"""Does live capture keep a 30 fps webcam's rate? One person, hands and face off and on, as the app runs it.

    python benchmarks/live_rate.py [--seconds 10] [--sizes 640x480,1280x720] [--repeat 1]
    python benchmarks/live_rate.py --face off,on --hands off --detectors "look for 1" --sizes 640x480 \
        --clip sam2_man_football_juggling_front.mp4 --crop 640,40,320,240 --span 30:130   # a VTuber's framing

A simulated webcam: the frames of a real clip with one performer (../shared/data/video/taiji_720p.mp4,
else the bundled sample), decoded and scaled to the camera's size beforehand (a camera's driver
does that work, not ours), looped, and delivered at 30 fps by engine/capture/paced_source.py, so
a consumer that falls behind meets newest-frame-wins exactly as with a camera. It feeds the real
live path: an engine session's `stream()` (latest-frame grabber, detector, people tracker and
lock-on, tracking stage with the 3D mode and, with hands on, the hand tracker), as `monocap
stream` and the app run it. Per run: delivered pose rate / camera rate, frames dropped, and
capture -> pose latency (median, p95), and the process's CPU time per pose (which other work on
the machine changes far less than the rates; 30 fps on two idle cores needs under 66 ms). Runs alternate between
settings, so the ratios against
the reference (hands off, the detector looking for one person) come from the same minutes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CAMERA_FPS = 30.0
# the detector settings compared: label -> DetectorConfig fields
DETECTORS = {"look for 1": {"max_people": 1}, "look for 2": {"max_people": 2, "look_every": 1},
             "watchful": {"max_people": 2},  # the default: engine/capture/live_detector.py
             "watchful without peel": {"max_people": 2, "peel": False}}  # no second look behind the people found
# hands: label -> (hands on, HandsConfig.live_alternate)
HANDS = {"off": (False, True), "both": (True, False), "alternate": (True, True)}
FACES = {"off": False, "on": True}  # the face tracked (docs/FACE.md)


def camera_frames(size: tuple[int, int], count: int, clip: str = "taiji_720p.mp4",
                  crop: tuple[int, int, int, int] | None = None, first: int = 0) -> list[np.ndarray]:
    """`count` frames of one performer at (width, height) from the clip's frame `first` on: the
    clip's `crop` (x, y, w, h) if given, centre-cropped to that aspect, scaled."""
    import cv2

    shared = ROOT.parent / "shared" / "data" / "video" / clip
    from engine.core.resources import sample_clip

    cap = cv2.VideoCapture(str(shared if shared.is_file() else sample_clip()))
    w, h = size
    out = []
    for _ in range(first):
        cap.read()
    while len(out) < count:
        ok, frame = cap.read()
        if not ok:
            break
        if crop is not None:
            x, y, cw_, ch_ = crop
            frame = frame[y:y + ch_, x:x + cw_]
        fh, fw = frame.shape[:2]
        cw = min(fw, int(round(fh * w / h)))
        x0 = (fw - cw) // 2
        out.append(cv2.resize(frame[:, x0:x0 + cw], (w, h), interpolation=cv2.INTER_AREA))
    cap.release()
    if not out:
        raise SystemExit("no frames could be read from the clip")
    return out


class Webcam:
    """A file-like source over frames in memory, looped for `seconds` at CAMERA_FPS; PacedSource
    turns it into a camera."""

    is_live = False

    def __init__(self, frames: list[np.ndarray], seconds: float, name: str):
        self.frames, self.name, self.fps = frames, name, CAMERA_FPS
        self.count = int(round(seconds * CAMERA_FPS))

    @property
    def frame_count(self) -> int:
        return self.count

    def __iter__(self):
        from engine.capture.frames import Frame

        for i in range(self.count):
            n = len(self.frames)
            k = i % (2 * n - 2) if n > 1 else 0
            yield Frame(i, int(round(i * 1e9 / CAMERA_FPS)), self.frames[k if k < n else 2 * n - 2 - k])  # ping-pong

    def close(self) -> None:
        pass


class Clock:
    """A session's pose sink: capture -> pose ready, per frame."""

    def __init__(self, source):
        self.source = source
        self.latency_ms: list[float] = []
        self.found = 0
        self.hands = np.zeros(2)
        self.faces = 0
        self.dropped = 0
        self.first_ns = self.last_ns = 0

    def on_pose(self, tracked) -> None:
        now = time.monotonic_ns()
        if len(self.latency_ms) == 10:  # the models' first calls left out of the steady rate
            self.first_ns = now
        self.last_ns = now
        self.latency_ms.append((now - tracked.captured_ns) / 1e6)
        self.found += tracked.pose.detection is not None
        if tracked.pose.hands is not None:
            self.hands += tracked.pose.hands.found
        if tracked.pose.face is not None and np.isfinite(tracked.pose.face).all():
            self.faces += 1
        self.dropped = tracked.dropped

    def close(self) -> None:
        pass


def play(frames, seconds: float, config, label: str) -> dict:
    from engine.capture.paced_source import PacedSource
    from engine.session.session import Session

    webcam = Webcam(frames, seconds, label)
    source = PacedSource(webcam)
    clock = Clock(source)
    session = Session(source, config)
    session.add_sink(clock)
    cpu = time.process_time()
    end = session.stream()
    cpu = time.process_time() - cpu
    if end.error is not None:
        raise end.error
    lat = np.array(clock.latency_ms[10:])  # the models' first calls left out
    poses = len(clock.latency_ms)
    steady = (poses - 11) / max((clock.last_ns - clock.first_ns) / 1e9, 1e-9) / CAMERA_FPS
    return {"rate": poses / webcam.count, "steady": steady, "poses": poses, "camera": webcam.count, "dropped": clock.dropped,
            "found": clock.found / max(poses, 1), "hands": clock.hands / max(poses, 1),
            "face": clock.faces / max(poses, 1), "median_ms": float(np.median(lat)),
            "p95_ms": float(np.percentile(lat, 95)),
            "cpu_ms": cpu * 1e3 / max(poses, 1)}


def main() -> int:
    from engine.capture.detector import DetectorConfig
    from engine.capture.hands import HandsConfig
    from engine.lift.modes import LiftConfig
    from engine.session.pipeline import PipelineConfig

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="camera time per run")
    ap.add_argument("--sizes", default="640x480,1280x720")
    ap.add_argument("--detectors", default=",".join(DETECTORS), help=f"of {', '.join(DETECTORS)}")
    ap.add_argument("--hands", default=",".join(HANDS), help=f"of {', '.join(HANDS)}")
    ap.add_argument("--clip", default="taiji_720p.mp4",
                    help="of ../shared/data/video (sam2_man_football_juggling_front.mp4: hands in view)")
    ap.add_argument("--face", default="off", help=f"of {', '.join(FACES)}: the face tracked too")
    ap.add_argument("--crop", default="", help="X,Y,W,H: the part of the clip's frames the webcam films "
                    "(480,0,640,480 of sam2_man_football_juggling_front.mp4: a VTuber's head and upper body)")
    ap.add_argument("--span", default="0:240", help="FIRST:END, the clip's frames the webcam loops over")
    ap.add_argument("--repeat", type=int, default=1, help="rounds; each setting's median and best are shown")
    a = ap.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in a.sizes.split(",")]
    detectors = [d.strip() for d in a.detectors.split(",")]
    for d in detectors:
        if d not in DETECTORS:
            raise SystemExit(f"--detectors: {d!r} is not one of {', '.join(DETECTORS)}")
    hands = [h.strip() for h in a.hands.split(",")]
    for h in hands:
        if h not in HANDS:
            raise SystemExit(f"--hands: {h!r} is not one of {', '.join(HANDS)}")
    faces = [f.strip() for f in a.face.split(",")]
    for f in faces:
        if f not in FACES:
            raise SystemExit(f"--face: {f!r} is not one of {', '.join(FACES)}")
    crop = tuple(int(v) for v in a.crop.split(",")) if a.crop else None
    base = PipelineConfig(lift=LiftConfig(device="cpu"))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    for size in sizes:
        first, end = (int(v) for v in a.span.split(":"))
        frames = camera_frames(size, end - first, a.clip, crop, first)
        label = f"{size[0]}x{size[1]}"
        play(frames, 2.0, base, label)  # warms the models and caches
        results: dict[tuple[str, str, str], list[dict]] = {}
        for _ in range(a.repeat):
            for det in detectors:
                for hand in hands:
                    for face in faces:
                        on, alternate = HANDS[hand]
                        config = replace(base, hands=on, hand=HandsConfig(live_alternate=alternate),
                                         detector=DetectorConfig(**DETECTORS[det]), face=FACES[face])
                        results.setdefault((det, hand, face), []).append(play(frames, a.seconds, config, label))
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"\n{a.clip} as a webcam {label} at {CAMERA_FPS:g} fps, {a.seconds:g} s per run, {a.repeat} round(s); "
              f"load average after: {load}")
        ref_key = (detectors[0], hands[0], faces[0])
        ref = statistics.median(r["rate"] for r in results[ref_key])
        print(f"{'detector':14s} {'hands':9s} {'face':4s} {'pose rate / camera (best, median)':34s} {'x ref':6s} "
              f"{'steady':6s} {'dropped':8s} {'latency med/p95 ms':18s} found  hands L/R  face  CPU ms/pose (median)")
        for (det, hand, face), runs in results.items():
            rates = [r["rate"] for r in runs]
            med = statistics.median(rates)
            best = max(runs, key=lambda r: r["rate"])
            print(f"{det:14s} {hand:9s} {face:4s} {best['rate']:.3f}, {med:.3f} "
                  f"({best['poses']}/{best['camera']}){'':12s} {med / ref:6.3f} "
                  f"{statistics.median(r['steady'] for r in runs):6.3f} {best['dropped']:8d} "
                  f"{best['median_ms']:6.1f} / {best['p95_ms']:6.1f}    {best['found']:.2f}   "
                  f"{best['hands'][0]:.2f}/{best['hands'][1]:.2f}    {best['face']:.2f}  "
                  f"{statistics.median(r['cpu_ms'] for r in runs):5.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
