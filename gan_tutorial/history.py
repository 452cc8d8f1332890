"""What a training run records: per-iteration statistics, snapshots and quality numbers.

``History`` is what ``GANTrainer.fit`` returns and what every plot, metric and animation
reads; it lives here, apart from the trainer, so those modules do not depend on the loop.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

STAT_KEYS = ("loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2")
"""The numbers recorded every iteration: D's and G's losses, D(x), D(G(z)) before and after D's step."""


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] -> uint8 pixels in [0, 255] (denormalise with (x + 1) / 2)."""
    return ((images.detach().float().cpu() + 1) / 2).clamp(0, 1).mul(255).round().to(torch.uint8)


@dataclass
class History:
    """Everything recorded while training, one entry per iteration (snapshots, metrics aside).

    ``d_g_z1`` is D(G(z)) while D is updated (before its step), ``d_g_z2`` the same
    batch scored again by the updated D while G is updated (after D's step).
    ``snapshot_iterations[i]`` and ``metric_iterations[i]`` count the updates done when
    snapshot ``i`` / evaluation ``i`` was taken (0: the untrained generator).
    """

    loss_d: list[float] = field(default_factory=list)
    loss_g: list[float] = field(default_factory=list)
    d_x: list[float] = field(default_factory=list)
    d_g_z1: list[float] = field(default_factory=list)
    d_g_z2: list[float] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    snapshot_iterations: list[int] = field(default_factory=list)
    snapshots: list[torch.Tensor] = field(default_factory=list)  # uint8, fixed noise
    metric_iterations: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)  # name -> one value per evaluation
    epochs_done: int = 0
    interrupted: bool = False
    stop_reason: str | None = None  # why the last fit() ended early: "interrupted", "terminated"
    # (SIGTERM), "time budget"
    train_seconds: float = 0.0  # wall time inside fit(), evaluation included
    eval_seconds: float = 0.0  # of which spent evaluating

    @property
    def iterations(self) -> int:
        return len(self.loss_d)

    def record(self, epoch: int, stats: dict[str, float]) -> None:
        """Append one iteration's statistics."""
        self.epoch.append(epoch)
        for key in STAT_KEYS:
            getattr(self, key).append(stats[key])

    def iterations_in(self, epoch: int) -> int:
        """How many updates epoch ``epoch`` (0-based) has had so far."""
        return self.epoch.count(epoch)

    def record_metrics(self, values: dict[str, float]) -> None:
        """Append one evaluation, taken now (after ``iterations`` updates)."""
        self.metric_iterations.append(self.iterations)
        for key, value in values.items():
            series = self.metrics.setdefault(key, [math.nan] * (len(self.metric_iterations) - 1))
            series.append(float(value))
        for series in self.metrics.values():  # a metric this evaluation did not return
            series.extend([math.nan] * (len(self.metric_iterations) - len(series)))

    def epoch_means(self, key: str) -> list[float]:
        """Mean of one recorded series (e.g. "loss_d") over each epoch."""
        series = getattr(self, key)
        sums: dict[int, list[float]] = {}
        for e, value in zip(self.epoch, series):
            sums.setdefault(e, []).append(value)
        return [sum(v) / len(v) for _, v in sorted(sums.items())]

    def state_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_state_dict(cls, state: dict) -> "History":
        return cls(**state)
