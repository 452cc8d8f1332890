"""Checks for the lessons' graded exercises: say precisely what is wrong, accept any right answer.

Each ``check_*`` function takes what the learner wrote (a tensor, a number, a function or a
module), tests its *behaviour* against PyTorch itself or against the package, and either
prints one line saying it is correct or raises :class:`CheckError` (an ``AssertionError``,
so nbgrader counts it as a failed test) whose message names the mistake and the fix, e.g.
``expected shape (2, 20, 32, 32), got (2, 20, 31, 31): check padding``.

Common wrong answers are recognised by computing what they would give and comparing; any
other wrong answer still gets the expected and the actual value. The graders of the other
lessons (``layers``, ``measures``, ``modern``) share this module's helpers: :func:`passed`,
:func:`close`, :func:`learners_call` and :func:`as_int`.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from numbers import Real

import torch
from torch import nn

from ..metrics import diversity, diversity_curve, diversity_ratio
from .torch_calls import BCE_FUNCTIONS, CONVOLUTIONS, python_calls, torch_calls

__all__ = ["CheckError", "check_d_loss", "check_g_loss", "check_tconv_size", "check_conv_size",
           "check_denormalised", "check_bce", "check_bce_logits", "check_diversity", "check_gblock",
           "TrainStepExercise", "train_step_exercise", "check_train_step"]


class CheckError(AssertionError):
    """The learner's answer is wrong; the message says what is wrong and how to fix it."""


def passed(message: str) -> None:
    """Print the line every check prints when the answer is right: "Correct! " + ``message``."""
    print(f"Correct! {message}")


def close(a: float, b: float, rel: float = 1e-4, abs_: float = 1e-6) -> bool:
    """Whether a learner's number ``a`` equals ``b`` up to rounding (relative ``rel``, absolute
    ``abs_``): how every check compares numbers."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def _scalar(value, name: str, want_grad: bool = False) -> float:
    """A single number out of ``value`` (a 0-dim tensor or a Python number), else CheckError."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise CheckError(f"{name} should be a single number, got a tensor of shape "
                             f"{tuple(value.shape)}: average over the batch with .mean()")
        if want_grad and value.grad_fn is None:
            raise CheckError(f"{name} has no gradient history, so .backward() could not reach "
                             f"the network: compute it from the tensors the network returned, "
                             f"without .item(), .detach() or torch.no_grad()")
        return value.detach().float().item()
    if want_grad and isinstance(value, Real):
        raise CheckError(f"{name} is a Python number ({value!r}), so .backward() cannot follow it: "
                         f"keep it a tensor (drop .item() / float())")
    if isinstance(value, Real) and not isinstance(value, bool):
        return float(value)
    raise CheckError(f"{name} should be a number or a 0-dim tensor, got {type(value).__name__}")


def _diagnose(got: float, expected: float, name: str, candidates: Iterable[tuple[float, str]]) -> None:
    """Raise CheckError unless ``got`` matches ``expected``; name a recognised mistake if one fits."""
    if close(got, expected):
        return
    for wrong, explanation in candidates:
        if close(got, wrong):
            raise CheckError(f"{name} = {got:.4f}, expected {expected:.4f}: {explanation}")
    raise CheckError(f"{name} = {got:.4f}, expected {expected:.4f}")


# ------------------------------------------------------------------ losses (lessons 01, 03)
def _d_loss_and_mistakes(d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[float, list[tuple[float, str]]]:
    """D's loss for these probabilities, and the values (with explanations) of the usual mistakes."""
    log_real, log_fake = torch.log(d_real.detach().double()), torch.log(d_fake.detach().double())
    log_not_real = torch.log1p(-d_real.detach().double())
    log_not_fake = torch.log1p(-d_fake.detach().double())
    expected = -(log_real.mean() + log_not_fake.mean()).item()
    mistakes = [
        (-expected, "the sign is flipped: D maximises V, so it minimises "
                    "-[log D(x) + log(1 - D(G(z)))]"),
        (-log_real.mean().item(), "that is only the real half -log D(x): add the fake half "
                                  "-log(1 - D(G(z)))"),
        (-log_not_fake.mean().item(), "that is only the fake half -log(1 - D(G(z))): add the "
                                      "real half -log D(x)"),
        (-(log_real.mean() + log_fake.mean()).item(),
         "the fakes are labelled 1: their term is -log(1 - D(G(z))), not -log D(G(z))"),
        (-(log_not_real.mean() + log_fake.mean()).item(),
         "the labels are swapped: real images count with -log D(x) (label 1), fakes with "
         "-log(1 - D(G(z))) (label 0)"),
        (expected / 2, "you averaged the two halves: add them, as GANTrainer does by default "
                       "(d_loss_reduction='sum')"),
    ]
    if d_real.numel() > 1:
        mistakes.append((expected * d_real.numel(),
                         f"that is {d_real.numel()} times too large: average each half over "
                         f"the batch with .mean() instead of summing"))
    return expected, mistakes


def check_d_loss(loss_d, out_real: torch.Tensor | None = None,
                 out_fake: torch.Tensor | None = None) -> None:
    """D's two-part loss: ``-(mean log D(x) + mean log(1 - D(G(z))))``, the sum of both BCE halves.

    ``loss_d`` is best a function ``loss_d(d_real, d_fake)`` of D's probabilities for a real and a
    fake batch: it is then called on batches of the check's own, so a value copied from the page
    cannot pass, and any right way of computing it can (torch.log, nn.BCELoss, detached inputs).
    A value (a 0-dim tensor) is compared with ``out_real`` and ``out_fake``, D's probabilities for
    the batches it was computed from, and must keep their gradient history.
    """
    if callable(loss_d) and not isinstance(loss_d, torch.Tensor):
        if out_real is not None or out_fake is not None:
            raise TypeError("check_d_loss(function) draws its own batches: pass the function alone")
        _check_d_loss_function(loss_d)
        return
    if out_real is None or out_fake is None:
        raise CheckError(f"expected a function of D's outputs, my_d_loss = lambda d_real, d_fake: ..., "
                         f"got {type(loss_d).__name__}: the check calls it on batches of its own")
    got = _scalar(loss_d, "loss_d", want_grad=out_real.requires_grad)
    expected, mistakes = _d_loss_and_mistakes(out_real, out_fake)
    _diagnose(got, expected, "loss_d", mistakes)
    passed(f"loss_d = {got:.4f} = -log D(x) - log(1 - D(G(z))), averaged over the batch.")


def check_g_loss(loss_g, out_fake: torch.Tensor, kind: str = "minimax") -> None:
    """G's loss on D's probabilities ``out_fake`` for the fakes.

    ``kind="minimax"``: G minimises ``mean log(1 - D(G(z)))`` (Goodfellow et al.'s value
    function); ``kind="non-saturating"``: G minimises ``-mean log D(G(z))``.
    """
    if kind not in ("minimax", "non-saturating"):
        raise ValueError(f"kind must be 'minimax' or 'non-saturating', got {kind!r}")
    got = _scalar(loss_g, "loss_g", want_grad=out_fake.requires_grad)
    log_fake = torch.log(out_fake.detach().double()).mean().item()
    log_not_fake = torch.log1p(-out_fake.detach().double()).mean().item()
    n = out_fake.numel()
    if kind == "minimax":
        expected = log_not_fake
        candidates = [
            (-log_not_fake, "the sign is flipped: G *minimises* log(1 - D(G(z))), the fake term "
                            "of V; -log(1 - D(G(z))) is what D minimises (BCE with label 0)"),
            (-log_fake, "that is the non-saturating loss -log D(G(z)); the minimax generator "
                        "minimises log(1 - D(G(z)))"),
            (log_fake, "log D(G(z)) is the non-saturating objective (maximised); the minimax "
                       "generator minimises log(1 - D(G(z)))"),
            (expected * n, f"that is {n} times too large: average over the batch with .mean()"),
        ]
    else:
        expected = -log_fake
        candidates = [
            (log_fake, "the sign is flipped: G minimises -log D(G(z)) (BCE with label 1)"),
            (log_not_fake, "that is the minimax loss log(1 - D(G(z))); the non-saturating "
                           "generator minimises -log D(G(z))"),
            (-log_not_fake, "that is D's fake term -log(1 - D(G(z))) (label 0); G labels its "
                            "fakes 1: -log D(G(z))"),
            (expected * n, f"that is {n} times too large: average over the batch with .mean()"),
        ]
    _diagnose(got, expected, "loss_g", candidates)
    formula = "log(1 - D(G(z)))" if kind == "minimax" else "-log D(G(z))"
    passed(f"loss_g = {got:.4f} = {formula}, averaged over the batch.")


def _refuse_torch_bce(calls: set[str], name: str, write: str) -> None:
    if calls & BCE_FUNCTIONS:
        called = ", ".join(sorted(calls & BCE_FUNCTIONS))
        raise CheckError(f"{name} calls torch's own binary cross-entropy ({called}"
                         f": nn.BCELoss, nn.BCEWithLogitsLoss, F.cross_entropy on two classes, a loss object "
                         f"on the page...): the exercise is to write it yourself, {write}")


def learners_call(fn: Callable, call: str, *args):
    """``fn(*args)``; an error the learner's code raises becomes a CheckError naming ``call``."""
    try:
        return fn(*args)
    except CheckError:
        raise
    except Exception as err:  # noqa: BLE001 - show the learner their own error
        raise CheckError(f"{call} raised {type(err).__name__}: {err}") from err


def _call_loss(fn: Callable, name: str, *args: torch.Tensor):
    """``fn(*args)`` and the torch functions it called; the learner's own error as a CheckError."""
    return learners_call(torch_calls, name, fn, *args)


def _fresh(shape: tuple[int, ...], low: float, high: float, seed: int) -> torch.Tensor:
    """Numbers no page shows: uniform in [low, high), from a seeded generator."""
    return low + (high - low) * torch.rand(shape, generator=torch.Generator().manual_seed(seed))


def check_bce(bce: Callable) -> None:
    """``bce(p, y)``: binary cross-entropy of probabilities ``p`` against labels ``y``, batch mean.

    Tried on labels 1 and 0, a batch, soft labels (label smoothing) and a fresh 2-D batch of
    soft labels, against the formula in float64. Handing in torch's own BCE (``nn.BCELoss``,
    ``F.binary_cross_entropy``, a loss object on the page) is refused: the exercise is to write it.
    """
    picked = ("you picked one log term by the label; with a soft label both terms count, "
              "weighted by y and (1 - y)")
    cases = [  # (p, y, what the case tests)
        (torch.tensor([0.9]), torch.tensor([1.0]), "label 1"),
        (torch.tensor([0.9]), torch.tensor([0.0]), "label 0"),
        (torch.tensor([0.9, 0.2, 0.6]), torch.tensor([1.0, 0.0, 1.0]), "a batch of 3"),
        (torch.tensor([0.3, 0.8]), torch.tensor([0.9, 0.9]), "soft labels y = 0.9 (label smoothing)"),
        (_fresh((3, 5), 0.02, 0.98, 31), _fresh((3, 5), 0.0, 1.0, 32), "a fresh 3x5 batch of soft labels"),
    ]
    for p, y, what in cases:
        shown = f"p={p.tolist()}, y={y.tolist()}" if p.numel() <= 3 else f"p and y of shape {tuple(p.shape)}"
        value, calls = _call_loss(bce, f"bce({shown})", p.clone(), y.clone())
        _refuse_torch_bce(calls, "bce", "-[y log p + (1 - y) log(1 - p)] with torch.log, averaged")
        got = _scalar(value, f"bce({shown})")
        pd, yd = p.double(), y.double()
        pos = -(yd * pd.log()).mean().item()
        neg = -((1 - yd) * (1 - pd).log()).mean().item()
        expected = pos + neg
        _diagnose(got, expected, f"bce({shown}) [{what}]", [
            (-expected, "the sign is flipped: BCE is -[y log p + (1 - y) log(1 - p)]"),
            (pos, "the (1 - y) log(1 - p) term is missing: with label 0 only that term counts"),
            (neg, "the y log p term is missing: with label 1 only that term counts"),
            (expected * p.numel(), "you summed over the batch: take the mean"),
            (expected / math.log(10), "use the natural logarithm (torch.log), not log10"),
            (-(torch.where(yd >= 0.5, pd.log(), (1 - pd).log())).mean().item(), picked),
            (-(torch.where(yd == 1, pd.log(), (1 - pd).log())).mean().item(), picked),
        ])
    passed("bce gives the binary cross-entropy on labels 1 and 0, on batches and on soft labels.")


def check_bce_logits(bce_logits: Callable) -> None:
    """``bce_logits(logit, y)``: the BCE of ``sigmoid(logit)`` against ``y``, batch mean, from the logit.

    Tried on moderate logits, soft labels, a fresh 2-D batch and logits up to +-100, where
    ``sigmoid`` rounds to exactly 0 or 1 in float32: the value must stay exact (a sure mistake at
    logit -100 costs 100) and ``.backward()`` must give the gradient ``(sigmoid(logit) - y) / n``,
    which never vanishes. torch's own BCE (``nn.BCEWithLogitsLoss``, ...) is refused.
    """
    stable = "log sigma(l) = -softplus(-l) and log(1 - sigma(l)) = -softplus(l)"
    cases = [  # (logits, labels, what the case tests)
        ([2.0, -1.0, 0.5], [1.0, 0.0, 1.0], "moderate logits"),
        ([2.0, -3.0], [0.9, 0.1], "soft labels 0.9 and 0.1"),
        ((_fresh((2, 4), -6.0, 6.0, 41).tolist()), _fresh((2, 4), 0.0, 1.0, 42).tolist(), "a fresh 2x4 batch"),
        ([40.0, -40.0], [1.0, 0.0], "D sure and right (logits +-40)"),
        ([-40.0, 40.0, -100.0, 100.0], [1.0, 0.0, 1.0, 0.0], "D sure and wrong (logits +-40, +-100)"),
    ]
    for logit_list, y_list, what in cases:
        logit = torch.tensor(logit_list, requires_grad=True)
        y = torch.tensor(y_list)
        shown = (f"logit={logit_list}, y={y_list}" if logit.numel() <= 4
                 else f"logit and y of shape {tuple(logit.shape)}")
        name = f"bce_logits({shown}) [{what}]"
        value, calls = _call_loss(bce_logits, name, logit, y.clone())
        _refuse_torch_bce(calls, "bce_logits", f"from the logit, with {stable}")
        got = _scalar(value, name, want_grad=True)
        ld, yd = logit.detach().double(), y.double()
        pos = (yd * nn.functional.softplus(-ld)).mean().item()  # -y log sigma(l)
        neg = ((1 - yd) * nn.functional.softplus(ld)).mean().item()  # -(1 - y) log(1 - sigma(l))
        expected = pos + neg
        if not math.isfinite(got) and logit.detach().abs().max().item() < 40:
            raise CheckError(f"{name} = {got}: l is a logit, any real number, not a probability; "
                             f"turn it into log-probabilities with {stable}")
        if not math.isfinite(got):
            raise CheckError(f"{name} = {got}: sigma(l) rounds to exactly 1.0 or 0.0 in float32 "
                             f"(torch.sigmoid(torch.tensor(40.)) == 1), so a log of it is log 0. "
                             f"Never compute sigma(l) first: use {stable}")
        if logit.detach().abs().max().item() >= 40 and not close(got, expected):
            raise CheckError(f"{name} = {got:.4f}, expected {expected:.4f}: a sure mistake costs its "
                             f"full -log sigma(l) (100 at logit -100 with label 1); clamping sigma(l) "
                             f"or the log caps it. Compute from the logit: {stable}")
        _diagnose(got, expected, name, [
            (-expected, "the sign is flipped: BCE is -[y log p + (1 - y) log(1 - p)] with p = sigma(l)"),
            (pos, "the (1 - y) log(1 - sigma(l)) term is missing"),
            (neg, "the y log sigma(l) term is missing"),
            (expected * logit.numel(), "you summed over the batch: take the mean"),
            (expected / math.log(10), "use the natural logarithm, not log10"),
        ])
        value.backward()
        want = ((torch.sigmoid(ld) - yd) / logit.numel())
        grad = logit.grad
        if grad is None or not torch.allclose(grad.double(), want, rtol=1e-3, atol=1e-6):
            got_grad = "none" if grad is None else [round(g, 4) for g in grad.flatten().tolist()]
            raise CheckError(f"{name}: the loss is right but its gradient with respect to the logits is "
                             f"{got_grad}, expected (sigma(l) - y) / n = "
                             f"{[round(g, 4) for g in want.flatten().tolist()]}: a clamp or a rounded "
                             f"sigma(l) kills the gradient of a sure mistake (G stalls, lesson 02); use {stable}")
    passed("bce_logits is exact from the logit, also where sigmoid rounds to 0 or 1, and its "
           "gradient sigma(l) - y never vanishes.")


# ------------------------------------------------------------------ size arithmetic (02, 04)
def as_int(value, call: str) -> int | float:
    """The number a learner's ``call`` returned (a Python number or a one-element tensor), as an
    int when it is whole, else a float; CheckError naming ``call`` when it is no number."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if not isinstance(value, Real) or isinstance(value, bool):
        raise CheckError(f"{call} returned {value!r} ({type(value).__name__}): return a number")
    return int(value) if float(value).is_integer() else float(value)


_SIZE_CASES = [(16, 4, 2, 1), (1, 4, 1, 0), (4, 4, 1, 0), (4, 4, 2, 1), (32, 4, 2, 1), (7, 4, 2, 1),
               (5, 3, 2, 0), (9, 5, 3, 2), (8, 3, 1, 1), (10, 2, 2, 0), (6, 5, 1, 2), (11, 4, 3, 1),
               (3, 3, 2, 1)]
"""(n, k, s, p) settings tried, the lessons' own first (a convolution skips those where k > n + 2p)."""


_TCONV_MISTAKES = [
    (lambda n, k, s, p: s * n + k - 2 * p,
     "off by s: the stamps start at 0, s, ..., s(n - 1), so use s·(n - 1)"),
    (lambda n, k, s, p: s * (n - 1) + k - p,
     "check padding: p pixels are cut from *both* borders, subtract 2p"),
    (lambda n, k, s, p: s * (n - 1) + k, "check padding: p pixels are cut from both borders, subtract 2p"),
    (lambda n, k, s, p: s * (n - 1) + k + 2 * p,
     "check padding: in a transposed convolution padding removes pixels, subtract 2p"),
    (lambda n, k, s, p: (n - k + 2 * p + s) // s, "that is the ordinary convolution's formula, which "
                                                   "shrinks; a transposed convolution grows: s(n - 1) + k - 2p"),
]
_CONV_MISTAKES = [
    (lambda n, k, s, p: (n - k + 2 * p + s) / s,
     "a window either fits or it does not: round down with floor division //"),
    (lambda n, k, s, p: -(-(n - k + 2 * p + s) // s), "rounded up: round down with floor division //"),
    (lambda n, k, s, p: (n - k + 2 * p) // s, "one short: count the first window position too, "
                                              "(n - k + 2p + s) // s"),
    (lambda n, k, s, p: (n - k + p + s) // s, "check padding: pad both sides, + 2p"),
    (lambda n, k, s, p: n - k + 2 * p + s, "divide by the stride s (the window moves s pixels at a time)"),
    (lambda n, k, s, p: s * (n - 1) + k - 2 * p, "that is the transposed convolution's formula, "
                                                 "which grows; a convolution shrinks: (n - k + 2p + s) // s"),
]


def _check_size_formula(fn: Callable, transposed: bool) -> int:
    """Compare ``fn(n, k, s, p)`` with the real layer on every setting; name a known mistake."""
    layer_cls = nn.ConvTranspose2d if transposed else nn.Conv2d
    name = "tconv_size" if transposed else "conv_size"
    cases = [c for c in _SIZE_CASES if transposed or c[1] <= c[0] + 2 * c[3]]  # conv: window fits
    answers = []
    for n, k, s, p in cases:
        call = f"{name}(n={n}, k={k}, s={s}, p={p})"
        value, calls = learners_call(torch_calls, call, fn, n, k, s, p)
        if calls & CONVOLUTIONS:
            raise CheckError(f"{call} runs a {layer_cls.__name__} to measure the side: the exercise "
                             f"is the formula, from n, k, s and p alone")
        answers.append(as_int(value, call))
    for (n, k, s, p), got in zip(cases, answers):
        with torch.no_grad():
            true = layer_cls(1, 1, k, s, p, bias=False)(torch.zeros(1, 1, n, n)).shape[-1]
        if got == true:
            continue
        head = (f"{name}(n={n}, k={k}, s={s}, p={p}) returned {got}, expected {true} "
                f"({layer_cls.__name__} gives {true})")
        for mistake, why in (_TCONV_MISTAKES if transposed else _CONV_MISTAKES):
            if all(a == mistake(*c) for c, a in zip(cases, answers)):  # the same formula everywhere
                raise CheckError(f"{head}: {why}")
        raise CheckError(head)
    return len(cases)


def check_tconv_size(tconv_size: Callable[[int, int, int, int], int]) -> None:
    """``tconv_size(n, k, s, p)``: output side of ``nn.ConvTranspose2d(k, s, p)`` for side ``n``."""
    checked = _check_size_formula(tconv_size, transposed=True)
    passed(f"tconv_size agrees with nn.ConvTranspose2d on {checked} (n, k, s, p) settings.")


def check_conv_size(conv_size: Callable[[int, int, int, int], int]) -> None:
    """``conv_size(n, k, s, p)``: output side of ``nn.Conv2d(k, s, p)`` for side ``n``."""
    checked = _check_size_formula(conv_size, transposed=False)
    passed(f"conv_size agrees with nn.Conv2d on {checked} (n, k, s, p) settings.")


# ------------------------------------------------------------------ images (02, 03)
def check_denormalised(pixels, images: torch.Tensor) -> None:
    """``pixels``: generator output ``images`` in [-1, 1] turned into [0, 1] floats for display."""
    images = images.detach().float().cpu()
    expected = ((images + 1) / 2).clamp(0, 1)
    if not isinstance(pixels, torch.Tensor):
        try:
            pixels = torch.as_tensor(pixels)
        except Exception as err:  # noqa: BLE001
            raise CheckError(f"pixels should be a tensor, got {type(pixels).__name__}") from err
    pixels = pixels.detach().cpu()
    if tuple(pixels.shape) != tuple(images.shape):
        raise CheckError(f"expected shape {tuple(images.shape)}, got {tuple(pixels.shape)}: "
                         f"denormalising changes values only, keep the shape as it is")
    if not pixels.is_floating_point():
        raise CheckError(f"pixels have dtype {pixels.dtype}: expected floats in [0, 1] "
                         f"(divide, do not convert to integers)")
    pixels = pixels.float()
    lo, hi = pixels.min().item(), pixels.max().item()
    if torch.allclose(pixels, expected, atol=1e-5):
        passed(f"pixels = (x + 1) / 2, from {lo:.3f} to {hi:.3f}.")
        return
    known = [
        (images / 2, "add 1 before halving: (x + 1) / 2 maps [-1, 1] to [0, 1]"),
        (images + 1, "divide by 2 as well: (x + 1) / 2 maps [-1, 1] to [0, 1]"),
        (images * 0.3081 + 0.1307, "that undoes Normalize(0.1307, 0.3081), but the data was "
                                   "scaled with Normalize(0.5, 0.5): use (x + 1) / 2"),
        ((images - 0.5) / 0.5, "that applies Normalize(0.5, 0.5) again; undo it: x * 0.5 + 0.5"),
        (expected * 255, "that is 0..255: matplotlib wants floats in [0, 1], do not multiply by 255"),
        (images, "the values are unchanged: map [-1, 1] to [0, 1] with (x + 1) / 2"),
    ]
    for wrong, why in known:
        if torch.allclose(pixels, wrong, atol=1e-4):
            raise CheckError(f"pixels range from {lo:.3f} to {hi:.3f}: {why}")
    worst = (pixels - expected).abs().max().item()
    raise CheckError(f"pixels range from {lo:.3f} to {hi:.3f} and differ from (x + 1) / 2 by "
                     f"up to {worst:.3f}")


def _check_diversity_value(got: float, images: torch.Tensor, name: str) -> None:
    flat = images.detach().double().flatten(1)
    n, d = flat.shape
    distances = torch.cdist(flat, flat)
    pair_mean = (distances.sum() / (n * (n - 1))).item()
    _diagnose(got, pair_mean / d ** 0.5, name, [
        (pair_mean * (n - 1) / n / d ** 0.5, "you averaged over all n² pairs, including each "
                                              "image with itself (distance 0): average over the "
                                              "n(n - 1) pairs i != j"),
        (pair_mean, f"divide by sqrt(values per image) = sqrt({d}) so that the number does not "
                    f"depend on the image size"),
        (pair_mean / d, "divide by the *square root* of the values per image, not by their number"),
        ((distances ** 2).sum().item() / (n * (n - 1)) / d, "use the distance, not its square"),
    ])


def check_diversity(answer, images: torch.Tensor | None = None) -> None:
    """``answer``: the mean L2 distance over the pairs i != j of a batch, over sqrt(values per image).

    Best a function of a batch, ``my_diversity(batch)``: it is tried on ``images`` (if given) and
    on two fresh batches of other shapes, and calling the package's own ``diversity`` or
    ``diversity_ratio`` is refused. A number is checked against ``images`` only, and cannot show
    how it was computed.
    """
    if callable(answer):
        batches = ([images] if images is not None else []) + [_fresh((5, 3, 4, 4), -1.0, 1.0, 61),
                                                              _fresh((9, 1, 7, 7), -1.0, 1.0, 62)]
        for batch in batches:
            name = f"my_diversity(a batch of shape {tuple(batch.shape)})"
            value, called = learners_call(python_calls, name, answer,
                                          (diversity, diversity_ratio, diversity_curve),
                                          batch.detach().clone())
            if called:
                raise CheckError(f"my_diversity calls gan_tutorial's own {', '.join(sorted(called))}: "
                                 f"compute the pairwise distances yourself (torch.cdist or torch.pdist)")
            _check_diversity_value(_scalar(value, name), batch, name)
        passed(f"my_diversity follows the definition on {len(batches)} batches of different shapes.")
        return
    if images is None:
        raise TypeError("check_diversity(value, images): give the batch the value was computed on")
    got = _scalar(answer, "my_diversity")
    _check_diversity_value(got, images, "my_diversity")
    passed(f"my_diversity = {got:.4f}, the same as gan_tutorial.diversity.")


# ------------------------------------------------------------------ blocks (04)
def _shape_problem(got: tuple, want: tuple, n: int, conv: nn.ConvTranspose2d | None, scale: int) -> str:
    """Why a block's output has shape ``got`` instead of ``want`` for an input of side ``n``."""
    if len(got) == 4 and got[1] != want[1]:
        return f"check out_channels: expected {want[1]} channels"
    if len(got) == 4 and got[2] < n:
        return "the side shrank: use nn.ConvTranspose2d, which grows, not nn.Conv2d"
    if conv is not None:
        (k, _), (s, _), (p, _) = conv.kernel_size, conv.stride, conv.padding
        return (f"your transposed convolution has kernel {k}, stride {s}, padding {p}, and "
                f"n' = s(n - 1) + k - 2p = {s * (n - 1) + k - 2 * p} for n = {n}; choose stride and "
                f"padding so that it is {scale}n for every n")
    return "check the layers"


def check_gblock(block: nn.Module, in_channels: int = 3, out_channels: int = 20, kernel_size: int = 4,
                 scale: int = 2, groups: int | None = None) -> None:
    """A generator block: ``ConvTranspose2d`` with ``kernel_size`` that multiplies the side by ``scale``,
    then ``BatchNorm2d`` (or, with ``groups``, ``GroupNorm(groups, out_channels)``), then ``ReLU``
    (the defaults describe ``GBlock(3, 20)``: kernel 4, stride 2, padding 1).

    Run on fresh batches of three sides (a copy of the block, in training mode): the output shape,
    the convolution's kernel (its stride and padding are pinned by the sides), gradients reaching
    the input and the weights, and the values ``ReLU(BatchNorm(conv(x)))`` computed with the
    block's own layers. Any module that computes that passes (``nn.Sequential``, a custom
    ``nn.Module``, ``ReLU(inplace=True)``, ``GBlock``), with or without a convolution bias, which
    BatchNorm cancels.
    """
    if not isinstance(block, nn.Module):
        raise CheckError(f"expected an nn.Module (e.g. nn.Sequential(...)), got {type(block).__name__}")
    block = copy.deepcopy(block).train()  # the learner's block keeps its state
    convs = [m for m in block.modules() if isinstance(m, nn.ConvTranspose2d)]
    conv = convs[0] if convs else None
    for n in (16, 5, 8):  # the lesson's side first, then sides no page shows
        x = _fresh((2, in_channels, n, n), -2.0, 2.0, 50 + n).requires_grad_()
        try:
            y = block(x)
        except Exception as err:  # noqa: BLE001 - show the learner their own error
            raise CheckError(f"the block fails on a batch of shape {tuple(x.shape)}: "
                             f"{type(err).__name__}: {err}. Check in_channels = {in_channels}") from err
        want, got = (2, out_channels, scale * n, scale * n), tuple(y.shape)
        if got != want:
            raise CheckError(f"expected shape {want} for an input of shape {tuple(x.shape)}, got {got}: "
                             f"{_shape_problem(got, want, n, conv, scale)}")
    if conv is None:
        raise CheckError("no nn.ConvTranspose2d in the block: a generator block grows the image "
                         "with a transposed convolution")
    if conv.kernel_size != (kernel_size, kernel_size):
        raise CheckError(f"the transposed convolution has kernel_size {conv.kernel_size}, expected "
                         f"{kernel_size}: the sides come out right, but it is not the layer asked for")
    if conv.dilation != (1, 1) or conv.groups != 1:
        raise CheckError(f"the transposed convolution has dilation {conv.dilation} and groups "
                         f"{conv.groups}: use the plain one, dilation 1 and groups 1 (the defaults)")
    if groups is not None:
        _check_group_norm(block, y, x, conv, groups, out_channels)
        (k, _), (s, _), (p, _) = conv.kernel_size, conv.stride, conv.padding
        passed(f"(2, {in_channels}, n, n) -> (2, {out_channels}, {scale}n, {scale}n) for n = 16, 5, 8: "
               f"ConvTranspose2d(kernel {k}, stride {s}, padding {p}), then GroupNorm({groups}, "
               f"{out_channels}) and ReLU; one image alone gives what it gives in a batch.")
        return
    norms = [m for m in block.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        raise CheckError(f"no nn.BatchNorm2d in the block: add nn.BatchNorm2d({out_channels}) "
                         f"after the convolution")
    norm = norms[0]
    if not norm.affine:
        raise CheckError("the BatchNorm2d has affine=False: keep its learnable scale and shift (the "
                         "default), which take the place of the convolution's bias")
    if norm.eps != 1e-5:
        raise CheckError(f"the BatchNorm2d has eps = {norm.eps:g}: its second argument is eps, not momentum "
                         f"(BatchNorm2d({out_channels}, 0.8) adds 0.8 to every variance and flattens the "
                         f"normalisation); use BatchNorm2d({out_channels})")
    if not norm.track_running_stats:
        raise CheckError("the BatchNorm2d has track_running_stats=False: it keeps no running statistics, so "
                         "in eval mode it would still normalise each batch by itself; keep the default")
    if y.min().item() < 0:
        raise CheckError(f"the block outputs negative values (down to {y.min().item():.3f}): it must "
                         f"end with nn.ReLU() after the BatchNorm")
    with torch.no_grad():  # what conv -> BatchNorm -> ReLU gives with the block's own layers
        expected = torch.relu(nn.functional.batch_norm(
            conv(x), None, None, norm.weight, norm.bias, training=True, eps=norm.eps))
    if not torch.allclose(y, expected, atol=1e-4):
        raise CheckError("the output is not ReLU(BatchNorm(ConvTranspose2d(x))): put the layers in "
                         "that order, with nothing else in between")
    _check_gradients_reach(y, x, conv)
    (k, _), (s, _), (p, _) = conv.kernel_size, conv.stride, conv.padding
    bias = ("; its bias is harmless but useless, BatchNorm cancels it (bias=False saves the parameters)"
            if conv.bias is not None else ", no bias")
    passed(f"(2, {in_channels}, n, n) -> (2, {out_channels}, {scale}n, {scale}n) for n = 16, 5, 8: "
           f"ConvTranspose2d(kernel {k}, stride {s}, padding {p}){bias}, then BatchNorm and ReLU.")


def _check_gradients_reach(y: torch.Tensor, x: torch.Tensor, conv: nn.ConvTranspose2d) -> None:
    """A block's output must carry a gradient back to its input and its convolution's weights."""
    if not y.requires_grad:
        raise CheckError("the block's output carries no gradient (torch.no_grad or .detach() inside?): "
                         "G could not learn through it")
    y.sum().backward()
    if x.grad is None or conv.weight.grad is None or not conv.weight.grad.abs().sum() > 0:
        raise CheckError("the gradient does not reach the block's input and its convolution weights: "
                         "do not detach anything inside the block")


def _check_group_norm(block: nn.Module, y: torch.Tensor, x: torch.Tensor, conv: nn.ConvTranspose2d,
                      groups: int, channels: int) -> None:
    """The rest of :func:`check_gblock` for a block normalised by ``GroupNorm(groups, channels)``."""
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in block.modules()):
        raise CheckError(f"the block normalises with BatchNorm, which mixes the images of a batch: this "
                         f"block normalises each image by itself, nn.GroupNorm({groups}, {channels})")
    norms = [m for m in block.modules() if isinstance(m, nn.GroupNorm)]
    if not norms:
        raise CheckError(f"no nn.GroupNorm in the block: add nn.GroupNorm({groups}, {channels}) after the "
                         f"convolution (nn.InstanceNorm2d and nn.LayerNorm are other layers)")
    norm = norms[0]
    if norm.num_groups != groups:
        raise CheckError(f"the GroupNorm has {norm.num_groups} groups, expected {groups} "
                         f"({channels // groups} channels each): GroupNorm's first argument is the "
                         f"number of groups, the second the number of channels")
    if not norm.affine:
        raise CheckError("the GroupNorm has affine=False: keep its learnable scale and shift (the default)")
    if norm.eps != 1e-5:
        raise CheckError(f"the GroupNorm has eps = {norm.eps:g}: its third argument is eps; keep the "
                         f"default, GroupNorm({groups}, {channels})")
    if y.min().item() < 0:
        raise CheckError(f"the block outputs negative values (down to {y.min().item():.3f}): it must "
                         f"end with nn.ReLU() after the GroupNorm")
    with torch.no_grad():
        expected = torch.relu(nn.functional.group_norm(conv(x), groups, norm.weight, norm.bias, norm.eps))
        alone = copy.deepcopy(block).eval()(x[:1])
    if not torch.allclose(y, expected, atol=1e-4):
        raise CheckError("the output is not ReLU(GroupNorm(ConvTranspose2d(x))): put the layers in "
                         "that order, with nothing else in between")
    if not torch.allclose(alone, y[:1].detach(), atol=1e-4):
        raise CheckError("the first image alone comes out differently from the same image in a batch: "
                         "something in the block still depends on the batch")
    _check_gradients_reach(y, x, conv)


# ------------------------------------------------------------------ lesson 01: D's loss on fresh inputs
def _d_loss_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(what, D(x) for a real batch, D(G(z)) for a fake batch): probabilities no page shows."""
    return [
        ("8 images each, an unsure D",
         0.3 + 0.6 * torch.rand(8, generator=torch.Generator().manual_seed(2014)),
         0.1 + 0.6 * torch.rand(8, generator=torch.Generator().manual_seed(2015))),
        ("one real and one fake image", torch.tensor([0.8]), torch.tensor([0.35])),
        ("3 images each, a sure D", torch.tensor([0.999, 0.99, 0.4]), torch.tensor([1e-4, 0.02, 0.6])),
    ]


def _check_d_loss_function(my_d_loss: Callable) -> None:
    """Call ``my_d_loss(d_real, d_fake)`` on fresh batches; compare values (and gradients, if any)."""
    for what, d_real, d_fake in _d_loss_cases():
        d_real, d_fake = d_real.requires_grad_(), d_fake.requires_grad_()
        name = (f"my_d_loss(d_real={[round(v, 4) for v in d_real.tolist()]}, "
                f"d_fake={[round(v, 4) for v in d_fake.tolist()]}) [{what}]")
        value = learners_call(my_d_loss, name, d_real, d_fake)
        got = _scalar(value, name)  # a number or a detached tensor is fine: no gradient is asked for
        expected, mistakes = _d_loss_and_mistakes(d_real, d_fake)
        _diagnose(got, expected, name, mistakes)
        if isinstance(value, torch.Tensor) and value.requires_grad:
            grads = torch.autograd.grad(value, (d_real, d_fake), allow_unused=True)
            want = (-1 / d_real.detach().double() / d_real.numel(),
                    1 / (1 - d_fake.detach().double()) / d_fake.numel())
            for side, have, need in zip(("d_real", "d_fake"), grads, want):
                if have is None or not torch.allclose(have.double(), need, rtol=1e-3, atol=1e-6):
                    raise CheckError(f"{name}: the value is right but its gradient with respect to "
                                     f"{side} is not: compute the loss from the inputs with torch "
                                     f"operations (no .data, no numbers copied in)")
    passed("my_d_loss gives -mean log D(x) - mean log(1 - D(G(z))) on batches it had never seen, "
           "for an unsure and for a sure D.")


# ------------------------------------------------------------------ lesson 01: a training step of your own
class TrainStepExercise:
    """Copies of G and D, their optimisers, real batches and noise for writing a training step.

    Build it with :func:`train_step_exercise`; loop ``for real in exercise.batches():`` and update
    ``exercise.D`` ``d_steps`` times, then ``exercise.G`` once, drawing every batch of noise with
    ``exercise.noise(n)``. :func:`check_train_step` then runs ``GANTrainer.train_step`` from the same
    start on the same batches and noise and compares the weights.

    Everything lives on the CPU, and both networks are in eval mode: dropout off, so that the
    order of the learner's forward passes (which draw the dropout masks) cannot change the result.
    """

    def __init__(self, G: nn.Module, D: nn.Module, images: torch.Tensor, batch_size: int,
                 d_steps: int, lr: float, betas: tuple[float, float], seed: int,
                 new_real_each_d_step: bool = False) -> None:
        self.G0 = copy.deepcopy(G).cpu().float().eval()
        self.D0 = copy.deepcopy(D).cpu().float().eval()
        self.G, self.D = copy.deepcopy(self.G0), copy.deepcopy(self.D0)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=betas)
        self.d_steps, self.lr, self.betas = d_steps, lr, tuple(betas)
        images = images.detach().cpu().float()
        batches = [b for b in images.split(batch_size) if len(b) == batch_size]
        self.new_real_each_d_step = new_real_each_d_step
        per_iteration = d_steps if new_real_each_d_step else 1
        # one group of real batches per iteration: one batch, or one for each D update
        self.real_groups = [batches[i:i + per_iteration]
                            for i in range(0, len(batches) - per_iteration + 1, per_iteration)]
        self.real_batches = [group[0] for group in self.real_groups]
        g = torch.Generator().manual_seed(seed)
        latent = tuple(G.latent_shape)
        self.noise_bank = [[torch.randn(batch_size, *latent, generator=g) for _ in range(d_steps + 1)]
                           for _ in self.real_groups]
        self.iterations = 0  # batches handed out
        self.noise_calls: list[int] = []  # per iteration
        self.d_updates: list[int] = []
        self.g_updates: list[int] = []
        self.g_grad_before_d_step = False
        self._g_grad_fresh = False
        for p in self.G.parameters():
            p.register_post_accumulate_grad_hook(self._on_g_grad)
        self.opt_d.register_step_pre_hook(self._on_d_step)
        self.opt_g.register_step_post_hook(self._on_g_step)

    def batches(self):
        """The real batches, one per iteration of your loop (once: the weights have moved since);
        with ``new_real_each_d_step``, a tuple of ``d_steps`` batches per iteration, one for each D update."""
        if self.iterations:
            raise RuntimeError("these batches were handed out already and the copies of G and D have "
                               "trained since: run the whole cell again, it makes a fresh exercise")
        for group in self.real_groups:
            self.iterations += 1
            self.noise_calls.append(0)
            self.d_updates.append(0)
            self.g_updates.append(0)
            yield tuple(real.clone() for real in group) if self.new_real_each_d_step else group[0].clone()

    def noise(self, n: int) -> torch.Tensor:
        """The next batch of noise z for this iteration (shape ``(n, *G.latent_shape)``)."""
        if not self.iterations:
            raise RuntimeError("draw noise inside the loop `for real in ....batches():`")
        i, j = self.iterations - 1, self.noise_calls[-1]
        bank = self.noise_bank[i]
        if n != len(bank[0]):
            raise ValueError(f"noise({n}): ask for one noise vector per real image, "
                             f"noise(real.size(0)) = noise({len(bank[0])})")
        if j >= len(bank):
            raise RuntimeError(f"noise() called {j + 1} times in one iteration: each of the "
                               f"{self.d_steps} D updates needs one batch of fakes, and G at most one "
                               f"more")
        self.noise_calls[-1] += 1
        return bank[j].clone()

    def _on_g_grad(self, param: torch.Tensor) -> None:
        self._g_grad_fresh = True

    def _on_d_step(self, optimizer, args, kwargs) -> None:
        if self.iterations:
            self.d_updates[-1] += 1
        if self._g_grad_fresh:
            self.g_grad_before_d_step = True

    def _on_g_step(self, optimizer, args, kwargs) -> None:
        if self.iterations:
            self.g_updates[-1] += 1
        self._g_grad_fresh = False


def train_step_exercise(G: nn.Module, D: nn.Module, images: torch.Tensor, batch_size: int = 50,
                        d_steps: int = 2, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                        seed: int = 0, new_real_each_d_step: bool = False) -> TrainStepExercise:
    """Fresh copies of ``G`` and ``D`` with Adam optimisers, ``images`` cut into real batches,
    and noise: everything a learner needs to write a training step that :func:`check_train_step`
    compares with ``GANTrainer.train_step``, or, with ``new_real_each_d_step``, with Goodfellow et
    al.'s Algorithm 1 (a new real batch for each of the ``d_steps`` D updates), which the
    trainer does not do."""
    if type(d_steps) is not int or d_steps < 1:
        raise ValueError(f"d_steps must be a whole number >= 1, got {d_steps!r}")
    per_iteration = d_steps if new_real_each_d_step else 1
    if len(images) < per_iteration * batch_size:
        raise ValueError(f"{len(images)} images make no iteration of {per_iteration} batch(es) of {batch_size}")
    return TrainStepExercise(G, D, images, batch_size, d_steps, lr, betas, seed, new_real_each_d_step)


def _scripted_run(ex: TrainStepExercise, zero_d: str = "each", zero_g: bool = True,
                  fake_label: float = 0.0, g_loss: str = "non-saturating", g_noise: str = "last",
                  g_first: bool = False, one_real_batch: bool = False) -> tuple[nn.Module, nn.Module]:
    """The training step written out, with switches for the usual mistakes; returns (G, D)."""
    G, D = copy.deepcopy(ex.G0), copy.deepcopy(ex.D0)
    opt_g = torch.optim.Adam(G.parameters(), lr=ex.lr, betas=ex.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=ex.lr, betas=ex.betas)
    bce = nn.BCEWithLogitsLoss() if getattr(D, "outputs_logits", False) else nn.BCELoss()
    k = ex.d_steps

    def update_g(fake: torch.Tensor) -> None:
        if zero_g:
            G.zero_grad()
        out = D(fake)
        target = torch.zeros_like(out) if g_loss == "label 0" else torch.ones_like(out)
        loss = -bce(out, torch.zeros_like(out)) if g_loss == "minimax" else bce(out, target)
        loss.backward()
        opt_g.step()

    first = 1 if g_first and g_noise == "fresh" else 0  # G went first with the first noise
    for group, noise in zip(ex.real_groups, ex.noise_bank):
        if g_first:
            update_g(G(noise[0]))
        if zero_d == "once":
            D.zero_grad()
        for j in range(first, first + k):
            if zero_d == "each":
                D.zero_grad()
            real = group[0 if one_real_batch else (j - first) % len(group)]
            fake = G(noise[j])
            out_real, out_fake = D(real), D(fake.detach())
            loss_d = (bce(out_real, torch.ones_like(out_real))
                      + bce(out_fake, torch.full_like(out_fake, fake_label)))
            loss_d.backward()
            opt_d.step()
        if not g_first:
            update_g(G(noise[k]) if g_noise == "fresh" else fake)
    return G, D


def _trainer_run(ex: TrainStepExercise) -> tuple[nn.Module, nn.Module]:
    """``GANTrainer.train_step`` from the exercise's start, on its batches and noise."""
    from ..train import GANTrainer  # here, not at the top: the trainer imports much of the package

    trainer = GANTrainer(copy.deepcopy(ex.G0), copy.deepcopy(ex.D0), lr=ex.lr, betas=ex.betas,
                         device="cpu", precision="fp32", d_steps=ex.d_steps)
    for real, noise in zip(ex.real_batches, ex.noise_bank):
        draws = iter(noise[:ex.d_steps])
        trainer.noise = lambda n, draws=draws: next(draws)  # the exercise's noise, not fresh noise
        trainer.train_step(real)
    return trainer.G, trainer.D


def _apart(model: nn.Module, reference: nn.Module, lr: float) -> tuple[float, float]:
    """How far two models' weights are apart: the fraction of weights more than half a learning
    rate apart, and the largest difference, in learning rates.

    Adam moves every weight by about ``lr`` per step whatever the size of its gradient, so a
    wrong step moves many weights by a good fraction of ``lr``; two right steps that round
    differently move all but a handful of weights (those whose gradient is nearly 0) alike.
    """
    diffs = torch.cat([(mine.detach() - theirs.detach()).abs().flatten() / lr
                       for mine, theirs in zip(model.parameters(), reference.parameters())])
    return (diffs > 0.5).double().mean().item(), diffs.max().item()


_SAME_WEIGHTS = 1e-4
"""Two runs trained alike when at most this fraction of weights is half a learning rate apart."""


def _same(model: nn.Module, reference: nn.Module, lr: float) -> bool:
    return _apart(model, reference, lr)[0] <= _SAME_WEIGHTS


def check_train_step(ex: TrainStepExercise) -> None:
    """The learner's loop over ``ex.batches()`` trained ``ex.G`` and ``ex.D`` as ``train_step`` does.

    Runs ``GANTrainer.train_step`` (``d_steps`` D updates with fresh fakes each, then one G update
    with the non-saturating loss) from the same start, on the same batches and noise, and compares
    the weights. A G update on fresh noise (one more ``ex.noise(n)``), as in Goodfellow et al.'s
    Algorithm 1, is right too. Recognises the usual mistakes by running them.
    """
    if not isinstance(ex, TrainStepExercise):
        raise CheckError(f"expected the object made by train_step_exercise(...), got {type(ex).__name__}")
    k, n_batches = ex.d_steps, len(ex.real_batches)
    if ex.iterations != n_batches:
        raise CheckError(f"your loop ran {ex.iterations} iterations, expected {n_batches}: one per "
                         f"batch of `for real in ....batches()`, none skipped")
    for i, (calls, d, g) in enumerate(zip(ex.noise_calls, ex.d_updates, ex.g_updates), start=1):
        if d != k:
            raise CheckError(f"iteration {i}: D's optimiser stepped {d} times, expected {k}: one "
                             f"opt_d.step() per D update, {k} D updates per iteration")
        if g != 1:
            raise CheckError(f"iteration {i}: G's optimiser stepped {g} times, expected 1: one "
                             f"opt_g.step() per iteration, after D's updates")
        if calls == 0:
            raise CheckError(f"iteration {i} drew no noise from the exercise: make the fakes from "
                             f"the exercise's noise, G(mine.noise(real.size(0))) in lesson 01, so "
                             f"that the check can give the trainer the same z")
        if calls < k:
            raise CheckError(f"iteration {i} drew noise {calls} times for {k} D updates: every D "
                             f"update gets fresh fakes, G(mine.noise(real.size(0))) each time")
    if ex.g_grad_before_d_step:
        raise CheckError("G's parameters received gradients before D's optimiser stepped: in D's "
                         "update detach the fakes (D(fake.detach())), so that D's loss stops at the "
                         "images and cannot reach G, and update G only after D")
    if ex.D.training or ex.G.training:
        raise CheckError("a network was switched to train mode: leave G and D as the exercise made "
                         "them (eval mode, dropout off), or the comparison cannot be exact")
    fresh = all(calls == k + 1 for calls in ex.noise_calls)
    algorithm_1 = ex.new_real_each_d_step
    if fresh or algorithm_1:
        G_ref, D_ref = _scripted_run(ex, g_noise="fresh" if fresh else "last")
    else:
        G_ref, D_ref = _trainer_run(ex)
    reference = "Goodfellow et al.'s Algorithm 1" if algorithm_1 else "GANTrainer.train_step"
    if _same(ex.G, G_ref, ex.lr) and _same(ex.D, D_ref, ex.lr):
        how = ("a new real batch for each D update" + (" and G's update on fresh noise" if fresh else "")
               + ", as in Goodfellow et al.'s Algorithm 1" if algorithm_1 else
               "G's update on fresh noise, as in Goodfellow et al.'s Algorithm 1" if fresh else
               "GANTrainer.train_step")
        passed(f"after {n_batches} iterations of {k} D updates and 1 G update, G and D have the "
               f"weights of {how}.")
        return
    moved = [name for name, model, start in (("D", ex.D, ex.D0), ("G", ex.G, ex.G0))
             if _apart(model, start, ex.lr)[1] == 0]
    if moved:
        raise CheckError(f"{' and '.join(moved)}'s weights did not change: after loss.backward() "
                         f"call the optimiser's step(), and zero the gradients *before* backward, "
                         f"not between backward and step. G's loss must reach G: score the fakes "
                         f"without .detach() in G's update")
    noise = "fresh" if fresh else "last"
    mistakes = [
        (dict(zero_d="never"), "D's gradients are never zeroed: they pile up over the updates (and "
                               "G's update leaves gradients in D too). Call D.zero_grad() (or "
                               "opt_d.zero_grad()) before each D update"),
        (dict(zero_d="once"), f"D's gradients are zeroed once per iteration, not before each of its "
                              f"{k} updates: the second update adds the first one's gradients. Call "
                              f"D.zero_grad() inside the loop over D updates"),
        (dict(zero_g=False), "G's gradients are never zeroed: they pile up from iteration to "
                             "iteration. Call G.zero_grad() (or opt_g.zero_grad()) before G's "
                             "backward pass"),
        (dict(fake_label=1.0), "in D's loss the fakes are labelled 1: D must learn to call them "
                               "fake, label 0"),
        (dict(g_loss="label 0"), "G's loss labels the fakes 0, which helps D: G wants D to call "
                                 "its fakes real, label 1 (the non-saturating loss -log D(G(z)))"),
        (dict(g_loss="minimax"), "G minimises the minimax loss log(1 - D(G(z))); this step uses "
                                 "the non-saturating loss -log D(G(z)): label 1"),
        (dict(g_first=True), "G is updated before D; GANTrainer updates D first, then G on fakes "
                             "scored by the updated D"),
    ]
    if algorithm_1:
        mistakes.insert(0, (dict(one_real_batch=True), f"every D update used the iteration's first real batch "
                                                       f"(as GANTrainer's d_steps does): this step takes a new "
                                                       f"real batch for each of the {k} D updates"))
    for switches, why in mistakes:
        G_wrong, D_wrong = _scripted_run(ex, g_noise=noise, **switches)
        if _same(ex.G, G_wrong, ex.lr) and _same(ex.D, D_wrong, ex.lr):
            raise CheckError(why)
    (share_d, most_d), (share_g, most_g) = _apart(ex.D, D_ref, ex.lr), _apart(ex.G, G_ref, ex.lr)
    worst = "D" if share_d > _SAME_WEIGHTS else "G"
    raise CheckError(f"after {n_batches} iterations {share_d:.1%} of D's weights and {share_g:.1%} "
                     f"of G's differ from {reference}'s by more than half a learning "
                     f"rate (up to {most_d:.1f} and {most_g:.1f}). Start with {worst}'s update: "
                     f"labels (real 1, fake 0 for D; 1 for G), zero_grad before each backward, one "
                     f"optimiser step per update, fresh noise for each D update, D(fake.detach()) "
                     f"for D and D(fake) for G")
