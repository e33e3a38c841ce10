"""Trains the 3D lifter: separate heads per skeleton format, then the affine-combining
autoencoder, then consistency fine-tuning (three variants), and writes the model file.

    python -m training.lifter.train --preset shipped --data ../shared/data \
        --cache ~/.cache/monocap-training --out resources/models/lifter.pt

Stages (every stage's time is a wall-clock budget, so a preset's total time is known):
  1. heads: mocap seen by random virtual cameras with detector-like noise (3D, projection and
     bone losses) mixed with the detector's keypoints on real video (projection and bone losses).
  2. autoencoder: fitted to the stage-1 model's predictions of every format on training inputs.
  3. fine-tuning from stage 1, once per variant: "regularize" (outputs pulled onto the
     autoencoder's latent space), "latent" (the model predicts the latent points directly),
     "hybrid" (all joints predicted, then encoded and decoded; losses on both).
Checkpoints (model constructor arguments, skeletons, autoencoder, config) are written every
two minutes and at the end of each stage in --workdir. Runs under torchrun (DistributedDataParallel;
gloo on CPU, NCCL on CUDA): each process draws its own samples, rank 0 writes the files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from engine.core.skeletons import MEDIAPIPE_33, MONOCAP_BODY
from engine.lift.nets.lifter_net import LifterNet, consistent_outputs, save_lifter
from training.common.distributed import Distributed
from training.common.mocap import load_clips, split_of
from training.common.noise import NoiseConfig
from training.lifter.autoencoder import concat_permutation, fit_autoencoder
from training.lifter.data import RIG_NAMES, AugmentConfig, MocapData, MocapSource, VideoSource

FORMATS = RIG_NAMES + (MONOCAP_BODY.name, MEDIAPIPE_33.name)
VARIANTS = ("regularize", "latent", "hybrid")


@dataclass(frozen=True)
class TrainConfig:
    data_root: str = MocapData.data_root
    cache_dir: str = MocapData.cache_dir
    video_cache: str = ""  # .npz from training.common.video_keypoints; empty: no 2D-only samples
    video_frames: tuple[int, int] = (0, 300)  # frames of each video used for training
    workdir: str = "lifter_run"
    out: str = ""  # the shipped model file written at the end (the `ship` variant)
    window: int = 1
    target: int = -1
    width: int = 512
    blocks: int = 2
    batch: dict = field(default_factory=lambda: {"cmu_iclone": 96, "cmu_daz": 96, "cmu_asf": 32})
    video_batch: int = 32
    lr: float = 1e-3
    heads_minutes: float = 22.0
    heads_steps: int = 0  # >0: a step budget instead of minutes (tests, DDP reproducibility)
    finetune_minutes: float = 4.0
    finetune_steps: int = 0
    finetune_lr: float = 3e-4
    ae_samples: int = 12000
    ae_steps: int = 3000
    ae_side_pairs: int = 24
    ae_central: int = 16
    ae_sparsity: float = 1e-4
    ae_lr: float = 1e-2
    init_heads: str = ""  # a stage-1 checkpoint to start from (skips stage 1)
    consistency_weight: float = 1.0
    variants: tuple[str, ...] = VARIANTS
    ship: str = "regularize"  # best on held-out mocap in docs/RESULTS.md
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    seed: int = 0
    threads: int = 1


PRESETS = {
    # What the committed resources/models/lifter.pt came from (about 40 minutes on 2 CPU cores).
    "quick": {"heads_minutes": 38.0, "finetune_minutes": 4.0},
    # The documented from-scratch command: about 95 minutes on 2 CPU cores.
    "shipped": {"heads_minutes": 60.0, "finetune_minutes": 10.0, "ae_steps": 3000, "ae_samples": 20000},
    # Seconds; for tests.
    "smoke": {"heads_minutes": 0, "heads_steps": 20, "finetune_minutes": 0, "finetune_steps": 5,
              "ae_samples": 512, "ae_steps": 20, "width": 64, "blocks": 1, "ae_side_pairs": 6, "ae_central": 4},
}


def _no_noise(cfg: TrainConfig) -> TrainConfig:
    keep_3d = NoiseConfig().scaled(0.0)
    return replace(cfg, augment=replace(cfg.augment, noise=keep_3d))


ABLATIONS = {
    "none": lambda cfg: cfg,
    "noise": _no_noise,  # clean 2D and a perfect detector 3D
    "swaps": lambda cfg: replace(cfg, augment=replace(cfg.augment, noise=replace(cfg.augment.noise, swap_rate=0.0,
                                                                                 full_swap_rate=0.0))),
    "bones": lambda cfg: replace(cfg, augment=replace(cfg.augment, bone_scale=0.0, global_scale=(1.0, 1.0))),
    "mirror": lambda cfg: replace(cfg, augment=replace(cfg.augment, mirror=False)),
    "video": lambda cfg: replace(cfg, video_cache=""),
    "det3d": lambda cfg: replace(cfg, augment=replace(cfg.augment, noise=replace(cfg.augment.noise, det3d_rate=0.0))),
}


class Batches:
    """Draws mixed training batches; returns torch tensors and the slice of each source."""

    def __init__(self, cfg: TrainConfig, split: str = "train"):
        clips, self.skeletons = load_clips(cfg.data_root, cfg.cache_dir)
        clips = [c for c in clips if split_of(c) == split]
        self.sources = {r: MocapSource(clips, self.skeletons[r], cfg.window, cfg.target) for r in RIG_NAMES}
        self.video = None
        if cfg.video_cache and Path(cfg.video_cache).is_file() and cfg.video_batch > 0:
            self.video = VideoSource(cfg.video_cache, cfg.window, cfg.target, slice(*cfg.video_frames))
        self.cfg = cfg

    def draw(self, rng: np.random.Generator, device: torch.device, aug: AugmentConfig | None = None) -> tuple[dict, dict]:
        aug = aug or self.cfg.augment
        parts, slices, start = [], {}, 0
        for r, n in self.cfg.batch.items():
            b = self.sources[r].sample(n, rng, aug)
            parts.append(b)
            slices[r] = slice(start, start + n)
            start += n
        if self.video is not None:
            b = self.video.sample(self.cfg.video_batch, rng)
            parts.append(b)
            slices["video"] = slice(start, start + self.cfg.video_batch)
        keys = ("kp", "scores", "det3d", "det_valid", "target_2d", "target_2d_w")
        batch = {k: torch.as_tensor(np.concatenate([p[k] for p in parts]), device=device) for k in keys}
        for r, p in zip(self.cfg.batch, parts):
            for k in ("rig", MONOCAP_BODY.name, MEDIAPIPE_33.name):
                batch[f"{r}:{k}"] = torch.as_tensor(p[k], device=device)
        return batch, slices


def bone_reference(batches: Batches, rng: np.random.Generator) -> torch.Tensor:
    clean = replace(batches.cfg.augment, bone_scale=0.0, global_scale=(1.0, 1.0))
    lengths = []
    for r in RIG_NAMES:
        b = batches.sources[r].sample(2000, rng, clean)
        lengths.append(MONOCAP_BODY.bone_lengths(b[MONOCAP_BODY.name]))
    return torch.as_tensor(np.concatenate(lengths).mean(0), dtype=torch.float32)


_BONES = torch.tensor(MONOCAP_BODY.bones)


def _bone_lengths(j: torch.Tensor) -> torch.Tensor:
    return (j[:, _BONES[:, 1]] - j[:, _BONES[:, 0]]).norm(dim=-1)


def _mirror_bone_index() -> torch.Tensor:
    perm = MONOCAP_BODY.mirror_permutation()
    bones = MONOCAP_BODY.bones
    index = {b: i for i, b in enumerate(bones)}
    return torch.tensor([index[(perm[p], perm[c])] for p, c in bones])


def task_loss(out: dict, batch: dict, slices: dict, bone_ref: torch.Tensor) -> tuple[torch.Tensor, dict]:
    parts = {}
    l3 = 0.0
    for r in RIG_NAMES:
        if r not in slices:
            continue
        s = slices[r]
        l3 = l3 + (out[r][s] - batch[f"{r}:rig"]).abs().mean()
        for f in (MONOCAP_BODY.name, MEDIAPIPE_33.name):
            l3 = l3 + (out[f][s] - batch[f"{r}:{f}"]).abs().mean()
    parts["l1_3d"] = l3 / (3 * len(RIG_NAMES))
    cam = out["camera"]
    mp = out[MEDIAPIPE_33.name]
    uv = cam[:, None, :1] * mp[..., :2] + cam[:, None, 1:]
    w = batch["target_2d_w"]
    parts["proj"] = ((uv - batch["target_2d"]).abs().sum(-1) * w).sum() / w.sum().clamp(min=1.0)
    bl = _bone_lengths(out[MONOCAP_BODY.name])
    parts["bone_sym"] = (bl - bl[:, _mirror_bone_index()]).abs().mean()
    if "video" in slices:
        parts["bone_ref"] = (bl[slices["video"]] - bone_ref.to(bl.device)).abs().mean()
    total = parts["l1_3d"] + 0.5 * parts["proj"] + 0.2 * parts["bone_sym"] + 0.5 * parts.get("bone_ref", 0.0)
    return total, parts


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _heads(model: torch.nn.Module) -> LifterNet:
    return model.module if hasattr(model, "module") else model


def run_stage(name: str, model: torch.nn.Module, batches: Batches, cfg: TrainConfig, dist: Distributed, minutes: float,
              steps: int, lr: float, bone_ref: torch.Tensor, variant: str = "heads", enc=None, dec=None,
              save=None) -> None:
    rng = np.random.default_rng(cfg.seed * 1000 + dist.rank + hash(name) % 997)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    model.train()
    start = last_save = time.time()
    step = 0
    running: dict[str, float] = {}
    while True:
        frac = step / steps if steps > 0 else (time.time() - start) / max(minutes * 60, 1e-9)
        if dist.any(frac >= 1.0):
            break
        for g in opt.param_groups:
            warmup = min(1.0, (step + 1) / 200) if variant == "heads" else 1.0
            g["lr"] = lr * warmup * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0)))
        batch, slices = batches.draw(rng, dist.device)
        out = model(batch["kp"], batch["scores"], batch["det3d"], batch["det_valid"])
        formats = list(FORMATS)
        if variant == "regularize":
            loss, parts = task_loss(out, batch, slices, bone_ref)
            joints = torch.cat([out[f] for f in formats], dim=1)
            recon = torch.einsum("jk,bkd->bjd", dec, torch.einsum("kj,bjd->bkd", enc, joints))
            parts["consistency"] = (recon - joints).abs().mean()
            loss = loss + cfg.consistency_weight * parts["consistency"]
        elif variant == "latent":
            loss, parts = task_loss(consistent_outputs(out, formats, enc, dec, "latent"), batch, slices, bone_ref)
        elif variant == "hybrid":
            raw, parts_raw = task_loss(out, batch, slices, bone_ref)
            loss, parts = task_loss(consistent_outputs(out, formats, enc, dec, "hybrid"), batch, slices, bone_ref)
            loss = 0.5 * (loss + raw)
            parts["raw_l1_3d"] = parts_raw["l1_3d"]
        else:
            loss, parts = task_loss(out, batch, slices, bone_ref)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        for k, v in parts.items():
            v = float(v.detach()) if torch.is_tensor(v) else float(v)
            running[k] = 0.98 * running.get(k, v) + 0.02 * v
        step += 1
        if dist.main and (step % 100 == 0 or step == 1):
            elapsed = time.time() - start
            _progress(f"[{name}] step {step} {100 * min(frac, 1):.0f}% {elapsed / 60:.1f} min loss={float(loss.detach()):.4f} "
                      + " ".join(f"{k}={v:.4f}" for k, v in running.items()))
        if dist.main and save is not None and time.time() - last_save > 120:
            save(step)
            last_save = time.time()
    if dist.main and save is not None:
        save(step)
    _progress(f"[{name}] done: {step} steps in {(time.time() - start) / 60:.1f} min")


def collect_predictions(model: LifterNet, batches: Batches, count: int, device: torch.device, seed: int) -> np.ndarray:
    """Every format's joints for mocap samples, for fitting the autoencoder: labels where the sample
    has them (its rig, the body skeleton, the 33 points), the model's predictions for the other rigs.
    Inputs carry little noise and the detector's 3D, so the predictions are the model at its best."""
    rng = np.random.default_rng(seed)
    aug = replace(batches.cfg.augment, noise=replace(NoiseConfig().scaled(0.25), det3d_rate=1.0))
    model.eval()
    chunks = []
    n = 0
    with torch.no_grad():
        while n < count:
            batch, slices = batches.draw(rng, device, aug)
            out = model(batch["kp"], batch["scores"], batch["det3d"], batch["det_valid"])
            for r in RIG_NAMES:
                s = slices[r]
                parts = []
                for f in FORMATS:
                    if f == r:
                        parts.append(batch[f"{r}:rig"])
                    elif f in (MONOCAP_BODY.name, MEDIAPIPE_33.name):
                        parts.append(batch[f"{r}:{f}"])
                    else:
                        parts.append(out[f][s])
                chunks.append(torch.cat(parts, dim=1).cpu().numpy())
                n += len(chunks[-1])
    model.train()
    return np.concatenate(chunks)[:count]


def train(cfg: TrainConfig) -> dict[str, Path]:
    torch.set_num_threads(cfg.threads)
    dist = Distributed()
    torch.manual_seed(cfg.seed)
    work = Path(cfg.workdir)
    if dist.main:
        work.mkdir(parents=True, exist_ok=True)
        (work / "config.json").write_text(json.dumps(asdict(cfg), indent=2, default=str))
    batches = Batches(cfg)
    rng = np.random.default_rng(cfg.seed)
    bone_ref = bone_reference(batches, rng)
    skeletons = dict(batches.skeletons) | {MONOCAP_BODY.name: MONOCAP_BODY, MEDIAPIPE_33.name: MEDIAPIPE_33}
    formats = {f: skeletons[f].num_joints for f in FORMATS}
    model = LifterNet(formats, window=cfg.window, target=cfg.target, width=cfg.width, blocks=cfg.blocks).to(dist.device)
    extra = {"config": asdict(cfg), "formats_order": list(FORMATS), "bone_reference_m": bone_ref.tolist()}
    heads_path = work / "lifter_heads.pt"

    def save_heads(step: int) -> None:
        save_lifter(heads_path, _heads(ddp), skeletons, extra | {"stage": "heads", "step": step},
                    {"mode": "heads", "formats": list(FORMATS)})

    ddp = dist.wrap(model)
    _progress(f"training heads: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters, "
              f"{sum(s.total for s in batches.sources.values())} mocap windows, "
              f"{batches.video.total if batches.video else 0} video windows, world size {dist.world}")
    if cfg.init_heads:
        from engine.lift.nets.lifter_net import load_lifter

        start, _ = load_lifter(cfg.init_heads, dist.device)
        model.load_state_dict(start.state_dict())
        if dist.main:
            save_heads(0)
        _progress(f"stage 1 taken from {cfg.init_heads}")
    else:
        run_stage("heads", ddp, batches, cfg, dist, cfg.heads_minutes, cfg.heads_steps, cfg.lr, bone_ref,
                  save=save_heads)
    heads_state = {k: v.clone() for k, v in model.state_dict().items()}

    paths = {"heads": heads_path}
    if not cfg.variants:
        dist.close()
        return paths
    # Autoencoder: every process fits the same one (same seed, same data on rank 0's draw).
    preds = collect_predictions(model, batches, cfg.ae_samples, dist.device, cfg.seed + 7)
    perm = concat_permutation([skeletons[f].mirror_permutation() for f in FORMATS])
    ae = fit_autoencoder(preds, perm, steps=cfg.ae_steps, side_pairs=cfg.ae_side_pairs, central=cfg.ae_central,
                         sparsity=cfg.ae_sparsity, lr=cfg.ae_lr, seed=cfg.seed,
                         log=_progress if dist.main else (lambda m: None))
    enc = ae.encoder_weights().detach().to(dist.device)
    dec = ae.decoder_weights().detach().to(dist.device)
    if dist.main:
        torch.save({"kwargs": ae.config(), "state_dict": ae.state_dict(), "formats": list(FORMATS)}, work / "autoencoder.pt")
    for variant in cfg.variants:
        latent = variant == "latent"
        vmodel = LifterNet(formats, window=cfg.window, target=cfg.target, width=cfg.width, blocks=cfg.blocks,
                           latent_points=ae.num_latent if latent else 0).to(dist.device)
        vmodel.load_state_dict(heads_state, strict=False)
        if latent:  # start where the heads were: latent = E (W h + b)
            with torch.no_grad():
                w = torch.cat([vmodel.heads[f].weight.reshape(-1, 3, cfg.width) for f in FORMATS], dim=0)
                b = torch.cat([vmodel.heads[f].bias.reshape(-1, 3) for f in FORMATS], dim=0)
                vmodel.latent_head.weight.copy_(torch.einsum("kj,jdw->kdw", enc.cpu(), w.cpu()).reshape(-1, cfg.width))
                vmodel.latent_head.bias.copy_(torch.einsum("kj,jd->kd", enc.cpu(), b.cpu()).reshape(-1))
        path = work / f"lifter_{variant}.pt"
        mode = {"regularize": "heads", "latent": "latent", "hybrid": "hybrid"}[variant]
        decoder = {"mode": mode, "formats": list(FORMATS), "encoder": enc.cpu(), "decoder": dec.cpu()}
        vddp = dist.wrap(vmodel)

        def save_variant(step: int, path=path, vddp=vddp, decoder=decoder, variant=variant) -> None:
            save_lifter(path, _heads(vddp), skeletons, extra | {"stage": variant, "step": step}, decoder)

        run_stage(variant, vddp, batches, cfg, dist, cfg.finetune_minutes, cfg.finetune_steps, cfg.finetune_lr,
                  bone_ref, variant=variant, enc=enc, dec=dec, save=save_variant)
        paths[variant] = path
    if dist.main and cfg.out:
        src = paths.get(cfg.ship, heads_path)
        Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(cfg.out).with_suffix(".tmp")
        tmp.write_bytes(src.read_bytes())
        tmp.replace(cfg.out)
        _progress(f"wrote {cfg.out} (variant {cfg.ship})")
    dist.close()
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Trains Monocap's 3D lifter.")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="shipped")
    ap.add_argument("--data", help="the shared data folder (mocap/, video/)")
    ap.add_argument("--cache", help="cache folder for parsed mocap")
    ap.add_argument("--video-cache", help=".npz from training.common.video_keypoints (2D-only samples)")
    ap.add_argument("--workdir", default="lifter_run")
    ap.add_argument("--out", default="", help="write the shipped variant here (e.g. resources/models/lifter.pt)")
    ap.add_argument("--heads-minutes", type=float)
    ap.add_argument("--heads-steps", type=int, help="a step budget for stage 1 instead of minutes")
    ap.add_argument("--finetune-minutes", type=float)
    ap.add_argument("--window", type=int)
    ap.add_argument("--ship", choices=("heads",) + VARIANTS)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--init-heads", help="start from this stage-1 checkpoint (skip stage 1)")
    ap.add_argument("--variants", help="comma-separated fine-tuning variants, or 'none'")
    ap.add_argument("--width", type=int)
    ap.add_argument("--ablate", choices=sorted(ABLATIONS), default="none",
                    help="train without one part of the augmentation (to measure what it buys)")
    a = ap.parse_args(argv)
    cfg = replace(TrainConfig(), **PRESETS[a.preset])
    over = {"data_root": a.data, "cache_dir": a.cache, "video_cache": a.video_cache, "heads_minutes": a.heads_minutes,
            "finetune_minutes": a.finetune_minutes, "window": a.window, "init_heads": a.init_heads,
            "heads_steps": a.heads_steps, "ship": a.ship, "threads": a.threads,
            "seed": a.seed}
    cfg = replace(cfg, workdir=a.workdir, out=a.out, **{k: v for k, v in over.items() if v is not None})
    if a.variants:
        cfg = replace(cfg, variants=() if a.variants == "none" else tuple(a.variants.split(",")))
    if a.width:
        cfg = replace(cfg, width=a.width)
    cfg = ABLATIONS[a.ablate](cfg)
    if cfg.window > 1 and a.window is not None:
        cfg = replace(cfg, target=cfg.window // 2 if a.window else -1)
    train(cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
