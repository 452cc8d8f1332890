"""Figures a learner looks at: image grids, real vs fake, loss and D-output curves, and the
generator-progress animation (fixed-noise snapshots as an inline player or a GIF)."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import animation
import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision.utils import make_grid

from .data import spread_images
from .history import History


COLORS = {"D": "tab:blue", "G": "tab:orange"}
"""One colour per network in every loss plot, so D is blue and G orange wherever they appear."""


def grid_image(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> np.ndarray:
    """A batch as one H x W x C array in [0, 1] for ``imshow``.

    Accepts generator/dataset tensors in [-1, 1] or uint8 snapshots in [0, 255].
    """
    images = images.detach().cpu()
    if images.dtype == torch.uint8:
        images = images.float() / 255
    else:
        images = ((images.float() + 1) / 2).clamp(0, 1)
    grid = make_grid(images, nrow=nrow, padding=padding, pad_value=1.0)
    return grid.permute(1, 2, 0).numpy()


def show_images(images: torch.Tensor, nrow: int = 8, title: str | None = None,
                ax: plt.Axes | None = None, size: float = 6.0) -> plt.Axes:
    """Show a batch of images as a grid (``images``: N x C x H x W)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size))
    ax.imshow(grid_image(images, nrow=nrow), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def show_dataset(dataset: Dataset, n: int = 64, nrow: int = 8, title: str = "Training images",
                 size: float = 6.0) -> plt.Axes:
    """Show ``n`` images spread evenly over a dataset (every class, not just the first)."""
    return show_images(spread_images(dataset, n), nrow=nrow, title=title, size=size)


def show_real_vs_fake(real: torch.Tensor, fake: torch.Tensor, nrow: int = 8,
                      size: float = 6.0, title: str | None = None) -> plt.Figure:
    """Real images on the left, generated ones on the right (under ``title``, if given)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(2 * size, size))
    show_images(real, nrow=nrow, title="Real images", ax=left)
    show_images(fake, nrow=nrow, title="Fake images", ax=right)
    if title:
        fig.suptitle(title, fontsize="x-large")
    fig.tight_layout()  # leaves room for the suptitle above the two panel titles
    return fig


def smoothing_window(iterations: int) -> int:
    """The moving-average window the curves use by default: 1 for a short run, at most 50.

    A quick run (a few dozen steps) is drawn as measured; a class or full run (thousands of
    steps) is averaged over 1/20 of its length, at most 50 steps, so the trend shows.
    """
    return max(1, min(50, iterations // 20))


def _smooth(values: Sequence[float], window: int | None) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    window = smoothing_window(len(values)) if window is None else window
    if window <= 1 or len(values) < window:
        return values
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_losses(history: History, smooth: int | None = None, ax: plt.Axes | None = None) -> plt.Axes:
    """Loss_D and Loss_G per iteration, as a moving average over ``smooth`` steps.

    ``smooth=None`` picks the window from the run's length (:func:`smoothing_window`);
    ``smooth=1`` draws every step as measured.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4))
    ax.plot(_smooth(history.loss_d, smooth), label="D", color=COLORS["D"])
    ax.plot(_smooth(history.loss_g, smooth), label="G", color=COLORS["G"])
    ax.set(title="Generator and discriminator loss during training",
           xlabel="iteration", ylabel="loss")
    ax.legend()
    return ax


def plot_d_outputs(history: History, smooth: int | None = None, ax: plt.Axes | None = None) -> plt.Axes:
    """D(x) and D(G(z)) before and after D's step; the 0.5 line is where D is fooled.

    ``smooth`` as in :func:`plot_losses`.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4))
    ax.plot(_smooth(history.d_x, smooth), label="D(x)  (real)")
    ax.plot(_smooth(history.d_g_z1, smooth), label="D(G(z)) before D's step")
    ax.plot(_smooth(history.d_g_z2, smooth), label="D(G(z)) after D's step", alpha=0.7)
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set(title="What the discriminator says", xlabel="iteration",
           ylabel="mean D output", ylim=(-0.02, 1.02))
    ax.legend()
    return ax


def plot_epoch_losses(history: History, ax: plt.Axes | None = None) -> plt.Axes:
    """Mean Loss_D and Loss_G of each epoch."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    epochs = np.arange(1, len(history.epoch_means("loss_d")) + 1)
    ax.plot(epochs, history.epoch_means("loss_d"), "o-", label="D", color=COLORS["D"])
    ax.plot(epochs, history.epoch_means("loss_g"), "o-", label="G", color=COLORS["G"])
    ax.set(title="Mean loss per epoch", xlabel="epoch", ylabel="loss")
    ax.legend()
    return ax


def plot_training(history: History, smooth: int | None = None) -> plt.Figure:
    """Loss curves and D-output curves one above the other (``smooth`` as in :func:`plot_losses`)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    plot_losses(history, smooth, ax=top)
    plot_d_outputs(history, smooth, ax=bottom)
    fig.tight_layout()
    return fig


def plot_leaky_relu(alphas: Sequence[float] = (0.0, 0.2, 0.4, 0.6),
                    ax: plt.Axes | None = None) -> plt.Axes:
    """LeakyReLU(x) = max(alpha x, x) for several slopes; alpha = 0 is the plain ReLU."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    x = torch.linspace(-2, 1, 200)
    for alpha in alphas:
        ax.plot(x.numpy(), torch.nn.functional.leaky_relu(x, alpha).numpy(), label=f"alpha = {alpha}")
    ax.set(title="LeakyReLU", xlabel="x", ylabel="LeakyReLU(x)")
    ax.legend()
    return ax


def show_checkerboard_demo(size: float = 3.2) -> plt.Figure:
    """Where transposed convolutions leave checkerboards, and where they do not.

    A constant image goes through all-one kernels: a 3x3 transposed convolution with
    stride 2 (windows overlap unevenly: a checkerboard), DCGAN's own 4x4 / stride 2 /
    padding 1 (every output pixel gets the same number of contributions: flat inside,
    only the border differs), and nearest upsampling followed by a 3x3 convolution (flat).
    Even overlap does not rule artefacts out in a trained network, whose kernels are not
    uniform; it only removes this built-in one.
    """
    x = torch.ones(1, 1, 6, 6)
    uneven = torch.nn.functional.conv_transpose2d(x, torch.ones(1, 1, 3, 3), stride=2, padding=1,
                                                  output_padding=1)
    even = torch.nn.functional.conv_transpose2d(x, torch.ones(1, 1, 4, 4), stride=2, padding=1)
    upsampled = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
    convolved = torch.nn.functional.conv2d(upsampled, torch.ones(1, 1, 3, 3), padding=1)
    fig, axes = plt.subplots(1, 4, figsize=(4 * size, size))
    for ax, image, title in zip(axes, (x, uneven, even, convolved),
                                ("input (constant)", "ConvTranspose2d(k=3, s=2)\nuneven overlap",
                                 "ConvTranspose2d(k=4, s=2, p=1)\n(DCGAN) even overlap",
                                 "Upsample x2 + Conv2d(k=3)")):
        ax.imshow(image[0, 0].numpy(), cmap="gray", vmin=0)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])  # keep the frame: a constant white image needs an edge
    fig.tight_layout()
    return fig


def plot_diversity(history: History, real: torch.Tensor, ax: plt.Axes | None = None) -> plt.Axes:
    """How varied the fixed-noise snapshots are, relative to real images (1 = as varied)."""
    from .metrics import diversity_curve

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(history.snapshot_iterations, diversity_curve(history, real), "o-")
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set(title="Sample diversity relative to real images (near 0: mode collapse)",
           xlabel="iteration", ylabel="diversity ratio", ylim=(0, None))
    return ax


def plot_metric(history: History, key: str, ax: plt.Axes | None = None,
                reference: dict[str, float] | None = None, ylabel: str | None = None,
                log: bool = False) -> plt.Axes:
    """One quality metric over training, from ``history.metrics[key]`` at ``history.metric_iterations``.

    ``reference`` draws labelled horizontal lines, e.g. the real-data floor and noise
    ceiling of ``mnist_frechet_reference``; ``log`` uses a logarithmic y axis (useful for
    Fréchet distances, which fall by orders of magnitude).
    """
    metrics = getattr(history, "metrics", None) or {}
    if key not in metrics:
        raise KeyError(f"history.metrics has no {key!r} (recorded: {sorted(metrics) or 'none'}); "
                       f"pass evaluate=... and eval_every=... to fit to record metrics")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    values = metrics[key]
    ax.plot(history.metric_iterations[:len(values)], values, "o-", label=key)
    for i, (label, value) in enumerate((reference or {}).items()):
        ax.axhline(value, color=f"C{i + 1}", linestyle="--", linewidth=1, label=label)
    ax.set(title=f"{key.replace('_', ' ')} during training", xlabel="iteration", ylabel=ylabel or key)
    if log:
        ax.set_yscale("log")
    if reference:
        ax.legend()
    return ax


def plot_digit_histogram(fake: torch.Tensor, real: torch.Tensor | None = None,
                         ax: plt.Axes | None = None) -> plt.Axes:
    """Share of each digit 0–9 that the MNIST classifier sees in ``fake`` (and ``real``).

    A healthy generator draws every digit about equally often (like real data, 0.1
    each); a collapsed one piles onto one or a few bars.
    """
    from .metrics import predicted_digits

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    digits = np.arange(10)
    sets = [("generated", fake)] + ([("real", real)] if real is not None else [])
    width = 0.8 / len(sets)
    for i, (label, images) in enumerate(sets):
        shares = torch.bincount(predicted_digits(images), minlength=10).float() / images.size(0)
        ax.bar(digits + (i - (len(sets) - 1) / 2) * width, shares.numpy(), width, label=label)
    ax.axhline(0.1, color="grey", linestyle="--", linewidth=1)
    ax.set(title="Digits the classifier sees (dashed: 0.1 each when balanced)", xlabel="predicted digit",
           ylabel="share of images", xticks=digits)
    ax.legend()
    return ax


def plot_generator_gradients(ax: plt.Axes | None = None) -> plt.Axes:
    """Why G's minimax loss stalls: both G losses' derivatives with respect to D's logit ``a``.

    Computed by autograd on a grid of logits: d/da log(1 - sigmoid(a)) = -sigmoid(a) vanishes
    where D is sure a fake is fake (``a`` very negative), d/da -log sigmoid(a) = sigmoid(a) - 1
    tends to -1 there. The top axis gives D(G(z)) = sigmoid(a).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    a = torch.linspace(-8, 8, 321, dtype=torch.float64, requires_grad=True)
    minimax = torch.autograd.grad(-torch.nn.functional.softplus(a).sum(), a)[0]  # log(1 - sigmoid(a))
    non_saturating = torch.autograd.grad(torch.nn.functional.softplus(-a).sum(), a)[0]  # -log sigmoid(a)
    logits = a.detach().numpy()
    ax.plot(logits, minimax.numpy(), label="minimax: log(1 - D(G(z)))")
    ax.plot(logits, non_saturating.numpy(), label="non-saturating: -log D(G(z))")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvspan(-8, -3, color="grey", alpha=0.15)
    ax.text(-7.8, 0.3, "D sure the fake\nis fake", fontsize=9)
    ax.set(xlabel="D's logit a for the fake", ylabel="d loss / d a", xlim=(-8, 8), ylim=(-1.1, 1.1))
    ax.set_title("G's loss: its derivative with respect to D's logit a for a fake", pad=12)
    top = ax.secondary_xaxis("top", functions=(lambda x: x, lambda x: x))  # ticks placed at logits
    probabilities = np.array([0.001, 0.05, 0.5, 0.95, 0.999])
    top.set_xticks(np.log(probabilities / (1 - probabilities)), labels=[f"{p:g}" for p in probabilities])
    top.set_xlabel("D(G(z)) = sigmoid(a)", labelpad=2)
    ax.legend(loc="upper right")
    return ax


def show_latent_interpolation(sample: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor,
                              end: torch.Tensor, steps: int = 10, title: str | None = None,
                              size: float = 1.2) -> plt.Axes:
    """What G draws along the straight line from noise vector ``start`` to ``end``, in one row.

    ``sample`` maps a batch of noise vectors to images, e.g. for a conditional GAN drawing 7s:
    ``lambda z: trainer.sample(z, labels=torch.full((len(z),), 7))``. The ``steps`` vectors
    are ``(1 - t) start + t end`` for t evenly spaced from 0 to 1, so the first image is
    ``start``'s and the last ``end``'s. A smooth change from one to the other shows that G
    learned a continuous map, not a lookup table of training images. ``size``: inches per image.
    """
    if start.shape != end.shape:
        raise ValueError(f"start and end must be noise vectors of the same shape, got "
                         f"{tuple(start.shape)} and {tuple(end.shape)}")
    if type(steps) is not int or steps < 2:
        raise ValueError(f"steps must be a whole number >= 2 (the two ends), got {steps!r}")
    t = torch.linspace(0, 1, steps, device=start.device).view(-1, *[1] * start.dim())
    path = torch.lerp(start.unsqueeze(0).float(), end.unsqueeze(0).float(), t)
    images = sample(path)
    _, ax = plt.subplots(figsize=(size * steps, size + (0.4 if title else 0)))
    return show_images(images, nrow=steps, title=title, ax=ax)


# ------------------------------------------------------------------ the progress animation
PLAYER_FRAMES = 20  # enough to watch G learn; each frame is a picture stored in the notebook


def progress_animation(history: History, nrow: int = 8, interval: int = 400,
                       max_frames: int = PLAYER_FRAMES, size: float | None = None) -> animation.ArtistAnimation:
    """A matplotlib animation with one frame per snapshot (at most ``max_frames``, evenly picked)."""
    if not history.snapshots:
        raise ValueError("The history holds no snapshots yet: train first (fit() takes them).")
    n = len(history.snapshots)
    k = min(n, max_frames)
    keep = sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)})  # first and last kept
    if size is None:  # about one screen pixel per image pixel, 5 to 9 inches wide
        side = grid_image(history.snapshots[0], nrow=nrow).shape[1]
        size = min(9.0, max(5.0, side / 80))
    fig, ax = plt.subplots(figsize=(size, size), dpi=80)
    ax.set_axis_off()
    frames = []
    for i in keep:
        image = ax.imshow(grid_image(history.snapshots[i], nrow=nrow), animated=True)
        label = ax.text(0.5, 1.01, f"iteration {history.snapshot_iterations[i]}",
                        transform=ax.transAxes, ha="center", va="bottom")
        frames.append([image, label])
    anim = animation.ArtistAnimation(fig, frames, interval=interval, repeat_delay=1000, blit=True)
    plt.close(fig)  # show the player only, not a stray still of the last frame
    return anim


def show_progress(history: History, **kwargs):
    """The progress animation as an HTML/JavaScript player for the notebook."""
    from IPython.display import HTML

    return HTML(progress_animation(history, **kwargs).to_jshtml())


def save_progress_gif(history: History, path: str | os.PathLike, fps: int = 3, **kwargs) -> Path:
    """Write the progress animation to a GIF file (Pillow) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    progress_animation(history, **kwargs).save(path, writer=animation.PillowWriter(fps=fps))
    return path


# ------------------------------------------------------------------ 2-D points (lesson 00)
POINT_COLORS = {"real": "#1b7837", "fake": "#762a83"}  # GAN Lab's colours: green real, purple fake


def _heatmap(ax: plt.Axes, values: torch.Tensor, axis: torch.Tensor, title: str):
    """D's probability "real" over the plane: green near 1, white at 1/2, purple near 0."""
    lim = float(axis[-1])
    image = ax.imshow(values.numpy(), origin="lower", extent=(-lim, lim, -lim, lim), cmap="PRGn",
                      vmin=0, vmax=1, interpolation="bilinear")
    ax.set(title=title, xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return image


def plot_point_sets(n: int = 1000, seed: int = 0) -> plt.Figure:
    """The 2-D distributions lesson 00 trains on, side by side."""
    from .data import POINT_SETS, toy_points

    fig, axes = plt.subplots(1, len(POINT_SETS), figsize=(3.2 * len(POINT_SETS), 3.4))
    for ax, name in zip(axes, POINT_SETS):
        points = toy_points(name, n, seed=seed).numpy()
        ax.scatter(points[:, 0], points[:, 1], s=3, c=POINT_COLORS["real"], alpha=0.5, linewidths=0)
        ax.set(title=name.replace("_", " "), xlim=(-3, 3), ylim=(-3, 3), aspect="equal")
    fig.tight_layout()
    return fig


def plot_decision(frame, ax: plt.Axes | None = None, arrows: bool = True, best: bool = False,
                  marked: dict | None = None, mode_numbers: bool = False) -> plt.Axes:
    """D's decision (or, with ``best``, the best D*) over the plane with the real (green) and fake
    (purple) points; ``arrows``: where the next update of G pushes each fake; ``marked``:
    labelled points {"A": (x, y)}; ``mode_numbers``: number the ring's modes 0-7."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    title = "best D* = p_data / (p_data + p_g)" if best else f"D's decision, step {frame.step}"
    _heatmap(ax, frame.d_star_map if best else frame.d_map, frame.grid_axis, title)
    real, fake = frame.real.numpy(), frame.fake.numpy()
    dots = dict(s=4, alpha=0.6, linewidths=0)
    ax.scatter(real[:, 0], real[:, 1], c=POINT_COLORS["real"], label="real", **dots)
    ax.scatter(fake[:, 0], fake[:, 1], c=POINT_COLORS["fake"], label="fake", **dots)
    if arrows:
        shown = slice(None, None, max(1, len(fake) // 80))  # 80 arrows are readable
        push = frame.arrows[shown].numpy()
        ax.quiver(fake[shown, 0], fake[shown, 1], push[:, 0], push[:, 1], color="black",
                  angles="xy", width=0.004, alpha=0.8)
    for name, point in (marked or {}).items():
        x, y = (float(v) for v in point)
        ax.scatter([x], [y], s=90, facecolors="none", edgecolors="black", linewidths=1.5)
        ax.annotate(name, (x, y), xytext=(6, 6), textcoords="offset points", fontsize=12, weight="bold")
    if mode_numbers:
        from .data import ring_modes

        for i, (x, y) in enumerate(ring_modes().tolist()):
            ax.annotate(str(i), (1.25 * x, 1.25 * y), ha="center", va="center", fontsize=11, weight="bold")
    ax.legend(loc="lower left", fontsize=8, markerscale=3)
    return ax


def plot_points_frame(frame, history, fig: "plt.Figure | None" = None, arrows: bool = True) -> plt.Figure:
    """Lesson 00's six panels for one moment of a :class:`~gan_tutorial.points.PointGAN`.

    Top: real (green) and fake (purple) points on D's decision with the arrows along which
    the next G update moves each fake; the best D* for this G; G's image of a noise grid.
    Bottom: both losses, the Jensen-Shannon divergence (and modes covered on the ring), and
    D's mean output on the real points (1/2 when D can no longer tell). ``fig``: draw into
    this figure (cleared first), e.g. one a widget re-renders; ``arrows=False`` hides them.
    """
    if fig is None:
        fig = plt.figure(figsize=(13, 8))
    fig.clear()
    fig.set_layout_engine("constrained")
    axes = fig.subplots(2, 3)
    lim = float(frame.grid_axis[-1])
    plot_decision(frame, axes[0, 0], arrows=arrows)
    plot_decision(frame, axes[0, 1], arrows=False, best=True)
    real = frame.real.numpy()
    manifold = axes[0, 2]
    manifold.scatter(real[:, 0], real[:, 1], c=POINT_COLORS["real"], s=3, alpha=0.25, linewidths=0)
    for line in frame.noise_lines.numpy():
        manifold.plot(line[:, 0], line[:, 1], color=POINT_COLORS["fake"], linewidth=0.8)
    manifold.set(title="G's image of a grid of noise", xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    losses, divergence, d_real = axes[1]
    if history.step:
        losses.plot(history.step, history.loss_d, color=COLORS["D"], linewidth=0.8, label="D")
        losses.plot(history.step, history.loss_g, color=COLORS["G"], linewidth=0.8, label="G")
        losses.legend(fontsize=8)
    losses.set(title="losses", xlabel="step (updates of G)")
    divergence.plot(history.frame_step, history.js, "o-", markersize=3, color="black", label="Jensen-Shannon")
    divergence.axhline(np.log(2), color="grey", linestyle="--", linewidth=1)
    divergence.set(title="JS(p_data, p_g): ln 2 = no overlap", xlabel="step", ylim=(0, 0.75))
    if frame.modes_covered is not None:
        modes = divergence.twinx()
        modes.plot(history.frame_step, history.modes_covered, "s-", markersize=3, color="tab:red")
        modes.set_ylabel("ring modes covered", color="tab:red")
        modes.set_ylim(0, 8.5)
    d_real.plot(history.frame_step, history.d_mean, "o-", markersize=3, color=POINT_COLORS["real"])
    d_real.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    d_real.set(title="mean D(x) on the real points", xlabel="step", ylim=(0, 1))
    return fig


def plot_mode_coverage(histories: dict, ax: plt.Axes | None = None) -> plt.Axes:
    """Modes of the ring covered over training, one line per named run (a PointHistory each)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    for name, h in histories.items():
        ax.plot(h.frame_step, h.modes_covered, "o-", markersize=3, label=name)
    ax.set(title="Modes of the ring covered (>= 1% of the fakes within 3 sigma)", xlabel="step",
           ylabel="modes covered", ylim=(-0.2, 8.5))
    ax.legend(fontsize=8)
    return ax


def training_view(history: History, fig: "plt.Figure", nrow: int = 8, max_images: int = 64) -> "plt.Figure":
    """The live training view: the latest fixed-noise grid, the curves so far and the last
    quality numbers, drawn into ``fig`` (cleared first) for a display that refreshes."""
    fig.clear()
    grid_ax, loss_ax, d_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1.3, 1.3]})
    if history.snapshots:
        images = history.snapshots[-1][:max_images]  # uint8, as recorded
        grid_ax.imshow(grid_image(images, nrow=nrow))
        grid_ax.set_title(f"fixed noise, iteration {history.snapshot_iterations[-1]}")
    grid_ax.axis("off")
    window = smoothing_window(len(history.loss_d)) if history.loss_d else None
    if history.loss_d:
        plot_losses(history, window, ax=loss_ax)
        plot_d_outputs(history, window, ax=d_ax)
    numbers = getattr(history, "metrics", None) or {}
    if numbers and history.metric_iterations:
        last = ", ".join(f"{k.replace('_', ' ')} {v[-1]:.3g}" for k, v in numbers.items() if v)
        fig.suptitle(f"measured at iteration {history.metric_iterations[-1]}: {last}", fontsize=10)
    fig.tight_layout()
    return fig
