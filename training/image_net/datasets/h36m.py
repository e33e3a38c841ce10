"""Human3.6M in the widely shared COCO-style JSON release (one set of files per subject).

Expected layout under the folder the user gives:

    <root>/annotations/Human36M_subject{N}_data.json      COCO-style "images" and "annotations"
    <root>/annotations/Human36M_subject{N}_camera.json    {cam: {"R": 3x3, "t": [3] mm, "f": [fx, fy], "c": [cx, cy]}}
    <root>/annotations/Human36M_subject{N}_joint_3d.json  {action: {subaction: {frame: [[x, y, z] x 17] world mm}}}
    <root>/images/<file_name of each image entry>

Each "images" entry has id, file_name, width, height, subject, action_idx, subaction_idx,
cam_idx, frame_idx; each "annotations" entry has image_id and bbox [x, y, w, h]. Camera
coordinates are `R @ X_world + t` (millimetres). The 17 joints are Human3.6M's evaluation
joints in the customary order, which is engine.core.skeletons.H36M_17's order. Training subjects are
1, 5, 6, 7, 8; test subjects 9 and 11.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.image_net.datasets.image_samples import PoseSample, read_json, require_dir

TRAIN_SUBJECTS = (1, 5, 6, 7, 8)
TEST_SUBJECTS = (9, 11)
ACTIONS = {2: "Directions", 3: "Discussion", 4: "Eating", 5: "Greeting", 6: "Phoning", 7: "Posing",
           8: "Purchases", 9: "Sitting", 10: "SittingDown", 11: "Smoking", 12: "Photo", 13: "Waiting",
           14: "Walking", 15: "WalkDog", 16: "WalkTogether"}


def read_h36m(root: str | Path, subjects=TRAIN_SUBJECTS, frame_step: int = 1,
              cameras: tuple[int, ...] | None = None) -> list[PoseSample]:
    """PoseSamples (skeleton h36m_17, 3D in camera metres) of the given subjects.

    frame_step keeps every n-th frame (5 is customary for training, 64 for a quick evaluation).
    """
    root = require_dir(root, "Human3.6M")
    samples: list[PoseSample] = []
    for subj in subjects:
        ann_dir = root / "annotations"
        data = read_json(ann_dir / f"Human36M_subject{subj}_data.json", "Human3.6M")
        cams = read_json(ann_dir / f"Human36M_subject{subj}_camera.json", "Human3.6M")
        joints = read_json(ann_dir / f"Human36M_subject{subj}_joint_3d.json", "Human3.6M")
        boxes = {a["image_id"]: a.get("bbox") for a in data.get("annotations", [])}
        for img in data["images"]:
            frame = int(img["frame_idx"])
            if frame % frame_step or (cameras is not None and int(img["cam_idx"]) not in cameras):
                continue
            cam = cams[str(img["cam_idx"])]
            R = np.asarray(cam["R"], dtype=np.float64).reshape(3, 3)
            t = np.asarray(cam["t"], dtype=np.float64).reshape(3)
            fx, fy = cam["f"]
            cx, cy = cam["c"]
            K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]])
            world = np.asarray(joints[str(img["action_idx"])][str(img["subaction_idx"])][str(frame)], dtype=np.float64)
            cam_mm = world @ R.T + t
            uvw = cam_mm @ K.T
            px = uvw[:, :2] / uvw[:, 2:3]
            box = boxes.get(img["id"])
            box_xyxy = None if box is None else np.array([box[0], box[1], box[0] + box[2], box[1] + box[3]], dtype=np.float64)
            samples.append(PoseSample(
                skeleton="h36m_17", joints2d_px=px, visible2d=np.ones(17, dtype=bool),
                image_path=str(root / "images" / img["file_name"]), joints3d_m=cam_mm / 1000.0, K_cam=K,
                box_xyxy=box_xyxy, subject=f"S{subj}",
                group=ACTIONS.get(int(img["action_idx"]), str(img["action_idx"])),
                meta={"camera": int(img["cam_idx"]), "frame": frame},
            ))
    return samples
