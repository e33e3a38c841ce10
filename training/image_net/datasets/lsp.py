"""Leeds Sports Pose (LSP, 2000 images) and LSP-extended (10000) from their joints.mat (2D only).

Expected layout:

    <root>/joints.mat   "joints": 3 x 14 x N (LSP), 14 x 3 x N (LSP-extended), or 2-row variants
                        (x, y[, flag]) per joint in LSP's order (engine.core.skeletons.LSP_14_FILE_ORDER)
    <root>/images/im0001.jpg ... (the sorted image files, one per annotation)

The third value is a per-joint flag whose meaning differs between the releases (LSP marks
occluded joints, LSP-extended visible ones). Every LSP joint has a labelled position either way,
so the flag is kept in `meta["flag"]` and all joints with positive coordinates count as labelled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from engine.core.errors import InputError
from engine.core.skeletons import LSP_14, LSP_14_FILE_ORDER, file_order_permutation
from training.image_net.datasets.image_samples import PoseSample, require_dir

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def lsp_joints(arr: np.ndarray) -> np.ndarray:
    """joints array of any released orientation -> (N, 14, C) with C = 2 or 3."""
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[0] == 14 and a.shape[1] in (2, 3):
        return np.transpose(a, (2, 0, 1))
    if a.shape[1] == 14 and a.shape[0] in (2, 3):
        return np.transpose(a, (2, 1, 0))
    raise InputError(f"LSP joints of shape {a.shape}: expected 3x14xN, 14x3xN, 2x14xN or 14x2xN")


def read_lsp(root: str | Path, first: int = 0, count: int | None = None) -> list[PoseSample]:
    """PoseSamples (skeleton lsp_14) of annotations [first, first + count)."""
    root = require_dir(root, "LSP")
    path = root / "joints.mat"
    try:
        joints = lsp_joints(scipy.io.loadmat(str(path))["joints"])
    except FileNotFoundError:
        raise InputError(f"{path}: missing (see the LSP layout in docs/IMAGE_NETWORK.md)") from None
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: not an LSP joints.mat ({exc})") from None
    images = sorted(p for p in (root / "images").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) \
        if (root / "images").is_dir() else []
    if len(images) < len(joints):
        raise InputError(f"{root / 'images'}: {len(images)} images for {len(joints)} annotations")
    perm = file_order_permutation(LSP_14, LSP_14_FILE_ORDER)
    stop = len(joints) if count is None else min(len(joints), first + count)
    samples = []
    for i in range(first, stop):
        j = joints[i][perm]
        flag = j[:, 2] if j.shape[1] == 3 else np.ones(14)
        samples.append(PoseSample(skeleton=LSP_14.name, joints2d_px=j[:, :2].copy(),
                                  visible2d=(j[:, :2] > 0).all(axis=1), image_path=str(images[i]),
                                  meta={"flag": flag}))
    return samples
