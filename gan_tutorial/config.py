"""Switches read from the environment: quick mode, data root, device."""
from __future__ import annotations

import os
from typing import TypeVar

QUICK_ENV = "GAN_TUTORIAL_QUICK"
"""Set to 1 to shrink epochs and data so every notebook runs in a minute or two on a CPU."""

DATA_ENV = "GAN_TUTORIAL_DATA"
"""Folder holding the datasets (MNIST/, celeba/, pokemon/); defaults to ./data."""

DEVICE_ENV = "GAN_TUTORIAL_DEVICE"
"""Force a device (cpu, cuda, cuda:1, mps) instead of picking the fastest one."""

T = TypeVar("T")


def quick_mode() -> bool:
    """True when the quick-mode switch is on (CI and smoke runs)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def full_or_quick(full: T, quick: T) -> T:
    """Return ``quick`` in quick mode, ``full`` otherwise.

    Notebooks use it for every knob that makes a run long, e.g.
    ``epochs = full_or_quick(5, 1)``, so a learner sees the real value.
    """
    return quick if quick_mode() else full
