"""Reading a GAN run for the failures of lesson 06: the numbers that show each one, and its check.

Each failure has a signature in what a run records (see :data:`FAILURES`): the curves of
``History``, the fakes, the quality numbers. The measures here turn the signatures that the
package does not measure elsewhere into numbers:

* :func:`grid_contrast`: the periodic texture (checkerboard) that strided transposed
  convolutions print, as excess power at the frequencies of their lattice;
* :func:`late_means`: what D says at the end of a run (D certain of everything: D wins);
* :func:`mean_jump`: how much a quality number moves from one evaluation to the next (it
  keeps jumping: oscillation);
* :func:`snapshot_change`: how much the fakes of the same noise change between snapshots.

:func:`check_diagnosis` grades a learner's diagnosis of an unlabelled saved run.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .checks import CheckError
from ..history import STAT_KEYS, History


# ------------------------------------------------------------------------------ measures
def grid_contrast(images: torch.Tensor, period: int | None = None) -> float:
    """How strongly a periodic grid stands out in ``images`` (N x C x H x W): 1.0 = not at all.

    A stack of stride-2 transposed convolutions that starts from a 4x4 map repeats its
    pattern every ``period`` pixels (default ``H // 4``: 16 for DCGAN's 64x64 images) and at
    every halving of that. In the images' power spectrum (averaged over images) such a grid
    puts extra power on the frequencies that are multiples of ``H / period``. The result is
    the geometric mean, over those frequencies, of their power divided by the mean power of
    their four neighbours: real photographs and digits give about 1.0, a visible grid 2 to 10.
    Takes uint8 images or tensors in [-1, 1].
    """
    if images.dim() != 4 or images.size(0) < 1:
        raise ValueError(f"images must be N x C x H x W, got shape {tuple(images.shape)}")
    height, width = images.shape[-2:]
    period = period or height // 4
    if period < 2 or height % period or width % period:
        raise ValueError(f"period must be at least 2 and divide the image size {height}x{width}, got {period}")
    x = images.detach().float()
    x = x / 255 if images.dtype == torch.uint8 else (x + 1) / 2
    gray = x.mean(1)
    gray = gray - gray.mean(dim=(1, 2), keepdim=True)
    log_power = torch.log(torch.fft.fft2(gray.double()).abs().pow(2).mean(0) + 1e-12)
    step_h, step_w = height // period, width // period
    rows = torch.arange(0, height, step_h)
    cols = torch.arange(0, width, step_w)
    r, c = torch.meshgrid(rows, cols, indexing="ij")
    r, c = r.flatten()[1:], c.flatten()[1:]  # leave out the mean (frequency 0, 0)
    neighbours = torch.stack([log_power[(r + dr) % height, (c + dc) % width]
                              for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1))]).mean(0)
    return float(torch.exp((log_power[r, c] - neighbours).mean()))


def late_means(history: History, last: int = 100) -> dict[str, float]:
    """Mean Loss_D, Loss_G, D(x), D(G(z)) before/after D's step over the last ``last`` iterations."""
    if history.iterations == 0:
        raise ValueError("the history is empty: nothing was trained")
    return {key: float(np.mean(getattr(history, key)[-last:])) for key in STAT_KEYS}


def mean_jump(values: Sequence[float]) -> float:
    """Mean absolute change between consecutive values (e.g. a quality number's evaluations)."""
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if values.size < 2:
        raise ValueError("mean_jump needs at least two finite values")
    return float(np.abs(np.diff(values)).mean())


def snapshot_change(snapshots: Sequence[torch.Tensor]) -> list[float]:
    """Mean absolute pixel change (0 to 1) between consecutive snapshots of the same fixed noise."""
    if len(snapshots) < 2:
        raise ValueError("snapshot_change needs at least two snapshots")
    scale = 255.0 if snapshots[0].dtype == torch.uint8 else 2.0
    return [float((b.float() - a.float()).abs().mean() / scale) for a, b in zip(snapshots, snapshots[1:])]


# ------------------------------------------------------------------------------ the failures
@dataclass(frozen=True)
class Failure:
    """One way GAN training fails: its name, how a run shows it, and the words that name it."""

    key: str
    name: str
    signature: str
    words: tuple[str, ...]  # regular expressions, matched in lower case with punctuation as spaces


FAILURES: dict[str, Failure] = {f.key: f for f in (
    Failure("d_wins", "D wins, G stalls",
            "D(x) = 1 and D(G(z)) = 0 for good, Loss_D near 0, Loss_G stuck (large with the non-saturating "
            "loss); the fakes stop changing",
            (r"\bd wins\b", r"discriminator wins", r"\bstall", r"vanish", r"saturat", r"no gradient",
             r"\b(d|discriminator) (is )?(too strong|dominates)")),
    Failure("mode_collapse", "mode collapse / mode dropping",
            "the fakes are too alike: some kinds (digits) far too often, others rarely or never",
            (r"\bmode", r"collaps", r"\bdropp", r"\bdrops? (some )?(digits|classes|kinds)",
             r"missing (digits|classes|kinds)", r"(lack of|low|no) (diversity|variety)")),
    Failure("oscillation", "oscillation",
            "losses and quality numbers keep swinging; the fakes of the same noise keep changing look",
            (r"oscillat", r"unstabl", r"instabil", r"\bswing", r"never settl", r"does not settle",
             r"not converg", r"\bcycl")),
    Failure("checkerboard", "checkerboard artefacts",
            "a regular grid printed on every fake, at the strides of the transposed convolutions",
            (r"checker", r"\bgrid\b", r"upsampling artefact", r"upsampling artifact", r"transposed conv")),
    Failure("d_overfits", "D overfits a small dataset",
            "on a small dataset, D stays sure of the training images (D(x) near 1) long after G has started to draw",
            (r"overfit", r"over fit", r"memori[sz]", r"small (dataset|data set)", r"too few (training )?(images|sprites)")),
)}


def failures_named(answer: str) -> list[str]:
    """The keys of every failure that ``answer`` names (none, one or several)."""
    text = " " + re.sub(r"[^a-z0-9]+", " ", answer.lower()) + " "
    return [key for key, failure in FAILURES.items() if any(re.search(w, text) for w in failure.words)]


# The answers to the lesson's unlabelled runs, hashed so that they are not printed next to the
# question (this stops a glance, not a determined reader of the source).
_ANSWERS = {
    "mystery_a": "7b4a95c3593ad763648623956d7c27aadc20b2e69773c518906640ec7ed41bf1",
    "mystery_b": "12218b736b1bc649822a359829b376b49d9b38d7ab8a3690192b1c9f17afc5a6",
}


def _digest(run: str, key: str) -> str:
    return hashlib.sha256(f"{run}:{key}".encode()).hexdigest()


def check_diagnosis(answer: str, run: str) -> None:
    """Grade a diagnosis of the unlabelled saved run ``run`` ("mystery_a", ...).

    ``answer`` names one failure in any words (see :data:`FAILURES`: "D wins", "mode
    dropping", "the discriminator overfits"...). An answer naming several failures is
    refused: a diagnosis picks one.
    """
    if run not in _ANSWERS:
        raise CheckError(f"no graded answer for run {run!r}: the graded runs are {', '.join(_ANSWERS)}")
    if not isinstance(answer, str) or not answer.strip():
        raise CheckError(f"write the diagnosis as text, e.g. \"oscillation\"; got {answer!r}")
    named = failures_named(answer)
    choices = "; ".join(f.name for f in FAILURES.values())
    if not named:
        raise CheckError(f"{answer!r} names none of the failures of this lesson ({choices}): "
                         f"say which one the run shows")
    if len(named) > 1:
        raise CheckError(f"{answer!r} names several failures ({', '.join(FAILURES[k].name for k in named)}): "
                         f"a diagnosis picks the one the run shows")
    if _digest(run, named[0]) != _ANSWERS[run]:
        raise CheckError(f"{run} does not show {FAILURES[named[0]].name}: compare its curves, its fakes "
                         f"and its numbers with each signature of the gallery again")
    print(f"Correct! {run} shows {FAILURES[named[0]].name}: {FAILURES[named[0]].signature}.")
