"""The generator-progress animation: fixed-noise snapshots as an inline player or a GIF."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import animation

from .plots import grid_image
from .history import History


def progress_animation(history: History, nrow: int = 8, interval: int = 400,
                       max_frames: int = 60, size: float | None = None) -> animation.ArtistAnimation:
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
