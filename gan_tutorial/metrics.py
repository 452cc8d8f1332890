"""Simple numbers that help read a GAN's progress.

GAN losses do not fall steadily like a classifier's, so the lessons also look at how
varied the generated images are: a generator that has collapsed onto a few modes
makes near-identical images, and the mean distance between them shrinks.
"""
from __future__ import annotations

import torch

from .train import History


def diversity(images: torch.Tensor) -> float:
    """Mean pairwise L2 distance between images, per pixel, on the [-1, 1] scale.

    Takes generator/dataset tensors in [-1, 1] or uint8 snapshots. Around the value
    real images give means varied samples; far below it signals mode collapse.
    """
    if images.size(0) < 2:
        raise ValueError("diversity needs at least two images")
    images = images.detach()
    images = images.float() / 127.5 - 1 if images.dtype == torch.uint8 else images.float()
    flat = images.flatten(1)
    distances = torch.cdist(flat, flat)
    n = flat.size(0)
    mean_distance = distances.sum() / (n * (n - 1))  # the diagonal is zero
    return (mean_distance / flat.size(1) ** 0.5).item()


def diversity_ratio(fake: torch.Tensor, real: torch.Tensor) -> float:
    """``diversity(fake) / diversity(real)``: near 1 is healthy, near 0 is collapse."""
    return diversity(fake) / diversity(real)


def diversity_curve(history: History, real: torch.Tensor) -> list[float]:
    """``diversity_ratio`` of every fixed-noise snapshot in ``history`` against ``real``."""
    reference = diversity(real)
    return [diversity(snapshot) / reference for snapshot in history.snapshots]
