"""The live training view: one picture in a notebook's output that ``GANTrainer.fit``
refreshes while it trains (the latest fixed-noise grid, the curves so far, the last numbers).

It renders a matplotlib figure to PNG off-screen and replaces the picture in place, so it needs
no Jupyter extension and shows in JupyterLab, classic Notebook, VS Code and Colab. Lesson 00's
2-D playground (:mod:`gan_tutorial.playground`) draws the same way.
"""
from __future__ import annotations

import io
import time
from collections.abc import Callable

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .history import History
from .plots import training_view

BUDGET = 0.03  # the share of training time the view aims at (the first and last pictures are extra)
MIN_INTERVAL_S = 2.0  # and refreshes at most this often


def figure_png(fig: Figure, dpi: int = 72) -> bytes:
    """A figure drawn off-screen (no pyplot, so any thread may draw) as PNG bytes."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class RefreshSchedule:
    """When to redraw: ``min_interval_s`` since the last drawing, and the time spent drawing so
    far at most ``budget`` of the time elapsed. A drawing that is due may overshoot the budget
    by its own cost; pictures forced at the start and end of a run come on top."""

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
        """Whether a picture may be drawn now."""
        now = self.clock()
        if self.last is None:
            return True
        return now - self.last >= self.min_interval_s and self.spent <= self.budget * (now - self.start)

    def record(self, seconds: float) -> None:
        """Count a drawing that took ``seconds``."""
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
