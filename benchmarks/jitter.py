"""Jitter of each 3D mode on the shared clips with one person, against the detector in the same run.

    python benchmarks/jitter.py [--modes fit,temporal] [--cache DIR] [--video V ...]

A mode may name its own model file, `temporal=path/to/model.npz`, so two model files meet in one run.

Jitter: the mean over the 12 limb joints and every frame of |x(t+1) - 2x(t) + x(t-1)| * fps^2
(m/s^2), with the joints relative to the hip midpoint so that every row measures the same thing.
Rows: the detector's own 3D per frame as it comes (no pipeline), then each mode's take from the
offline pipeline (`monocap process --mode M`: smoothing, bone lengths, level, floor), and with
--live each mode's causal take (frame by frame, as a live source). The last column is how many
times less the row shakes than the detector. Then the standing knee flexion over the first second
of the taiji clip (the man stands straight: truth near 0 degrees).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accuracy_real import tracked

from engine.core.skeletons import MEDIAPIPE_33
from engine.lift.modes import make_lifter
from engine.session.pipeline import LiveTracker, PipelineConfig, take_from_track
from training.common.real_truth import mode_config, standing_knee_flexion_deg

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ONE_PERSON = ("taiji_720p.mp4", "basketball_portrait.mp4", "sam2_man_football_juggling_front.mp4",
              "tfjs_woman_exercise_moves_front_composite.mp4", "tfjs_woman_squats_front_portrait.mp4")
LIMBS = tuple(f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"))


def jitter(joints: np.ndarray, names: tuple[str, ...], fps: float) -> float:
    """joints (T, J, 3) metres with NaN where missing -> mean |second difference| * fps^2 over LIMBS."""
    idx = [names.index(n) for n in LIMBS]
    hips = 0.5 * (joints[:, names.index("left_hip")] + joints[:, names.index("right_hip")])
    x = joints[:, idx] - hips[:, None]
    acc = np.linalg.norm(x[2:] - 2 * x[1:-1] + x[:-2], axis=-1) * fps ** 2
    return float(np.nanmean(acc))


def live_joints(track, fps: float, mode: str) -> np.ndarray:
    tracker = LiveTracker(PipelineConfig(lift=mode_config(mode)))
    out = []
    for i, det in enumerate(track.detections()):
        frame = tracker.push(i, float(track.timestamps_s[i]), det)
        out.append(frame.joints_m if frame.joints_m is not None else np.full((tracker.skeleton.num_joints, 3), np.nan))
    return np.array(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", default="detector,fit,temporal")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--video", type=Path, nargs="*", default=[SHARED / "video" / v for v in ONE_PERSON])
    ap.add_argument("--live", action="store_true", help="also each mode's causal (live) take")
    a = ap.parse_args()
    modes = [m for m in a.modes.split(",") if m]
    videos = [v for v in a.video if v.is_file()]
    if not videos:
        print("no clips found", file=sys.stderr)
        return 1
    rows: dict[str, list[float]] = {"detector's 3D per frame": []}
    knees = {}
    for video in videos:
        track, fps = tracked(video, a.cache, video.stem)
        world = np.where(track.valid[:, None, None], track.world_m.astype(np.float64), np.nan)
        rows["detector's 3D per frame"].append(jitter(world, MEDIAPIPE_33.joint_names, fps))
        for mode in modes:
            config = PipelineConfig(lift=mode_config(mode))
            take = take_from_track(track, fps, config, make_lifter(config.lift), video.name)
            rows.setdefault(f"`{mode}`", []).append(jitter(take.joints_m, take.skeleton.joint_names, fps))
            if video.name == ONE_PERSON[0]:
                knees[mode] = standing_knee_flexion_deg(take)
            if a.live:
                skeleton = make_lifter(config.lift).skeleton
                rows.setdefault(f"`{mode}` live", []).append(jitter(live_joints(track, fps, mode),
                                                                    skeleton.joint_names, fps))
    print("Jitter, m/s^2 (12 limb joints, hip-relative); last column: times below the detector, worst clip")
    print("| | " + " | ".join(v.stem for v in videos) + " | times below the detector |")
    print("|---" * (len(videos) + 2) + "|")
    ref = np.array(rows["detector's 3D per frame"])
    for name, values in rows.items():
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + f" | {np.min(ref / np.array(values)):.2f} |")
    if knees:
        print("\nStanding knee flexion, taiji, first second (left / right), degrees")
        for mode, (left, right) in knees.items():
            print(f"| `{mode}` | {left:.1f} | {right:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
