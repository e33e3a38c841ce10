"""Evaluates an image-network checkpoint in the paper's three protocols.

    python -m training.image_net.evaluate CHECKPOINT --mpi-inf-3dhp DATA/3dhp   (test set, per scene type)
    python -m training.image_net.evaluate CHECKPOINT --h36m DATA/h36m            (subjects 9 and 11, per action)

Crops are centred on the ground-truth box (no augmentation); predictions and ground truth are
compared root-relative in the crop's virtual camera, in millimetres, on the joints the data set
and the network's skeleton share. Reports MPJPE, 3D PCK@150mm and AUC (0-150 mm), unscaled,
globally scaled and after Procrustes alignment (training/common/metrics.py), as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch
from torch.utils.data import DataLoader

from engine.core.errors import MonocapError
from engine.lift.nets.checkpoint import load_checkpoint
from engine.lift.nets.image_pose_net import MODEL_REGISTRY, decode_heatmaps
from training.common import metrics
from training.image_net.data import ImagePoseDataset
from training.image_net.datasets.image_samples import PoseSample


@torch.no_grad()
def predict(model, dataset: ImagePoseDataset, batch_size: int = 32, device: str | torch.device = "cpu") -> dict:
    """Runs the model over the dataset (its own crops). Arrays: pred3d/gt3d (N, J, 3) metres,
    valid3d (N, J), pred2d/gt2d (N, J, 2) normalised crop coords, vis2d (N, J)."""
    model = model.to(device).eval()
    out: dict[str, list] = {k: [] for k in ("pred3d", "gt3d", "valid3d", "pred2d", "gt2d", "vis2d")}
    root = dataset.root
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        res = model(batch["image"].to(device))
        p3 = res["pose3d"].float().cpu()
        out["pred3d"].append(p3 - p3[:, root:root + 1])
        out["gt3d"].append(batch["pose3d"])
        out["valid3d"].append(batch["valid3d"] > 0)
        out["pred2d"].append(decode_heatmaps(res["heatmaps"]).cpu())
        out["gt2d"].append(batch["joints2d"])
        out["vis2d"].append(batch["vis2d"] > 0)
    return {k: torch.cat(v).numpy() for k, v in out.items()}


def evaluate_samples(model, samples: list[PoseSample], box_scale: float = 1.25, batch_size: int = 32,
                     device: str | torch.device = "cpu") -> dict:
    """metrics.evaluate on the 3D samples, by sample group; plus the mean 2D error (normalised)."""
    data = ImagePoseDataset(samples, model.skeleton, model.input_size, box_scale, augment=None)
    res = predict(model, data, batch_size, device)
    keep = res["valid3d"].any(axis=1)
    groups = np.array([s.group or "all" for s in samples])[keep]
    report = metrics.evaluate(res["pred3d"][keep] * 1000, res["gt3d"][keep] * 1000, units="mm",
                              valid=res["valid3d"][keep], groups=groups)
    err2d = np.linalg.norm(res["pred2d"] - res["gt2d"], axis=-1)
    report["error2d_norm"] = float(err2d[res["vis2d"]].mean()) if res["vis2d"].any() else float("nan")
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.image_net.evaluate", description=__doc__.split("\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--h36m", default="")
    p.add_argument("--h36m-frame-step", type=int, default=64)
    p.add_argument("--mpi-inf-3dhp", default="")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--out", default="", help="also write the report to this JSON file")
    a = p.parse_args(argv)
    try:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model, payload = load_checkpoint(a.checkpoint, MODEL_REGISTRY, device)
        box_scale = payload.get("extra", {}).get("box_scale", 1.25)
        reports = {}
        if a.h36m:
            from training.image_net.datasets.h36m import TEST_SUBJECTS, read_h36m

            reports["h36m"] = evaluate_samples(model, read_h36m(a.h36m, TEST_SUBJECTS, a.h36m_frame_step),
                                               box_scale, a.batch_size, device)
        if a.mpi_inf_3dhp:
            from training.image_net.datasets.mpi_inf_3dhp import read_mpi_inf_3dhp_test

            reports["mpi_inf_3dhp"] = evaluate_samples(model, read_mpi_inf_3dhp_test(a.mpi_inf_3dhp),
                                                       box_scale, a.batch_size, device)
        if not reports:
            raise MonocapError("nothing to evaluate: give --h36m and/or --mpi-inf-3dhp")
    except MonocapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(reports, indent=2)
    print(text)
    if a.out:
        from engine.core.atomic import write_text_atomic

        write_text_atomic(a.out, text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
