"""Checks for lesson 00's exercises, which are answered by reading the pictures of a 2-D GAN.

00.1: from D's heatmap, predict the gradient G receives at marked fakes (where the arrows point).
00.2: from the best discriminator D*, name the modes of the ring that G misses.
Both compare the answer with what the check measures on the learner's own run.
"""
from __future__ import annotations

import math

import torch

from ..data import ring_modes
from ..metrics.points import best_discriminator, kde_density
from ..points import BANDWIDTH, PointGAN
from .checks import CheckError, passed

__all__ = ["COMPASS", "compass_of", "marked_fakes", "check_arrow_directions", "missed_modes",
           "check_missed_modes"]

COMPASS = ("E", "NE", "N", "NW", "W", "SW", "S", "SE")
"""The eight directions an answer may name, counter-clockwise from east (+x)."""


def compass_of(vector: torch.Tensor) -> str:
    """The compass direction (of :data:`COMPASS`) closest to a 2-D vector."""
    angle = math.degrees(math.atan2(float(vector[1]), float(vector[0])))
    return COMPASS[round(angle / 45) % 8]


def _angle_between(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def marked_fakes(gan: PointGAN, k: int = 3, n: int = 1000) -> dict[str, torch.Tensor]:
    """``k`` fakes of the current G, labelled "A", "B", ...: among the half with the longest
    arrows, each pointing as differently as possible from the ones picked before (so that no
    single direction is right for all of them)."""
    frame = gan.frame(n)
    strong = frame.arrows.norm(dim=1).argsort(descending=True)[: max(k, n // 2)]
    unit = torch.nn.functional.normalize(frame.arrows[strong], dim=1)
    picked = [0]
    while len(picked) < k:
        alike = (unit @ unit[picked].T).max(dim=1).values  # cosine to the closest picked arrow
        picked.append(int(alike.argmin()))
    picked = [int(strong[i]) for i in picked]
    return {chr(ord("A") + i): frame.fake[j] for i, j in enumerate(picked)}


def check_arrow_directions(predicted: dict[str, str], gan: PointGAN,
                           marked: dict[str, torch.Tensor]) -> None:
    """``predicted``: for each marked fake, the compass direction ("N", "NE", ...) of the gradient
    G receives there (minus the gradient of G's loss at that fake: its arrow). Right when each is
    within 45 degrees of the arrow measured on ``gan`` now. Says neither which nor how many are
    wrong, so guessing does not converge."""
    if not isinstance(predicted, dict) or set(predicted) != set(marked):
        raise CheckError(f"answer a dict with one direction for each marked fake: keys "
                         f"{sorted(marked)}, e.g. {{'A': 'NE', ...}}")
    for name, word in predicted.items():
        if not isinstance(word, str) or word.strip().upper() not in COMPASS:
            raise CheckError(f"{name}: {word!r} is not a direction; use one of {', '.join(COMPASS)}")
    points = torch.stack([marked[name] for name in sorted(marked)])
    arrows = gan.arrows(points)
    wrong = 0
    for name, arrow in zip(sorted(marked), arrows):
        measured = math.degrees(math.atan2(float(arrow[1]), float(arrow[0])))
        said = 45 * COMPASS.index(predicted[name].strip().upper())
        wrong += _angle_between(measured, said) > 45
    if wrong:
        raise CheckError("not every direction is within 45 degrees of the arrow measured there. "
                         "G's loss falls fastest uphill on D's output: toward where D says 'real' "
                         "more strongly (greener), across the steepest change of colour")
    passed("each arrow points the way you said: up the slope of D's decision, toward where D "
           "believes 'real'. That gradient is all G ever learns from.")


ABANDONED = 0.8  # D* above this at a mode's centre: G has under a quarter of the data's mass there
SHORT = 0.5  # D* above this: G has less mass there than the data (pale green); may be named


def d_star_at_modes(gan: PointGAN, n: int) -> list[float]:
    if not isinstance(gan.recipe.points, str) or gan.recipe.points != "ring":
        raise CheckError(f"this question is about the ring; the run trains on {gan.recipe.points!r}")
    frame = gan.frame(n)  # the same reals and fakes as the picture the learner reads
    centres = ring_modes()
    d_star = best_discriminator(kde_density(frame.real, centres, BANDWIDTH),
                                kde_density(frame.fake, centres, BANDWIDTH))
    return d_star.tolist()


def missed_modes(gan: PointGAN, n: int = 1000) -> list[int]:
    """The ring's modes (0 = east, counter-clockwise) that G has abandoned: the best
    discriminator for the current G is clearly green there (D* > 0.8 at the mode's centre)."""
    return [i for i, value in enumerate(d_star_at_modes(gan, n)) if value > ABANDONED]


def check_missed_modes(answer, gan: PointGAN) -> None:
    """``answer``: the numbers of the modes G has abandoned (a list or set of 0..7), read from
    the D* picture of ``gan``'s current G. It must name every mode where D* > 0.8 (deep green)
    and may name a pale-green one (0.5 < D* <= 0.8), but no mode where D* <= 1/2."""
    try:
        said = {int(m) for m in answer}
    except (TypeError, ValueError):
        raise CheckError("answer a list of mode numbers, e.g. [0, 3, 5] (0 is the mode on the "
                         "right, numbers go counter-clockwise)") from None
    if not said <= set(range(8)):
        raise CheckError(f"the ring's modes are numbered 0 to 7, got {sorted(said)}")
    d_star = d_star_at_modes(gan, 1000)
    must = {i for i, v in enumerate(d_star) if v > ABANDONED}
    may = {i for i, v in enumerate(d_star) if v > SHORT}
    if not must <= said <= may:
        raise CheckError("that is not the set of modes where D* says 'real'. D* = p_data / (p_data "
                         "+ p_g) is green (above 1/2) where the data has more mass than G's fakes: "
                         "the modes G has abandoned. Count the deep-green blobs on the D* panel again")
    passed(f"G has abandoned modes {sorted(must)}: D* is deep green there, so a D trained to the end "
           f"would push G back toward them, if G still had fakes nearby to push.")
