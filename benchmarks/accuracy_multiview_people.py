"""Several cameras and several people against real 3D truth of one of them (pose2sim_two_people: the
man has truth, a woman moves about, often between him and a camera).

    python benchmarks/accuracy_multiview_people.py [--truth ../shared/data/truth/pose2sim_two_people]
        [--views cam01+cam03,cam01+cam02+cam03+cam04] [--cache DIR]

Each video goes through the detector once per detector setting (`--people all`'s, and one person's
for the one-person path), kept in `--cache` when given. For each set of views:
`monocap process A B ... --calibration C --people all`'s takes (engine/session/multi_camera_people.py):
how many, which one is on the man (its 2D hips in the first view nearest the truth's,
training/common/people_truth.py), the share of frames with truth it covers, its PA-MPJPE (per frame)
and MPJPE after one rigid alignment of the whole take over the 12 limb joints in the first view's
camera axes, the frames the other takes hold someone in, and the takes holding two people; then
`--people 1`'s one take (whom it follows, its scores on the frames it is on the man); then the first
view's one-camera `--people all` takes in the default mode (the man's PA-MPJPE on the frames his take
covers), all on the same detections.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.capture.detector import PoseDetector
from engine.capture.frames import open_source
from engine.lift.modes import DEFAULT_MODE
from engine.multiview.calibration_files import read_calibration
from engine.session.multi_camera import process_views
from engine.session.multi_camera_people import process_views_people
from engine.session.people_takes import detector_for
from engine.session.pipeline import PipelineConfig, detect_people_source
from training.common.people_truth import everyone_in_mode, man_scores, on_man_share, score_people
from training.common.real_truth import TruthClip, load_truth_clip

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "truth" / "pose2sim_two_people"
DEFAULT_VIEWS = "cam01+cam02,cam01+cam03,cam01+cam04,cam02+cam03,cam02+cam04,cam03+cam04,cam01+cam02+cam03+cam04"


def detections(clip: TruthClip, wanted: int | None, cache: Path | None) -> dict:
    """{video: PeopleTracks} of every view with the detector `--people` `wanted` runs."""
    path = cache / f"{clip.name}_people_{wanted or 'all'}.pkl" if cache else None
    if path is not None and path.is_file():
        with open(path, "rb") as f:
            return pickle.load(f)
    out = {}
    for video in clip.videos:
        source = open_source(video)
        try:
            with PoseDetector(detector_for(wanted)) as detector:
                out[video] = detect_people_source(source, detector)
        finally:
            source.close()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            pickle.dump(out, f)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", type=Path, default=SHARED)
    ap.add_argument("--views", default=DEFAULT_VIEWS, help="sets of views, e.g. cam01+cam03,cam01+cam02+cam03")
    ap.add_argument("--cache", type=Path, default=None, help="a folder keeping each view's detections")
    a = ap.parse_args()
    clip = load_truth_clip(a.truth)
    rig = read_calibration(a.truth / "Calib.qca.txt")
    fps = float(np.load(a.truth / "truth.npz")["fps"])
    videos = dict(zip(clip.views, clip.videos))
    everyone, one = detections(clip, None, a.cache), detections(clip, 1, a.cache)
    print("| views | takes | the man's take: coverage | PA | rigid | the other takes' frames | takes holding two people | "
          "--people 1 follows the man in | its PA / rigid on him | --people 1 on --people all's detections PA / rigid | "
          "one camera (first view), `fit` PA |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for names in [s.split("+") for s in a.views.split(",") if s]:
        paths = [videos[n] for n in names]
        view = clip.views.index(names[0])
        result = process_views_people(paths, rig, PipelineConfig(detector=detector_for(None)), detected=dict(everyone))
        people = score_people(clip, a.truth, view, result.people, fps)
        man = max(result.people, key=lambda p: on_man_share(p.take, clip, a.truth, view, fps))
        s = man_scores(man.take, clip, view, fps)
        single = process_views(paths, rig, PipelineConfig(detector=detector_for(1)), detected=dict(one)).take
        share = on_man_share(single, clip, a.truth, view, fps)
        on_him = single if share > 0.5 else None
        s1 = man_scores(on_him, clip, view, fps) if on_him is not None else None
        tracks = everyone[paths[0]]
        takes, _ = everyone_in_mode(tracks, fps, names[0], DEFAULT_MODE)
        mono = score_people(clip, a.truth, view, takes, fps)
        one_cell = f"{s1['pa']:.1f} / {s1['rigid']:.1f}" if s1 else "-"
        others = ", ".join(f"p{p.number} {int(p.take.valid.sum())}" for p in result.people if p is not man)
        same = process_views(paths, rig, PipelineConfig(detector=detector_for(None)), detected=dict(everyone)).take
        s2 = man_scores(same, clip, view, fps) if on_man_share(same, clip, a.truth, view, fps) > 0.5 else None
        same_cell = f"{s2['pa']:.1f} / {s2['rigid']:.1f}" if s2 else "not on him"
        print(f"| {' + '.join(names)} | {len(result.people)} | {100 * s['coverage']:.0f} % (p{man.number}) | "
              f"{s['pa']:.1f} | {s['rigid']:.1f} | {others} | {', '.join(f'p{n}' for n in people.mixed) or 'none'} | "
              f"{100 * share:.0f} % of its frames | {one_cell} | {same_cell} | {mono.scores['pa_mpjpe_mm']:.1f} |", flush=True)
    cells = []
    for view, video in enumerate(clip.videos):
        takes, _ = everyone_in_mode(everyone[video], fps, clip.views[view], DEFAULT_MODE)
        s = score_people(clip, a.truth, view, takes, fps)
        cells.append((clip.views[view], s.scores["pa_mpjpe_mm"], s.coverage))
    print("\nOne camera's `--people all`, default mode, the man's take per view (PA-MPJPE mm on the frames it covers, "
          "coverage): " + ", ".join(f"{v} {pa:.1f} ({100 * c:.0f} %)" for v, pa, c in cells)
          + f"; mean {np.mean([pa for _, pa, _ in cells]):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
