import pytest
import torch

from gan_tutorial.metrics import diversity, diversity_ratio


def test_identical_images_have_no_diversity():
    assert diversity(torch.ones(5, 3, 8, 8)) == pytest.approx(0.0, abs=1e-6)


def test_diversity_is_per_pixel_distance():
    images = torch.stack([torch.full((1, 4, 4), -1.0), torch.full((1, 4, 4), 1.0)])
    assert diversity(images) == pytest.approx(2.0, rel=1e-5)  # every pixel differs by 2


def test_collapse_shows_in_the_ratio():
    torch.manual_seed(0)
    real = torch.rand(16, 3, 8, 8) * 2 - 1
    collapsed = real[:1].repeat(16, 1, 1, 1) + 0.01 * torch.randn(16, 3, 8, 8)
    assert diversity_ratio(collapsed, real) < 0.1
    assert diversity_ratio(real.flip(0), real) == pytest.approx(1.0)


def test_diversity_needs_two_images():
    with pytest.raises(ValueError):
        diversity(torch.zeros(1, 1, 2, 2))


def test_uint8_snapshots_measure_like_floats():
    from gan_tutorial.train import to_uint8

    torch.manual_seed(0)
    images = torch.rand(8, 3, 8, 8) * 2 - 1
    assert diversity(to_uint8(images)) == pytest.approx(diversity(images), rel=0.01)


def test_diversity_curve_follows_snapshots():
    from gan_tutorial.metrics import diversity_curve
    from gan_tutorial.train import History, to_uint8

    torch.manual_seed(0)
    real = torch.rand(8, 1, 4, 4) * 2 - 1
    history = History(snapshots=[to_uint8(real[:1].repeat(8, 1, 1, 1)), to_uint8(real)],
                      snapshot_iterations=[1, 2])
    curve = diversity_curve(history, real)
    assert curve[0] == pytest.approx(0.0, abs=1e-6) and curve[1] == pytest.approx(1.0, rel=0.02)
