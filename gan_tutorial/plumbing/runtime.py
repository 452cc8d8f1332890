"""Where to run (CPU, CUDA or Apple MPS) and how to make runs repeatable."""
from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import numpy as np
import torch

from .environment import DEVICE_ENV, check_device_name, device_setting


def get_device(preferred: str | torch.device | None = None) -> torch.device:
    """Pick CUDA, then Apple MPS, then CPU.

    ``preferred`` (or the ``GAN_TUTORIAL_DEVICE`` environment variable)
    overrides the choice, e.g. ``get_device("cpu")``. Accepted names: cpu, cuda,
    cuda:N, mps; anything else raises ValueError naming where the value came from.
    """
    if isinstance(preferred, torch.device):
        source, choice = "device", str(preferred)
    elif preferred is not None:
        source, choice = "device", str(preferred).strip()
    else:
        source, choice = DEVICE_ENV, device_setting()
    if choice is not None:
        device = torch.device(check_device_name(choice, source))
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise RuntimeError(f"Device {device} was asked for ({source}), but CUDA is not "
                                   f"available here. Use cpu, or leave it unset.")
            if device.index is not None and device.index >= torch.cuda.device_count():
                raise RuntimeError(f"Device {device} was asked for ({source}), but this machine "
                                   f"has {torch.cuda.device_count()} CUDA device(s): "
                                   f"cuda:0 to cuda:{torch.cuda.device_count() - 1}.")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError(f"Device 'mps' was asked for ({source}), but Apple MPS is not "
                               f"available here. Use cpu, or leave it unset.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) with one call."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS generators


@contextlib.contextmanager
def cudnn_autotune(device: torch.device) -> Iterator[None]:
    """On CUDA, let cuDNN time its kernels for the fixed input sizes of a training loop
    (``torch.backends.cudnn.benchmark``) while the block runs; the setting is restored after."""
    before = torch.backends.cudnn.benchmark
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before
