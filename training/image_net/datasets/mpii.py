"""MPII Human Pose in the commonly used JSON conversion of its annotation (2D only, 16 joints).

Expected layout:

    <root>/annot/{train,valid}.json   a list of {"image": "015601864.jpg", "center": [x, y],
                                      "scale": s, "joints": [[x, y] x 16], "joints_vis": [0/1 x 16]}
    <root>/images/<image>

Joints are in MPII's order (engine.core.skeletons.MPII_16_FILE_ORDER); "scale" is the person's
height / 200 px, as in the release. Unlabelled joints have joints_vis 0 (often coordinates -1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.core.skeletons import MPII_16, MPII_16_FILE_ORDER, file_order_permutation
from training.image_net.datasets.image_samples import PoseSample, read_json, require_dir


def read_mpii(root: str | Path, split: str = "train") -> list[PoseSample]:
    root = require_dir(root, "MPII")
    path = root / "annot" / f"{split}.json"
    entries = read_json(path, "MPII")
    perm = file_order_permutation(MPII_16, MPII_16_FILE_ORDER)
    samples = []
    for e in entries:
        joints = np.asarray(e["joints"], dtype=np.float64).reshape(16, 2)[perm]
        vis = np.asarray(e.get("joints_vis", np.ones(16)), dtype=np.float64).reshape(16)[perm] > 0
        vis &= (joints > 0).all(axis=1)
        box = None
        if "center" in e and "scale" in e:
            cx, cy = e["center"]
            half = float(e["scale"]) * 200.0 / 2
            box = np.array([cx - half, cy - half, cx + half, cy + half])
        samples.append(PoseSample(skeleton=MPII_16.name, joints2d_px=joints, visible2d=vis,
                                  image_path=str(root / "images" / e["image"]), box_xyxy=box))
    return samples
