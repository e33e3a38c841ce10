"""Scoring everyone's takes (`monocap process --people all`) against real 3D truth of one person
in a clip with several people (../shared/data/README.md, "How to score").

In each frame with truth, the take on the person with truth is the one whose 2D hip midpoint is
nearest the truth's hips projected into the view with its `K`, within `ON_PERSON_PX`; a take's
frames are placed on the source's frames by their source time. Per view: coverage (the share of
frames with truth in which some take is on the person), the scores of training.common.real_truth
over the frames covered, the number of takes, and the takes that hold two people: on the person
in at least `MIX_FRAMES` frames and, in at least `MIX_FRAMES` others with truth, further than
`OFF_PERSON_PX` from them (someone else's frames in the same take; between the two distances a
frame is left undecided, as a poor detection of the same person may lie there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.capture.detector import DetectorConfig, PoseDetector
from engine.capture.frames import open_source
from engine.capture.people import PeopleConfig
from engine.capture.people_tracks import PeopleTracks
from engine.core.skeletons import MP_L_HIP, MP_R_HIP
from engine.lift.modes import make_lifter
from engine.session.people_takes import EveryoneDetected, PersonTake, detector_for, people_takes
from engine.session.pipeline import PipelineConfig, detect_people_source
from training.common.metrics import rigid_mpjpe_mm
from training.common.real_truth import TruthClip, mode_config, score_view, take_joints_cam

ON_PERSON_PX = 150.0
OFF_PERSON_PX = 300.0
MIX_FRAMES = 3


@dataclass
class PeopleScore:
    """One view: the takes written and how the person with truth fares in them."""

    takes: int
    frames_with_truth: int
    covered: int
    scores: dict[str, float]  # real_truth.score_view over the frames covered
    raw: dict[str, float]  # the detector's own 3D of the same detections on the same frames
    mixed: list[int] = field(default_factory=list)  # numbers of takes holding two people

    @property
    def coverage(self) -> float:
        return self.covered / max(self.frames_with_truth, 1)


def truth_hips_px(folder: Path, view: int, clip: TruthClip) -> np.ndarray:
    """(T, 2) the truth's hip midpoint projected into the view (NaN where it is not known)."""
    k = np.load(folder / "truth.npz")["K"][view].astype(np.float64)
    names = clip.joint_names
    hips = 0.5 * (clip.joints_cam[view][:, names.index("left_hip")] + clip.joints_cam[view][:, names.index("right_hip")])
    p = hips @ k.T
    with np.errstate(invalid="ignore", divide="ignore"):
        return p[:, :2] / p[:, 2:]


def frames_with_truth(clip: TruthClip) -> np.ndarray:
    """(T,) frames whose truth holds every joint."""
    return clip.valid.all(axis=1)


def _take_rows(take: PersonTake, fps: float, frames: int) -> np.ndarray:
    """(take frames,) the source frame of each of the take's frames, by its source time."""
    rows = np.round(take.take.timestamps_s * fps).astype(int)
    return np.where((rows >= 0) & (rows < frames), rows, -1)


def score_people(clip: TruthClip, folder: Path, view: int, takes: list[PersonTake], fps: float,
                 tracks: PeopleTracks | None = None, numbered: list[int] | None = None) -> PeopleScore:
    """Everyone's takes of one view -> the person with truth's coverage, scores and mixed takes.
    With the people tracks (and the take numbers' tracker ids), `raw` scores the detector's own 3D
    of the detections the matched takes hold."""
    frames = clip.joints_cam.shape[1]
    truth_px = truth_hips_px(folder, view, clip)
    has_truth = frames_with_truth(clip) & np.isfinite(truth_px).all(axis=1)
    dist = np.full((len(takes), frames), np.inf)
    where: list[np.ndarray] = []
    for i, person in enumerate(takes):
        take = person.take
        rows = _take_rows(person, fps, frames)
        where.append(rows)
        kp = take.keypoints_px
        hip = 0.5 * (kp[:, MP_L_HIP] + kp[:, MP_R_HIP])
        ok = take.valid & (rows >= 0) & np.isfinite(hip).all(axis=1)
        dist[i, rows[ok]] = np.linalg.norm(hip[ok] - truth_px[rows[ok]], axis=1)
    nearest = np.argmin(dist, axis=0) if takes else np.zeros(frames, int)
    on = has_truth & (dist[nearest, np.arange(frames)] < ON_PERSON_PX) if takes else np.zeros(frames, bool)
    mixed = []
    for i, person in enumerate(takes):
        his = int((on & (nearest == i)).sum())
        other = int((has_truth & np.isfinite(dist[i]) & (dist[i] > OFF_PERSON_PX)).sum())
        if his >= MIX_FRAMES and other >= MIX_FRAMES:
            mixed.append(person.number)
    joints = len(clip.joint_names)
    pred = np.full((frames, joints, 3), np.nan)
    raw = np.full((frames, joints, 3), np.nan)
    from engine.core.skeletons import MEDIAPIPE_33

    ids = [MEDIAPIPE_33.index(n) for n in clip.joint_names]
    for i, person in enumerate(takes):
        mine = on & (nearest == i)
        if not mine.any():
            continue
        cam = take_joints_cam(person.take, clip.joint_names)
        back = {int(r): k for k, r in enumerate(where[i]) if r >= 0}
        track = tracks.track(numbered[person.number - 1]) if tracks is not None and numbered else None
        for f in np.flatnonzero(mine):
            pred[f] = cam[back[f]]
            if track is not None and track.valid[f] and track._has_world[f]:
                raw[f] = track.world_m[f, ids]
    truth_valid = clip.valid & on[:, None]
    return PeopleScore(len(takes), int(has_truth.sum()), int(on.sum()),
                       score_view(pred, clip.joints_cam[view], truth_valid, clip.joint_names),
                       score_view(raw, clip.joints_cam[view], truth_valid, clip.joint_names), mixed)


def detect_everyone(video: Path, people: PeopleConfig = PeopleConfig(),
                    detector: DetectorConfig | None = None) -> tuple[PeopleTracks, float, str]:
    """The detection pass of `monocap process --people all` over a video -> (tracks, fps, name);
    `detector` replaces its detector's settings."""
    source = open_source(video)
    try:
        with PoseDetector(detector or detector_for(None)) as detector:
            tracks = detect_people_source(source, detector, people=people)
    finally:
        source.close()
    return tracks, source.fps, source.name


def everyone_in_mode(tracks: PeopleTracks, fps: float, name: str, mode: str,
                     people: PeopleConfig = PeopleConfig()) -> tuple[list[PersonTake], list[int]]:
    """`monocap process --people all --mode M`'s takes from a detection pass -> (takes, tracker ids by number)."""
    config = PipelineConfig(lift=mode_config(mode), people=people)
    lifter = make_lifter(config.lift)
    if lifter.needs_images:
        raise ValueError(f"3D mode {mode!r} needs the images; score it with `monocap process` instead")
    everyone = EveryoneDetected.from_tracks(tracks, lifter, fps, name, people)
    return people_takes(everyone, config), everyone.numbered


def man_scores(take, clip: TruthClip, view: int, fps: float) -> dict[str, float]:
    """A take on the person with truth scored over its frames with truth, in the view's camera axes:
    coverage (the share of frames with truth it holds), PA-MPJPE, MPJPE after one rigid alignment of
    the whole take (mm)."""
    frames = clip.joints_cam.shape[1]
    rows = np.round(take.timestamps_s * fps).astype(int)
    keep = (rows >= 0) & (rows < frames)
    pred = np.full((frames, len(clip.joint_names), 3), np.nan)
    pred[rows[keep]] = take_joints_cam(take, clip.joint_names)[keep]
    with_truth = clip.valid.all(axis=1)
    pred[~with_truth] = np.nan
    covered = int((np.isfinite(pred).all(axis=(1, 2)) & with_truth).sum())
    score = score_view(pred, clip.joints_cam[view], clip.valid, clip.joint_names)
    return {"coverage": covered / max(int(with_truth.sum()), 1), "pa": score["pa_mpjpe_mm"],
            "rigid": rigid_mpjpe_mm(pred, clip.joints_cam[view])}


def on_man_share(take, clip: TruthClip, folder: Path, view: int, fps: float) -> float:
    """The share of a take's frames with truth whose 2D hips in the view lie on the truth's (within ON_PERSON_PX)."""
    truth = truth_hips_px(folder, view, clip)
    rows = np.round(take.timestamps_s * fps).astype(int)
    hip = 0.5 * (take.keypoints_px[:, MP_L_HIP] + take.keypoints_px[:, MP_R_HIP])
    ok = take.valid & np.isfinite(hip).all(axis=1) & np.isfinite(truth[rows]).all(axis=1)
    return float((np.linalg.norm(hip[ok] - truth[rows[ok]], axis=1) < ON_PERSON_PX).mean()) if ok.any() else 0.0
