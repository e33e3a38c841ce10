"""Loads the shared motion capture as clips of rig joint positions in metres, at one frame rate.

Every clip is reduced to its rig's body joints (training.common.rigs), resampled to `fps` (30 by default)
and kept in the mocap's own world frame (Y up). Splits are by clip and by motion type, so the
test set holds motions the network never saw. `load_clips` caches its work in `cache_dir`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.animation.bvh_reader import guess_scale_to_m, read_bvh
from engine.core.skeletons import Skeleton
from training.common.asf_amc import read_amc, read_asf
from training.common.rigs import RIGS, reduce_skeleton

TARGET_FPS = 30.0


@dataclass(frozen=True)
class Clip:
    name: str  # e.g. "cmu_iclone/002_01"
    rig: str  # rig / format name
    motion: str  # motion type, for splits
    positions_m: np.ndarray  # (T, J, 3) float32, Y up, the rig's reduced joints


# Motion types of the shared takes (from the CMU index for subjects 1-7, and the folder names).
_ICLONE_MOTION = {"001": "playground", "002": "walk_run_jump", "003": "terrain", "005": "walk_dance",
                  "006": "basketball", "007": "walk"}

# Held out: a motion type never seen (iClone subject 6, basketball) and whole clips of seen types.
TEST_CLIPS = ("cmu_daz/salsa/15", "cmu_daz/martial/10", "cmu_asf/11_01", "cmu_iclone/002_10")
TEST_MOTIONS = ("basketball",)


def split_of(clip: Clip) -> str:
    if clip.motion in TEST_MOTIONS or clip.name in TEST_CLIPS:
        return "test"
    return "train"


def _resample(positions: np.ndarray, source_fps: float, target_fps: float) -> np.ndarray:
    if source_fps <= 0 or abs(source_fps - target_fps) < 1e-3:
        return positions
    t_src = np.arange(len(positions)) / source_fps
    t_dst = np.arange(0.0, t_src[-1] + 1e-9, 1.0 / target_fps)
    idx = np.clip(np.searchsorted(t_src, t_dst, side="right") - 1, 0, len(positions) - 2)
    w = ((t_dst - t_src[idx]) * source_fps)[:, None, None]
    return (1 - w) * positions[idx] + w * positions[idx + 1]


def _sources(root: Path, only: str | None = None) -> list[tuple[str, str, str, Path, float]]:
    """(name, rig, motion, path, true fps) of every take."""
    out = []
    mocap = root / "mocap"
    if only in (None, "cmu_iclone"):
        for p in sorted((mocap / "cmu_iclone").glob("*.bvh")):
            out.append((f"cmu_iclone/{p.stem}", "cmu_iclone", _ICLONE_MOTION.get(p.stem[:3], "other"), p, 60.0))
    if only in (None, "cmu_daz"):
        for kind, fps in (("salsa", 60.0), ("martial", 120.0)):  # salsa headers say 120; the source is 60
            for p in sorted((mocap / "cmu_daz" / kind).glob("*.bvh")):
                out.append((f"cmu_daz/{kind}/{p.stem}", "cmu_daz", kind, p, fps))
    if only in (None, "cmu_asf"):
        for p in sorted((mocap / "cmu_asf").glob("*.amc")):
            out.append((f"cmu_asf/{p.stem}", "cmu_asf", "walk" if p.stem == "01_01" else "playground", p, 120.0))
    return out


def _load_one(name: str, rig_name: str, motion: str, path: Path, fps: float,
              frames: int | None = None) -> tuple[Clip, Skeleton]:
    rig = RIGS[rig_name]
    if path.suffix.lower() == ".amc":
        asf = read_asf(path.parent / (path.stem.split("_")[0] + ".asf"))
        amc = read_amc(path, asf, fps)
        full = asf.skeleton(rig_name)
        pos = amc.positions()
    else:
        bvh = read_bvh(path)
        full = bvh.skeleton(rig_name, include_end_sites=True)
        pos = bvh.positions(guess_scale_to_m(bvh), include_end_sites=True)
        if rig_name == "cmu_iclone":
            pos = pos[1:]  # a T-pose is prepended as frame 0
    if frames is not None:
        pos = pos[:frames]
    skeleton, keep = reduce_skeleton(rig, full)
    pos = _resample(pos[:, keep], fps, TARGET_FPS).astype(np.float32)
    return Clip(name, rig_name, motion, pos), skeleton


def load_clips(data_root: str | Path, cache_dir: str | Path | None = None,
               rigs: tuple[str, ...] = tuple(RIGS)) -> tuple[list[Clip], dict[str, Skeleton]]:
    """All takes of the given rigs, and each rig's reduced skeleton. Cached as .npz in cache_dir."""
    root = Path(data_root)
    sources = [s for s in _sources(root) if s[1] in rigs]
    if not sources:
        raise FileNotFoundError(f"{root}: no motion capture found under mocap/")
    key = hashlib.sha1(repr([(s[0], s[3].stat().st_size) for s in sources]).encode()).hexdigest()[:12]
    cache = Path(cache_dir) / f"mocap_{key}.npz" if cache_dir else None
    skeletons: dict[str, Skeleton] = {}
    if cache is not None and cache.is_file():
        data = np.load(cache, allow_pickle=False)
        clips = []
        for name, rig, motion, _, _ in sources:
            clips.append(Clip(name, rig, motion, data["pos:" + name]))
        for rig in {s[1] for s in sources}:
            names = tuple(str(n) for n in data["skel_names:" + rig])
            parents = tuple(int(p) for p in data["skel_parents:" + rig])
            from engine.core.skeletons import guess_mirror_pairs
            skeletons[rig] = Skeleton(rig, names, parents, guess_mirror_pairs(names))
        return clips, skeletons
    clips = []
    for src in sources:
        clip, skel = _load_one(*src)
        clips.append(clip)
        skeletons[clip.rig] = skel
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"pos:" + c.name: c.positions_m for c in clips}
        for rig, s in skeletons.items():
            arrays["skel_names:" + rig] = np.array(s.joint_names)
            arrays["skel_parents:" + rig] = np.array(s.parents)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(cache)
    return clips, skeletons
