"""Simple numbers that help read a GAN's progress.

GAN losses do not fall steadily like a classifier's, so the lessons also look at how
varied the generated images are: a generator that has collapsed onto a few modes
makes near-identical images, and the mean distance between them shrinks.
"""
from __future__ import annotations

import torch


def diversity(images: torch.Tensor) -> float:
    """Mean pairwise L2 distance between images (pixels in [-1, 1]), per pixel.

    Around the value real images give means varied samples; far below it signals
    mode collapse.
    """
    if images.size(0) < 2:
        raise ValueError("diversity needs at least two images")
    flat = images.detach().float().flatten(1)
    distances = torch.cdist(flat, flat)
    n = flat.size(0)
    mean_distance = distances.sum() / (n * (n - 1))  # the diagonal is zero
    return (mean_distance / flat.size(1) ** 0.5).item()


def diversity_ratio(fake: torch.Tensor, real: torch.Tensor) -> float:
    """``diversity(fake) / diversity(real)``: near 1 is healthy, near 0 is collapse."""
    return diversity(fake) / diversity(real)
