"""Training batches: mocap seen by random virtual cameras with detector-like noise (3D-labelled),
and the detector run on real video (2D only).

A mocap sample holds, for the target frame of a window: the rig's own joints, Monocap's body
skeleton and the detector-like 33 points, in camera axes relative to the pelvis (metres), the
clean normalised 2D of the 33 points (projection target), and the noisy network input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.core.skeletons import MEDIAPIPE_33, MONOCAP_BODY, Skeleton
from engine.lift.nets.lifter_net import prepare_inputs
from training.common.cameras import CameraRanges, project, sample_cameras, to_camera
from training.common.mocap import Clip
from training.common.noise import NoiseConfig, apply_noise
from training.common.rigs import RIGS
from training.common.synth import RigSynth

RIG_NAMES = ("cmu_iclone", "cmu_daz", "cmu_asf")  # the mocap rigs the lifter learns, one head each


@dataclass(frozen=True)
class MocapData:
    """Where the mocap is read from, and where its parsed cache goes."""

    data_root: str = str(Path(__file__).resolve().parents[3] / "shared" / "data")
    cache_dir: str = str(Path.home() / ".cache" / "monocap-training")


@dataclass(frozen=True)
class AugmentConfig:
    mirror: bool = True
    bone_scale: float = 0.06  # std of per-bone length factors (left/right alike)
    global_scale: tuple[float, float] = (0.88, 1.12)
    cameras: CameraRanges = field(default_factory=CameraRanges)
    noise: NoiseConfig = field(default_factory=NoiseConfig)


def _bone_groups(skeleton: Skeleton) -> np.ndarray:
    """Joint -> group id so that a joint and its mirror twin share one length factor."""
    g = np.arange(skeleton.num_joints)
    for a, b in skeleton.mirror_pairs:
        g[b] = g[a]
    return g


class MocapSource:
    """Samples windows from the clips of one rig."""

    def __init__(self, clips: list[Clip], skeleton: Skeleton, window: int, target: int):
        self.rig = RIGS[skeleton.name]
        self.skeleton = skeleton
        self.synth = RigSynth(self.rig, skeleton)
        self.clips = [c for c in clips if c.rig == skeleton.name and len(c.positions_m) >= window]
        if not self.clips:
            raise ValueError(f"no clips of {skeleton.name}")
        self.window = window
        self.target = target % window
        lengths = np.array([len(c.positions_m) - window + 1 for c in self.clips])
        self.starts = np.concatenate([[0], np.cumsum(lengths)])
        self.total = int(self.starts[-1])
        self.groups = _bone_groups(skeleton)
        self.parents = np.array(skeleton.parents)
        self.perm_rig = skeleton.mirror_permutation()
        self.perm_mp = MEDIAPIPE_33.mirror_permutation()
        self.perm_mono = MONOCAP_BODY.mirror_permutation()

    def frames(self, idx: np.ndarray) -> np.ndarray:
        """Flat window indices -> (B, W, J, 3) positions."""
        c = np.searchsorted(self.starts, idx, side="right") - 1
        out = np.empty((len(idx), self.window, self.skeleton.num_joints, 3), np.float32)
        for i, (ci, fi) in enumerate(zip(c, idx - self.starts[c])):
            out[i] = self.clips[ci].positions_m[fi:fi + self.window]
        return out

    def _scale_bones(self, pos: np.ndarray, rng: np.random.Generator, aug: AugmentConfig) -> np.ndarray:
        b = pos.shape[0]
        factors = 1 + rng.normal(0, aug.bone_scale, (b, self.skeleton.num_joints))
        factors = np.clip(factors[:, self.groups], 0.8, 1.2) * rng.uniform(*aug.global_scale, (b, 1))
        out = pos.copy()
        for j, p in enumerate(self.parents):
            if p < 0:
                continue
            out[:, :, j] = out[:, :, p] + factors[:, None, j, None] * (pos[:, :, j] - pos[:, :, p])
        return out

    def sample(self, count: int, rng: np.random.Generator, aug: AugmentConfig, idx: np.ndarray | None = None) -> dict:
        if idx is None:
            idx = rng.integers(0, self.total, count)
        pos = self.frames(idx)
        if aug.bone_scale > 0 or aug.global_scale != (1.0, 1.0):
            pos = self._scale_bones(pos, rng, aug)
        mp, mono = self.synth.both(pos)
        pelvis = self.synth.pelvis(pos[:, self.target])
        cams = sample_cameras(len(idx), rng, aug.cameras)
        rig_c = to_camera(pos, pelvis, cams)
        mp_c = to_camera(mp, pelvis, cams)
        mono_c = to_camera(mono, pelvis, cams)
        if aug.mirror:
            m = rng.random(len(idx)) < 0.5
            flip = np.array([-1.0, 1.0, 1.0])
            for arr, perm in ((rig_c, self.perm_rig), (mp_c, self.perm_mp), (mono_c, self.perm_mono)):
                arr[m] = arr[m][:, :, perm] * flip
                arr[m, ..., 0] += 2 * cams.pelvis_cam[m, None, None, 0]  # mirror about the pelvis
        kp = project(mp_c, cams.focal_px, cams.principal_px)
        t = self.target
        hips = 0.5 * (mp_c[:, :, MEDIAPIPE_33.index("left_hip")] + mp_c[:, :, MEDIAPIPE_33.index("right_hip")])
        det3d = mp_c - hips[:, :, None]
        clean_scores = np.ones(kp.shape[:3])
        noisy_kp, scores, det3d, valid = apply_noise(kp, clean_scores, cams.image_size, det3d, rng, aug.noise)
        kp_n, centre, size = prepare_inputs(noisy_kp, scores, target=t)
        clean_n = (kp[:, t] - centre[:, None]) / size[:, None, None]
        root = mp_c[:, t].copy()
        pel = 0.5 * (root[:, MEDIAPIPE_33.index("left_hip")] + root[:, MEDIAPIPE_33.index("right_hip")])
        return {
            "kp": kp_n, "scores": scores.astype(np.float32), "det3d": det3d.astype(np.float32),
            "det_valid": valid.astype(np.float32),
            "rig": (rig_c[:, t] - pel[:, None]).astype(np.float32),
            "monocap_body": (mono_c[:, t] - pel[:, None]).astype(np.float32),
            "mediapipe_33": (mp_c[:, t] - pel[:, None]).astype(np.float32),
            "target_2d": clean_n.astype(np.float32), "target_2d_w": np.ones(clean_n.shape[:2], np.float32),
        }


class VideoSource:
    """Windows of the detector's output on real video (2D-only samples)."""

    def __init__(self, cache_path: str | Path, window: int, target: int, frames: slice | None = None):
        data = np.load(cache_path)
        self.window = window
        self.target = target % window
        self.items = []
        for name in sorted({k.split(":")[0] for k in data.files}):
            kp, sc, world = data[f"{name}:kp"], data[f"{name}:scores"], data[f"{name}:world"]
            size = data[f"{name}:size"]
            sel = frames or slice(None)
            kp, sc, world = kp[sel], sc[sel], world[sel]
            if len(kp) >= window:
                self.items.append((kp, sc, world, size))
        lengths = np.array([len(i[0]) - window + 1 for i in self.items])
        self.starts = np.concatenate([[0], np.cumsum(lengths)])
        self.total = int(self.starts[-1])
        self.perm = MEDIAPIPE_33.mirror_permutation()

    def sample(self, count: int, rng: np.random.Generator, mirror: bool = True) -> dict:
        idx = rng.integers(0, self.total, count)
        c = np.searchsorted(self.starts, idx, side="right") - 1
        w = self.window
        kp = np.empty((count, w, 33, 2))
        sc = np.empty((count, w, 33))
        world = np.empty((count, w, 33, 3))
        valid = np.empty((count, w))
        for i, (ci, fi) in enumerate(zip(c, idx - self.starts[c])):
            k, s, wd, size = self.items[ci]
            kp[i], sc[i] = k[fi:fi + w], s[fi:fi + w]
            good = np.isfinite(wd[fi:fi + w]).all(axis=(-1, -2))
            world[i] = np.where(good[:, None, None], np.nan_to_num(wd[fi:fi + w]), 0.0)
            valid[i] = good
            if mirror and rng.random() < 0.5:
                kp[i] = kp[i][:, self.perm] * [-1, 1] + [size[0], 0]
                sc[i] = sc[i][:, self.perm]
                world[i] = world[i][:, self.perm] * [-1, 1, 1]
        # Training sees the detector's 3D only as often as mocap samples carry it.
        drop = rng.random(count) < 0.3
        valid[drop] = 0
        world[drop] = 0
        kp_n, centre, size_px = prepare_inputs(kp, sc, target=self.target)
        t = self.target
        return {"kp": kp_n, "scores": sc.astype(np.float32), "det3d": world.astype(np.float32),
                "det_valid": valid.astype(np.float32), "target_2d": kp_n[:, t].astype(np.float32),
                "target_2d_w": (sc[:, t] * (sc[:, t] > 0.5)).astype(np.float32)}
