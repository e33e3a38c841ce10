"""Evaluates lifter checkpoints on the held-out mocap and on real video, and writes the tables.

    python -m training.lifter.evaluate --models heads=RUN/lifter_heads.pt hybrid=RUN/lifter_hybrid.pt ... \
        --video-cache CACHE/video_keypoints.npz --json results.json --markdown results.md

Held-out mocap: every second window of the test clips (training.common.mocap.TEST_CLIPS and
TEST_MOTIONS), seen by fixed random virtual cameras with detector-like noise at several levels;
the same inputs for every model. Metrics on Monocap's body skeleton (all rigs) and on each rig's
own head: MPJPE, scaled MPJPE, PA-MPJPE, PCK@150mm, AUC; and the formats' disagreement (how far
apart the heads put the same body joint). Real video (no 3D truth): bone-length variation and
jitter of the lifter against the detector's own 3D, on frames training did not use.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from engine.core.keypoint_maps import map_keypoints
from engine.core.skeletons import MONOCAP_BODY
from engine.lift.nets.lifter_net import consistent_outputs, load_lifter
from training.common.metrics import table_row_m
from training.common.mocap import load_clips, split_of
from training.common.noise import NoiseConfig
from training.common.temporal_metrics import bone_length_variation, jitter
from training.lifter.data import RIG_NAMES, AugmentConfig, MocapData, MocapSource

SHARED_BODY = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_shoulder",
               "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")

CONDITIONS = {
    "clean": NoiseConfig().scaled(0.0),
    "noise x1": NoiseConfig(),
    "noise x2": NoiseConfig().scaled(2.0),
    "30% keypoints missing": replace(NoiseConfig(), drop_rate=0.6),
    "one limb missing": replace(NoiseConfig(), limb_drop_rate=1.0),
    "one limb swapped": replace(NoiseConfig(), swap_rate=1.0),
    "no detector 3D": replace(NoiseConfig(), det3d_rate=0.0),
}


class Model:
    def __init__(self, path: str):
        self.net, blob = load_lifter(path)
        dec = blob.get("decoder") or {}
        self.formats = list(dec.get("formats") or blob["extra"]["formats_order"])
        self.mode = dec.get("mode", "heads")
        self.enc, self.dec = dec.get("encoder"), dec.get("decoder")

    def __call__(self, b: dict) -> dict:
        t = lambda k: torch.as_tensor(b[k])
        with torch.no_grad():
            out = self.net(t("kp"), t("scores"), t("det3d"), t("det_valid"))
            out = consistent_outputs(out, self.formats, self.enc, self.dec, self.mode)
        return {k: v.numpy().astype(np.float64) for k, v in out.items()}


def held_out_batches(cfg: MocapData, window: int, target: int, noise: NoiseConfig, stride: int, seed: int) -> dict:
    clips, skeletons = load_clips(cfg.data_root, cfg.cache_dir)
    test = [c for c in clips if split_of(c) == "test"]
    aug = AugmentConfig(mirror=True, bone_scale=0.0, global_scale=(1.0, 1.0), noise=noise)
    out = {}
    for r in RIG_NAMES:
        src = MocapSource(test, skeletons[r], window, target)
        rng = np.random.default_rng(seed)
        out[r] = (src, src.sample(0, rng, aug, idx=np.arange(0, src.total, stride)))
    return out


def mocap_results(models: dict[str, Model], cfg: MocapData, stride: int = 2, seed: int = 123,
                  conditions: dict[str, NoiseConfig] = CONDITIONS) -> dict:
    any_model = next(iter(models.values()))
    window, target = any_model.net.window, any_model.net.target
    results: dict = {}
    mean_pose = None
    for cond, noise in conditions.items():
        data = held_out_batches(cfg, window, target, noise, stride, seed)
        if mean_pose is None:
            mean_pose = np.concatenate([b[MONOCAP_BODY.name] for _, b in data.values()]).mean(0)
        gt_body = np.concatenate([b[MONOCAP_BODY.name] for _, b in data.values()])
        res = {"mean pose (trivial)": table_row_m(np.broadcast_to(mean_pose, gt_body.shape), gt_body)}
        det = []
        for _, b in data.values():
            d = map_keypoints(b["det3d"][:, target].astype(np.float64), MONOCAP_BODY.name)
            det.append(d - d[:, :1])
        det = np.concatenate(det)
        valid = np.concatenate([b["det_valid"][:, target] for _, b in data.values()]) > 0
        if valid.any():
            res["simulated detector 3D"] = table_row_m(det[valid], gt_body[valid])
        for name, model in models.items():
            preds, per_rig, disagree = [], {}, []
            for r, (src, b) in data.items():
                out = model(b)
                preds.append(out[MONOCAP_BODY.name])
                per_rig[r] = table_row_m(out[r], b["rig"])
                body_idx = [MONOCAP_BODY.index(j) for j in SHARED_BODY]
                for r2 in RIG_NAMES:  # every rig head, mapped to the shared body joints, vs the body head
                    s2 = data[r2][0].synth
                    a = np.einsum("aj,njd->nad", s2.matrix, out[r2])
                    idx = [s2.anchor_names.index(j) for j in SHARED_BODY]
                    disagree.append(np.linalg.norm(a[:, idx] - out[MONOCAP_BODY.name][:, body_idx], axis=-1).mean())
            m = table_row_m(np.concatenate(preds), gt_body)
            m["format_disagreement_mm"] = float(np.mean(disagree) * 1000)
            m["per_rig"] = per_rig
            res[name] = m
        results[cond] = res
        print(f"evaluated {cond}", file=sys.stderr, flush=True)
    return results


def video_results(models: dict[str, str], video_cache: str, frames_from: int = 300) -> dict:
    from engine.lift.network import lift_keypoints

    data = np.load(video_cache)
    out = {}
    fps_of = {"taiji_720p": 23.98, "basketball_portrait": 12.0}
    for name in sorted({k.split(":")[0] for k in data.files}):
        kp, sc, world = data[f"{name}:kp"], data[f"{name}:scores"], data[f"{name}:world"]
        sel = slice(frames_from, None) if len(kp) > frames_from else slice(None)
        kp, sc, world = kp[sel], sc[sel], world[sel]
        fps = fps_of.get(name, 30.0)
        det = map_keypoints(world.astype(np.float64), MONOCAP_BODY.name)
        det = det - det[:, :1]
        rows = {"detector 3D": {"bone_cv": bone_length_variation(det, MONOCAP_BODY), "jitter_m_s2": jitter(det, fps)}}
        for mname, path in models.items():
            for causal in (False, True):
                j = lift_keypoints(kp, sc, None, MONOCAP_BODY.name, world, causal=causal, checkpoint=path, device="cpu")
                rows[f"{mname} ({'live' if causal else 'file'})"] = {
                    "bone_cv": bone_length_variation(j, MONOCAP_BODY), "jitter_m_s2": jitter(j, fps),
                    "mean_diff_to_detector_mm": float(np.linalg.norm(j - det, axis=-1).mean() * 1000)}
        label = (f"{name} (frames {sel.start}-{sel.start + len(kp) - 1}, not used in training)" if sel.start
                 else f"{name} (all frames; seen by the 2D-only training)")
        out[label] = rows
    return out


def markdown(results: dict) -> str:
    lines = []
    for cond, res in results.get("mocap", {}).items():
        lines += [f"### Held-out mocap, {cond}", "",
                  "| model | MPJPE mm | scaled MPJPE mm | PA-MPJPE mm | PCK@150 | AUC | format disagreement mm |",
                  "|---|---|---|---|---|---|---|"]
        for name, m in res.items():
            dis = f"{m['format_disagreement_mm']:.1f}" if "format_disagreement_mm" in m else "-"
            lines.append(f"| {name} | {m['mpjpe_mm']:.1f} | {m['scaled_mpjpe_mm']:.1f} | {m['pa_mpjpe_mm']:.1f} | "
                         f"{m['pck150']:.3f} | {m['auc']:.3f} | {dis} |")
        lines.append("")
    per = results.get("mocap", {}).get("noise x1", {})
    if per:
        lines += ["### Per rig head, noise x1 (MPJPE / PA-MPJPE mm)", "", "| model | " + " | ".join(RIG_NAMES) + " |",
                  "|---|" + "---|" * len(RIG_NAMES)]
        for name, m in per.items():
            if "per_rig" in m:
                lines.append(f"| {name} | " + " | ".join(
                    f"{m['per_rig'][r]['mpjpe_mm']:.1f} / {m['per_rig'][r]['pa_mpjpe_mm']:.1f}" for r in RIG_NAMES) + " |")
        lines.append("")
    for clip, rows in results.get("video", {}).items():
        lines += [f"### Real video: {clip}", "", "| mode | bone-length CV | jitter m/s^2 | mean distance to detector 3D mm |",
                  "|---|---|---|---|"]
        for name, m in rows.items():
            d = f"{m['mean_diff_to_detector_mm']:.0f}" if "mean_diff_to_detector_mm" in m else "-"
            lines.append(f"| {name} | {m['bone_cv']:.4f} | {m['jitter_m_s2']:.2f} | {d} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Evaluates lifter checkpoints.")
    ap.add_argument("--models", nargs="+", required=True, help="name=path ...")
    ap.add_argument("--data")
    ap.add_argument("--cache")
    ap.add_argument("--video-cache")
    ap.add_argument("--video-models", nargs="*", help="names of --models to run on real video (default: all)")
    ap.add_argument("--stride", type=int, default=2)
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = MocapData()
    cfg = replace(cfg, **{k: v for k, v in {"data_root": a.data, "cache_dir": a.cache}.items() if v})
    paths = dict(m.split("=", 1) for m in a.models)
    models = {n: Model(p) for n, p in paths.items()}
    results = {"mocap": mocap_results(models, cfg, a.stride)}
    if a.video_cache:
        names = a.video_models if a.video_models else list(paths)
        results["video"] = video_results({n: paths[n] for n in names}, a.video_cache)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2))
    md = markdown(results)
    if a.markdown:
        Path(a.markdown).write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
