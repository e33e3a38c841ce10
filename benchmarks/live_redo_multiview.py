"""A take recorded live from two cameras, as recorded and as redone offline when recording stops,
against real 3D truth, with the offline take of the same videos in the same run.

    python benchmarks/live_redo_multiview.py [--truth ../shared/data/truth/pose2sim_single]
                                             [--pair cam01+cam03] [--seconds 20] [--slowed 10]

Two views of a truth clip play as webcams (engine/session/camera_rig.CameraRigSession, each
delivered by engine/capture/paced_source.py), recorded from the first pose to the last; the take
saved (the live causal stage's) is then redone (engine/session/views_redo.py). Two ways: at the
clip's own rate, its frames decoded beforehand and looped forth and back for `--seconds` (as
benchmarks/live_rate_multiview.py plays them: live capture drops the frames it cannot keep up with,
and the poses come at the rate it can), and the clip once, slowed to `--slowed` frames a second so
that a busy machine keeps up (nearly every frame, the motion as slow in the take's time). Each pose
is scored against the truth of the frame it was made from (its first-camera frame), the live and the
redone take on the same poses: PA-MPJPE (mm, the truth's 12 limb joints, per frame Procrustes, so
the live take's world axes need no camera rotation) against the truth seen from the first camera.
`monocap process` of the same two videos (engine/session/multi_camera.process_views) is scored on
the same frames and on all of them.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data" / "truth" / "pose2sim_single"


class Slowed:
    """A video's frames due `fps` a second (a slower webcam filming the same motion)."""

    is_live = False

    def __init__(self, path: Path, fps: float):
        from engine.capture.frames import VideoFileSource

        self.source, self.fps = VideoFileSource(path), fps
        self.name, self.frame_count = self.source.name, self.source.frame_count
        self.image_size = self.source.image_size

    def __iter__(self):
        from engine.capture.frames import Frame

        for frame in self.source:
            yield Frame(frame.index, int(round(frame.index * 1e9 / self.fps)), frame.image)

    def close(self) -> None:
        self.source.close()


def record(videos: list[Path], calibration: Path, opener, folder: Path):
    """opener(path) -> the view's source -> (live take, redone take, the first camera's frame index
    of each pose, redo seconds)."""
    from engine.capture.paced_source import PacedSource
    from engine.core.take import load_npz
    from engine.session.camera_rig import CameraRigSession, RigView
    from engine.session.events import SessionEvents
    from engine.session.views_redo import ViewsRedoJob, redo

    class PacedRig(CameraRigSession):
        @staticmethod
        def _open(view, size):
            return PacedSource(opener(Path(view.path)))

    saved, frames = [], []

    class Indices:
        def on_pose(self, tracked) -> None:
            if tracked.recording:
                frames.append(tracked.frame.index)

        def close(self) -> None:
            pass

    session = PacedRig([RigView("file", path=str(v)) for v in videos], calibration,
                       events=SessionEvents(take_saved=saved.append), takes_dir=folder)
    session.add_sink(Indices())
    session.set_recording(True)
    end = session.stream()
    if end.error is not None or not saved:
        raise SystemExit(f"live capture failed: {end.error}")
    live = load_npz(saved[0].path)
    result = redo(ViewsRedoJob.for_saved(saved[0], session.config))
    if result.error:
        raise SystemExit(f"redo failed: {result.error}")
    return live, load_npz(saved[0].path), np.asarray(frames), result.seconds


def looped_frame(index: np.ndarray, n: int) -> np.ndarray:
    """The clip's frame that benchmarks/live_rate_multiview.Looped gives as frame `index`."""
    k = index % (2 * n - 2)
    return np.where(k < n, k, 2 * n - 2 - k)


def named(take, names) -> np.ndarray:
    """(T, J, 3) the take's truth joints, NaN in frames without the person; axes as the take's world."""
    joints = take.joints_m[:, [take.skeleton.index(n) for n in names]].copy()
    joints[~take.valid] = np.nan
    return joints


def main() -> int:
    from benchmarks.live_rate_multiview import Looped, decode
    from engine.multiview.calibration_files import read_calibration
    from engine.session.multi_camera import process_views
    from training.common.real_truth import load_truth_clip, score_view, take_joints_cam

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", type=Path, default=SHARED)
    ap.add_argument("--pair", default="cam01+cam03")
    ap.add_argument("--seconds", type=float, default=20.0, help="the clip looped at its own rate this long")
    ap.add_argument("--slowed", type=float, default=10.0, help="the clip once at this many frames a second")
    a = ap.parse_args()
    clip = load_truth_clip(a.truth)
    views = a.pair.split("+")
    videos = [dict(zip(clip.views, clip.videos))[v] for v in views]
    calibration = a.truth / "Calib.qca.txt"
    count, names, truth = clip.joints_cam.shape[1], clip.joint_names, clip.joints_cam[clip.views.index(views[0])]
    offline = take_joints_cam(process_views(videos, read_calibration(calibration)).take, names)

    def pa(pred: np.ndarray, frames: np.ndarray) -> float:
        return score_view(pred, truth[frames], clip.valid[frames], names)["pa_mpjpe_mm"]

    print(f"{clip.name} {a.pair}: {count} frames; offline take (monocap process) on all of them: "
          f"{pa(offline, np.arange(count)):.1f} mm PA-MPJPE")
    print("| delivered | poses recorded | poses scored | pose rate (/s) | live take | redone take | "
          "offline take, same frames | redo (s) |")
    print("|---|---|---|---|---|---|---|---|")
    decoded = {Path(v): decode(Path(v)) for v in videos}
    ways = [(f"own rate ({clip.name} {decoded[Path(videos[0])][1]:g} fps), looped {a.seconds:g} s",
             lambda p: Looped(decoded[p][0], a.seconds, decoded[p][1], p.stem), lambda i: looped_frame(i, count)),
            (f"slowed to {a.slowed:g} fps, once", lambda p: Slowed(p, a.slowed), lambda i: i)]
    for label, opener, to_clip in ways:
        folder = Path(tempfile.mkdtemp(prefix="monocap-live-redo-"))
        try:
            live, redone, rows, seconds = record(videos, calibration, opener, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        frames = to_clip(rows)
        p_live, p_redone, p_off = named(live, names), named(redone, names), offline[frames]
        both = np.isfinite(p_live).all(axis=(1, 2)) & np.isfinite(p_redone).all(axis=(1, 2)) & \
            np.isfinite(p_off).all(axis=(1, 2))
        f = frames[both]
        print(f"| {label} | {live.num_frames} | {int(both.sum())} | {redone.fps:.1f} | {pa(p_live[both], f):.1f} | "
              f"{pa(p_redone[both], f):.1f} | {pa(p_off[both], f):.1f} | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
