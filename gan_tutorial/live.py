"""Live views: the training view that refreshes while ``GANTrainer.fit`` runs, and lesson 00's
2-D playground (buttons and sliders around a :class:`~gan_tutorial.points.PointGAN`).

Both render a matplotlib figure to PNG and replace one picture in the notebook's output,
so they need no extra Jupyter extension and show in JupyterLab, classic Notebook and VS Code.
"""
from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Callable

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .history import History
from .plots import plot_points_frame, training_view
from .points import OPTIMIZERS, POINT_LOSSES, PointGAN
from .data import POINT_SETS

BUDGET = 0.03  # the training view may take at most this share of training time (target < 5%)
MIN_INTERVAL_S = 2.0  # and refreshes at most this often


def can_display() -> bool:
    """Whether rich output reaches a notebook: inside IPython (a plain script would only print
    the picture's name)."""
    from IPython import get_ipython

    return get_ipython() is not None


def figure_png(fig: Figure, dpi: int = 72) -> bytes:
    """A figure drawn off-screen (no pyplot, so any thread may draw) as PNG bytes."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class RefreshSchedule:
    """When to redraw: something new to show, ``min_interval_s`` since the last drawing, and
    the time spent drawing at most ``budget`` of the time elapsed (so drawing costs <= budget)."""

    def __init__(self, budget: float | None = None, min_interval_s: float | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.budget = BUDGET if budget is None else budget
        self.min_interval_s = MIN_INTERVAL_S if min_interval_s is None else min_interval_s
        self.clock = clock
        self.start = clock()
        self.last: float | None = None  # when the last drawing ended
        self.spent = 0.0  # seconds spent drawing
        self.drawn = 0

    def due(self) -> bool:
        now = self.clock()
        if self.last is None:
            return True
        return now - self.last >= self.min_interval_s and self.spent <= self.budget * (now - self.start)

    def record(self, seconds: float) -> None:
        self.spent += seconds
        self.last = self.clock()
        self.drawn += 1


class LiveView:
    """One picture in the notebook's output, redrawn from the trainer's history while it trains:
    the latest fixed-noise grid, the loss and D(x)/D(G(z)) curves so far, the last quality numbers."""

    def __init__(self, history: History | None = None, schedule: RefreshSchedule | None = None) -> None:
        from IPython.display import Image, display

        self.schedule = schedule or RefreshSchedule()
        self.fig = Figure(figsize=(13, 3.6))
        self._image = Image
        self.seen: tuple[int, int] = (-1, -1)
        began = self.schedule.clock()
        self.handle = display(Image(data=self._png_of(history or History())), display_id=True)
        if history is not None:
            self.seen = self._newest(history)
            self.schedule.record(self.schedule.clock() - began)

    @staticmethod
    def _newest(history: History) -> tuple[int, int]:
        return (history.snapshot_iterations[-1] if history.snapshot_iterations else -1,
                history.metric_iterations[-1] if history.metric_iterations else -1)

    def _png_of(self, history: History) -> bytes:
        return figure_png(training_view(history, self.fig))

    def update(self, history: History, force: bool = False) -> bool:
        """Redraw when there is a new snapshot or measurement and the schedule allows (always
        when ``force``, e.g. at the end of a run). Returns whether it redrew."""
        newest = self._newest(history)
        if newest == self.seen or not (force or self.schedule.due()):
            return False
        clock = self.schedule.clock
        began = clock()
        self.handle.update(self._image(data=self._png_of(history)))
        self.schedule.record(clock() - began)
        self.seen = newest
        return True


def weights_tag(model) -> str:
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
        self.points = w.Dropdown(options=[p for p in POINT_SETS], value=r.points if isinstance(r.points, str) else "ring",
                                 description="data (reset)")
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
        self.run.value = False
        self._join()
        with self.lock:
            self.gan.reset(points=self.points.value)
        self.redraw()

    def redraw(self) -> None:
        with self.lock:
            frame = self.gan.measure()
            png = figure_png(plot_points_frame(frame, self.gan.history, fig=self.fig))
            status = self._status()
        self.picture.value = png
        self.status.value = status

    def _status(self) -> str:
        r, h = self.gan.recipe, self.gan.history
        text = (f"step {self.gan.steps} · {r.points} · loss {r.loss} · {r.optimizer} "
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
        while self.run.value:
            with self.lock:
                for _ in range(self.steps_per_frame):
                    self.gan.step()
            self.redraw()

    def _join(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=30)

    def pause(self) -> None:
        self.run.value = False
        self._join()
