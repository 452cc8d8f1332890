"""Figures of the quality metrics: metric curves over training and the predicted-digit histogram."""
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from gan_tutorial.data import load_mnist
from gan_tutorial.plots import plot_digit_histogram, plot_metric


def test_metric_curve_follows_history():
    # the fields GANTrainer.fit fills when given evaluate=... and eval_every=...
    history = SimpleNamespace(metrics={"frechet_distance": [300.0, 120.0, 40.0]},
                              metric_iterations=[0, 500, 1000])
    ax = plot_metric(history, "frechet_distance", reference={"real vs real": 6.0})
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [0, 500, 1000])
    np.testing.assert_array_equal(line.get_ydata(), [300.0, 120.0, 40.0])
    assert ax.get_lines()[1].get_ydata()[0] == 6.0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["frechet_distance", "real vs real"]
    assert ax.get_yscale() == "linear"
    assert plot_metric(history, "frechet_distance", log=True).get_yscale() == "log"
    plt.close("all")


def test_missing_metric_names_what_was_recorded():
    history = SimpleNamespace(metrics={"fid": [1.0]}, metric_iterations=[10])
    with pytest.raises(KeyError, match=r"no 'frechet_distance' \(recorded: \['fid'\]\)"):
        plot_metric(history, "frechet_distance")


def test_digit_histogram_shows_collapse(mnist_data):
    test = load_mnist(mnist_data, split="test")
    sevens = test.images[test.labels == 7][:100]
    ax = plot_digit_histogram(sevens, real=test.images[:500])
    fake_bars, real_bars = ax.containers
    heights = np.array([bar.get_height() for bar in fake_bars])
    assert heights.sum() == pytest.approx(1.0) and heights.argmax() == 7 and heights[7] > 0.95
    assert max(bar.get_height() for bar in real_bars) < 0.2
    plt.close("all")
