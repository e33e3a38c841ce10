"""The set-up the training scripts share: options made from a config dataclass, and the
distributed set-up in one process and in two real Gloo processes."""

from __future__ import annotations

import argparse
import os
import socket
from dataclasses import dataclass

import pytest
import torch
import torch.multiprocessing as mp

from training.common.config_args import add_config_arguments, config_from_args
from training.common.distributed import Distributed, unwrapped


@dataclass(frozen=True)
class _Config:
    stage: str = "joint"
    steps: int = 10
    lr: float = 1e-3
    layers: tuple[int, ...] = (3, 4, 6)
    decay_at: tuple[float, ...] = (0.6,)
    hidden: int | None = None
    amp: bool = False
    augment: bool = True
    nested: dict | None = None  # not an option


def _parser(**kw) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_config_arguments(p, _Config, **kw)
    return p


def test_every_field_becomes_a_typed_option():
    a = _parser().parse_args(["--steps", "7", "--lr", "0.5", "--layers", "1,2,3", "--decay-at", "0.5,0.9",
                              "--hidden", "32", "--amp", "--no-augment", "--stage", "heatmap"])
    cfg = config_from_args(a, _Config, nested={"x": 1})
    assert cfg == _Config("heatmap", 7, 0.5, (1, 2, 3), (0.5, 0.9), 32, True, False, {"x": 1})
    assert config_from_args(_parser().parse_args([]), _Config) == _Config()
    assert not any(o.dest == "nested" for o in _parser()._actions)


def test_required_and_choices_are_enforced():
    p = _parser(required=("stage",), choices={"stage": ("heatmap", "joint")})
    with pytest.raises(SystemExit):
        p.parse_args([])
    with pytest.raises(SystemExit):
        p.parse_args(["--stage", "other"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["--steps", "many"])


def test_one_process(monkeypatch):
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    dist = Distributed()
    model = torch.nn.Linear(2, 2)
    assert (dist.world, dist.rank, dist.main) == (1, 0, True)
    assert dist.wrap(model) is model and unwrapped(model) is model
    assert dist.any(True) and not dist.any(False)
    dist.close()


def _worker(rank: int, port: int, out) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    dist = Distributed()
    model = dist.wrap(torch.nn.Linear(3, 1))
    out.put((rank, dist.world, dist.main, dist.any(rank == 1), dist.any(False),
             isinstance(model, torch.nn.parallel.DistributedDataParallel), unwrapped(model).in_features))
    dist.close()


def test_two_gloo_processes_agree():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(r, port, out)) for r in range(2)]
    for p in procs:
        p.start()
    results = sorted(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert results == [(0, 2, True, True, False, True, 3), (1, 2, False, True, False, True, 3)]
