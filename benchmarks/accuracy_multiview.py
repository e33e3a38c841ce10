"""Several cameras against real 3D truth: every pair of views of a truth clip, triangulated with the
shipped calibration and with calibrations made from the person alone, beside one camera's own 3D.

    python benchmarks/accuracy_multiview.py [--truth ../shared/data/truth/pose2sim_single] [--pairs cam01+cam03,...]

Each video goes through the detector once. For each pair: `monocap process A B --calibration C`'s
take (engine/session/multi_camera.py) scored in the first view's camera axes against the truth:
PA-MPJPE (per frame), MPJPE after one rigid alignment of the whole take, and the first view's
one-camera takes (default 3D mode, and the detector's own 3D) on the same detections. Calibrations
from the person (engine/multiview/self_calibration.py): from all the clip's views, and from the
pair alone, scaled by the distance between the first two cameras (a length one measures with a
tape); their camera poses are compared with the shipped ones after one similarity alignment.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.lift.modes import DEFAULT_MODE
from engine.multiview.calibration_files import read_calibration
from engine.multiview.cameras import Rig
from engine.multiview.self_calibration import CameraDistance, calibrate_from_person
from engine.multiview.triangulation import fuse_views
from engine.session import multi_camera
from engine.session.multi_camera import person_keypoints, process_views
from training.common.metrics import rigid_mpjpe_mm
from training.common.real_truth import load_truth_clip, score_take, take_in_mode, take_joints_cam

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "truth" / "pose2sim_single"


def pose_errors(estimated: Rig, truth: Rig) -> list[tuple[float, float]]:
    """(degrees, cm) per camera after the one similarity that best maps the estimated centres onto
    the true ones (three cameras or more)."""
    a = np.stack([c.centre_m for c in estimated.cameras])
    b = np.stack([c.centre_m for c in truth.cameras])
    ma, mb = a.mean(0), b.mean(0)
    u, s, vt = np.linalg.svd((a - ma).T @ (b - mb))
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rw = (u @ d @ vt).T
    scale = np.trace(np.diag(s) @ d) / ((a - ma) ** 2).sum()
    out = []
    for e, t in zip(estimated.cameras, truth.cameras):
        rel = t.R @ (e.R @ rw.T).T
        deg = np.degrees(np.arccos(np.clip((np.trace(rel) - 1) / 2, -1, 1)))
        out.append((float(deg), float(100 * np.linalg.norm(scale * rw @ (e.centre_m - ma) + mb - t.centre_m))))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", type=Path, default=SHARED)
    ap.add_argument("--pairs", default="", help="e.g. cam01+cam03,cam02+cam04 (default: every pair)")
    a = ap.parse_args()
    clip = load_truth_clip(a.truth)
    shipped = read_calibration(a.truth / "Calib.qca.txt")
    videos = dict(zip(clip.views, clip.videos))
    detected: dict = {}
    kp, sc = person_keypoints(list(clip.videos), detected=detected)
    first, second = shipped.names[:2]
    tape = float(np.linalg.norm(shipped.camera(first).centre_m - shipped.camera(second).centre_m))
    selfcal = calibrate_from_person(list(shipped.cameras), kp, sc, CameraDistance(first, second, tape))
    print(f"\nCalibration from the person ({len(clip.views)} views, scale from {first}-{second} = {tape:.3f} m): "
          f"median reprojection {selfcal.reprojection_px:.2f} px")
    print("| camera | rotation error deg | centre error cm |\n|---|---|---|")
    for cam, (deg, cm) in zip(shipped.names, pose_errors(selfcal.rig, shipped)):
        print(f"| {cam} | {deg:.2f} | {cm:.1f} |")
    pairs = [tuple(p.split("+")) for p in a.pairs.split(",") if p] or list(combinations(clip.views, 2))
    print("\n| views | shipped PA-MPJPE | shipped rigid MPJPE | shipped, no limb refinement PA / rigid | "
          "self-calibrated (4 views) PA / rigid | self-calibrated (the pair) PA / rigid | "
          "one camera, default mode PA | one camera, detector PA |")
    print("|---|---|---|---|---|---|---|---|")
    for pair in pairs:
        paths = [videos[v] for v in pair]
        view = clip.views.index(pair[0])
        row = [f"{pair[0]} + {pair[1]}"]
        for rig in (shipped, selfcal.rig):
            take = process_views(paths, rig, detected=detected).take
            score = score_take(take, clip, view)
            row.append(f"{score['pa_mpjpe_mm']:.1f}")
            row.append(f"{rigid_mpjpe_mm(take_joints_cam(take, clip.joint_names), clip.joints_cam[view]):.1f}")
        multi_camera.fuse_views = partial(fuse_views, length_sigma_m=None)  # the triangulation alone
        try:
            take = process_views(paths, shipped, detected=detected).take
        finally:
            multi_camera.fuse_views = fuse_views
        plain = (f"{score_take(take, clip, view)['pa_mpjpe_mm']:.1f} / "
                 f"{rigid_mpjpe_mm(take_joints_cam(take, clip.joint_names), clip.joints_cam[view]):.1f}")
        try:
            idx = [clip.views.index(v) for v in pair]
            own = calibrate_from_person([shipped.camera(v) for v in pair], kp[idx], sc[idx],
                                        CameraDistance(pair[0], pair[1], float(np.linalg.norm(
                                            shipped.camera(pair[0]).centre_m - shipped.camera(pair[1]).centre_m))))
            take = process_views(paths, own.rig, detected=detected).take
            pair_cell = (f"{score_take(take, clip, view)['pa_mpjpe_mm']:.1f} / "
                         f"{rigid_mpjpe_mm(take_joints_cam(take, clip.joint_names), clip.joints_cam[view]):.1f}")
        except Exception as exc:  # noqa: BLE001 - a pair that cannot be calibrated is reported, not fatal
            pair_cell = f"failed: {exc}"
        tracks = detected[paths[0]]
        track = tracks.track(tracks.chosen())
        mono = [score_take(take_in_mode(track, clip_fps(a.truth), mode, pair[0]), clip, view)["pa_mpjpe_mm"]
                for mode in (DEFAULT_MODE, "detector")]
        print(f"| {row[0]} | {row[1]} | {row[2]} | {plain} | {row[3]} / {row[4]} | {pair_cell} | {mono[0]:.1f} | {mono[1]:.1f} |",
              flush=True)
    return 0


def clip_fps(folder: Path) -> float:
    return float(np.load(folder / "truth.npz")["fps"])


if __name__ == "__main__":
    raise SystemExit(main())
