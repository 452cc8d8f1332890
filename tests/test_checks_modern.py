"""The checks of lessons 07 and 08: right answers written other ways pass, fooling and typical
wrong answers fail with a message that names the mistake."""
from __future__ import annotations

import functools

import pytest
import torch
import torch.nn.functional as F

from gan_tutorial.exercises.checks import CheckError
from gan_tutorial.exercises.modern import (check_asked_digits, check_ema_shares, check_hinge_active,
                                        check_label_planes)
from gan_tutorial.losses import hinge_d_loss


def passes(check, answer, capsys) -> str:
    check(answer)
    printed = capsys.readouterr().out
    assert printed.startswith("Correct!"), printed
    return printed


def fails(check, answer, match: str) -> None:
    with pytest.raises(CheckError, match=match):
        check(answer)


# ------------------------------------------------------------------ hinge: which scores teach D
HINGE_RIGHT = {
    "comparisons": lambda r, f: (r < 1, f > -1),
    "relu of the margins": lambda r, f: (F.relu(1 - r) > 0, F.relu(1 + f) > 0),
    "float masks": lambda r, f: ((1 - r > 0).float(), (1 + f > 0).float()),
    "lists": lambda r, f: ([s < 1 for s in r.tolist()], [s > -1 for s in f.tolist()]),
}
HINGE_WRONG = {
    "BCE: everything teaches": (lambda r, f: (torch.ones_like(r, dtype=torch.bool),
                                              torch.ones_like(f, dtype=torch.bool)), "that is BCE"),
    "directions swapped": (lambda r, f: (r > 1, f < -1), "opposite of the right one"),
    "margin at zero": (lambda r, f: (r < 0, f > 0), "gets a gradient"),
    "the loss, not a mask": (lambda r, f: (F.relu(1 - r), F.relu(1 + f)), "not the loss"),
    "one mask for both": (lambda r, f: r < 1, "return a pair"),
    "fakes judged like reals": (lambda r, f: (r < 1, f < 1), "fake score"),
}


@pytest.mark.parametrize("spelling", HINGE_RIGHT)
def test_hinge_active_accepts_right_answers(spelling, capsys):
    printed = passes(check_hinge_active, HINGE_RIGHT[spelling], capsys)
    assert "with BCE it would learn from all" in printed


@pytest.mark.parametrize("mistake", HINGE_WRONG)
def test_hinge_active_names_the_mistake(mistake):
    answer, message = HINGE_WRONG[mistake]
    fails(check_hinge_active, answer, message)


def test_hinge_active_refuses_measuring_the_gradient_with_the_package_loss():
    def measured(r, f):  # right, but by autograd on the package's loss instead of by reasoning
        r, f = r.clone().requires_grad_(True), f.clone().requires_grad_(True)
        gr, gf = torch.autograd.grad(hinge_d_loss(r, f), (r, f))
        return gr != 0, gf != 0
    fails(check_hinge_active, measured, "work it out from the formula")


def test_hinge_active_counts_what_the_loss_really_ignores(capsys):
    printed = passes(check_hinge_active, HINGE_RIGHT["comparisons"], capsys)
    learned, kept = [int(w.replace(",", "")) for w in printed.split() if w.replace(",", "").isdigit()][:2][::-1]
    assert 0 < learned < kept  # some scores are past the margin, some not


# ------------------------------------------------------------------ EMA: whose weights are in it
def shares_closed_form(n, decay):
    k = torch.arange(1, n + 1, dtype=torch.float64)
    out = (1 - decay) * decay ** (n - k)
    out[0] = decay ** (n - 1)
    return out


def shares_by_unrolling(n, decay):
    """A different right answer: run the recursion on one-hot 'weights' in plain Python."""
    average = None
    for k in range(n):
        weights = [1.0 if j == k else 0.0 for j in range(n)]
        average = weights if average is None else [decay * a + (1 - decay) * w
                                                   for a, w in zip(average, weights)]
    return average


def shares_by_reduce(n, decay):
    return functools.reduce(lambda avg, w: decay * avg + (1 - decay) * w, torch.eye(n, dtype=torch.float64))


EMA_WRONG = {
    "started from zero": (lambda n, d: [(1 - d) * d ** (n - k) for k in range(1, n + 1)], "started from zero"),
    "plain average": (lambda n, d: [1 / n] * n, "plain average"),
    "newest first": (lambda n, d: shares_closed_form(n, d).flip(0), "reverse order"),
    "off by one update": (lambda n, d: shares_closed_form(n + 1, d)[1:], "started from zero|AveragedModel keeps"),
    "wrong length": (lambda n, d: shares_closed_form(n, d)[:-1] if n > 1 else [], "one share per update"),
    "the page's decay": (lambda n, d: shares_closed_form(n, 0.999), "AveragedModel keeps"),
}


@pytest.mark.parametrize("answer", [shares_closed_form, shares_by_unrolling, shares_by_reduce])
def test_ema_shares_accepts_right_answers(answer, capsys):
    printed = passes(check_ema_shares, answer, capsys)
    assert "the last 693 updates hold half of the average" in printed  # ln 2 / -ln 0.999 = 692.8


@pytest.mark.parametrize("mistake", EMA_WRONG)
def test_ema_shares_names_the_mistake(mistake):
    answer, message = EMA_WRONG[mistake]
    fails(check_ema_shares, answer, message)


def shares_by_running_averaged_model(n, decay):
    """The library's answer: AveragedModel fed the k-th unit vector at update k."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    model = torch.nn.Linear(n, 1, bias=False)
    average = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))
    with torch.no_grad():
        for k in range(n):
            model.weight.zero_()
            model.weight[0, k] = 1.0
            average.update_parameters(model)
    return average.module.weight.detach().flatten()


def test_ema_shares_refuses_running_averaged_model():
    fails(check_ema_shares, shares_by_running_averaged_model, "runs AveragedModel")


# ------------------------------------------------------------------ G's input: which digit
ASKED_RIGHT = {
    "last ten, argmax": lambda g: g[:, -10:, 0, 0].argmax(1),
    "nonzero of the code": lambda g: g.flatten(1)[:, -10:].nonzero()[:, 1],
    "weighted sum": lambda g: (g.squeeze(-1).squeeze(-1)[:, g.size(1) - 10:] * torch.arange(10)).sum(1).round(),
}
ASKED_WRONG = {
    "argmax of everything": (lambda g: g.flatten(1).argmax(1), "noise value"),
    "first ten channels": (lambda g: g[:, :10, 0, 0].argmax(1), "first 10 channels"),
    "the lesson's latent_dim typed in": (lambda g: g[:, 100:110, 0, 0].argmax(1), r"latent_dim = 3|shape"),
    "the one-hot code itself": (lambda g: g[:, -10:, 0, 0], "one-hot codes"),
}


@pytest.mark.parametrize("spelling", ASKED_RIGHT)
def test_asked_digits_accepts_right_answers(spelling, capsys):
    passes(check_asked_digits, ASKED_RIGHT[spelling], capsys)


@pytest.mark.parametrize("mistake", ASKED_WRONG)
def test_asked_digits_names_the_mistake(mistake):
    answer, message = ASKED_WRONG[mistake]
    fails(check_asked_digits, answer, message)


# ------------------------------------------------------------------ D's label planes
# Exercise 08.2 asks for a variant the page does not show: a label of -1 (no digit given) gets ten zero planes.
PLANES_RIGHT = {
    "one_hot masked": lambda labels, size: (F.one_hot(labels.clamp(min=0), 10) * (labels >= 0)[:, None])
    .float()[:, :, None, None].expand(-1, -1, size, size),
    "eye with a zero row for -1": lambda labels, size: torch.cat([torch.eye(10), torch.zeros(1, 10)])[labels]
    [:, :, None, None].repeat(1, 1, size, size),
    "comparison with arange": lambda labels, size: (labels[:, None, None, None] == torch.arange(10)[None, :, None, None])
    .float() * torch.ones(1, 1, size, size),
    "eleven classes, the first dropped": lambda labels, size: F.one_hot(labels + 1, 11)[:, 1:].float()
    [:, :, None, None].expand(-1, -1, size, size),
}
PLANES_WRONG = {
    "codes not planes": (lambda labels, size: (labels[:, None] == torch.arange(10)).float()[:, :, None, None],
                         "whole size x size plane"),
    "one plane with the label": (lambda labels, size: labels.float()[:, None, None, None].expand(-1, 1, size, size),
                                 "one plane per class"),
    "channels last": (lambda labels, size: (labels[:, None] == torch.arange(10)).float()[:, None, None, :]
                      .expand(-1, size, size, -1), "come second"),
    "integers": (lambda labels, size: (labels[:, None] == torch.arange(10)).long()[:, :, None, None]
                 .expand(-1, -1, size, size), "floats"),
    "off by one class": (lambda labels, size: ((labels[:, None] + 1) % 10 == torch.arange(10)).float()[:, :, None, None]
                         .expand(-1, -1, size, size), r"image \d+ has label"),
    "the lesson's size typed in": (lambda labels, size: (labels[:, None] == torch.arange(10)).float()[:, :, None, None]
                                   .expand(-1, -1, 32, 32), "expected"),
    # the page's answer, copied: F.one_hot refuses -1
    "the page's one_hot": (lambda labels, size: F.one_hot(labels, 10).float()[:, :, None, None]
                           .expand(-1, -1, size, size), r"raised.*(non-negative|Class values)"),
    "-1 read as digit 0": (lambda labels, size: F.one_hot(labels.clamp(min=0), 10).float()[:, :, None, None]
                           .expand(-1, -1, size, size), "all ten planes must be zeros"),
    "-1 read as digit 9": (lambda labels, size: F.one_hot(labels % 10, 10).float()[:, :, None, None]
                           .expand(-1, -1, size, size), "all ten planes must be zeros"),
    "an eleventh plane": (lambda labels, size: F.one_hot(labels + 1, 11).float()[:, :, None, None]
                          .expand(-1, -1, size, size), "eleventh plane"),
}


@pytest.mark.parametrize("spelling", PLANES_RIGHT)
def test_label_planes_accepts_right_answers(spelling, capsys):
    printed = passes(check_label_planes, PLANES_RIGHT[spelling], capsys)
    assert "D scores your stack as D(x, labels)" in printed and "all zeros for a label of -1" in printed


@pytest.mark.parametrize("mistake", PLANES_WRONG)
def test_label_planes_names_the_mistake(mistake):
    answer, message = PLANES_WRONG[mistake]
    fails(check_label_planes, answer, message)


def planes_from_the_package(labels, size):
    from gan_tutorial import models
    known = labels.clamp(min=0)
    return (models.label_codes(known, 10, torch.zeros(len(labels))) * (labels >= 0)[:, None, None, None]
            ).expand(-1, -1, size, size)


def planes_from_a_hook(labels, size):
    """Run the package's D and catch what its network is given."""
    from gan_tutorial.models import ConditionalDiscriminator
    D = ConditionalDiscriminator(num_classes=10, ndf=2, nc=1, image_size=32)
    seen = []
    D.net.register_forward_pre_hook(lambda module, args: seen.append(args[0][:, 1:]))
    D(torch.zeros(len(labels), 1, size, size), labels.clamp(min=0))
    return seen[0].detach() * (labels >= 0)[:, None, None, None]


@pytest.mark.parametrize("answer", [planes_from_the_package, planes_from_a_hook])
def test_label_planes_refuses_the_packages_own_planes(answer):
    fails(check_label_planes, answer, "calls the package's")


@pytest.mark.parametrize("check", [check_hinge_active, check_ema_shares, check_asked_digits, check_label_planes])
def test_a_value_instead_of_a_function_is_refused(check):
    fails(check, torch.zeros(3), "should be a function")


def test_a_learner_error_is_reported_as_a_failed_check_naming_the_call():
    fails(check_label_planes, lambda labels, size: labels.no_such_method(), r"label_planes\(<12 labels, \d+ of them -1>, 32\) raised")
