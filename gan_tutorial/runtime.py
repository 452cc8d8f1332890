"""Where to run (CPU, CUDA or Apple MPS) and how to make runs repeatable."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from .config import DEVICE_ENV


def get_device(preferred: str | torch.device | None = None) -> torch.device:
    """Pick CUDA, then Apple MPS, then CPU.

    ``preferred`` (or the ``GAN_TUTORIAL_DEVICE`` environment variable)
    overrides the choice, e.g. ``get_device("cpu")``.
    """
    choice = preferred if preferred is not None else os.environ.get(DEVICE_ENV) or None
    if choice is not None:
        device = torch.device(choice)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"Device {device} was asked for, but CUDA is not available here.")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError("Device 'mps' was asked for, but Apple MPS is not available here.")
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
