"""Peak memory of the pipeline on a clip and on the same clip many times longer, in one run.

    python benchmarks/pipeline_memory.py [VIDEO] [--times 6]

Writes VIDEO repeated --times times to a temporary MJPG file, then processes each in a fresh
process and prints the peak resident memory of both and their ratio (flat means close to 1).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = REPO.parent / "shared" / "data" / "video" / "taiji_720p.mp4"

CHILD = """
import resource, sys
sys.path.insert(0, {repo!r})
from engine.capture.frames import VideoFileSource
from engine.session.session import Session
take = Session(VideoFileSource(sys.argv[1])).process()
print(take.num_frames, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def repeat_video(src: Path, dst: Path, times: int) -> None:
    import cv2

    cap = cv2.VideoCapture(str(src))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"MJPG"), 24, (w, h))
    for _ in range(times):
        for f in frames:
            out.write(f)
    out.release()


def peak(video: Path) -> tuple[int, float]:
    out = subprocess.run([sys.executable, "-c", CHILD.format(repo=str(REPO)), str(video)],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1]) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--times", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        short, long = Path(tmp) / "x1.avi", Path(tmp) / f"x{args.times}.avi"
        repeat_video(args.video, short, 1)
        repeat_video(args.video, long, args.times)
        n1, m1 = peak(short)
        n2, m2 = peak(long)
    print(f"{n1:6d} frames: peak RSS {m1:7.1f} MiB")
    print(f"{n2:6d} frames: peak RSS {m2:7.1f} MiB")
    print(f"ratio long/short: {m2 / m1:.3f} for {n2 / n1:.0f}x the frames")


if __name__ == "__main__":
    main()
