"""The distributed set-up every training script shares: one process, or torchrun's many.

Under torchrun (WORLD_SIZE > 1) the process group is started here, on NCCL when CUDA is present
(one GPU a process, LOCAL_RANK's) and on Gloo otherwise; a group already started by the caller
is joined as it is. `close` ends only a group this object started.
"""

from __future__ import annotations

import os

import torch


class Distributed:
    def __init__(self):
        import torch.distributed as dist

        self._dist = dist
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self._owns_group = False
        cuda = torch.cuda.is_available()
        if self.world > 1 and not dist.is_initialized():
            if cuda:
                torch.cuda.set_device(self.local_rank)
            dist.init_process_group("nccl" if cuda else "gloo")
            self._owns_group = True
        if dist.is_available() and dist.is_initialized():
            self.rank, self.world = dist.get_rank(), dist.get_world_size()
        else:
            self.world, self.rank = 1, 0
        self.device = torch.device("cuda", self.local_rank) if cuda else torch.device("cpu")

    @property
    def main(self) -> bool:
        """The process that logs and saves."""
        return self.rank == 0

    def any(self, flag: bool) -> bool:
        """True on every process when `flag` is True on any (e.g. one ran out of time)."""
        if self.world == 1:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        self._dist.all_reduce(t, op=self._dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def wrap(self, model: torch.nn.Module, find_unused_parameters: bool = True,
             sync_batchnorm: bool = False) -> torch.nn.Module:
        """The model in DistributedDataParallel when there are several processes, else itself.
        sync_batchnorm: batch norm statistics over every GPU's batch (CUDA only)."""
        if self.world == 1:
            return model
        device = next(model.parameters()).device
        if sync_batchnorm and device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        ids = [device.index] if device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids,
                                                         find_unused_parameters=find_unused_parameters)

    def close(self) -> None:
        if self._owns_group:
            self._dist.barrier()  # every process is done with the group (rank 0 saves last) before it goes
            self._dist.destroy_process_group()
            self._owns_group = False


def unwrapped(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside a DistributedDataParallel wrapper (or the model itself)."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model
