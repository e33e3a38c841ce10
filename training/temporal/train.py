"""Trains the temporal stage on mocap sequences with detector-like errors; writes the engine's .npz.

    nice -n 10 python -m training.temporal.train --data ../shared/data --cache ~/.cache/monocap-training \
        --max-steps 12000 --seed 1 --out resources/models/temporal_net.npz

A step budget (--max-steps; the learning rate follows a cosine over it) trains the same recipe
however loaded the machine; a time budget (--minutes) stops where the clock says. --without
2d,scores (or 3d) leaves input groups out, for ablations. --seeds 1,2,3 trains one network per seed
in turn (each kept as OUT's name with .seedN under --cache/temporal_members, and reused there when
it holds the same recipe trained to the end) and writes them as one ensemble file: the engine
averages their corrections. One torch thread. A pool of sequences
(training.temporal.data) is drawn at the start and renewed a few sequences at a time while
training. Each sample is a window of the network's receptive field around a frame; the frames the
window may see are those of a file (every frame in the sequence), of a live source (none after
the centre, or 1-2 after it), or of a clip's start or end (none before or after some frame). The
loss is the mean distance between the corrected 3D and the truth over the 33 points (the 12 limb
joints weigh 1, the others LIMB_WEIGHT_OTHERS).
Test-split clips (training.common.mocap) are never drawn.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from engine.lift.nets.temporal_net import with_presence
from training.common.mocap import load_clips, split_of
from training.temporal.data import LIMB_POINTS, MocapSequences, Sequences, SynthConfig
from training.temporal.model import TemporalConvNet, save_ensemble, save_npz

LIMB_WEIGHT_OTHERS = 0.2


@dataclass(frozen=True)
class TrainConfig:
    minutes: float = 30.0  # 0: no time limit (max_steps ends the run)
    max_steps: int = 0  # 0: as many as the minutes allow
    channels: int = 128
    dilations: tuple[int, ...] = (3, 9)
    batch: int = 256
    lr: float = 1e-3
    pool: int = 2000  # sequences drawn at the start
    renew: int = 8  # sequences renewed every `renew_every` steps
    renew_every: int = 10
    live_share: float = 0.35
    edge_share: float = 0.15
    seed: int = 0
    correct: str = "xyz"  # the camera axes whose correction the model file keeps ("z": depth alone)
    without: tuple[str, ...] = ()  # input groups (INPUT_GROUPS) the network never sees: ablations


# the per-frame input's groups (engine.lift.nets.temporal_net.frame_features), for ablations
INPUT_GROUPS = {"2d": slice(0, 66), "scores": slice(66, 99), "3d": slice(99, 198)}


def drop_inputs(model: TemporalConvNet, groups: tuple[str, ...]) -> None:
    """Zeroes the first layer's weights on these input groups; with those inputs zeroed in every
    batch their gradients stay zero, so the model file ignores them in the engine too."""
    with torch.no_grad():
        for g in groups:
            model.conv_in.weight[:, INPUT_GROUPS[g]] = 0.0


def window_batch(seqs: Sequences, count: int, rf: int, rng: np.random.Generator,
                 cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """-> inputs (N, rf, C_in), fit3d and truth (N, 33, 3) of the centre frames, in which the
    window's frames are masked as a file, a live source or a clip's edge would have them."""
    b, t = seqs.present.shape
    half = rf // 2
    seq = rng.integers(0, b, count)
    centre = rng.integers(half, t - half, count)
    x = np.empty((count, rf, seqs.features.shape[2] + 1), np.float32)
    kind = rng.random(count)
    offs = np.arange(-half, half + 1)
    for n in range(count):
        present = seqs.present[seq[n], centre[n] - half:centre[n] + half + 1].copy()
        present[half] = True
        if kind[n] < cfg.live_share:
            present[half + 1 + rng.choice(3, p=(0.6, 0.2, 0.2)):] = False
        elif kind[n] < cfg.live_share + cfg.edge_share:
            m = rng.integers(0, half + 1)
            present[(offs < -m) if rng.random() < 0.5 else (offs > m)] = False
        x[n] = with_presence(seqs.features[seq[n], centre[n] - half:centre[n] + half + 1], present)
    for g in cfg.without:
        x[..., INPUT_GROUPS[g]] = 0.0
    return x, seqs.fit3d[seq, centre], seqs.truth3d[seq, centre], seq


def joint_weights() -> torch.Tensor:
    w = torch.full((33,), LIMB_WEIGHT_OTHERS)
    w[LIMB_POINTS] = 1.0
    return w / w.sum()


def loss_fn(model: TemporalConvNet, x: np.ndarray, fit3d: np.ndarray, truth: np.ndarray) -> torch.Tensor:
    pred = model(torch.from_numpy(x))[:, 0] + torch.from_numpy(fit3d)
    dist = torch.linalg.norm(pred - torch.from_numpy(truth), dim=-1)
    return (dist * joint_weights()).sum(-1).mean()


def train(source: MocapSequences, cfg: TrainConfig, out: Path, synth: SynthConfig = SynthConfig(),
          log=print, command: str = "") -> TemporalConvNet:
    """Trains and writes the model file (every 2 minutes and at the end); its `config` array records
    cfg, synth, the steps taken and `command` (the command line that trains it)."""
    if not (cfg.minutes or cfg.max_steps):
        raise ValueError("a training run needs a time budget or a step budget")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = TemporalConvNet(cfg.channels, cfg.dilations)
    drop_inputs(model, cfg.without)
    rf = model.receptive_field
    start = time.monotonic()
    pool = source.sample(cfg.pool, rng, synth)
    log(f"pool of {cfg.pool} sequences drawn in {time.monotonic() - start:.0f} s")
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    budget = cfg.minutes * 60 or math.inf
    start = time.monotonic()
    step, last_save, running = 0, start, []
    record = {"train": asdict(cfg), "synth": asdict(synth), "command": command}
    while True:
        done = (time.monotonic() - start) / budget
        if done >= 1 or (cfg.max_steps and step >= cfg.max_steps):
            break
        if cfg.max_steps:
            done = max(done, step / cfg.max_steps)
        for g in opt.param_groups:
            g["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * min(done, 1.0)))
        if step and step % cfg.renew_every == 0:
            fresh = source.sample(cfg.renew, rng, synth)
            slots = rng.choice(cfg.pool, cfg.renew, replace=False)
            for name in ("features", "present", "fit3d", "truth3d"):
                getattr(pool, name)[slots] = getattr(fresh, name)
        x, fit3d, truth, _ = window_batch(pool, cfg.batch, rf, rng, cfg)
        loss = loss_fn(model, x, fit3d, truth)
        opt.zero_grad()
        loss.backward()
        opt.step()
        running.append(loss.item())
        step += 1
        if step % 200 == 0 or step == cfg.max_steps:
            log(f"step {step} loss {np.mean(running) * 1000:.1f} mm ({(time.monotonic() - start) / 60:.1f} min)")
            running = []
        if time.monotonic() - last_save > 120:
            save_npz(model, record | {"steps": step}, out, cfg.correct)
            last_save = time.monotonic()
    save_npz(model, record | {"steps": step}, out, cfg.correct)
    log(f"{step} steps; wrote {out}")
    return model


def trained_member(path: Path, cfg: TrainConfig, synth: SynthConfig) -> bool:
    """Whether `path` holds a network of this recipe trained to its end (so an ensemble run reuses
    it); its time guard (minutes) may differ when the step budget ended the run."""
    if not path.exists() or not cfg.max_steps:
        return False
    with np.load(path, allow_pickle=False) as data:
        done = json.loads(str(data["config"])) if "config" in data.files else {}
    return (done.get("steps") == cfg.max_steps and done.get("synth") == json.loads(json.dumps(asdict(synth)))
            and {**done.get("train", {}), "minutes": cfg.minutes} == json.loads(json.dumps(asdict(cfg))))


def train_ensemble(source: MocapSequences, cfg: TrainConfig, seeds: list[int], members_dir: Path, out: Path,
                   synth: SynthConfig = SynthConfig(), log=print, command: str = "") -> None:
    """Trains one network per seed (the same recipe) and writes them as one ensemble file."""
    paths = []
    for seed in seeds:
        member_cfg = replace(cfg, seed=seed)
        path = members_dir / f"{out.stem}.seed{seed}.npz"
        if trained_member(path, member_cfg, synth):
            log(f"seed {seed}: reusing {path}")
        else:
            log(f"seed {seed}: training")
            path.parent.mkdir(parents=True, exist_ok=True)
            train(source, member_cfg, path, synth, log=log, command=command)
        paths.append(path)
    save_ensemble(paths, {"command": command, "seeds": seeds}, out)
    log(f"{len(paths)} members; wrote {out}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "monocap-training")
    ap.add_argument("--out", type=Path, default=Path("resources/models/temporal_net.npz"))
    ap.add_argument("--minutes", type=float, default=None,
                    help=f"time budget (default {TrainConfig.minutes:g}; with --max-steps, none unless given)")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--pool", type=int, default=TrainConfig.pool)
    ap.add_argument("--channels", type=int, default=TrainConfig.channels)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", default="", help="comma-separated seeds: one network each, written as one "
                    "ensemble file (the engine averages their corrections)")
    ap.add_argument("--correct", default=TrainConfig.correct, help="camera axes whose correction is kept")
    ap.add_argument("--without", default="", help=f"comma-separated input groups to leave out, for ablations "
                    f"({', '.join(INPUT_GROUPS)})")
    ap.add_argument("--bone-scale", type=float, default=SynthConfig.bone_scale,
                    help="spread of the per-bone length factors of the mocap (0: its own proportions)")
    a = ap.parse_args(argv)
    without = tuple(g for g in a.without.split(",") if g)
    unknown = set(without) - set(INPUT_GROUPS)
    if unknown:
        ap.error(f"--without: unknown input group(s) {', '.join(sorted(unknown))}; choose from {', '.join(INPUT_GROUPS)}")
    try:
        seeds = [int(v) for v in a.seeds.split(",") if v.strip()]
    except ValueError:
        ap.error(f"--seeds: expected comma-separated whole numbers, got {a.seeds!r}")
    torch.set_num_threads(1)
    clips, skeletons = load_clips(a.data, a.cache)
    source = MocapSequences([c for c in clips if split_of(c) == "train"], skeletons)
    minutes = a.minutes if a.minutes is not None else (0.0 if a.max_steps else TrainConfig.minutes)
    cfg = TrainConfig(minutes=minutes, max_steps=a.max_steps, pool=a.pool, channels=a.channels, seed=a.seed,
                      correct=a.correct, without=without)
    command = " ".join(["python -m training.temporal.train", *(sys.argv[1:] if argv is None else argv)])
    log = lambda m: print(m, file=sys.stderr, flush=True)
    synth = SynthConfig(bone_scale=a.bone_scale)
    if seeds:
        train_ensemble(source, cfg, seeds, a.cache / "temporal_members", a.out, synth, log=log, command=command)
    else:
        train(source, cfg, a.out, synth, log=log, command=command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
