"""Lesson 08's latent interpolation: the straight line between two noise vectors, drawn in a row."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from gan_tutorial.models import ConditionalGenerator
from gan_tutorial.plots import grid_image, show_latent_interpolation


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_the_row_walks_the_straight_line_from_start_to_end():
    start, end = torch.randn(5, 1, 1), torch.randn(5, 1, 1)
    seen = []

    def sample(z):  # each image's first pixel is its vector's first number: the path is visible
        seen.append(z.clone())
        return z[:, :1].expand(-1, 1, 4, 4).clamp(-1, 1)

    show_latent_interpolation(sample, start, end, steps=7)
    path = seen[0]
    assert path.shape == (7, 5, 1, 1)
    assert torch.allclose(path[0], start) and torch.allclose(path[-1], end)
    steps = path[1:] - path[:-1]  # equal steps along one direction: a straight line, evenly spaced
    assert torch.allclose(steps, steps[:1].expand_as(steps), atol=1e-6)
    assert torch.allclose(steps.sum(0), end - start, atol=1e-6)


def test_the_figure_shows_every_image_in_one_row():
    images = torch.linspace(-1, 1, 6).view(6, 1, 1, 1).expand(-1, 1, 3, 3)
    ax = show_latent_interpolation(lambda z: images[:len(z)], torch.zeros(2), torch.ones(2), steps=6,
                                   title="a row")
    shown = ax.get_images()[0].get_array()
    assert np.allclose(shown, grid_image(images, nrow=6))  # six images side by side, in order
    assert shown.shape[0] < shown.shape[1] and ax.get_title() == "a row"


def test_a_conditional_generator_draws_the_path_for_one_digit():
    torch.manual_seed(0)
    G = ConditionalGenerator(num_classes=10, latent_dim=8, ngf=4, nc=1, image_size=32)
    start, end = torch.randn(8, 1, 1), torch.randn(8, 1, 1)
    asked = []

    def sample(z):
        labels = torch.full((len(z),), 7)
        asked.append(labels)
        with torch.no_grad():
            return G.eval()(z, labels)

    ax = show_latent_interpolation(sample, start, end, steps=5)
    assert asked[0].tolist() == [7] * 5
    with torch.no_grad():
        ends = G(torch.stack([start, end]), torch.tensor([7, 7]))
    row = ax.get_images()[0].get_array()
    assert np.allclose(row[2:34, 2:34], grid_image(ends[:1]), atol=1e-6)  # first image (inside the padding): start's
    assert np.allclose(row[2:34, -34:-2], grid_image(ends[1:]), atol=1e-6)  # last image: end's


@pytest.mark.parametrize("start, end, steps, message", [
    (torch.zeros(3), torch.zeros(4), 5, "same shape"),
    (torch.zeros(3), torch.zeros(3), 1, "steps must be"),
    (torch.zeros(3), torch.zeros(3), 2.5, "steps must be"),
])
def test_bad_arguments_are_named(start, end, steps, message):
    with pytest.raises(ValueError, match=message):
        show_latent_interpolation(lambda z: z, start, end, steps=steps)
