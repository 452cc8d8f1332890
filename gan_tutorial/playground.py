"""Lesson 00's playground: buttons and sliders around a :class:`~gan_tutorial.points.PointGAN`.

One full step, D only, G only, run/pause and reset; learning rates, optimiser, loss and k
D-steps apply at once, while it runs. Training runs in a background thread, so the buttons stay
live; one lock keeps a step, a change of settings and a drawing from overlapping.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable

import torch
from matplotlib.figure import Figure

from .data import POINT_SETS
from .live import figure_png
from .plots import plot_points_frame
from .points import OPTIMIZERS, POINT_LOSSES, PointGAN

TYPED = "your points"  # the data menu's entry for points typed as a tensor


def weights_tag(model: torch.nn.Module) -> str:
    """Six hex digits that change whenever any of ``model``'s weights changes (shown in the
    playground's status line, so a reader, or a browser test, sees which network a button moved)."""
    digest = hashlib.sha1()
    for p in model.parameters():
        digest.update(p.detach().cpu().numpy().tobytes())
    return digest.hexdigest()[:6]


class Playground:
    """Lesson 00's controls around a :class:`PointGAN`: one full step, D only, G only,
    run/pause, reset; learning rates, optimiser, loss and k D-steps apply while it runs."""

    def __init__(self, gan: PointGAN | None = None, steps_per_frame: int = 25, **recipe) -> None:
        import ipywidgets as w

        self.gan = gan or PointGAN(**recipe)
        self.steps_per_frame = steps_per_frame
        self.lock = threading.Lock()
        self.fig = Figure(figsize=(13, 8.2))
        self.thread: threading.Thread | None = None
        r = self.gan.recipe
        self.picture = w.Image(format="png", layout=w.Layout(width="100%"))
        self.status = w.HTML()
        self.buttons = {name: w.Button(description=label, tooltip=tip) for name, label, tip in (
            ("step", "Step", f"k = d_steps updates of D, then one of G"),
            ("d_only", "D only", "one update of D; G and its fakes stay as they are"),
            ("g_only", "G only", "one update of G along the arrows; D stays as it is"),
            ("reset", "Reset", "fresh networks and history (with the data set chosen)"))}
        self.run = w.ToggleButton(description="Run", tooltip="train continuously; click again to pause")
        self.controls = {
            "lr_d": w.FloatLogSlider(value=r.lr_d, base=10, min=-5, max=-1, step=0.1, description="lr D",
                                     readout_format=".1e"),
            "lr_g": w.FloatLogSlider(value=r.lr_g, base=10, min=-5, max=-1, step=0.1, description="lr G",
                                     readout_format=".1e"),
            "optimizer": w.Dropdown(options=OPTIMIZERS, value=r.optimizer, description="optimiser"),
            "loss": w.Dropdown(options=POINT_LOSSES, value=r.loss, description="loss"),
            "d_steps": w.IntSlider(value=r.d_steps, min=1, max=10, description="k D-steps"),
        }
        self.typed = r.points if isinstance(r.points, torch.Tensor) else None
        self.points = w.Dropdown(options=list(POINT_SETS) + ([TYPED] if self.typed is not None else []),
                                 value=TYPED if self.typed is not None else r.points, description="data (reset)")
        self.buttons["step"].on_click(lambda _: self.click(self.gan.step))
        self.buttons["d_only"].on_click(lambda _: self.click(self.gan.step_d))
        self.buttons["g_only"].on_click(lambda _: self.click(self.gan.step_g))
        self.buttons["reset"].on_click(lambda _: self.reset())
        self.run.observe(self._run_changed, names="value")
        for name, control in self.controls.items():
            control.observe(lambda change, name=name: self.apply(**{name: change["new"]}), names="value")
        self.widget = w.VBox([
            w.HBox([self.buttons["step"], self.buttons["d_only"], self.buttons["g_only"], self.run,
                    self.buttons["reset"], self.points]),
            w.HBox([self.controls["lr_d"], self.controls["lr_g"], self.controls["d_steps"]]),
            w.HBox([self.controls["optimizer"], self.controls["loss"]]),
            self.status, self.picture])
        self.redraw()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # ------------------------------------------------------------ actions
    def click(self, action: Callable[[], object]) -> None:
        """One action (a step, D only, G only) on the networks, then a fresh picture."""
        with self.lock:
            action()
        self.redraw()

    def apply(self, **changes) -> None:
        """New settings for the running game (weights kept)."""
        with self.lock:
            self.gan.set(**changes)
            self.status.value = self._status()

    def reset(self) -> None:
        """Pause, then fresh networks and history on the data set the menu shows."""
        self.run.value = False
        self._join()
        with self.lock:
            self.gan.reset(points=self.typed if self.points.value == TYPED else self.points.value)
        self.redraw()

    def redraw(self) -> None:
        """Measure the current moment and show its six panels and status line."""
        with self.lock:
            frame = self.gan.measure()
            png = figure_png(plot_points_frame(frame, self.gan.history, fig=self.fig))
            status = self._status()
        self.picture.value = png
        self.status.value = status

    def _status(self) -> str:
        r, h = self.gan.recipe, self.gan.history
        data = f"{len(r.points)} typed points" if isinstance(r.points, torch.Tensor) else r.points
        text = (f"step {self.gan.steps} · {data} · loss {r.loss} · {r.optimizer} "
                f"lr D {r.lr_d:.1e}, lr G {r.lr_g:.1e} · k = {r.d_steps}")
        if h.js:
            text += f" · Jensen-Shannon {h.js[-1]:.3f}"
        if h.modes_covered and h.modes_covered[-1] >= 0:
            text += f" · modes covered {h.modes_covered[-1]} of 8"
        return text + f" · weights D {weights_tag(self.gan.D)}, G {weights_tag(self.gan.G)}"

    # ------------------------------------------------------------ run / pause
    def _run_changed(self, change) -> None:
        self.run.description = "Pause" if change["new"] else "Run"
        if change["new"] and (self.thread is None or not self.thread.is_alive()):
            self.thread = threading.Thread(target=self._loop, daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        try:
            while self.run.value:
                with self.lock:
                    for _ in range(self.steps_per_frame):
                        self.gan.step()
                self.redraw()
        except Exception as err:  # noqa: BLE001 - a thread's error would vanish: show it
            self.status.value = (f"<b>Stopped</b>: {type(err).__name__}: {err}. Try smaller learning "
                                 f"rates, then Reset.")
            self.run.value = False

    def _join(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=30)

    def pause(self) -> None:
        """Stop a running game and wait for its thread to finish its frame."""
        self.run.value = False
        self._join()
