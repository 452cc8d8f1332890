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

A diagnosis reads the run's **evidence** (:data:`EVIDENCE`: five numbers any run has) and
names the failures whose rule (:attr:`Failure.rule`) those numbers meet: none (a healthy run),
one, or several. :func:`check_evidence_reader` grades a learner's function that reads the
evidence, :func:`check_diagnosis` a diagnosis of an unlabelled saved run: the numbers it quotes
must be the run's own, and the failures it names those the numbers show. No answer is stored:
the check applies the lesson's rules to the run's own numbers.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from .checks import CheckError, learners_call, passed
from .torch_calls import python_calls
from ..history import STAT_KEYS, History

if TYPE_CHECKING:
    from ..lessons.saved_runs import SavedRun


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


# ------------------------------------------------------------------------------ the evidence
QUALITY_KEYS = ("frechet_distance", "diversity_ratio")
"""The quality number a run is judged by: Fréchet distance for digits, else the diversity ratio."""

EVIDENCE: dict[str, str] = {
    "d_x": "mean D(x) over the last 100 updates: late_means(run.history)['d_x']",
    "d_g_z": "mean D(G(z)) after D's step over the last 100 updates: late_means(run.history)['d_g_z2']",
    "variety": "the share of the most frequent digit at the last evaluation (run.metrics['top_digit_share']) "
               "for digits; the diversity ratio (run.metrics['diversity_ratio']) for colour images",
    "grid_contrast": "grid_contrast(run.snapshot()): of the last saved fixed-noise fakes",
    "quality_jump": "over the evaluations in the run's second half (run.history.metric_iterations >= "
                    "run.iterations / 2), the quality number's mean_jump divided by its mean: Fréchet "
                    "distance for digits, else the diversity ratio",
}
"""The five numbers of a run that a diagnosis reads, and where each comes from."""

_TOLERANCE = (0.05, 0.02)  # a quoted number counts as the run's own within 5% or 0.02


def _quality_key(metrics: Mapping[str, Sequence[float]]) -> str:
    for key in QUALITY_KEYS:
        if metrics.get(key):
            return key
    raise ValueError(f"the run recorded no quality number ({' or '.join(QUALITY_KEYS)})")


def evidence_of(run: SavedRun) -> dict[str, float]:
    """The five numbers of :data:`EVIDENCE`, measured on a saved run (the check's reference)."""
    late = late_means(run.history)
    metrics, its = run.history.metrics, np.asarray(run.history.metric_iterations)
    quality = _quality_key(metrics)
    values = np.asarray(metrics[quality], dtype=float)
    second_half = values[its >= run.iterations / 2]
    variety = "top_digit_share" if metrics.get("top_digit_share") else "diversity_ratio"
    return {"d_x": late["d_x"], "d_g_z": late["d_g_z2"], "variety": float(metrics[variety][-1]),
            "grid_contrast": grid_contrast(run.snapshot()),
            "quality_jump": mean_jump(second_half) / float(np.mean(second_half))}


# ------------------------------------------------------------------------------ the failures
Rule = Callable[[Mapping[str, float], bool, int], bool]


@dataclass(frozen=True)
class Failure:
    """One way GAN training fails: its name, how a run shows it, the rule its evidence meets,
    and the words that name it."""

    key: str
    name: str
    signature: str
    rule: str  # the rule in words, with its thresholds (what :attr:`shown` computes)
    shown: Rule  # (evidence, digits?, training images) -> does the run show it
    words: tuple[str, ...]  # regular expressions, matched in lower case with punctuation as spaces


def _d_wins(e: Mapping[str, float], digits: bool, images: int) -> bool:  # noqa: ARG001
    return e["d_x"] >= 0.95 and e["d_g_z"] <= 0.05


FAILURES: dict[str, Failure] = {f.key: f for f in (
    Failure("d_wins", "D wins, G stalls",
            "D(x) = 1 and D(G(z)) = 0 for good, Loss_D near 0, Loss_G stuck (large with the non-saturating "
            "loss); the fakes stop changing",
            "late D(x) at least 0.95 and late D(G(z)) at most 0.05; a stalled G shows no other failure "
            "(its fakes are one pattern, often gridded: read D first)",
            _d_wins,
            (r"\bd wins\b", r"discriminator wins", r"\bstall", r"vanish", r"saturat",
             r"\bno (useful |usable )?gradients?\b",
             r"\b(d|discriminator) (is |gets |becomes )?(too strong|dominates|dominant|overpowers|overwhelms)",
             r"\b(d|discriminator) (is )?(certain|sure) of (every|all)")),
    Failure("mode_collapse", "mode collapse / mode dropping",
            "the fakes are too alike: some kinds (digits) far too often, others rarely or never",
            "digits: the most frequent digit makes at least 25% of the fakes (0.25; real digits: about "
            "0.11); colour images: diversity ratio at most 0.5",
            lambda e, digits, images: not _d_wins(e, digits, images) and (
                e["variety"] >= 0.25 if digits else e["variety"] <= 0.5),
            (r"\bmodes?\b", r"\bcollaps", r"\bdrop(s|ped|ping)? (some |a |the )?(digits?|classes|kinds|modes)",
             r"missing (digits|classes|kinds)", r"(lack of|low|no|little) (diversity|variety)",
             r"too (alike|similar)")),
    Failure("oscillation", "oscillation",
            "losses and quality numbers keep swinging; the fakes of the same noise keep changing look",
            "the quality number moves by at least 15% of its mean per evaluation over the run's second "
            "half (quality_jump at least 0.15)",
            lambda e, digits, images: not _d_wins(e, digits, images) and e["quality_jump"] >= 0.15,
            (r"oscillat", r"unstabl", r"instabil", r"\bswing", r"never settl", r"does not settle",
             r"not converg", r"\bcycl")),
    Failure("checkerboard", "checkerboard artefacts",
            "a regular grid printed on every fake, at the strides of the transposed convolutions",
            "grid contrast of the last fakes at least 4 (real images: about 1), on fakes that G learned "
            "to draw (not a stall)",
            lambda e, digits, images: not _d_wins(e, digits, images) and e["grid_contrast"] >= 4,
            (r"checker", r"\bgrid (pattern|artefacts?|artifacts?|texture|lines)", r"\bgridded",
             r"(upsampling|stride|striding) (artefacts?|artifacts?)")),
    Failure("d_overfits", "D overfits a small dataset",
            "on a small dataset, D stays sure of the training images (D(x) near 1) long after G has started to draw",
            "at most 5,000 training images, late D(x) at least 0.75 and late D(G(z)) at most 0.2, "
            "without D winning outright",
            lambda e, digits, images: not _d_wins(e, digits, images) and images <= 5_000
            and e["d_x"] >= 0.75 and e["d_g_z"] <= 0.2,
            (r"overfit", r"over fit", r"memori[sz]", r"learn(s|ed|t)? the (training )?(images|data|sprites) by heart")),
)}

HEALTHY_WORDS = (r"\bhealthy\b", r"\bno (failure|problem)s?\b", r"\bnothing (wrong|failed)\b",
                 r"\b(trains?|trained|training|works?|worked|learn(s|ed|t)?) (fine|well)\b", r"^ ?none ?$")
"""How an answer says the run shows no failure."""

_NEGATION = re.compile(r"\b(not|no|never|without|nor|n t|isn t|doesn t|didn t|don t|wasn t|hasn t)\b"
                       r"( \w+){0,3} ?$")


def _clauses(answer: str) -> list[str]:
    """The answer cut at punctuation and "but", lower case, other punctuation as spaces."""
    parts = re.split(r"[.;:,!?()\n]|\bbut\b", answer.lower())
    return [" " + re.sub(r"[^a-z0-9]+", " ", part).strip() + " " for part in parts if part.strip()]


def _named(clause: str, patterns: Sequence[str]) -> bool:
    """Whether ``clause`` names one of ``patterns`` without negating it ("D does not overfit")."""
    for pattern in patterns:
        for match in re.finditer(pattern, clause):
            if not _NEGATION.search(clause[:match.start()]):
                return True
    return False


def failures_named(answer: str) -> list[str]:
    """The keys of every failure that ``answer`` names (none, one or several), and "healthy"
    when it says the run shows none; a negated name ("not a checkerboard") does not count."""
    named = []
    for clause in _clauses(answer):
        for key, failure in FAILURES.items():
            if key not in named and _named(clause, failure.words):
                named.append(key)
        if "healthy" not in named and _named(clause, HEALTHY_WORDS):
            named.append("healthy")
    return [key for key in [*FAILURES, "healthy"] if key in named]


def failures_shown(evidence: Mapping[str, float], digits: bool, training_images: int) -> list[str]:
    """The failures whose rule ``evidence`` meets (an empty list: a healthy run)."""
    return [key for key, f in FAILURES.items() if f.shown(evidence, digits, training_images)]


# ------------------------------------------------------------------------------ the checks
def _is_digits(run: SavedRun) -> bool:
    return bool(run.history.metrics.get("top_digit_share"))


def _quoted(evidence, run_name: str) -> dict[str, float]:
    """The learner's evidence as five plain numbers, or CheckError naming what is missing."""
    if not isinstance(evidence, Mapping):
        raise CheckError(f"the evidence for {run_name} should be a dict of the five numbers "
                         f"{', '.join(EVIDENCE)}; got {type(evidence).__name__}")
    missing = [key for key in EVIDENCE if key not in evidence]
    extra = [key for key in evidence if key not in EVIDENCE]
    if missing or extra:
        raise CheckError(f"the evidence for {run_name} needs exactly the keys {', '.join(EVIDENCE)}"
                         + (f"; missing: {', '.join(missing)}" if missing else "")
                         + (f"; not evidence: {', '.join(map(str, extra))}" if extra else ""))
    numbers = {}
    for key in EVIDENCE:
        value = evidence[key]
        try:
            numbers[key] = float(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError) as err:
            raise CheckError(f"evidence[{key!r}] should be one number, got {value!r}") from err
        if not math.isfinite(numbers[key]):
            raise CheckError(f"evidence[{key!r}] is {numbers[key]}: measure it again ({EVIDENCE[key]})")
    return numbers


def _off(quoted: Mapping[str, float], measured: Mapping[str, float]) -> list[str]:
    rel, abs_ = _TOLERANCE
    return [key for key in EVIDENCE
            if not math.isclose(quoted[key], measured[key], rel_tol=rel, abs_tol=abs_)]


def check_evidence_reader(read_evidence: Callable[[SavedRun], Mapping[str, float]], runs: Sequence[SavedRun]) -> None:
    """``read_evidence(run)`` returns the five numbers of :data:`EVIDENCE` for any saved run;
    tried on every run of ``runs`` (the gallery) and compared with the package's measurement."""
    for run in runs:
        quoted, used = python_calls(lambda: learners_call(read_evidence, f"read_evidence({run.name})", run),
                                    [evidence_of])
        if used:
            raise CheckError("read_evidence calls the package's evidence_of, whose result this exercise "
                             "asks for: measure each number with late_means, grid_contrast, mean_jump "
                             "and run.metrics")
        off = _off(_quoted(quoted, run.name), evidence_of(run))
        if off:
            raise CheckError(f"read_evidence({run.name}) is off in {', '.join(off)}: "
                             + "; ".join(f"{key} is {EVIDENCE[key]}" for key in off))
    passed(f"read_evidence reads all five numbers of the {len(runs)} gallery runs.")


def check_diagnosis(answer: str, evidence: Mapping[str, float], run: SavedRun) -> None:
    """Grade a diagnosis of the unlabelled saved run ``run`` (a SavedRun).

    ``evidence`` is the run's five numbers (:data:`EVIDENCE`), as the learner read them; each
    must be the run's own. ``answer`` names, in any words, every failure those numbers show by
    the rules of :data:`FAILURES`, or says the run is healthy. A wrong diagnosis is refused
    without saying which part is wrong: the evidence says it.
    """
    if not isinstance(answer, str) or not answer.strip():
        raise CheckError(f"write the diagnosis as text, e.g. \"oscillation\" or \"healthy\"; got {answer!r}")
    measured = evidence_of(run)
    off = _off(_quoted(evidence, run.name), measured)
    if off:
        raise CheckError(f"{', '.join(off)} in your evidence {'is' if len(off) == 1 else 'are'} not "
                         f"{run.name}'s own: measure again (" + "; ".join(EVIDENCE[key] for key in off) + ")")
    named = failures_named(answer)
    if not named:
        choices = "; ".join(f.name for f in FAILURES.values())
        raise CheckError(f"{answer!r} names none of the failures of this lesson ({choices}) and does "
                         f"not call the run healthy: say what the evidence shows")
    if "healthy" in named and len(named) > 1:
        raise CheckError(f"{answer!r} calls the run healthy and names a failure: say one or the other")
    shown = failures_shown(measured, _is_digits(run), run.training_images)
    if [k for k in named if k != "healthy"] != shown:
        raise CheckError(f"that diagnosis does not fit {run.name}'s evidence. Hold each of the five "
                         f"numbers against every rule of the gallery (FAILURES[...].rule): a run may "
                         f"show no failure, one, or more than one")
    what = "; ".join(f"{FAILURES[k].name}: {FAILURES[k].rule}" for k in shown) or "no rule is met"
    passed(f"{run.name} is {'healthy' if not shown else 'failing'}: {what}.")
