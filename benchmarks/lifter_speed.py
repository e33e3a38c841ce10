"""3D-mode cost per frame on CPU, as a fraction of the detector's, on the same frames of a real clip.

    python benchmarks/lifter_speed.py [--video ../shared/data/video/taiji_720p.mp4] [--frames 150]
                                      [--mode M]   (default: the default 3D mode)

Live: the engine session (engine/session/session.py) streams the clip with tracking in line, so
that each frame's detection and its tracking (the lifter's live call, then the causal temporal
stage) are timed apart in the same loop. Then the mode's live calls alone, back to back, without
the detector in between to evict the network's weights from the CPU's caches. File: one call for
the whole clip's detections. Prints milliseconds per frame and the ratio to the detector.
Threads: torch is limited to --threads (default 1) so the numbers mean the same on any machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.lift.protocol import DEFAULT_MODE


def main() -> int:
    default_video = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "taiji_720p.mp4"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", default=str(default_video if default_video.is_file() else ""))
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint", default="")
    ap.add_argument("--mode", default=DEFAULT_MODE, help="3D mode to time (default: the default mode)")
    a = ap.parse_args()
    import torch

    from engine.capture.frames import VideoFileSource
    from engine.lift.modes import LiftConfig, make_lifter
    from engine.session.events import SessionEvents
    from engine.session.pipeline import PipelineConfig
    from engine.session.session import Session

    torch.set_num_threads(a.threads)
    video = a.video
    if not video:
        from engine.core.resources import sample_clip

        video = str(sample_clip())
    lift = LiftConfig(mode=a.mode, checkpoint=a.checkpoint, device="cpu")
    tracked = []

    def on_pose(frame) -> None:
        tracked.append(frame)
        if len(tracked) >= a.frames:
            session.cancel()

    # live, as the GUI runs it, but with detection and tracking one after the other so that the
    # two are timed apart in the same loop (the machine's ups and downs weigh on both alike)
    session = Session(VideoFileSource(video), PipelineConfig(lift=lift), SessionEvents(pose=on_pose),
                      overlap_tracking=False)
    session.stream()
    det_ms = 1000 * float(np.median([t.detect_s for t in tracked[5:]]))
    track_ms = 1000 * float(np.median([t.track_s for t in tracked[5:]]))
    dets = [t.pose.detection for t in tracked]
    # the lifter's live calls again, back to back (the network's weights stay in the CPU's caches)
    lifter = make_lifter(lift)
    live = lifter.start_live()
    warm = []
    for d in dets:
        t0 = time.perf_counter()
        live.push(d)
        warm.append(time.perf_counter() - t0)
    warm_ms = 1000 * float(np.median(warm[5:]))
    t0 = time.perf_counter()
    lifter.lift(dets, causal=False)
    file_ms = 1000 * (time.perf_counter() - t0) / len(dets)
    print(f"video: {Path(video).name}, {len(tracked)} frames, 3D mode {a.mode}, torch threads {a.threads}")
    print(f"detector:            {det_ms:7.2f} ms/frame (median)")
    print(f"tracking, live:      {track_ms:7.2f} ms/frame (median; the mode's live call + filters) "
          f"= {100 * track_ms / det_ms:.1f}% of the detector")
    print(f"3D mode, live calls back to back: {warm_ms:5.2f} ms/frame = {100 * warm_ms / det_ms:.1f}% of the detector")
    print(f"3D mode, whole file: {file_ms:7.2f} ms/frame = {100 * file_ms / det_ms:.1f}% of the detector")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
