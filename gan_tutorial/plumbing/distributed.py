"""Training on several processes (GPUs) with torchrun and DistributedDataParallel.

    torchrun --nproc-per-node 4 -m gan_tutorial train 03 --setting full --out runs/celeba

torchrun starts one process per GPU and tells each its place through environment variables
(``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``). Each process
calls :func:`setup`, wraps G and D in ``DistributedDataParallel`` (DDP), and reads its own
share of every epoch through a ``DistributedSampler``. In each backward pass DDP averages the
gradients across processes, so every optimiser step is the same everywhere and the copies
stay identical; nothing here launches processes or averages gradients by hand.

Batch size and BatchNorm. ``batch_size`` is per process (DDP's convention): every process
trains on batches of the lesson's size, so the global batch is ``world_size * batch_size``
and an epoch has ``world_size`` times fewer updates. BatchNorm stays plain ``BatchNorm2d``
(no ``SyncBatchNorm``): each process normalises its own batch of the lesson's size, exactly
what the single-process DCGAN sees, including D normalising its real and its fake batch
separately. ``SyncBatchNorm`` would make the statistics span the global batch, which changes
the lesson's dynamics, adds a collective per BatchNorm layer in every forward pass, and is
not supported on the CPU/gloo backend. It only pays off when the per-process batch is too
small for stable statistics (below ~16), which the lessons' batches are not. The running
statistics are kept equal by DDP, which broadcasts rank 0's buffers at every forward pass.

Only rank 0 writes (checkpoints, sample grids, plots, summaries) and prints progress;
``GANTrainer.is_main_process`` is False on the other ranks.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset, TensorDataset

from .runtime import get_device

TORCHRUN_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in a torchrun job."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device
    backend: str

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and prints."""
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """True when torchrun (or another launcher using its variables) started this process."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(device: str | torch.device | None = None) -> DistributedContext:
    """Join the torchrun job: pick this process's device and start the process group.

    On CUDA each process takes GPU ``LOCAL_RANK`` and the NCCL backend; elsewhere the
    CPU and gloo. ``device`` ("cpu", "cuda") overrides the automatic choice of device type.
    """
    missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
    if missing:
        raise RuntimeError(f"setup() needs torchrun's environment variables; {', '.join(missing)} "
                           f"not set. Start with: torchrun --nproc-per-node N -m gan_tutorial train ...")
    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    chosen = get_device(device)
    if chosen.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} GPU(s) "
                               f"here: start at most that many processes per node.")
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
        backend = "nccl"
    elif chosen.type == "cpu":
        backend = "gloo"
    else:
        raise RuntimeError(f"Distributed training runs on CUDA (nccl) or CPU (gloo), not {chosen}.")
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size,
                                device_id=chosen if chosen.type == "cuda" else None)
    return DistributedContext(rank, local_rank, world_size, chosen, backend)


def cleanup() -> None:
    """Leave the process group (call once at the end, on every rank)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: nn.Module, context: DistributedContext) -> DistributedDataParallel:
    """``module`` (already on ``context.device``) in DDP; rank 0's weights are broadcast."""
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def wrap_trainer(trainer, context: DistributedContext) -> None:
    """Put a ``GANTrainer``'s G and D in DDP (build it with ``is_main_process=context.is_main``,
    so that only rank 0 writes and prints).

    The optimisers keep working: DDP wraps the same parameter tensors.
    """
    trainer.G = wrap(trainer.G, context)
    trainer.D = wrap(trainer.D, context)


def unwrap(module: nn.Module) -> nn.Module:
    """The plain model inside a DDP wrapper (the module itself when not wrapped)."""
    return module.module if isinstance(module, DistributedDataParallel) else module


def make_loader(dataset: Dataset, batch_size: int, context: DistributedContext,
                seed: int = 0) -> DataLoader:
    """A DataLoader that gives this rank its share of each epoch (same size on every rank).

    The sampler reshuffles per epoch from ``seed`` and the epoch number, which
    ``GANTrainer.fit`` passes on through ``sampler.set_epoch``.
    """
    sampler = DistributedSampler(dataset, num_replicas=context.world_size, rank=context.rank,
                                 shuffle=True, seed=seed, drop_last=True)
    if batch_size > len(sampler):
        raise ValueError(f"batch_size {batch_size} is larger than each process's share of the data "
                         f"({len(sampler)} of {len(dataset)} items over {context.world_size} "
                         f"processes). Use a smaller batch or more data.")
    base = dataset.dataset if isinstance(dataset, Subset) else dataset
    in_memory = getattr(base, "in_memory", False) or isinstance(base, TensorDataset)
    workers = 0 if in_memory else 2  # decoding image files: keep the device fed
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=True,
                      num_workers=workers, persistent_workers=workers > 0,
                      pin_memory=context.device.type == "cuda")


def replicas_identical(*modules: nn.Module) -> bool:
    """True when every rank holds exactly the same parameters and buffers (a collective call)."""
    tensors = [t.detach().reshape(-1).double()
               for m in modules for t in [*unwrap(m).parameters(), *unwrap(m).buffers()]]
    mine = torch.cat(tensors) if tensors else torch.zeros(0, dtype=torch.float64)
    reference = mine.clone()
    dist.broadcast(reference, src=0)
    same = torch.tensor([1 if torch.equal(mine, reference) else 0], device=mine.device)
    dist.all_reduce(same, op=dist.ReduceOp.MIN)
    return bool(same.item())


def barrier() -> None:
    """Wait for every rank (no-op outside a process group)."""
    if dist.is_initialized():
        dist.barrier()
