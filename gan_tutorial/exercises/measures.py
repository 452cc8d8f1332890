"""Checks for the exercises that reason about what a run measures: collapse and time to quality.

The expected answers are measured here on batches and histories built for the check (never
numbers shown on the page), so an answer has to hold for inputs the learner has not seen.
Failures raise :class:`~gan_tutorial.exercises.checks.CheckError`, like every other check.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch

from .checks import CheckError, as_int, close, learners_call, passed
from .torch_calls import python_calls
from ..history import History
from ..metrics import diversity, diversity_ratio

__all__ = ["check_collapsed_ratio", "check_seconds_to_reach"]


# ------------------------------------------------------------------ collapse (lesson 03)
def _mean_pair_distance(images: torch.Tensor) -> float:
    """Mean Euclidean distance over the n(n - 1) ordered pairs i != j, exactly (float64)."""
    flat = images.double().flatten(1)
    n = flat.size(0)
    distances = (flat[:, None, :] - flat[None, :, :]).norm(dim=-1)
    return (distances.sum() / (n * (n - 1))).item()


def _measured_collapse(k: int, n: int) -> float:
    """diversity of n images made of k distinct ones (each n/k times) over diversity of the k."""
    distinct = torch.rand(k, 3, 4, 4, generator=torch.Generator().manual_seed(100 + k)) * 2 - 1
    batch = distinct.repeat_interleave(n // k, dim=0)
    return 0.0 if k == 1 else _mean_pair_distance(batch) / _mean_pair_distance(distinct)


_RATIO_CASES = [(2, 64), (4, 64), (8, 64), (64, 64), (1, 64), (3, 12), (5, 10), (16, 32), (2, 2)]
"""(k, n): the lesson's batch of 64 first, then sizes no page shows; k always divides n."""

_RATIO_MISTAKES = [
    (lambda k, n: (k - 1) / k, "that is the limit for a very large batch: an image is never paired "
                               "with itself, so count the n(n - 1) pairs i != j"),
    (lambda k, n: (n / k - 1) / (n - 1), "that is the share of pairs that show the same image twice "
                                         "(distance 0); the ratio is the share of the other pairs"),
    (lambda k, n: 1 / k, "1/k is the chance that two draws show the same image; the ratio is about "
                         "the pairs that differ"),
    (lambda k, n: k / n, "k/n is the share of distinct images in the batch, not of distinct pairs"),
]


def check_collapsed_ratio(collapsed_ratio: Callable[[int, int], float], fewest_images: int) -> None:
    """``collapsed_ratio(k, n)``: the diversity of a batch of n images in which a collapsed generator
    drew each of k distinct images n/k times, divided by the diversity of those k images, as
    measured here on random images. ``fewest_images``: the fewest distinct images whose collapsed
    batch still scores 0.9 when the batch is very large.
    """
    answers = []
    for k, n in _RATIO_CASES:
        call = f"collapsed_ratio(k={k}, n={n})"
        value, used = python_calls(lambda: learners_call(collapsed_ratio, call, k, n), [diversity, diversity_ratio])
        if used:
            raise CheckError(f"collapsed_ratio calls {' and '.join(sorted(used))} to measure a collapsed batch: the "
                             f"exercise is to count the pairs yourself, a formula in k and n")
        answers.append(float(as_int(value, call)))
    for (k, n), got in zip(_RATIO_CASES, answers):
        true = _measured_collapse(k, n)
        if close(got, true):
            continue
        head = (f"collapsed_ratio(k={k}, n={n}) = {got:.4f}, but a batch of {n} images made of {k} "
                f"distinct ones measures {true:.4f}")
        for mistake, why in _RATIO_MISTAKES:
            if all(close(a, mistake(*c)) for c, a in zip(_RATIO_CASES, answers)):
                raise CheckError(f"{head}: {why}")
        raise CheckError(f"{head}: count the pairs i != j that show two different images, out of n(n - 1)")
    fewest = as_int(fewest_images, "fewest_images")
    limit = next(k for k in range(1, 10_000) if (k - 1) / k >= 0.9 - 1e-12)
    if fewest != limit:
        score = f"score {(fewest - 1) / fewest:.3f}" if fewest >= 1 else "are no batch"
        raise CheckError(f"fewest_images = {fewest}: in a very large batch, {fewest} distinct images "
                         f"{score}; find the fewest that reach 0.9")
    passed(f"collapsed_ratio matches the measured diversity on {len(_RATIO_CASES)} batches, and "
           f"{limit} distinct images already score 0.9: the ratio barely sees a partial collapse.")


# ------------------------------------------------------------------ time to quality (lesson 05)
def _history(fd: list[float], every: int, train_seconds: float, eval_seconds: float) -> History:
    """A finished run's record: evaluations every ``every`` iterations from 0, with Frechet ``fd``."""
    iterations = every * (len(fd) - 1)
    h = History(loss_d=[1.0] * iterations, loss_g=[1.0] * iterations, d_x=[0.5] * iterations,
                d_g_z1=[0.5] * iterations, d_g_z2=[0.5] * iterations, epoch=[0] * iterations)
    h.metric_iterations = [every * i for i in range(len(fd))]
    h.metrics = {"frechet_distance": list(fd), "digits_covered": [10.0] * len(fd)}
    h.train_seconds, h.eval_seconds = train_seconds, eval_seconds
    return h


def _first_reach(h: History, threshold: float) -> float:
    per_iteration = (h.train_seconds - h.eval_seconds) / h.iterations
    for iteration, value in zip(h.metric_iterations, h.metrics["frechet_distance"]):
        if value <= threshold:  # NaN (no evaluation) compares False
            return iteration * per_iteration
    return math.inf


def _reach_cases() -> list[tuple[History, float, str]]:
    rng = torch.Generator().manual_seed(5)
    fresh = (900 * torch.exp(-torch.linspace(0, 3, 13)) * (1 + 0.3 * torch.rand(13, generator=rng))).tolist()
    return [
        (_history([800, 600, 400, 250, 180, 150, 140, 130, 120], 50, 100.0, 20.0), 200.0, "a steady run"),
        (_history([780, 700, 650, 640, 660, 630], 10, 30.0, 6.0), 300.0, "a run that never gets there"),
        (_history([120, 90, 80], 100, 50.0, 5.0), 150.0, "a run that starts below the threshold"),
        (_history([900, 500, 140, 260, 150, 130], 20, 80.0, 30.0), 150.0, "a run that dips, then rises"),
        (_history([900, math.nan, 400, 190, 170], 25, 40.0, 4.0), 200.0, "a run with a missed evaluation"),
        (_history(fresh, 40, 333.0, 33.0), fresh[7] + 1.0, "a fresh run"),
        (_history([850, 420, 200, 180, 160], 30, 60.0, 12.0), 200.0, "a run that reaches it exactly"),
    ]


def check_seconds_to_reach(seconds_to_reach: Callable[[History, float], float]) -> None:
    """``seconds_to_reach(history, threshold)``: training seconds (evaluation excluded) until the
    first evaluation whose Frechet distance is at or below ``threshold``; ``math.inf`` (or None)
    if none is. Tried on seven made-up finished runs, each a fresh ``History``.
    """
    for h, threshold, what in _reach_cases():
        call = f"seconds_to_reach(history, {threshold:g}) [{what}]"
        value = learners_call(seconds_to_reach, call, copy.deepcopy(h), threshold)
        true = _first_reach(h, threshold)
        got = math.inf if value is None else float(as_int(value, call))
        if got == true or close(got, true):
            continue
        per_iteration = (h.train_seconds - h.eval_seconds) / h.iterations
        reached = [i for i, v in zip(h.metric_iterations, h.metrics["frechet_distance"]) if v <= threshold]
        head = f"{call} = {got:g}, expected {true:g}"
        if math.isinf(true):
            raise CheckError(f"{head}: no evaluation reaches {threshold:g}, so return math.inf")
        at_threshold = [i for i, v in zip(h.metric_iterations, h.metrics["frechet_distance"]) if v == threshold]
        if at_threshold and close(got, min(i for i, v in zip(h.metric_iterations, h.metrics["frechet_distance"])
                                           if v < threshold) * per_iteration):
            raise CheckError(f"{head}: an evaluation exactly at {threshold:g} reaches it too: compare with <=, not <")
        if reached and close(got, reached[0] * h.train_seconds / h.iterations):
            raise CheckError(f"{head}: leave the evaluation time out, per iteration "
                             f"(train_seconds - eval_seconds) / iterations")
        if reached and got == reached[0]:
            raise CheckError(f"{head}: that is the iteration; convert it to seconds ({per_iteration:g} s "
                             f"of training per iteration here)")
        if reached and close(got, reached[-1] * per_iteration):
            raise CheckError(f"{head}: that is the last evaluation at or below the threshold; take the first")
        raise CheckError(f"{head}: find the first evaluation at or below the threshold, then the training "
                         f"seconds up to its iteration")
    passed("seconds_to_reach finds the first evaluation at or below the threshold and its training "
           "time on seven runs, including one that never gets there and one that reaches it exactly.")
