import matplotlib.pyplot as plt
import pytest
import torch
from IPython.display import HTML
from PIL import Image

from gan_tutorial.plots import progress_animation, save_progress_gif, show_progress
from gan_tutorial.plots import (grid_image, plot_d_outputs, plot_epoch_losses,
                                plot_leaky_relu, plot_losses,
                                plot_training, show_checkerboard_demo, show_dataset, show_images,
                                show_real_vs_fake, smoothing_window)
from gan_tutorial.history import History, to_uint8


@pytest.fixture
def history() -> History:
    h = History()
    for i in range(20):
        h.record(i // 10, {"loss_d": 1.0 + i, "loss_g": 2.0, "d_x": 0.8, "d_g_z1": 0.2, "d_g_z2": 0.3})
    for it in (1, 5, 10, 15, 20):
        h.snapshots.append(to_uint8(torch.rand(4, 3, 8, 8) * 2 - 1))
        h.snapshot_iterations.append(it)
    return h


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_grid_image_handles_float_and_uint8():
    floats = torch.full((4, 1, 8, 8), -1.0)
    grid = grid_image(floats, nrow=2, padding=0)
    assert grid.shape == (16, 16, 3)
    assert grid.min() == 0.0 and grid.max() == 0.0  # -1 is black
    grid = grid_image(torch.full((1, 3, 4, 4), 255, dtype=torch.uint8), padding=0)
    assert grid.max() == 1.0 and grid.min() == 1.0


def test_show_images_titles_and_hides_axes():
    ax = show_images(torch.zeros(4, 3, 8, 8), nrow=2, title="hello")
    assert ax.get_title() == "hello" and not ax.axison
    assert ax.get_images()[0].get_array().shape == (2 * 8 + 3 * 2, 2 * 8 + 3 * 2, 3)


def test_show_dataset_and_real_vs_fake():
    dataset = torch.utils.data.TensorDataset(torch.zeros(10, 1, 8, 8), torch.zeros(10))
    assert show_dataset(dataset, n=4).get_title() == "Training images"
    fig = show_real_vs_fake(torch.zeros(4, 1, 8, 8), torch.ones(4, 1, 8, 8))
    assert [ax.get_title() for ax in fig.axes] == ["Real images", "Fake images"]
    assert fig.get_suptitle() == ""


def test_real_vs_fake_title_sits_above_the_panel_titles():
    fig = show_real_vs_fake(torch.zeros(64, 1, 28, 28), torch.ones(64, 1, 28, 28), size=4.5,
                            title="FC GAN (lesson 01)")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    suptitle = fig._suptitle.get_window_extent(renderer)
    for ax in fig.axes:
        assert suptitle.y0 >= ax.title.get_window_extent(renderer).y1 - 1  # no overlap


def test_loss_and_d_output_curves(history):
    ax = plot_losses(history)
    assert [l.get_label() for l in ax.get_lines()] == ["D", "G"]
    assert list(ax.get_lines()[0].get_ydata()) == history.loss_d
    ax = plot_losses(history, smooth=5)
    assert len(ax.get_lines()[0].get_ydata()) == 16
    ax = plot_d_outputs(history)
    labels = [l.get_label() for l in ax.get_lines()]
    assert labels[:3] == ["D(x)  (real)", "D(G(z)) before D's step", "D(G(z)) after D's step"]
    assert len(plot_training(history).axes) == 2


@pytest.mark.parametrize("iterations,window", [(0, 1), (20, 1), (39, 1), (40, 2), (1_200, 50), (36_000, 50)])
def test_curves_pick_their_smoothing_from_the_run_length(iterations, window):
    assert smoothing_window(iterations) == window
    long = History()
    for i in range(iterations):
        long.record(0, {"loss_d": float(i % 2), "loss_g": 1.0, "d_x": 0.5, "d_g_z1": 0.5, "d_g_z2": 0.5})
    drawn = plot_losses(long).get_lines()[0].get_ydata()
    assert len(drawn) == (iterations - window + 1 if window > 1 else iterations)
    plt.close("all")


def test_epoch_losses(history):
    ax = plot_epoch_losses(history)
    d_line = ax.get_lines()[0]
    assert list(d_line.get_xdata()) == [1, 2]
    assert list(d_line.get_ydata()) == [5.5, 15.5]


def test_teaching_plots():
    assert len(plot_leaky_relu((0.0, 0.2, 0.4, 0.6)).get_lines()) == 4
    fig = show_checkerboard_demo()
    uneven, even, upsampled = (fig.axes[i].get_images()[0].get_array() for i in (1, 2, 3))
    assert uneven[4:8, 4:8].std() > 0.5  # k=3, s=2: uneven overlap, a checkerboard inside
    assert even[2:10, 2:10].std() == 0  # DCGAN's k=4, s=2, p=1: even overlap, flat inside
    assert upsampled[4:8, 4:8].std() == 0  # even coverage: flat inside


def test_loss_plots_give_each_network_one_colour(history):
    from gan_tutorial.plots import COLORS

    for ax in (plot_losses(history), plot_epoch_losses(history)):
        colours = {line.get_label(): line.get_color() for line in ax.get_lines()}
        assert colours == COLORS


def test_animation_has_a_frame_per_snapshot(history):
    anim = progress_animation(history)
    assert len(anim._framedata) == 5
    assert len(progress_animation(history, max_frames=3)._framedata) == 3
    html = show_progress(history)
    assert isinstance(html, HTML) and "<script" in html.data
    with pytest.raises(ValueError, match="no snapshots"):
        progress_animation(History())


def test_gif_is_written(history, tmp_path):
    path = save_progress_gif(history, tmp_path / "sub" / "progress.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 5


def test_diversity_plot(history):
    from gan_tutorial.plots import plot_diversity

    ax = plot_diversity(history, torch.rand(4, 3, 8, 8) * 2 - 1)
    assert list(ax.get_lines()[0].get_xdata()) == history.snapshot_iterations


def test_animation_is_drawn_large_enough_for_big_grids():
    small, big = History(), History()
    small.snapshots, small.snapshot_iterations = [torch.zeros(16, 1, 28, 28, dtype=torch.uint8)] * 2, [0, 1]
    big.snapshots, big.snapshot_iterations = [torch.zeros(100, 1, 64, 64, dtype=torch.uint8)] * 2, [0, 1]
    small_width = progress_animation(small, nrow=4)._fig.get_size_inches()[0]
    big_width = progress_animation(big, nrow=10)._fig.get_size_inches()[0]
    assert small_width == 5.0 and big_width > 8  # 10 x 66 px: not squeezed into 5 inches


def test_generator_gradients_are_the_derivatives_with_respect_to_the_logit():
    from gan_tutorial.plots import plot_generator_gradients

    minimax, non_saturating = plot_generator_gradients().get_lines()[:2]
    a = torch.tensor(minimax.get_xdata(), dtype=torch.float64)
    assert a.min() <= -8 and a.max() >= 8
    assert torch.allclose(torch.tensor(minimax.get_ydata()), -torch.sigmoid(a))  # vanishes as a -> -inf
    assert torch.allclose(torch.tensor(non_saturating.get_ydata()), torch.sigmoid(a) - 1)  # tends to -1
    assert abs(minimax.get_ydata()[0]) < 1e-3 and non_saturating.get_ydata()[0] < -0.999
