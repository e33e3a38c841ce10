"""Scoring takes of real footage against real 3D truth (the clips under ../shared/data/truth).

A truth clip is a folder with `videos/<view>.mp4` and `truth.npz` (`joint_names`, `landmark_ids`:
the detector's keypoint index of each truth joint, `joints_cam` (V, T, J, 3) metres in each
view's OpenCV camera axes, `valid` (T, J), `cams` (V,) view names). A take is scored in the
camera's axes through the rotation its metadata stores (`world_to_camera_rotation`).

Metrics per view: PA-MPJPE (per-frame similarity Procrustes, no reflection), MPJPE after aligning
the hip midpoints (camera axes, no rotation), PCK@150 mm on the same hip-aligned joints.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.capture.detector import DetectorConfig, PoseDetector
from engine.capture.frames import open_source
from engine.capture.track import DetectionTrack
from engine.core.errors import InputError
from engine.core.joint_angles import joint_angle
from engine.core.skeletons import MEDIAPIPE_33
from engine.core.take import Take
from engine.lift.modes import LiftConfig, make_lifter
from engine.motion.smoothing import SmoothingConfig
from engine.session.pipeline import PipelineConfig, take_from_track
from training.common.metrics import PCK_THRESHOLD_MM, joint_errors

WORLD_TO_CAMERA_KEY = "world_to_camera_rotation"


@dataclass(frozen=True)
class TruthClip:
    """joints_cam: (V, T, J, 3) metres per view; valid: (T, J); joint_names: the detector's names."""

    name: str
    views: tuple[str, ...]
    videos: tuple[Path, ...]
    joint_names: tuple[str, ...]
    joints_cam: np.ndarray
    valid: np.ndarray


def load_truth_clip(folder: str | Path) -> TruthClip:
    folder = Path(folder)
    path = folder / "truth.npz"
    try:
        data = np.load(path, allow_pickle=False)
        names = tuple(MEDIAPIPE_33.joint_names[int(i)] for i in data["landmark_ids"])
        views = tuple(str(c) for c in data["cams"])
        joints = data["joints_cam"].astype(np.float64)
        valid = data["valid"].astype(bool)
    except (OSError, KeyError, ValueError, IndexError) as exc:
        raise InputError(f"{path}: not a truth clip ({exc})") from None
    videos = tuple(folder / "videos" / f"{v}.mp4" for v in views)
    missing = [str(v) for v in videos if not v.is_file()]
    if missing:
        raise InputError(f"{folder}: truth clip lacks its videos {', '.join(missing)}")
    return TruthClip(folder.name, views, videos, names, joints, valid)


def truth_clips(root: str | Path) -> list[TruthClip]:
    """Every truth clip under `root` (each sub-folder with a truth.npz), sorted by name."""
    return [load_truth_clip(p.parent) for p in sorted(Path(root).glob("*/truth.npz"))]


def take_joints_cam(take: Take, joint_names: tuple[str, ...]) -> np.ndarray:
    """(T, J, 3) the take's named joints in the camera's axes (up to a translation)."""
    rot = take.metadata.get(WORLD_TO_CAMERA_KEY)
    if rot is None:
        raise InputError(f"take {take.metadata.get('source', '')!r}: its metadata lacks {WORLD_TO_CAMERA_KEY}")
    idx = [take.skeleton.index(n) for n in joint_names]
    return take.joints_m[:, idx] @ np.asarray(rot, dtype=np.float64).T


def _hip_mid(joints: np.ndarray, joint_names: tuple[str, ...]) -> np.ndarray:
    return 0.5 * (joints[:, joint_names.index("left_hip")] + joints[:, joint_names.index("right_hip")])


def score_view(pred_cam: np.ndarray, truth_cam: np.ndarray, valid: np.ndarray,
               joint_names: tuple[str, ...]) -> dict[str, float]:
    """pred_cam, truth_cam: (T, J, 3) metres in camera axes; valid (T, J). Frames where the
    prediction is missing count as misses in PCK and are left out of the distances."""
    have = np.isfinite(pred_cam).all(axis=(1, 2))
    ok = valid & have[:, None]
    full = valid[have].all(axis=1)
    p, g = pred_cam[have][full], truth_cam[have][full]
    pa = joint_errors(p, g, align="procrustes") if len(p) else np.zeros((0, len(joint_names)))
    hip = np.full(truth_cam.shape[:2], np.inf)
    hip[have] = np.linalg.norm((pred_cam[have] - _hip_mid(pred_cam[have], joint_names)[:, None])
                               - (truth_cam[have] - _hip_mid(truth_cam[have], joint_names)[:, None]), axis=-1)
    return {
        "pa_mpjpe_mm": float(pa.mean() * 1000) if pa.size else float("nan"),
        "mpjpe_hip_mm": float(hip[ok].mean() * 1000) if ok.any() else float("nan"),
        "pck150": float((hip[valid] <= PCK_THRESHOLD_MM / 1000).mean()),
        "frames": int(have.sum()),
    }


def score_take(take: Take, clip: TruthClip, view: int) -> dict[str, float]:
    if take.num_frames != clip.joints_cam.shape[1]:
        raise InputError(f"{clip.name}/{clip.views[view]}: take has {take.num_frames} frames, "
                         f"truth {clip.joints_cam.shape[1]}")
    return score_view(take_joints_cam(take, clip.joint_names), clip.joints_cam[view], clip.valid, clip.joint_names)


def standing_knee_flexion_deg(take: Take, seconds: float = 1.0) -> tuple[float, float]:
    """(left, right) mean knee flexion over the take's first `seconds` with someone in view."""
    first = np.flatnonzero(take.valid)[: max(int(round(seconds * take.fps)), 1)]
    return tuple(float(np.nanmean(joint_angle(take.joints_m[first], take.skeleton, f"{side}_knee")))
                 for side in ("left", "right"))


def detect_video(path: str | Path, mirror: bool = False) -> tuple[DetectionTrack, float]:
    """The detector over every frame of a video (mirrored left to right with `mirror`) -> (track, fps)."""
    import cv2

    source = open_source(path)
    track = DetectionTrack()
    try:
        with PoseDetector(DetectorConfig()) as detector:
            for frame in source:
                image = cv2.flip(frame.image, 1) if mirror else frame.image
                track.image_size = (image.shape[1], image.shape[0])
                track.append(frame.timestamp_ns / 1e9, detector.detect(image, frame.timestamp_ns))
    finally:
        source.close()
    return track, source.fps


def mirrored(clip: TruthClip) -> TruthClip:
    """The truth of the clip's videos mirrored left to right: x negated, and the mirrored person's
    left is the original's right."""
    perm = MEDIAPIPE_33.mirror_permutation()
    order = [clip.joint_names.index(MEDIAPIPE_33.joint_names[perm[MEDIAPIPE_33.index(n)]]) for n in clip.joint_names]
    joints = clip.joints_cam[:, :, order].copy()
    joints[..., 0] *= -1.0
    return replace(clip, name=f"{clip.name} mirrored", joints_cam=joints, valid=clip.valid[:, order])


def mode_config(spec: str) -> LiftConfig:
    """A benchmark's 3D mode: "MODE", or "MODE=MODEL_FILE" for that mode with another model file
    (as `monocap process --mode MODE --checkpoint MODEL_FILE`), so two model files meet in one run."""
    mode, _, checkpoint = spec.partition("=")
    return LiftConfig(mode=mode, checkpoint=checkpoint)


def take_in_mode(track: DetectionTrack, fps: float, mode: str, name: str,
                 smoothing: SmoothingConfig = SmoothingConfig()) -> Take:
    """The offline pipeline's take of `track` in 3D mode `mode` (as `monocap process --mode`;
    see mode_config)."""
    config = PipelineConfig(lift=mode_config(mode), smoothing=smoothing)
    return take_from_track(track, fps, config, make_lifter(config.lift), name)


def score_modes(clip: TruthClip, tracks: list[tuple[DetectionTrack, float]], modes: list[str],
                smoothing: SmoothingConfig = SmoothingConfig()) -> dict[str, list[dict[str, float]]]:
    """{mode: [per-view scores]} for the clip's views' detector tracks."""
    return {mode: [score_take(take_in_mode(track, fps, mode, f"{clip.name}/{view}", smoothing), clip, v)
                   for v, (view, (track, fps)) in enumerate(zip(clip.views, tracks))] for mode in modes}


def mean_score(rows: list[dict[str, float]], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))
