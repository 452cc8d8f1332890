"""Measures of a GAN on 2-D points: densities, the best discriminator, Jensen-Shannon, modes.

On the plane everything the theory talks about can be computed and drawn: the densities of
the real and the generated points (Gaussian kernel density estimates on a grid), the best
discriminator for the current generator, D*(x) = p_data(x) / (p_data(x) + p_g(x))
(Goodfellow et al. 2014, Prop. 1), the Jensen-Shannon divergence between the two, which
the minimax game drives down, and how many modes of a mixture the fakes cover.
"""
from __future__ import annotations

import math

import torch

LN2 = math.log(2)  # the Jensen-Shannon divergence of two distributions that never overlap


def plane_grid(limit: float = 3.0, steps: int = 101) -> torch.Tensor:
    """``steps * steps`` points (x, y) covering [-limit, limit]^2, row by row (y outer)."""
    axis = torch.linspace(-limit, limit, steps)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([x.reshape(-1), y.reshape(-1)], dim=1)


def kde_density(points: torch.Tensor, at: torch.Tensor, bandwidth: float = 0.1) -> torch.Tensor:
    """A Gaussian kernel density estimate of ``points`` (n, 2), evaluated at ``at`` (m, 2)."""
    if bandwidth <= 0:
        raise ValueError(f"bandwidth must be positive, got {bandwidth}")
    squared = torch.cdist(at.double(), points.double()) ** 2
    kernel = torch.exp(-squared / (2 * bandwidth ** 2)) / (2 * math.pi * bandwidth ** 2)
    return kernel.mean(dim=1)


def best_discriminator(p_data: torch.Tensor, p_g: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)); 1/2 where neither distribution has mass."""
    return (p_data + eps) / (p_data + p_g + 2 * eps)


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> float:
    """Jensen-Shannon divergence (natural log, so 0 to ln 2) of two densities on the same grid.

    Each is normalised to sum to 1 over the grid first, so any positive weights work.
    """
    p, q = p.double() / p.sum(), q.double() / q.sum()
    m = (p + q) / 2

    def kl(a: torch.Tensor) -> torch.Tensor:
        mask = a > 0
        return (a[mask] * (a[mask] / m[mask]).log()).sum()

    return float((kl(p) + kl(q)) / 2)


def mode_coverage(samples: torch.Tensor, modes: torch.Tensor, std: float, within: float = 3.0,
                  min_share: float = 0.01) -> dict[str, float]:
    """How well ``samples`` (n, 2) cover a mixture of Gaussians with centres ``modes`` (k, 2).

    A sample belongs to its nearest mode when it lies within ``within`` standard deviations
    of it; a mode counts as covered when it holds at least ``min_share`` of the samples.
    Returns ``modes_covered`` (0..k), ``high_quality`` (share of samples near some mode).
    """
    distance, nearest = torch.cdist(samples.double(), modes.double()).min(dim=1)
    near = distance <= within * std
    counts = torch.bincount(nearest[near], minlength=len(modes))
    covered = int((counts >= min_share * len(samples)).sum())
    return {"modes_covered": covered, "high_quality": float(near.double().mean())}
