"""Checks for the exercises of lessons 07 (modern GANs) and 08 (conditional GAN).

Every answer is a function, called here on inputs the page never shows (scores, label batches,
generators of other sizes), and compared with what the package or PyTorch really does: the
hinge loss's own gradient, ``torch.optim.swa_utils.AveragedModel``, the input a
``ConditionalGenerator`` really receives, the planes a ``ConditionalDiscriminator`` really
stacks. Any right answer passes; typical wrong ones are named. Failures raise
:class:`~gan_tutorial.exercises.checks.CheckError`, like every other check.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from .checks import CheckError, learners_call, passed
from ..losses import hinge_d_loss
from ..models import ConditionalDiscriminator, ConditionalGenerator, label_codes
from .torch_calls import python_calls

__all__ = ["check_hinge_active", "check_ema_shares", "check_asked_digits", "check_label_planes"]


def _generator(seed: int) -> torch.Generator:
    """The check's own random numbers: the notebook's global RNG is left as it was."""
    return torch.Generator().manual_seed(seed)


def _tensor(value, call: str, what: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise CheckError(f"{call} returned {type(value).__name__}: return {what}") from err


# ------------------------------------------------------------------ hinge loss (lesson 07)
def _masks(answer, call: str, sizes: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The learner's (real, fake) answer as two boolean tensors of the scores' shapes."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise CheckError(f"{call} returned {type(answer).__name__}: return a pair "
                         f"(real_mask, fake_mask), one True/False per score")
    masks = []
    for value, n, side in zip(answer, sizes, ("real", "fake")):
        mask = _tensor(value, call, "True/False values, one per score")
        if mask.shape != (n,):
            raise CheckError(f"{call}: the {side} mask has shape {tuple(mask.shape)}, expected ({n},): "
                             f"one True/False per {side} score")
        if mask.dtype != torch.bool:
            if mask.is_floating_point() and not bool(((mask == 0) | (mask == 1)).all()):
                raise CheckError(f"{call}: the {side} mask holds values like {mask[0].item():.3f}: return "
                                 f"True/False (a comparison such as score < 0), not the loss")
            mask = mask != 0
        masks.append(mask)
    return masks[0], masks[1]


def check_hinge_active(hinge_active: Callable) -> None:
    """``hinge_active(score_real, score_fake)``: which scores still give D a gradient under the
    hinge loss, as a pair of True/False tensors, worked out from the loss's formula.

    Compared with the gradient of :func:`gan_tutorial.losses.hinge_d_loss` on batches of scores
    of the check's own (real and fake batches of different sizes). An answer that calls that
    function to measure the gradient is refused: the exercise is to reason it out.
    """
    if not callable(hinge_active):
        raise CheckError(f"hinge_active should be a function of (score_real, score_fake), got "
                         f"{type(hinge_active).__name__}")
    rng = _generator(7)
    cases = [(torch.randn(n, generator=rng) * 2, torch.randn(m, generator=rng) * 2)
             for n, m in ((64, 48), (9, 13), (200, 200))]
    cases.append((torch.tensor([3.0, 0.5, -2.0, 1.5]), torch.tensor([-3.0, -0.5, 2.0, -1.5, 0.2])))
    learned = kept = 0
    for score_real, score_fake in cases:
        real = score_real.clone().requires_grad_(True)
        fake = score_fake.clone().requires_grad_(True)
        grad_real, grad_fake = torch.autograd.grad(hinge_d_loss(real, fake), (real, fake))
        expected = (grad_real != 0, grad_fake != 0)
        call = f"hinge_active(<{len(score_real)} real scores>, <{len(score_fake)} fake scores>)"
        answer, used = python_calls(
            lambda: learners_call(hinge_active, call, score_real.clone(), score_fake.clone()), [hinge_d_loss])
        if used:
            raise CheckError("hinge_active calls hinge_d_loss to see which scores get a gradient: work "
                             "it out from the formula max(0, 1 - D(x)) + max(0, 1 + D(G(z))) instead")
        got_real, got_fake = _masks(answer, call, (len(score_real), len(score_fake)))
        if torch.equal(got_real, expected[0]) and torch.equal(got_fake, expected[1]):
            learned += int(expected[0].sum() + expected[1].sum())
            kept += len(score_real) + len(score_fake)
            continue
        if bool(got_real.all()) and bool(got_fake.all()):
            raise CheckError(f"{call} says every score still teaches D: that is BCE, whose gradient never "
                             f"vanishes. The hinge stops at a margin: max(0, ·) is flat where its "
                             f"argument is negative")
        for side, got, want, score, margin in (("real", got_real, expected[0], score_real, "1 - D(x)"),
                                               ("fake", got_fake, expected[1], score_fake,
                                                "1 + D(G(z))")):
            if torch.equal(got, want):
                continue
            if torch.equal(got, ~want):
                raise CheckError(f"{call}: your {side} mask is the opposite of the right one: max(0, "
                                 f"{margin}) has a gradient where {margin} is positive, and none "
                                 f"where D is already past the margin")
            wrong = int((got != want).nonzero()[0])
            raise CheckError(f"{call}: the {side} score {score[wrong].item():.3f} gets "
                             f"{'a' if want[wrong] else 'no'} gradient from max(0, {margin}), but your "
                             f"mask says {bool(got[wrong])}")
    passed(f"on {kept} fresh scores D still learns from {learned} under the hinge loss; with BCE it "
           f"would learn from all {kept}, however sure it already is.")


# ------------------------------------------------------------------ EMA of G's weights (lesson 07)
def _true_shares(n: int, decay: float) -> torch.Tensor:
    """What share of update k's weights (k = 1..n) AveragedModel's EMA holds after n updates:
    measured on a one-parameter-per-update model whose weights are the unit vector e_k at update k."""
    model = nn.Linear(n, 1, bias=False)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))
    for k in range(n):
        with torch.no_grad():
            model.weight.zero_()
            model.weight[0, k] = 1.0
        ema.update_parameters(model)
    return ema.module.weight.detach()[0].double()


def _ema_mistakes(n: int, decay: float) -> list[tuple[torch.Tensor, str]]:
    k = torch.arange(1, n + 1, dtype=torch.float64)
    from_zero = (1 - decay) * decay ** (n - k)
    return [
        (from_zero, "that is the average started from zero: AveragedModel's first update copies G's "
                    "weights, and every later one keeps `decay` of what is there"),
        (torch.full((n,), 1.0 / n, dtype=torch.float64),
         "that is a plain average of all the weights (SWA), not a moving one: old weights fade "
         "by a factor `decay` per update"),
        (_true_shares_formula(n, decay).flip(0), "your shares are in reverse order: the first entry is "
                                                 "the first update's, which has faded the most"),
        (decay ** (n - k), "each later update adds only (1 - decay) of the new weights"),
    ]


def _true_shares_formula(n: int, decay: float) -> torch.Tensor:
    """decay^(n-1) for the first (copied) weights, (1 - decay) decay^(n-k) for update k >= 2."""
    k = torch.arange(1, n + 1, dtype=torch.float64)
    shares = (1 - decay) * decay ** (n - k)
    shares[0] = decay ** (n - 1)
    return shares


_EMA_CASES = [(1, 0.9), (2, 0.5), (5, 0.7), (12, 0.95), (37, 0.8), (300, 0.99)]
"""(n updates, decay): tiny cases, then longer ones; none of them is shown on the page."""


def check_ema_shares(ema_shares: Callable[[int, float], torch.Tensor]) -> None:
    """``ema_shares(n, decay)``: the share of each update's weights (update 1 first, update n
    last) in the moving average of G's weights after n updates, as AveragedModel keeps it with
    ``get_ema_multi_avg_fn(decay)``. Compared with AveragedModel itself on a model whose
    weights at update k are the k-th unit vector, so the average's weights are the shares.
    """
    if not callable(ema_shares):
        raise CheckError(f"ema_shares should be a function of (n, decay), got {type(ema_shares).__name__}")
    for n, decay in _EMA_CASES:
        call = f"ema_shares({n}, {decay})"
        answer, used = python_calls(lambda: learners_call(ema_shares, call, n, decay),
                                    [AveragedModel.update_parameters])
        if used:
            raise CheckError("ema_shares runs AveragedModel to read the shares off it: work them out from "
                             "the decay (each update keeps decay of the average and adds 1 - decay of the "
                             "new weights)")
        got = _tensor(answer, call, f"{n} numbers").double().flatten()
        if got.numel() != n:
            raise CheckError(f"{call} returned {got.numel()} numbers, expected {n}: one share per "
                             f"update, the first update's first")
        true = _true_shares(n, decay)
        if torch.allclose(got, true, rtol=1e-4, atol=1e-6):
            continue
        for wrong, why in _ema_mistakes(n, decay):
            if torch.allclose(got, wrong, rtol=1e-4, atol=1e-6):
                raise CheckError(f"{call} is wrong: {why}")
        worst = int((got - true).abs().argmax())
        raise CheckError(f"{call}: update {worst + 1}'s share is {got[worst].item():.6g}, but AveragedModel "
                         f"keeps {true[worst].item():.6g} of it (shares sum to {got.sum().item():.4f}, "
                         f"AveragedModel's to {true.sum().item():.4f})")
    n, decay = 10_000, 0.999
    shares = _tensor(learners_call(ema_shares, f"ema_shares({n}, {decay})", n, decay), "ema_shares",
                     f"{n} numbers").double().flatten()
    if shares.numel() != n or not math.isclose(shares.sum().item(), 1.0, rel_tol=1e-6):
        raise CheckError(f"ema_shares({n}, {decay}) does not return {n} shares summing to 1")
    half = int((shares.flip(0).cumsum(0) < 0.5).sum()) + 1  # newest updates first
    passed(f"ema_shares agrees with AveragedModel on {len(_EMA_CASES)} (n, decay) cases. With decay "
           f"{decay}, after {n:,} updates the last {half:,} updates hold half of the average, and the "
           f"first weights {100 * shares[0].item():.4f}% of it.")


# ------------------------------------------------------------------ conditional GAN (lesson 08)
def _g_input(latent_dim: int, labels: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """What a real ConditionalGenerator passes to its DCGAN network for ``labels``."""
    G = ConditionalGenerator(num_classes=10, latent_dim=latent_dim, ngf=2, nc=1, image_size=32)
    seen: list[torch.Tensor] = []
    G.net.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    with torch.no_grad():
        G(torch.randn(len(labels), latent_dim, 1, 1, generator=rng) * 3, labels)  # noise well above 1, too
    return seen[0]


def check_asked_digits(asked_digits: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """``asked_digits(g_input)``: the digit each row of a conditional generator's input asks for,
    read from the input the package's ``ConditionalGenerator`` really builds (noise, then the
    label's code), for generators with other noise sizes than the lesson's and fresh labels.
    """
    if not callable(asked_digits):
        raise CheckError(f"asked_digits should be a function of G's input, got {type(asked_digits).__name__}")
    rng = _generator(8)
    sizes = (100, 3, 17)
    for latent_dim in sizes:
        labels = torch.randint(0, 10, (40,), generator=rng)
        g_input = _g_input(latent_dim, labels, rng)
        call = f"asked_digits(<G's input, shape {tuple(g_input.shape)}>)"
        got = _tensor(learners_call(asked_digits, call, g_input.clone()), call, "one digit per row")
        if got.shape != labels.shape:
            hint = (": that looks like the one-hot codes; turn each into its digit (the index of its 1)"
                    if got.shape[-1:] == (10,) else "")
            raise CheckError(f"{call} returned shape {tuple(got.shape)}, expected {tuple(labels.shape)}: "
                             f"one digit per image{hint}")
        if torch.equal(got.long(), labels):
            continue
        if torch.equal(g_input.flatten(1).argmax(1), got.long()):
            raise CheckError(f"{call}: the largest of all {g_input.size(1)} numbers is sometimes a noise "
                             f"value (noise is N(0, 1), so above 1 now and then): look only where the "
                             f"label's code is")
        if torch.equal(g_input[:, :10].flatten(1).argmax(1), got.long()):
            raise CheckError(f"{call}: you read the first 10 channels, which are noise: the label's code "
                             f"is joined after z")
        raise CheckError(f"{call}: the first rows ask for {labels[:8].tolist()}, your answer says "
                         f"{got[:8].long().tolist()} (this generator has latent_dim = {latent_dim})")
    passed(f"asked_digits reads the asked-for digit from the input of generators with latent_dim = "
           f"{', '.join(map(str, sizes))}.")


def _d_planes(labels: torch.Tensor, images: torch.Tensor) -> tuple[ConditionalDiscriminator, torch.Tensor]:
    """A real ConditionalDiscriminator and the label planes it stacks onto ``images``."""
    D = ConditionalDiscriminator(num_classes=10, ndf=2, nc=images.size(1), image_size=images.size(-1))
    seen: list[torch.Tensor] = []
    D.net.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    with torch.no_grad():
        D(images, labels)
    return D, seen[0][:, images.size(1):]


def check_label_planes(label_planes: Callable[[torch.Tensor, int], torch.Tensor]) -> None:
    """``label_planes(labels, size)``: the ``(n, 10, size, size)`` planes a conditional D stacks
    onto its images (plane k all ones where the label is k, all zeros elsewhere), where a label of
    -1 (an image whose digit is not given) gets ten planes of zeros. Compared with the planes the
    package's ``ConditionalDiscriminator`` really stacks (which knows no -1), for fresh labels,
    image sizes and channel counts; then D's network must score the learner's stack as D(x, labels).
    """
    if not callable(label_planes):
        raise CheckError(f"label_planes should be a function of (labels, size), got "
                         f"{type(label_planes).__name__}")
    rng = _generator(9)
    cases = [(12, 1, 32, 0.25), (5, 3, 64, 0.0), (30, 1, 32, 0.3), (4, 1, 32, 1.0)]  # (n, nc, size, share of -1)
    for n, nc, size, unlabelled in cases:
        labels = torch.randint(0, 10, (n,), generator=rng)
        unknown = torch.rand(n, generator=rng) < unlabelled
        if 0 < unlabelled < 1:
            unknown[0], unknown[1] = True, False  # at least one of each
        images = torch.rand(n, nc, size, size, generator=rng) * 2 - 1
        D, true = _d_planes(labels, images)
        true[unknown] = 0
        labels[unknown] = -1
        call = f"label_planes(<{n} labels, {int(unknown.sum())} of them -1>, {size})"
        got, used = python_calls(lambda: learners_call(label_planes, call, labels.clone(), size),
                                 [label_codes, ConditionalDiscriminator.forward, ConditionalGenerator.forward])
        if used:
            raise CheckError(f"label_planes calls the package's {', '.join(sorted(used))}, whose planes are the "
                             f"answer: build them yourself (F.one_hot, then spread each code over the image)")
        got = _tensor(got, call, f"a tensor of shape ({n}, 10, {size}, {size})")
        if got.shape != true.shape:
            hint = ""
            if tuple(got.shape) == (n, 10, 1, 1) or tuple(got.shape) == (n, 10):
                hint = ": those are the one-hot codes; every code becomes a whole size x size plane"
            elif tuple(got.shape) == (n, 1, size, size):
                hint = ": one plane per class (10), not one plane holding the label"
            elif tuple(got.shape) == (n, size, size, 10):
                hint = ": the classes are channels, so they come second: (n, 10, size, size)"
            elif tuple(got.shape[1:]) == (11, size, size):
                hint = ": an eleventh plane for 'no label' is one design, but this D takes 10 planes, all zeros for -1"
            raise CheckError(f"{call} has shape {tuple(got.shape)}, expected {tuple(true.shape)}{hint}")
        if not got.is_floating_point():
            raise CheckError(f"{call} has dtype {got.dtype}: D stacks the planes onto float images with "
                             f"torch.cat, which needs floats (.float())")
        if not torch.equal(got.float(), true):
            wrong = int((got.float() != true).flatten(1).any(1).nonzero()[0])
            label = int(labels[wrong])
            want = ("all ten planes must be zeros (no digit is given)" if label == -1 else
                    f"plane {label} must be all ones and the other nine all zeros")
            raise CheckError(f"{call}: image {wrong} has label {label}, so {want}; your planes hold the values "
                             f"{sorted(set(got[wrong].flatten().tolist()))[:5]} in planes "
                             f"{[int(k) for k in got[wrong].flatten(1).ne(0).any(1).nonzero()]}")
        known = ~unknown
        if known.any():
            with torch.no_grad():
                yours = D.net(torch.cat([images[known], got.float()[known]], 1))
                if not torch.equal(yours, D(images[known], labels[known])):
                    raise CheckError(f"{call}: D's network scores your stack differently from D(x, labels)")
    passed(f"your planes are the ones ConditionalDiscriminator stacks, and all zeros for a label of -1 "
           f"({len(cases)} batches of fresh labels, sizes {sorted({c[2] for c in cases})}, 1 and 3 colour "
           f"channels); D scores your stack as D(x, labels).")
