"""The 2-D measures against closed-form cases (issue 31): densities, D*, Jensen-Shannon, modes."""
from __future__ import annotations

import math

import pytest
import torch

from gan_tutorial.data import POINT_SETS, RING_STD, ring_modes, toy_points
from gan_tutorial.metrics.points import (LN2, best_discriminator, js_divergence, kde_density, mode_coverage,
                                         plane_grid)


def gaussian_density(at: torch.Tensor, mean, std: float) -> torch.Tensor:
    squared = ((at.double() - torch.tensor(mean, dtype=torch.float64)) ** 2).sum(dim=1)
    return torch.exp(-squared / (2 * std ** 2)) / (2 * math.pi * std ** 2)


def test_the_grid_covers_the_square_row_by_row():
    grid = plane_grid(limit=2.0, steps=5)
    assert grid.shape == (25, 2)
    assert grid[0].tolist() == [-2.0, -2.0] and grid[4].tolist() == [2.0, -2.0] and grid[-1].tolist() == [2.0, 2.0]


def test_kde_of_many_gaussian_points_matches_the_gaussian_density():
    torch.manual_seed(0)
    points = torch.tensor([0.5, -0.5]) + 0.4 * torch.randn(20_000, 2)
    grid = plane_grid(limit=2.0, steps=41)
    estimate = kde_density(points, grid, bandwidth=0.1)
    exact = gaussian_density(grid, [0.5, -0.5], math.sqrt(0.4 ** 2 + 0.1 ** 2))  # kernel widens it
    assert torch.allclose(estimate, exact, atol=0.05)  # sampling noise: about 4% of the peak (0.94)
    cell = (4.0 / 40) ** 2
    assert float(estimate.sum() * cell) == pytest.approx(1.0, abs=0.02)  # integrates to 1 on the square


def test_best_discriminator_for_two_known_gaussians():
    """D*(x) = p_data / (p_data + p_g): 1/2 midway, and the logistic of the log-ratio elsewhere."""
    at = torch.tensor([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.3, 0.7]])
    p_data, p_g = gaussian_density(at, [1.0, 0.0], 1.0), gaussian_density(at, [-1.0, 0.0], 1.0)
    d_star = best_discriminator(p_data, p_g)
    assert d_star[0].item() == pytest.approx(0.5)
    # log p_data/p_g = 2x for unit Gaussians at +-1 on the x axis: D* = sigmoid(2x)
    assert torch.allclose(d_star, torch.sigmoid(2 * at[:, 0].double()), atol=1e-9)
    assert best_discriminator(torch.zeros(3), torch.zeros(3)).tolist() == [0.5] * 3  # no mass: 1/2


def test_js_of_identical_and_disjoint_distributions():
    grid = plane_grid(limit=3.0, steps=61)
    p = gaussian_density(grid, [0.0, 0.0], 0.5)
    assert js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence(p, 3 * p) == pytest.approx(0.0, abs=1e-12)  # normalised first
    left = (grid[:, 0] < 0).double()
    assert js_divergence(left, 1 - left) == pytest.approx(LN2)  # no overlap: ln 2
    partly = js_divergence(p, gaussian_density(grid, [1.0, 0.0], 0.5))
    assert 0 < partly < LN2


def test_the_ring_is_covered_by_its_own_samples_and_a_collapsed_generator_is_not():
    modes = ring_modes()
    real = toy_points("ring", 4000, seed=0)
    assert mode_coverage(real, modes, RING_STD) == {"modes_covered": 8, "high_quality": pytest.approx(1.0, abs=0.01)}
    collapsed = modes[3] + RING_STD * torch.randn(4000, 2)
    assert mode_coverage(collapsed, modes, RING_STD)["modes_covered"] == 1
    spread_out = 3 * torch.randn(4000, 2)  # covers the plane, not the modes
    assert mode_coverage(spread_out, modes, RING_STD)["high_quality"] < 0.05


@pytest.mark.parametrize("name", POINT_SETS)
def test_every_named_distribution_draws_repeatable_points(name):
    a, b = toy_points(name, 500, seed=1), toy_points(name, 500, seed=1)
    assert a.shape == (500, 2) and a.dtype == torch.float32 and torch.equal(a, b)
    assert a.abs().max() < 4  # inside the plane the lesson draws


def test_typed_points_are_resampled_and_bad_ones_named():
    typed = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    drawn = toy_points(typed, 1000, seed=0)
    assert torch.cdist(drawn, typed).min(dim=1).values.max() < 0.5
    with pytest.raises(ValueError, match=r"shape \(m, 2\)"):
        toy_points(torch.zeros(5, 3), 10)
    with pytest.raises(ValueError, match="choose one of"):
        toy_points("moons", 10)
