"""Live capture from two cameras against one, in the same minutes: does the fused rate keep up?

    python benchmarks/live_rate_multiview.py [--seconds 10] [--repeat 2] [--truth ../shared/data/truth/pose2sim_single]

Two simulated webcams: the frames of two calibrated views of a truth clip (cam01 and cam03 of
pose2sim_single, 60 fps), decoded beforehand (a camera's driver does that work), looped forth and
back, each delivered at its own rate by engine/capture/paced_source.py, so a consumer that falls
behind meets newest-frame-wins as with cameras. One camera: an engine session's `stream()` on the
first (as the app and `monocap stream` run it). Two: engine/session/multi_camera_live.LiveCameras
on both (a detector per view on a thread each, triangulation, the causal temporal stage). Runs
alternate, so the ratio of the rates comes from the same minutes. Rate = poses / frames the first
camera delivered; latency = capture of the oldest frame used -> pose.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data" / "truth" / "pose2sim_single"


class Looped:
    """A clip's frames looped forth and back for `seconds` at `fps` (wrapped in a PacedSource)."""

    is_live = False

    def __init__(self, frames: list[np.ndarray], seconds: float, fps: float, name: str):
        self.frames, self.fps, self.name = frames, fps, name
        self.count = int(round(seconds * fps))

    @property
    def frame_count(self) -> int:
        return self.count

    def __iter__(self):
        from engine.capture.frames import Frame

        n = len(self.frames)
        for i in range(self.count):
            k = i % (2 * n - 2)
            yield Frame(i, int(round(i * 1e9 / self.fps)), self.frames[k if k < n else 2 * n - 2 - k])

    def close(self) -> None:
        pass


def decode(path: Path) -> tuple[list[np.ndarray], float]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames, fps


def _latency(latency: list[float]) -> dict:
    steady = latency[10:] if len(latency) > 20 else latency  # the models' first calls left out
    return {"median_ms": float(np.median(steady)), "p95_ms": float(np.percentile(steady, 95))} if steady else {}


def one_camera(frames, fps, seconds) -> dict:
    from engine.capture.paced_source import PacedSource
    from engine.session.session import Session

    source = PacedSource(Looped(frames, seconds, fps, "cam01"))
    latency, found = [], [0]

    class Sink:
        def on_pose(self, tracked) -> None:
            latency.append((time.monotonic_ns() - tracked.captured_ns) / 1e6)
            found[0] += tracked.pose.joints_m is not None

        def close(self) -> None:
            pass

    session = Session(source, overlap_tracking=True)
    session.add_sink(Sink())
    end = session.stream()
    if end.error is not None:
        raise end.error
    return {"rate": len(latency) / (seconds * fps), "poses": len(latency), "with_person": found[0], **_latency(latency)}


def two_cameras(views, rig, seconds) -> dict:
    from engine.capture.paced_source import PacedSource
    from engine.session.multi_camera_live import LiveCameras

    sources = [PacedSource(Looped(frames, seconds, fps, name)) for name, (frames, fps) in views.items()]
    latency, found = [], [0]

    def on_frame(frame) -> None:
        latency.append((time.monotonic_ns() - frame.captured_ns) / 1e6)
        found[0] += frame.joints_m is not None

    live = LiveCameras(sources, rig)
    live.stream(on_frame=on_frame)
    fps = next(iter(views.values()))[1]
    return {"rate": len(latency) / (seconds * fps), "poses": len(latency), "with_person": found[0], **_latency(latency),
            "dropped": live.dropped}


def main() -> int:
    from engine.multiview.calibration_files import read_calibration
    from engine.multiview.cameras import Rig

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", type=Path, default=SHARED)
    ap.add_argument("--views", default="cam01,cam03")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    names = a.views.split(",")
    rig = read_calibration(a.truth / "Calib.qca.txt")
    views = {n: decode(a.truth / "videos" / f"{n}.mp4") for n in names}
    rig = Rig(tuple(rig.camera(n) for n in names))
    rows = []
    for r in range(a.repeat):
        one = one_camera(*views[names[0]], a.seconds)
        two = two_cameras(views, rig, a.seconds)
        rows.append((one, two))
        print(f"run {r + 1}: one camera {one}\n       {len(names)} cameras {two}", flush=True)
    one_rate = np.mean([o["rate"] for o, _ in rows])
    two_rate = np.mean([t["rate"] for _, t in rows])
    print(f"\nposes per camera frame: one camera {one_rate:.3f}, {len(names)} cameras {two_rate:.3f}, "
          f"ratio {two_rate / one_rate:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
