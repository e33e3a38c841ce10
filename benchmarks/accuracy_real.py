"""Accuracy of every 3D mode on real footage with real 3D truth, per view, against the detector.

    python benchmarks/accuracy_real.py [--truth ../shared/data/truth] [--modes detector,fit,lifter]
                                       [--cache DIR] [--knee-video ../shared/data/video/taiji_720p.mp4]

A mode may name its own model file (`--modes fit,temporal,temporal=other.npz`), so two model files of
one mode are scored in the same run.

Every view of every truth clip (each folder with a truth.npz) goes through the detector once;
its track then goes through the offline pipeline in each 3D mode, exactly as `monocap process
--mode M` does (smoothing, bone lengths, level, floor), and the take is scored in the camera's
axes (training.common.real_truth). Prints per view and on average: PA-MPJPE, MPJPE after aligning
the hip midpoints, PCK@150 mm; then the mean knee flexion over the first second of the knee
video, where the person stands straight (truth: near 0 degrees). --cache keeps each video's
detector track between runs (the detector is the slow part). Each clip is also scored mirrored
left to right (a new person for the detector, seen from the other side; --no-mirror skips it).

Then every truth clip as `monocap process --people all` sees it (training.common.people_truth):
one detection pass per view, everyone's takes in each 3D mode that needs no images, and per view
the takes written, the coverage of the person with truth (frames with truth in which some take
is on them), PA-MPJPE over the frames covered, the detector's own 3D of the same detections on
the same frames, and the takes that hold two people (--no-people skips it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.capture.detection import Detection
from engine.capture.track import DetectionTrack
from engine.lift.modes import DEFAULT_MODE
from training.common.people_truth import detect_everyone, everyone_in_mode, score_people
from training.common.real_truth import (
    detect_video,
    mean_score,
    mirrored,
    mode_config,
    score_modes,
    standing_knee_flexion_deg,
    take_in_mode,
    truth_clips,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
METRICS = (("pa_mpjpe_mm", "PA-MPJPE mm", "{:.1f}"), ("mpjpe_hip_mm", "MPJPE hip-aligned mm", "{:.1f}"),
           ("pck150", "PCK@150 mm (camera axes)", "{:.3f}"))


def _save_track(path: Path, track: DetectionTrack, fps: float) -> None:
    np.savez(path, keypoints_px=track.keypoints_px, scores=track.scores, world_m=track.world_m,
             has_world=track._has_world[: len(track)], valid=track.valid, timestamps_s=track.timestamps_s,
             image_size=np.array(track.image_size or (0, 0)), fps=fps)


def _load_track(path: Path) -> tuple[DetectionTrack, float]:
    z = np.load(path)
    size = tuple(int(v) for v in z["image_size"])
    track = DetectionTrack()
    for i in range(len(z["valid"])):
        det = None
        if z["valid"][i]:
            det = Detection(z["keypoints_px"][i].astype(np.float64), z["scores"][i].astype(np.float64),
                            z["world_m"][i].astype(np.float64) if z["has_world"][i] else None, size)
        track.append(float(z["timestamps_s"][i]), det)
    track.image_size = size
    return track, float(z["fps"])


def tracked(video: Path, cache: Path | None, key: str, mirror: bool = False) -> tuple[DetectionTrack, float]:
    if cache is None:
        return detect_video(video, mirror)
    path = cache / f"{key.replace('/', '__').replace(' ', '_')}.npz"
    if path.is_file():
        return _load_track(path)
    cache.mkdir(parents=True, exist_ok=True)
    track, fps = detect_video(video, mirror)
    _save_track(path, track, fps)
    return track, fps


def print_people(clip, folder: Path, modes: list[str]) -> None:
    """Per view: takes, coverage and PA-MPJPE of the person with truth in everyone's takes."""
    from engine.lift.modes import make_lifter

    modes = [m for m in modes if not make_lifter(mode_config(m)).needs_images]
    rows: dict[str, list[str]] = {"takes written": [], "coverage (frames with truth on them)": []}
    rows |= {f"PA-MPJPE mm, `{m}`": [] for m in modes}
    rows |= {"PA-MPJPE mm, the detector's own 3D of the same detections": [], "takes holding two people": []}
    for v, video in enumerate(clip.videos):
        tracks, fps, name = detect_everyone(video)
        for k, mode in enumerate(modes):
            takes, numbered = everyone_in_mode(tracks, fps, name, mode)
            s = score_people(clip, folder, v, takes, fps, tracks, numbered)
            rows[f"PA-MPJPE mm, `{mode}`"].append(f"{s.scores['pa_mpjpe_mm']:.1f}")
            if k == 0:
                rows["takes written"].append(str(s.takes))
                rows["coverage (frames with truth on them)"].append(f"{s.covered}/{s.frames_with_truth} "
                                                                     f"({100 * s.coverage:.0f} %)")
                rows["PA-MPJPE mm, the detector's own 3D of the same detections"].append(f"{s.raw['pa_mpjpe_mm']:.1f}")
                rows["takes holding two people"].append(", ".join(f"p{n}" for n in s.mixed) or "none")
    print(f"\n{clip.name}, everyone (`--people all`)")
    print("| | " + " | ".join(clip.views) + " | mean |")
    print("|---" * (len(clip.views) + 2) + "|")
    for label, cells in rows.items():
        mean = f"{np.mean([float(c) for c in cells]):.1f}" if label.startswith("PA-MPJPE") else ""
        print(f"| {label} | " + " | ".join(cells) + f" | {mean} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", type=Path, default=SHARED / "truth")
    ap.add_argument("--modes", default=",".join(dict.fromkeys(["detector", DEFAULT_MODE, "fit", "lifter"])))
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--knee-video", type=Path, default=SHARED / "video" / "taiji_720p.mp4")
    ap.add_argument("--no-mirror", action="store_true", help="skip the views mirrored left to right")
    ap.add_argument("--no-people", action="store_true", help="skip scoring everyone's takes (--people all)")
    ap.add_argument("--only-people", action="store_true", help="score everyone's takes only")
    a = ap.parse_args()
    modes = [m for m in a.modes.split(",") if m]
    clips = truth_clips(a.truth)
    if not clips:
        print(f"no truth clips under {a.truth}", file=sys.stderr)
        return 1
    if not a.no_people:
        for clip in clips:
            print_people(clip, a.truth / clip.name, modes)
    if a.only_people:
        return 0
    for clip, mirror in [(c, m) for c in clips for m in ((False,) if a.no_mirror else (False, True))]:
        if mirror:
            clip = mirrored(clip)
        tracks = [tracked(video, a.cache, f"{clip.name}/{view}", mirror) for view, video in zip(clip.views, clip.videos)]
        scores = score_modes(clip, tracks, modes)
        for key, title, fmt in METRICS:
            print(f"\n{clip.name}: {title}")
            print("| 3D mode | " + " | ".join(clip.views) + " | mean |")
            print("|---" * (len(clip.views) + 2) + "|")
            for mode in modes:
                rows = scores[mode]
                label = f"`{mode}`" + (" (default)" if mode == DEFAULT_MODE else "")
                print(f"| {label} | " + " | ".join(fmt.format(r[key]) for r in rows)
                      + f" | {fmt.format(mean_score(rows, key))} |")
    if a.knee_video.is_file():
        track, fps = tracked(a.knee_video, a.cache, a.knee_video.stem)
        print(f"\n{a.knee_video.name}, first second: knee flexion (left / right), degrees")
        for mode in modes:
            left, right = standing_knee_flexion_deg(take_in_mode(track, fps, mode, a.knee_video.name))
            print(f"| `{mode}` | {left:.1f} | {right:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
