"""Trains the seed-1 image network (engine/lift/nets/image_pose_net.py) in the paper's two stages.

    stage "heatmap": 2D heatmap pre-training (latent heatmaps + the two intermediate heads) on
                     every data set's 2D labels;
    stage "joint":   joint training on batches that mix 3D-labelled and 2D-only images
                     (--fraction-3d), with the 3D, projection and bone-length losses; start it
                     from the stage-1 checkpoint with --init. --pretrained-lr-mult sets the
                     learning-rate discrepancy of the pre-trained layers (ResNet stages 1..4).

One GPU:        python -m training.image_net.train --stage heatmap --mpii DATA/mpii --h36m DATA/h36m ...
Several GPUs:   torchrun --nproc_per_node 4 -m training.image_net.train ...   (DistributedDataParallel)
Mixed precision on CUDA: --amp.   See docs/IMAGE_NETWORK.md for the data layouts and a recipe.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import ConcatDataset, DataLoader

from engine.core import skeletons
from engine.core.errors import MonocapError
from engine.lift.nets.checkpoint import load_checkpoint, save_checkpoint
from engine.lift.nets.image_pose_net import MODEL_REGISTRY, ImagePoseNet
from training.common.config_args import add_config_arguments, config_from_args
from training.common.distributed import Distributed, unwrapped
from training.image_net.augment import AugmentConfig
from training.image_net.data import ImagePoseDataset, MixedSampler
from training.image_net.datasets.image_samples import PoseSample, subject_bone_lengths
from training.image_net.losses import LossWeights, image_net_losses


@dataclass(frozen=True)
class ImageNetTrainConfig:
    stage: str = "joint"                  # "heatmap" (stage 1) or "joint" (stage 2)
    skeleton: str = "h36m_17"
    input_size: int = 256
    base_width: int = 64                  # 64: ResNet-50
    layers: tuple[int, ...] = (3, 4, 6)
    depth_channels: int | None = None
    regressor_hidden: int = 1024
    camera_hidden: int = 256
    steps: int = 200_000
    batch_size: int = 32                  # per GPU
    lr: float = 1e-3
    pretrained_lr_mult: float = 1.0       # lr of the pre-trained ResNet stages = lr * this
    lr_decay_at: tuple[float, ...] = (0.6, 0.85)  # fractions of `steps` where lr drops 10x
    weight_decay: float = 0.0
    fraction_3d: float = 0.5              # share of 3D-labelled samples per batch (stage 2)
    amp: bool = False                     # mixed precision (CUDA only)
    num_workers: int = 4
    seed: int = 0
    log_every: int = 100
    checkpoint_every: int = 5000
    box_scale: float = 1.25
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    loss: LossWeights = field(default_factory=LossWeights)
    init: str = ""                        # checkpoint to start from (the stage-1 result)
    backbone_weights: str = ""            # ImageNet ResNet-50 state dict in the usual layout
    out: str = "runs/image_net"


def build_model(cfg: ImageNetTrainConfig) -> ImagePoseNet:
    skel = skeletons.get(cfg.skeleton)
    return ImagePoseNet(num_joints=skel.num_joints, skeleton=skel.name, base_width=cfg.base_width,
                        layers=tuple(cfg.layers), depth_channels=cfg.depth_channels,
                        regressor_hidden=cfg.regressor_hidden, camera_hidden=cfg.camera_hidden,
                        input_size=cfg.input_size)


def load_backbone_weights(model: ImagePoseNet, path: str) -> int:
    """Loads ImageNet weights (a state dict with conv1/bn1/layer1..layer3 names) into stages 1..4."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state)
    own = model.backbone.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise MonocapError(f"{path}: no ResNet weights with matching names and shapes")
    model.backbone.load_state_dict(usable, strict=False)
    return len(usable)


def make_optimizer(model: ImagePoseNet, cfg: ImageNetTrainConfig) -> torch.optim.Optimizer:
    pre = {id(p) for m in model.pretrained_modules() for p in m.parameters()}
    pretrained = [p for p in model.parameters() if id(p) in pre]
    fresh = [p for p in model.parameters() if id(p) not in pre]
    return torch.optim.Adam([
        {"params": pretrained, "lr": cfg.lr * cfg.pretrained_lr_mult, "name": "pretrained"},
        {"params": fresh, "lr": cfg.lr, "name": "fresh"},
    ], lr=cfg.lr, weight_decay=cfg.weight_decay)


def _lr_factor(step: int, cfg: ImageNetTrainConfig) -> float:
    return 0.1 ** sum(step >= int(f * cfg.steps) for f in cfg.lr_decay_at)


def config_dict(cfg: ImageNetTrainConfig) -> dict:
    return json.loads(json.dumps(asdict(cfg), default=list))


def save_model(path: str | Path, model: ImagePoseNet, cfg: ImageNetTrainConfig, step: int, extra: dict | None = None) -> Path:
    net = unwrapped(model)
    return save_checkpoint(path, type(net).__name__, net.constructor_kwargs(), net.state_dict(), {
        "config": config_dict(cfg), "skeleton": net.skeleton, "box_scale": cfg.box_scale,
        "stage": cfg.stage, "step": step, **(extra or {})})


def train(cfg: ImageNetTrainConfig, samples_3d: list[PoseSample], samples_2d: list[PoseSample],
          model: ImagePoseNet | None = None, device: str | torch.device | None = None,
          on_log: Callable[[int, dict], None] | None = None) -> tuple[ImagePoseNet, list[dict]]:
    """Runs `cfg.steps` steps of `cfg.stage`; returns the model and the logged losses.

    Under torchrun (torch.distributed initialised) the model is wrapped in DDP and each rank
    draws its own samples. Checkpoints go to cfg.out (rank 0) every cfg.checkpoint_every steps.
    """
    dist = Distributed()
    rank, world = dist.rank, dist.world
    device = torch.device(device) if device is not None else dist.device
    torch.manual_seed(cfg.seed + rank)
    if model is None:
        model = build_model(cfg)
        if cfg.init:
            init, _ = load_checkpoint(cfg.init, MODEL_REGISTRY)
            model.load_state_dict(init.state_dict())
        elif cfg.backbone_weights:
            load_backbone_weights(model, cfg.backbone_weights)
    model = dist.wrap(model.to(device).train(), find_unused_parameters=cfg.stage == "heatmap", sync_batchnorm=True)
    net = unwrapped(model)
    skel = skeletons.get(cfg.skeleton)
    bones = torch.tensor(skel.bones, device=device)
    bank = subject_bone_lengths(samples_3d, cfg.skeleton)
    bone_bank = torch.tensor(bank, dtype=torch.float32, device=device) if len(bank) else None
    if cfg.stage == "heatmap":  # every labelled image counts as 2D in stage 1
        samples_2d, samples_3d = list(samples_3d) + list(samples_2d), []
    make = lambda s: ImagePoseDataset(s, cfg.skeleton, cfg.input_size, cfg.box_scale, cfg.augment, cfg.seed)
    data = ConcatDataset([make(samples_3d), make(samples_2d)])
    sampler = MixedSampler(len(samples_3d), len(samples_2d), cfg.fraction_3d, rank=rank, world_size=world, seed=cfg.seed)
    loader = DataLoader(data, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.num_workers,
                        drop_last=len(sampler) >= cfg.batch_size, pin_memory=device.type == "cuda",
                        persistent_workers=cfg.num_workers > 0)
    optimizer = make_optimizer(net, cfg)
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    history: list[dict] = []
    step, epoch, t0 = 0, 0, time.time()
    running: dict[str, float] = {}
    while step < cfg.steps:
        sampler.set_epoch(epoch)
        epoch += 1
        for batch in loader:
            if step >= cfg.steps:
                break
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            for g, base in zip(optimizer.param_groups, base_lrs):
                g["lr"] = base * _lr_factor(step, cfg)
            with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                out = model(batch["image"])
            terms = image_net_losses(out, batch, bones, cfg.stage, cfg.loss, bone_bank)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(terms["total"]).backward()
            scaler.step(optimizer)
            scaler.update()
            step += 1
            for k, v in terms.items():
                running[k] = running.get(k, 0.0) + float(v.detach())
            if step % cfg.log_every == 0 or step == cfg.steps:
                n = cfg.log_every if step % cfg.log_every == 0 else step % cfg.log_every
                entry = {"step": step, **{k: v / n for k, v in running.items()}, "seconds": time.time() - t0}
                running = {}
                history.append(entry)
                if on_log is not None and rank == 0:
                    on_log(step, entry)
            if rank == 0 and cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                save_model(Path(cfg.out) / f"{cfg.stage}_step{step}.pt", net, cfg, step)
    return net, history


_HELP = {
    "base_width": "64: ResNet-50",
    "layers": "blocks of ResNet stages 2..4 (3,4,6: ResNet-50)",
    "pretrained_lr_mult": "learning-rate multiplier of the pre-trained ResNet stages (e.g. 0.1)",
    "lr_decay_at": "fractions of --steps where the learning rate drops 10x",
    "amp": "mixed precision (CUDA)",
    "init": "checkpoint to start from (stage 2: the stage-1 result)",
    "backbone_weights": "ImageNet ResNet-50 weights (state dict) for stage 1",
}


def _parse(argv: list[str] | None) -> tuple[ImageNetTrainConfig, argparse.Namespace]:
    p = argparse.ArgumentParser(prog="python -m training.image_net.train", description=__doc__.split("\n")[0])
    for name in ("h36m", "mpi-inf-3dhp", "mpii", "lsp", "lsp-extended", "coco"):
        p.add_argument(f"--{name}", default="", metavar="DIR", help=f"root folder of {name} (layout: docs/IMAGE_NETWORK.md)")
    p.add_argument("--h36m-frame-step", type=int, default=5)
    p.add_argument("--h36m-subjects", default="1,5,6,7,8", help="training subjects")
    p.add_argument("--mpi-inf-3dhp-frame-step", type=int, default=10)
    p.add_argument("--no-augment", action="store_true")
    add_config_arguments(p, ImageNetTrainConfig, help=_HELP, choices={"stage": ("heatmap", "joint")},
                         required=("stage",))
    a = p.parse_args(argv)
    return config_from_args(a, ImageNetTrainConfig, augment=None if a.no_augment else AugmentConfig()), a


def load_training_samples(a: argparse.Namespace) -> tuple[list[PoseSample], list[PoseSample]]:
    from training.image_net.datasets.coco import read_coco
    from training.image_net.datasets.h36m import read_h36m
    from training.image_net.datasets.lsp import read_lsp
    from training.image_net.datasets.mpi_inf_3dhp import read_mpi_inf_3dhp_train
    from training.image_net.datasets.mpii import read_mpii

    s3: list[PoseSample] = []
    s2: list[PoseSample] = []
    if a.h36m:
        s3 += read_h36m(a.h36m, tuple(int(v) for v in a.h36m_subjects.split(",")), frame_step=a.h36m_frame_step)
    if a.mpi_inf_3dhp:
        s3 += read_mpi_inf_3dhp_train(a.mpi_inf_3dhp, frame_step=a.mpi_inf_3dhp_frame_step)
    if a.mpii:
        s2 += read_mpii(a.mpii, "train")
    if a.lsp:
        s2 += read_lsp(a.lsp)
    if a.lsp_extended:
        s2 += read_lsp(a.lsp_extended)
    if a.coco:
        s2 += read_coco(a.coco, "train2017")
    if not s3 and not s2:
        raise MonocapError("no training data: give at least one of --h36m, --mpi-inf-3dhp, --mpii, --lsp, --coco")
    return s3, s2


def main(argv: list[str] | None = None) -> int:
    cfg, args = _parse(argv)
    dist = Distributed()  # under torchrun: starts the process group for the whole run
    rank = dist.rank
    try:
        s3, s2 = load_training_samples(args)
        if cfg.stage == "joint" and not s3:
            raise MonocapError("stage 'joint' needs a 3D data set (--h36m or --mpi-inf-3dhp)")
        if rank == 0:
            print(f"{len(s3)} 3D-labelled and {len(s2)} 2D-only samples; stage {cfg.stage}", flush=True)
        log = lambda step, e: print(json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in e.items()}), flush=True)
        model, history = train(cfg, s3, s2, on_log=log)
        if rank == 0:
            path = save_model(Path(cfg.out) / f"{cfg.stage}_final.pt", model, cfg, cfg.steps)
            (Path(cfg.out) / f"{cfg.stage}_history.json").write_text(json.dumps(history, indent=1))
            print(f"saved {path}")
    except MonocapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        dist.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
