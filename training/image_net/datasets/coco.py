"""COCO keypoints (2D only, 17 joints) from person_keypoints_{train,val}2017.json.

Expected layout:

    <root>/annotations/person_keypoints_{split}.json   "images" (id, file_name) and "annotations"
                          (image_id, keypoints [x, y, v] x 17, num_keypoints, bbox [x, y, w, h], iscrowd)
    <root>/{split}/<file_name>                          e.g. train2017/000000000036.jpg

v = 0: not labelled, 1: labelled but hidden, 2: labelled and visible; v > 0 counts as labelled.
The keypoint order is engine.core.skeletons.COCO_17's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.image_net.datasets.image_samples import PoseSample, read_json, require_dir


def read_coco(root: str | Path, split: str = "train2017", min_keypoints: int = 8,
              min_box_side: float = 32.0) -> list[PoseSample]:
    """PoseSamples (skeleton coco_17) of the non-crowd people with enough labelled keypoints."""
    root = require_dir(root, "COCO")
    path = root / "annotations" / f"person_keypoints_{split}.json"
    data = read_json(path, "COCO")
    files = {img["id"]: img["file_name"] for img in data["images"]}
    samples = []
    for a in data["annotations"]:
        if a.get("iscrowd", 0) or a.get("num_keypoints", 0) < min_keypoints:
            continue
        x, y, w, h = a["bbox"]
        if max(w, h) < min_box_side:
            continue
        kp = np.asarray(a["keypoints"], dtype=np.float64).reshape(17, 3)
        samples.append(PoseSample(skeleton="coco_17", joints2d_px=kp[:, :2].copy(), visible2d=kp[:, 2] > 0,
                                  image_path=str(root / split / files[a["image_id"]]),
                                  box_xyxy=np.array([x, y, x + w, y + h]), meta={"annotation_id": a.get("id")}))
    return samples
