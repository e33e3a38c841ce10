"""Training sequences for the temporal stage: shared CMU mocap seen by random virtual cameras,
with the detector's errors drawn from its measured statistics, then run through `fit`.

A sequence is `frames` frames of one mocap clip, resampled to a random frame rate (the footage
Monocap sees runs at 24-60 fps), seen by one still camera (training.common.cameras). The
detector-like input per frame: the 33 keypoints projected to pixels plus white jitter per
keypoint (measured, training/temporal/detector_noise.json) and a slower error that drifts
(`drift_2d` times the white jitter, about `drift_s` seconds long: assumed, see docs/TEMPORAL.md),
larger where the score is low (measured factors); scores drawn from each keypoint's measured
distribution with runs of the measured length; runs of frames with one limb's left and right
exchanged; runs of frames with nobody found; some sequences with only the 12 limb keypoints. The
detector's 3D: the truth with a drifting global scale, depth stretch and turn (sizes as in
training.common.noise), drifting per-joint errors and the measured white jitter per axis. Then the
engine's own `fit` (engine.lift.keypoint_fit, with its assumed field of view, as at run time) gives
the 3D the network corrects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.core.skeletons import MEDIAPIPE_33
from engine.lift.camera import DEFAULT_FOV_DEG, Intrinsics
from engine.lift.keypoint_fit import clip_leg_depths, fit_frame, leg_bone_lengths, subject_leg_lengths
from engine.lift.nets.temporal_net import frame_features
from training.common.cameras import project, sample_cameras, to_camera
from training.common.mocap import TARGET_FPS, Clip
from training.common.noise import ARM_SWAP, LEG_SWAP
from training.common.rigs import RIGS
from training.common.synth import RigSynth

NOISE_FILE = Path(__file__).with_name("detector_noise.json")
_N = MEDIAPIPE_33.index
LIMB_POINTS = [_N(f"{s}_{j}") for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle") for s in ("left", "right")]
_L_HIP, _R_HIP = _N("left_hip"), _N("right_hip")


@dataclass(frozen=True)
class SynthConfig:
    frames: int = 81
    fps: tuple[float, float] = (20.0, 60.0)
    noise: float = 1.0  # every error's size times this (0: clean projections and the truth as 3D)
    drift_2d: float = 3.0  # the drifting 2D error's spread, times the measured white jitter
    drift_s: float = 0.3
    det3d_joint_m: float = 0.025
    det3d_depth: float = 0.15
    det3d_scale: float = 0.06
    det3d_turn_deg: float = 8.0
    det3d_drift_s: float = 1.0
    limb_swap_rate: float = 0.02  # share of frames with one limb's left/right exchanged
    missing_rate: float = 0.02  # share of frames with nobody found (at least; the measured rate if higher)
    limbs_only_rate: float = 0.15  # sequences with only the 12 limb keypoints
    global_scale: tuple[float, float] = (0.88, 1.12)
    bone_scale: float = 0.06  # spread of per-bone length factors (left and right alike; 0: the mocap's own)


@dataclass(frozen=True)
class Sequences:
    """features (B, T, C_in - 1), present (B, T), fit3d and truth3d (B, T, 33, 3) hip-relative, camera axes."""

    features: np.ndarray
    present: np.ndarray
    fit3d: np.ndarray
    truth3d: np.ndarray


def load_noise(path: Path = NOISE_FILE) -> dict:
    return json.loads(Path(path).read_text())


def _drift(rng: np.random.Generator, shape: tuple, steps: int, fps: np.ndarray, seconds: float) -> np.ndarray:
    """(B, steps, *shape) unit-spread AR(1) series with a correlation time of `seconds`."""
    b = len(fps)
    a = np.exp(-1.0 / (np.maximum(seconds, 1e-3) * fps)).reshape((b,) + (1,) * len(shape))
    out = np.empty((b, steps) + shape)
    x = rng.normal(size=(b,) + shape)
    for t in range(steps):
        x = a * x + np.sqrt(1 - a ** 2) * rng.normal(size=(b,) + shape)
        out[:, t] = x
    return out


def _runs(rng: np.random.Generator, b: int, t: int, rate: float, mean_len: float) -> np.ndarray:
    """(B, T) bool runs of about mean_len frames covering about `rate` of the frames."""
    mask = np.zeros((b, t), bool)
    if rate <= 0:
        return mask
    count = rng.poisson(rate * t / mean_len, b)
    for i in range(b):
        for _ in range(count[i]):
            start = rng.integers(0, t)
            mask[i, start:start + max(int(rng.exponential(mean_len)), 1)] = True
    return mask


class MocapSequences:
    """Draws sequences from clips of any of the mocap rigs."""

    def __init__(self, clips: list[Clip], skeletons: dict, noise: dict | None = None):
        self.clips = [c for c in clips if c.rig in RIGS and len(c.positions_m) > 40]
        self.synth = {rig: RigSynth(RIGS[rig], skeletons[rig]) for rig in {c.rig for c in self.clips}}
        self.skeletons = skeletons
        self.weights = np.array([len(c.positions_m) for c in self.clips], float)
        self.weights /= self.weights.sum()
        self.noise = noise or load_noise()
        self.mirror = MEDIAPIPE_33.mirror_permutation()

    def _motion(self, rng: np.random.Generator, cfg: SynthConfig) -> tuple[np.ndarray, float]:
        """One clip's 33 points (T, 33, 3) world metres at a random rate, and that rate."""
        for _ in range(1000):
            clip = self.clips[rng.choice(len(self.clips), p=self.weights)]
            fps = float(rng.uniform(*cfg.fps))
            span = (cfg.frames - 1) * TARGET_FPS / fps
            if span < len(clip.positions_m) - 1:
                break
        else:
            raise ValueError(f"no mocap clip holds {cfg.frames} frames at {cfg.fps[0]:.0f}-{cfg.fps[1]:.0f} fps")
        t = rng.uniform(0, len(clip.positions_m) - 1 - span) + np.arange(cfg.frames) * TARGET_FPS / fps
        i = np.minimum(t.astype(int), len(clip.positions_m) - 2)
        w = (t - i)[:, None, None]
        pos = (1 - w) * clip.positions_m[i] + w * clip.positions_m[i + 1]
        if cfg.bone_scale > 0:
            pos = self._scale_bones(pos, self.skeletons[clip.rig], rng, cfg.bone_scale)
        mp, _ = self.synth[clip.rig].both(pos.astype(np.float32))
        pelvis = self.synth[clip.rig].pelvis(pos[cfg.frames // 2])
        return (mp - pelvis) * rng.uniform(*cfg.global_scale), fps

    @staticmethod
    def _scale_bones(pos: np.ndarray, skeleton, rng: np.random.Generator, spread: float) -> np.ndarray:
        """(T, J, 3) rig joints with every bone's length times a random factor, mirror twins alike, so
        that the network cannot lean on the mocap subjects' proportions."""
        group = np.arange(skeleton.num_joints)
        for a, b in skeleton.mirror_pairs:
            group[b] = group[a]
        factors = np.clip(1 + rng.normal(0, spread, skeleton.num_joints), 0.85, 1.15)[group]
        out = pos.copy()
        for j, parent in enumerate(skeleton.parents):  # parents come before their children
            if parent >= 0:
                out[:, j] = out[:, parent] + factors[j] * (pos[:, j] - pos[:, parent])
        return out

    def sample(self, count: int, rng: np.random.Generator, cfg: SynthConfig = SynthConfig()) -> Sequences:
        motions = [self._motion(rng, cfg) for _ in range(count)]
        world = np.stack([m for m, _ in motions]).astype(np.float64)
        fps = np.array([f for _, f in motions])
        b, t = count, cfg.frames
        cams = sample_cameras(b, rng)
        cam = to_camera(world, np.zeros((b, 3)), cams)
        flip = rng.random(b) < 0.5  # mirrored people
        cam[flip] = cam[flip][:, :, self.mirror]
        cam[flip, ..., 0] = 2 * cams.pelvis_cam[flip, None, None, 0] - cam[flip, ..., 0]
        clean = project(cam, cams.focal_px, cams.principal_px)
        hips = 0.5 * (cam[:, :, _L_HIP] + cam[:, :, _R_HIP])
        truth = cam - hips[:, :, None]
        kp, scores, det3d = self._detector(clean, truth, fps, rng, cfg)
        present = ~_runs(rng, b, t, max(cfg.missing_rate, self.noise["missing_rate"]) * cfg.noise, 3.0)
        present[:, t // 2] = True
        fit3d = np.zeros_like(truth)
        feats = np.zeros((b, t, 33 * 6), np.float32)
        for i in range(b):
            intr = Intrinsics.from_fov(tuple(int(v) for v in cams.image_size[i]), DEFAULT_FOV_DEG)
            lengths = subject_leg_lengths(leg_bone_lengths(det3d[i]))
            for j in range(t):
                fit3d[i, j] = clip_leg_depths(fit_frame(det3d[i, j], kp[i, j], scores[i, j], intr), lengths)
            feats[i] = frame_features(kp[i], scores[i], fit3d[i])
        return Sequences(feats, present, fit3d.astype(np.float32), truth.astype(np.float32))

    def _detector(self, clean: np.ndarray, truth: np.ndarray, fps: np.ndarray, rng: np.random.Generator,
                  cfg: SynthConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        nz = self.noise
        b, t, k, _ = clean.shape
        if cfg.noise <= 0:
            return self._limbs_only(clean.copy(), np.ones((b, t, k)), truth.copy(), rng, cfg)
        # scores: each keypoint's measured distribution, its level held for runs of frames
        q = np.array(nz["score_quantiles"])  # (33, 11)
        run = np.array(nz["score_run_frames"])
        level = np.empty((b, t, k))
        u = rng.random((b, k))
        change = rng.random((b, t, k)) < 1.0 / np.maximum(run, 1.0)
        for j in range(t):
            u = np.where(change[:, j], rng.random((b, k)), u)
            level[:, j] = u
        grid = np.linspace(0, 1, q.shape[1])
        scores = np.stack([np.interp(level[..., j], grid, q[j]) for j in range(k)], axis=-1)
        # 2D: white jitter + drift, in box sizes, larger where the score is low
        box = np.ptp(clean, axis=2).max(axis=-1)[..., None, None]  # (B, T, 1, 1)
        white = np.array(nz["jitter_2d_box"])[None, None, :, None] * cfg.noise
        factor = np.where(scores > 0.5, 1.0, np.where(scores > 0.3, nz["jitter_score_factor"]["mid"],
                                                      nz["jitter_score_factor"]["low"]))[..., None]
        err = white * (rng.normal(size=clean.shape) + cfg.drift_2d * _drift(rng, (k, 2), t, fps, cfg.drift_s))
        kp = clean + err * factor * box
        det3d = truth.copy()
        # one limb's left/right exchanged for runs of frames (2D and 3D alike, as the detector does)
        for left, right in ((ARM_SWAP["left"], ARM_SWAP["right"]), (LEG_SWAP["left"], LEG_SWAP["right"])):
            swap = _runs(rng, b, t, cfg.limb_swap_rate * cfg.noise / 2, 4.0)
            for arr in (kp, scores, det3d):
                a = arr[swap][:, left].copy()
                sub = arr[swap]
                sub[:, left] = sub[:, right]
                sub[:, right] = a
                arr[swap] = sub
        # the detector's 3D: drifting scale, depth stretch and turn, drifting joint errors, white jitter
        d = cfg.det3d_drift_s
        scale = 1 + cfg.det3d_scale * cfg.noise * _drift(rng, (), t, fps, d)
        stretch = 1 + cfg.det3d_depth * cfg.noise * _drift(rng, (), t, fps, d)
        yaw = np.radians(cfg.det3d_turn_deg * cfg.noise) * _drift(rng, (), t, fps, d)
        c, s = np.cos(yaw)[..., None], np.sin(yaw)[..., None]
        x = det3d[..., 0] * c + det3d[..., 2] * s
        z = -det3d[..., 0] * s + det3d[..., 2] * c
        det3d = np.stack([x, det3d[..., 1], z * stretch[..., None]], axis=-1) * scale[..., None, None]
        det3d += cfg.det3d_joint_m * cfg.noise * _drift(rng, (k, 3), t, fps, cfg.drift_s)
        det3d += np.array(nz["jitter_3d_m"])[None, None] * cfg.noise * rng.normal(size=det3d.shape)
        det3d -= 0.5 * (det3d[:, :, _L_HIP] + det3d[:, :, _R_HIP])[:, :, None]
        return self._limbs_only(kp, scores, det3d, rng, cfg)

    @staticmethod
    def _limbs_only(kp: np.ndarray, scores: np.ndarray, det3d: np.ndarray, rng: np.random.Generator,
                    cfg: SynthConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Some sequences keep only the 12 limb keypoints (the others at score 0, anywhere)."""
        b, t, k, _ = kp.shape
        limbs_only = rng.random(b) < cfg.limbs_only_rate
        others = np.setdiff1d(np.arange(k), LIMB_POINTS)
        scores[np.ix_(limbs_only, np.arange(t), others)] = 0.0
        kp[np.ix_(limbs_only, np.arange(t), others)] = rng.uniform(0, 500, (limbs_only.sum(), t, len(others), 2))
        return kp, scores, det3d
