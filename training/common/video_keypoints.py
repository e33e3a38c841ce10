"""Data preparation: runs the detector over real videos once and caches its keypoints (2D-only samples).

    python -m training.common.video_keypoints --out CACHE/video_keypoints.npz VIDEO.mp4 [...]

The cache holds, per video (by file stem): kp (T, 33, 2) pixels, scores (T, 33) (0 where no
person was found), world (T, 33, 3) the detector's 3D (NaN where none), size (2,) width, height.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def detect_video(path: Path, progress: bool = True) -> dict[str, np.ndarray]:
    import cv2

    from engine.capture.detector import DetectorConfig, PoseDetector

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise SystemExit(f"{path}: cannot open the video")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    kps, scs, worlds = [], [], []
    size = None
    with PoseDetector(DetectorConfig(max_people=1)) as det:  # clips of one person
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            size = (frame.shape[1], frame.shape[0])
            d = det.detect(frame, int(i * 1e9 / fps))
            if d is None:
                kps.append(np.zeros((33, 2)))
                scs.append(np.zeros(33))
                worlds.append(np.full((33, 3), np.nan))
            else:
                kps.append(d.keypoints_px)
                scs.append(d.scores)
                worlds.append(d.world_m if d.world_m is not None else np.full((33, 3), np.nan))
            i += 1
            if progress and i % 50 == 0:
                print(f"  {path.name}: {i}/{total} frames", file=sys.stderr, flush=True)
    cap.release()
    if size is None:
        raise SystemExit(f"{path}: no frames")
    return {"kp": np.array(kps, np.float32), "scores": np.array(scs, np.float32),
            "world": np.array(worlds, np.float32), "size": np.array(size, np.float32)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="the .npz cache to write")
    ap.add_argument("videos", nargs="+")
    args = ap.parse_args(argv)
    arrays = {}
    for v in args.videos:
        p = Path(v)
        for k, a in detect_video(p).items():
            arrays[f"{p.stem}:{k}"] = a
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
