"""Every exercise check passes on right answers (several spellings), names typical mistakes and
cannot be fooled: handing in torch's own function, a value already on the page, or a measurement
where the exercise asks for reasoning fails (a test per loophole, each beside a right variant)."""
from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_tutorial import DCGANDiscriminator, DCGANGenerator, GBlock, diversity_ratio
from gan_tutorial.history import History
from gan_tutorial.metrics import diversity
from gan_tutorial.exercises.checks import (CheckError, check_bce, check_bce_logits, check_conv_size, check_d_loss,
                                 check_denormalised, check_diversity, check_g_loss, check_gblock,
                                 check_tconv_size)
from gan_tutorial.exercises.layers import check_conv_macs, check_side_prediction, check_tconv_design
from gan_tutorial.exercises.measures import check_collapsed_ratio, check_seconds_to_reach


def probabilities(n: int, low: float, high: float, seed: int) -> torch.Tensor:
    """D-like outputs: probabilities in [low, high] that carry a gradient history."""
    raw = torch.rand(n, generator=torch.Generator().manual_seed(seed), requires_grad=True)
    return low + (high - low) * raw


@pytest.fixture
def outs():
    return probabilities(16, 0.55, 0.95, 0), probabilities(16, 0.05, 0.45, 1)


def assert_fails(check, answer, *args, match: str) -> None:
    with pytest.raises(CheckError, match=match):
        check(answer, *args)


def assert_passes(check, answer, *args, capsys) -> None:
    check(answer, *args)
    assert capsys.readouterr().out.startswith("Correct!")


def test_check_error_is_an_assertion_so_nbgrader_counts_it_as_failed():
    assert issubclass(CheckError, AssertionError)


# ------------------------------------------------------------------ D's loss
D_LOSS_RIGHT = {
    "logs": lambda r, f: -(torch.log(r).mean() + torch.log(1 - f).mean()),
    "bce": lambda r, f: nn.BCELoss()(r, torch.ones_like(r)) + nn.BCELoss()(f, torch.zeros_like(f)),
    "log1p": lambda r, f: -torch.log(r).mean() - torch.log1p(-f).mean(),
}
D_LOSS_WRONG = {
    "sign": (lambda r, f: torch.log(r).mean() + torch.log(1 - f).mean(), "sign is flipped"),
    "real only": (lambda r, f: -torch.log(r).mean(), "only the real half"),
    "fakes labelled 1": (lambda r, f: -(torch.log(r).mean() + torch.log(f).mean()), "fakes are labelled 1"),
    "averaged": (lambda r, f: -(torch.log(r).mean() + torch.log(1 - f).mean()) / 2, "averaged the two halves"),
    "summed over batch": (lambda r, f: -(torch.log(r) + torch.log(1 - f)).sum(), "16 times too large"),
    ".item()": (lambda r, f: -(torch.log(r).mean() + torch.log(1 - f).mean()).item(), "Python number"),
    "per image": (lambda r, f: -(torch.log(r) + torch.log(1 - f)), r"shape \(16,\).*\.mean\(\)"),
}


@pytest.mark.parametrize("spelling", D_LOSS_RIGHT)
def test_d_loss_accepts_right_answers(spelling, outs, capsys):
    assert_passes(check_d_loss, D_LOSS_RIGHT[spelling](*outs), *outs, capsys=capsys)


@pytest.mark.parametrize("mistake", D_LOSS_WRONG)
def test_d_loss_names_the_mistake(mistake, outs):
    answer, message = D_LOSS_WRONG[mistake]
    assert_fails(check_d_loss, answer(*outs), *outs, match=message)


# ------------------------------------------------------------------ G's loss
def test_g_loss_accepts_right_answers(outs, capsys):
    fake = outs[1]
    for answer in (torch.log(1 - fake).mean(), -nn.BCELoss()(fake, torch.zeros_like(fake)),
                   torch.log1p(-fake).mean()):
        assert_passes(check_g_loss, answer, fake, capsys=capsys)
    assert_passes(check_g_loss, nn.BCELoss()(fake, torch.ones_like(fake)), fake, "non-saturating",
                  capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (lambda f: -torch.log(1 - f).mean(), "sign is flipped"),
    (lambda f: nn.BCELoss()(f, torch.zeros_like(f)), "sign is flipped"),
    (lambda f: -torch.log(f).mean(), "non-saturating loss"),
    (lambda f: torch.log(f).mean(), "non-saturating objective"),
    (lambda f: torch.log(1 - f).sum(), "16 times too large"),
    (lambda f: torch.log(1 - f.detach()).mean(), "no gradient history"),
])
def test_g_loss_minimax_names_the_mistake(answer, message, outs):
    assert_fails(check_g_loss, answer(outs[1]), outs[1], match=message)


def test_g_loss_non_saturating_names_the_mistake(outs):
    fake = outs[1]
    for answer, message in [(torch.log(fake).mean(), "sign is flipped"),
                            (torch.log(1 - fake).mean(), "minimax loss"),
                            (-torch.log(1 - fake).mean(), "D's fake term")]:
        assert_fails(check_g_loss, answer, fake, "non-saturating", match=message)


# ------------------------------------------------------------------ BCE by hand (probabilities)
@pytest.mark.parametrize("answer", [
    lambda p, y: -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean(),
    lambda p, y: -(y * p.log() + (1 - y) * torch.log1p(-p)).mean(),
    lambda p, y: float(-(y * p.log() + (1 - y) * (1 - p).log()).sum() / p.numel()),  # a plain number
    lambda p, y: -(torch.xlogy(y, p) + torch.xlogy(1 - y, 1 - p)).mean(),
    lambda p, y: -(y.double() * p.double().log() + (1 - y.double()) * (1 - p.double()).log()).mean(),
])
def test_bce_accepts_right_answers(answer, capsys):
    assert_passes(check_bce, answer, capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (lambda p, y: (y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean(), "sign is flipped"),
    (lambda p, y: -(y * torch.log(p)).mean(), r"label 0.*\(1 - y\) log\(1 - p\) term is missing"),
    (lambda p, y: -((1 - y) * torch.log(1 - p)).mean(), r"label 1.*y log p term is missing"),
    (lambda p, y: -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).sum(), "summed over the batch"),
    (lambda p, y: -(y * torch.log10(p) + (1 - y) * torch.log10(1 - p)).mean(), "natural logarithm"),
    (lambda p, y: -torch.where(y == 1, p.log(), (1 - p).log()).mean(), "soft label"),
    (lambda p, y: -(y * p.log() + (1 - y) * (1 - p).log()).sum() / len(p), r"shape \(3, 5\)"),  # rows only
    (lambda p, y: 1 / 0, "raised ZeroDivisionError"),
])
def test_bce_names_the_mistake(answer, message):
    assert_fails(check_bce, answer, match=message)


bce = nn.BCELoss()  # what lesson 03's page defines before the exercise


@pytest.mark.parametrize("answer", [bce, nn.BCELoss(), lambda p, y: nn.functional.binary_cross_entropy(p, y),
                                    lambda p, y: torch._C._nn.binary_cross_entropy(p, y),
                                    lambda p, y: F.binary_cross_entropy_with_logits(torch.logit(p), y)])
def test_bce_refuses_torchs_own_bce_however_it_is_reached(answer):
    """The loophole `my_bce = bce` (an nn.BCELoss on the page): the values are right, the work is not."""
    assert_fails(check_bce, answer, match="calls torch's own binary cross-entropy")


Hidden = torch._C.DisableTorchFunction  # the name a learner may import before the exercise


def hidden_bce(p, y):
    with torch._C.DisableTorchFunction():  # would switch off the recording of torch calls
        return F.binary_cross_entropy(p, y)


def hidden_bce_by_name(p, y):
    with Hidden():
        return F.binary_cross_entropy(p, y)


@pytest.mark.parametrize("answer", [hidden_bce, hidden_bce_by_name])
def test_disabling_torch_function_does_not_hide_torchs_own_bce(answer):
    assert_fails(check_bce, answer, match="calls torch's own binary cross-entropy")
    assert torch._C.DisableTorchFunction is Hidden  # put back after the check


# ------------------------------------------------------------------ BCE from the logit
@pytest.mark.parametrize("answer", [
    lambda l, y: (F.softplus(l) - y * l).mean(),
    lambda l, y: -(y * F.logsigmoid(l) + (1 - y) * F.logsigmoid(-l)).mean(),
    lambda l, y: (y * F.softplus(-l) + (1 - y) * F.softplus(l)).mean(),
    lambda l, y: (l.clamp(min=0) - l * y + torch.log1p(torch.exp(-l.abs()))).mean(),  # PyTorch's own form
    lambda l, y: (torch.logaddexp(torch.zeros_like(l), l) - y * l).sum() / l.numel(),
])
def test_bce_logits_accepts_right_answers(answer, capsys):
    assert_passes(check_bce_logits, answer, capsys=capsys)


naive = lambda l, y: -(y * torch.log(torch.sigmoid(l)) + (1 - y) * torch.log(1 - torch.sigmoid(l))).mean()  # noqa: E731


@pytest.mark.parametrize("answer, message", [
    (naive, r"logits \+-40.*= nan: sigma\(l\) rounds to exactly 1.0"),
    (lambda l, y: -(y * torch.log(torch.sigmoid(l).clamp(1e-7, 1 - 1e-7))
                    + (1 - y) * torch.log((1 - torch.sigmoid(l)).clamp(1e-7, 1))).mean(),
     r"logits \+-40, \+-100.*sure mistake costs its full"),
    (lambda l, y: (F.softplus(l) - y * l).clamp(max=50).mean(), r"sure mistake costs its full"),
    (lambda l, y: -(y * torch.log(l) + (1 - y) * torch.log(1 - l)).mean(), "not a probability"),
    (lambda l, y: (F.softplus(l) - y * l).sum(), "summed over the batch"),
    (lambda l, y: (y * l - F.softplus(l)).mean(), "sign is flipped"),
    (lambda l, y: (y * F.softplus(-l)).mean(), r"\(1 - y\) log\(1 - sigma\(l\)\) term is missing"),
    (lambda l, y: (F.softplus(l) - y * l).mean().item(), "Python number"),
    (lambda l, y: (F.softplus(l.detach()) - y * l.detach()).mean(), "no gradient history"),
])
def test_bce_logits_names_the_mistake(answer, message):
    assert_fails(check_bce_logits, answer, match=message)


def test_bce_logits_wants_the_gradient_that_never_vanishes():
    """A loss right in value whose gradient dies at sure mistakes (G stalls) fails on the gradient."""
    frozen = lambda l, y: (F.softplus(l) - y * l + 0 * l).mean() if l.abs().max() < 40 else \
        (F.softplus(l.detach()) - y * l.detach() + 0 * l).mean()  # noqa: E731
    assert_fails(check_bce_logits, frozen, match=r"gradient with respect to the logits is \[0.0")


bce_logits = nn.BCEWithLogitsLoss()  # lesson 03's page defines it just above the exercise


two_classes = lambda l: torch.stack([torch.zeros_like(l), l], dim=-1)  # noqa: E731  logits of "fake", "real"


@pytest.mark.parametrize("answer", [bce_logits, lambda l, y: F.binary_cross_entropy_with_logits(l, y),
                                    lambda l, y: nn.BCELoss()(torch.sigmoid(l), y),
                                    # two-class cross-entropy with soft targets is the same number
                                    lambda l, y: F.cross_entropy(two_classes(l).reshape(-1, 2),
                                                                 torch.stack([1 - y, y], -1).reshape(-1, 2)),
                                    lambda l, y: nn.CrossEntropyLoss()(two_classes(l).reshape(-1, 2),
                                                                       torch.stack([1 - y, y], -1).reshape(-1, 2)),
                                    lambda l, y: F.nll_loss(F.log_softmax(two_classes(l).reshape(-1, 2), -1),
                                                            (y.reshape(-1) > 0.5).long())])
def test_bce_logits_refuses_torchs_own_bce(answer):
    assert_fails(check_bce_logits, answer, match="calls torch's own binary cross-entropy")


# ------------------------------------------------------------------ size formulas
@pytest.mark.parametrize("answer", [
    lambda n, k, s, p: s * (n - 1) + k - 2 * p,
    lambda n, k, s, p: (n - 1) * s - 2 * p + (k - 1) + 1,  # PyTorch docs' spelling, dilation 1
    lambda n, k, s, p: torch.tensor(s * n - s + k - p - p),
])
def test_tconv_size_accepts_right_answers(answer, capsys):
    assert_passes(check_tconv_size, answer, capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (lambda n, k, s, p: s * (n - 1) + k - p, r"returned 33, expected 32.*check padding"),
    (lambda n, k, s, p: s * (n - 1) + k, r"returned 34, expected 32.*check padding"),
    (lambda n, k, s, p: s * n + k - 2 * p, "off by s"),
    (lambda n, k, s, p: (n - k + 2 * p + s) // s, "ordinary convolution's formula"),
    (lambda n, k, s, p: "32", "return a number"),
    (lambda n, k, s, p: nn.ConvTranspose2d(1, 1, k, s, p)(torch.zeros(1, 1, n, n)).shape[-1],
     "runs a ConvTranspose2d to measure"),
])
def test_tconv_size_names_the_mistake(answer, message):
    assert_fails(check_tconv_size, answer, match=message)


@pytest.mark.parametrize("answer", [
    lambda n, k, s, p: (n - k + 2 * p + s) // s,
    lambda n, k, s, p: (n + 2 * p - k) // s + 1,
    lambda n, k, s, p: int((n + 2 * p - (k - 1) - 1) / s + 1),  # PyTorch docs' spelling
])
def test_conv_size_accepts_right_answers(answer, capsys):
    assert_passes(check_conv_size, answer, capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (lambda n, k, s, p: (n - k + 2 * p + s) / s, r"returned 3\.5.*floor division"),
    (lambda n, k, s, p: (n - k + 2 * p) // s, "one short"),
    (lambda n, k, s, p: (n - k + p + s) // s, "check padding"),
    (lambda n, k, s, p: -(-(n - k + 2 * p + s) // s), "rounded up"),
    (lambda n, k, s, p: s * (n - 1) + k - 2 * p, "transposed convolution's formula"),
    (lambda n, k, s, p: nn.functional.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s,
                                             padding=p).shape[-1], "runs a Conv2d to measure"),
])
def test_conv_size_names_the_mistake(answer, message):
    assert_fails(check_conv_size, answer, match=message)


# ------------------------------------------------------------------ a 28x28 generator design
@pytest.mark.parametrize("design", [
    [(7, 1, 0), (4, 2, 1), (4, 2, 1)],
    [[9, 1, 1], [2, 2, 0], [6, 2, 2]],  # lists, other kernels
    ((7, 7, 0), (4, 2, 1), (8, 2, 3)),  # stride of a 1x1 input does not matter
    [torch.tensor([7, 1, 0]), (4, 2, 1), (4, 2, 1)],
    __import__("numpy").array([[7, 1, 0], [4, 2, 1], [4, 2, 1]]),  # a numpy array of triples
    torch.tensor([[7, 1, 0], [4, 2, 1], [4, 2, 1]]),
])
def test_tconv_design_accepts_any_design_that_works(design, capsys):
    assert_passes(check_tconv_design, design, capsys=capsys)


@pytest.mark.parametrize("design, message", [
    ([(4, 1, 0), (4, 2, 1), (4, 2, 1)], r"1 -> 4 -> 8 -> 16, ending at 16, not 28: work backwards"),
    ([(7, 1, 0), (3, 2, 0), (4, 2, 1)], "turns 7 into 15, not 14"),
    ([(7, 1, 0), (8, 1, 0), (15, 1, 0)], "doubles 7 but turns 8 into 15"),  # right sides, not a doubling layer
    ([(28, 1, 0)], "design has 1 layers, expected 3"),
    ([(7, 1, 0), (4, 2, 1), (4, 2)], r"layer 3 is \(4, 2\)"),
    ([(7, 1, -1), (4, 2, 1), (4, 2, 1)], "padding at least 0"),
    ("7, 4, 4", "got str"),
])
def test_tconv_design_names_the_mistake(design, message):
    assert_fails(check_tconv_design, design, match=message)


# ------------------------------------------------------------------ predicting D's output side
@pytest.fixture(scope="module")
def pokemon_d():
    return DCGANDiscriminator(ndf=8, nc=3, image_size=64, logits=True, first_batch_norm=True)


@pytest.mark.parametrize("answer", [
    lambda n: n // 16 - 3,
    lambda n: (((n // 2) // 2) // 2) // 2 - 4 + 1,
    lambda n: torch.tensor(n).div(16, rounding_mode="floor").item() - 3,
])
def test_side_prediction_accepts_right_answers(answer, pokemon_d, capsys):
    assert_passes(check_side_prediction, answer, pokemon_d, capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (lambda n: n // 16, "the side before the last layer"),
    (lambda n: n / 16 - 3, "rounds down"),
    (lambda n: 1, r"d_side\(80\) = 1, but DCGANDiscriminator's layers give 2"),
    (lambda n: "1", "return a number"),
])
def test_side_prediction_names_the_mistake(answer, message, pokemon_d):
    assert_fails(check_side_prediction, answer, pokemon_d, match=message)


def test_side_prediction_refuses_running_the_network(pokemon_d):
    """Measuring instead of predicting: the model's own layers, or any convolution, are refused."""
    assert_fails(check_side_prediction, lambda n: pokemon_d.main(torch.zeros(1, 3, n, n)).shape[-1], pokemon_d,
                 match="runs a convolution")
    layers = [m for m in pokemon_d.modules() if isinstance(m, nn.Conv2d)]
    twin = lambda n: nn.Sequential(*[nn.Conv2d(1, 1, m.kernel_size, m.stride, m.padding) for m in layers])(  # noqa: E731
        torch.zeros(1, 1, n, n)).shape[-1]
    assert_fails(check_side_prediction, twin, pokemon_d, match="runs a convolution")


def test_side_prediction_follows_a_generator_too(capsys):
    g = DCGANGenerator(ngf=8, nc=1, image_size=32)
    assert_passes(check_side_prediction, lambda n: 8 * (n + 3), g, "g_side", (1, 2, 5), capsys=capsys)


# ------------------------------------------------------------------ counting a convolution's cost
@pytest.mark.parametrize("answer", [
    lambda ci, co, k, n: ci * co * k * k * n * n,
    lambda ci, co, k, n: (co * n ** 2) * (ci * k ** 2),  # outputs times products per output
    lambda ci, co, k, n: torch.tensor(ci * co * k * k * n * n),
])
def test_conv_macs_accepts_right_answers(answer, capsys):
    assert_passes(check_conv_macs, answer, capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (lambda ci, co, k, n: 2 * ci * co * k * k * n * n, "that counts FLOPs"),
    (lambda ci, co, k, n: co * k * k * n * n, "sums over all c_in input channels"),
    (lambda ci, co, k, n: ci * co * k * n * n, "k², not k"),
    (lambda ci, co, k, n: ci * co * k * k * n, "n_out² values"),
    (lambda ci, co, k, n: ci * co * k * k, "one output pixel's cost"),
])
def test_conv_macs_names_the_mistake(answer, message):
    assert_fails(check_conv_macs, answer, match=message)


def test_conv_macs_refuses_measuring_with_torchs_counter():
    from torch.utils.flop_counter import FlopCounterMode

    def measured(ci, co, k, n):
        with FlopCounterMode(display=False) as counter:
            nn.Conv2d(ci, co, k, bias=False)(torch.zeros(1, ci, n + k - 1, n + k - 1))
        return counter.get_total_flops() // 2

    assert_fails(check_conv_macs, measured, match="runs a convolution")


# ------------------------------------------------------------------ denormalisation
@pytest.fixture
def images():
    return torch.tanh(torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(2)) * 2)


@pytest.mark.parametrize("answer", [
    lambda x: (x + 1) / 2,
    lambda x: x * 0.5 + 0.5,
    lambda x: ((x + 1) / 2).clamp(0, 1).numpy(),
    lambda x: (x.double() + 1) / 2,  # another float type
    lambda x: (x.clone().requires_grad_() + 1) / 2,  # still carrying a gradient: no .detach() needed
])
def test_denormalised_accepts_right_answers(answer, images, capsys):
    assert_passes(check_denormalised, answer(images), images, capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (lambda x: x / 2, "add 1 before halving"),
    (lambda x: x + 1, "divide by 2"),
    (lambda x: x * 0.3081 + 0.1307, r"Normalize\(0\.1307, 0\.3081\)"),
    (lambda x: (x + 1) / 2 * 255, "do not multiply by 255"),
    (lambda x: ((x + 1) / 2).permute(0, 2, 3, 1), r"expected shape \(4, 3, 8, 8\), got \(4, 8, 8, 3\)"),
    (lambda x: ((x + 1) * 127.5).to(torch.uint8), "dtype torch.uint8"),
    (lambda x: x, "values are unchanged"),  # handing back the page's own images
])
def test_denormalised_names_the_mistake(answer, message, images):
    assert_fails(check_denormalised, answer(images), images, match=message)


# ------------------------------------------------------------------ diversity
def test_diversity_accepts_right_answers(images, capsys):
    flat = images.flatten(1)
    d = flat.size(1)
    n = flat.size(0)
    for answer in (torch.cdist(flat, flat).sum() / (n * (n - 1)) / d ** 0.5,
                   torch.pdist(flat).mean() / d ** 0.5,
                   lambda b: torch.pdist(b.flatten(1)).mean() / b[0].numel() ** 0.5,
                   lambda b: (torch.cdist(b.flatten(1), b.flatten(1)).sum() / (len(b) * (len(b) - 1))
                              / b.flatten(1).size(1) ** 0.5).item()):
        assert_passes(check_diversity, answer, images, capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (lambda f: torch.cdist(f, f).mean() / f.size(1) ** 0.5, "including each image with itself"),
    (lambda f: torch.pdist(f).mean(), r"divide by sqrt\(values per image\) = sqrt\(192\)"),
    (lambda f: torch.pdist(f).mean() / f.size(1), r"\*square root\*"),
    (lambda f: (torch.pdist(f) ** 2).mean() / f.size(1), "not its square"),
])
def test_diversity_names_the_mistake(answer, message, images):
    assert_fails(check_diversity, answer(images.flatten(1)), images, match=message)


@pytest.mark.parametrize("answer", [diversity, lambda b: diversity(b), lambda b: diversity_ratio(b, b) * diversity(b)])
def test_diversity_as_a_function_refuses_the_packages_own(answer, images):
    assert_fails(check_diversity, answer, images, match="calls gan_tutorial's own diversity")


def test_diversity_as_a_function_is_tried_on_batches_of_other_shapes(images):
    only_this_batch = lambda b: torch.pdist(b.flatten(1)).mean() / 192 ** 0.5  # noqa: E731 - d typed in
    assert_fails(check_diversity, only_this_batch, images, match=r"batch of shape \(5, 3, 4, 4\)")


# ------------------------------------------------------------------ collapse and the diversity ratio
@pytest.mark.parametrize("answer", [
    lambda k, n: n * (k - 1) / (k * (n - 1)),
    lambda k, n: (1 - 1 / k) * n / (n - 1),
    lambda k, n: torch.tensor((n * n - n * n / k) / (n * (n - 1))),
])
def test_collapsed_ratio_accepts_right_answers(answer, capsys):
    assert_passes(check_collapsed_ratio, answer, 10, capsys=capsys)


def test_collapsed_ratio_refuses_measuring_with_the_pages_diversity_ratio():
    """Simulating collapsed batches with the page's diversity_ratio gives the right numbers, but
    the exercise asks for the count of pairs (issue 32): refused, naming the function."""
    faces = torch.randn(64, 3, 4, 4, generator=torch.Generator().manual_seed(9))
    measured = lambda k, n: 0.0 if k == 1 else diversity_ratio(faces[:k].repeat_interleave(n // k, 0), faces[:k])  # noqa: E731
    assert_fails(check_collapsed_ratio, measured, 10, match="calls .*diversity_ratio to measure a collapsed batch")


@pytest.mark.parametrize("answer, fewest, message", [
    (lambda k, n: (k - 1) / k, 10, "limit for a very large batch"),
    (lambda k, n: (n / k - 1) / (n - 1), 10, "share of pairs that show the same image twice"),
    (lambda k, n: 1 / k, 10, "chance that two draws"),
    (lambda k, n: n * (k - 1) / (k * (n - 1)), 9, "9 distinct images score 0.889"),
    (lambda k, n: n * (k - 1) / (k * (n - 1)), 0.9, "fewest_images = 0.9"),
    (lambda k, n: 0.9, 10, r"collapsed_ratio\(k=2, n=64\) = 0.9000"),
])
def test_collapsed_ratio_names_the_mistake(answer, fewest, message):
    assert_fails(check_collapsed_ratio, answer, fewest, match=message)


def test_collapsed_ratio_refuses_a_measurement_against_other_images():
    other = lambda k, n: 0.0 if k == 1 else diversity_ratio(torch.randn(k, 3, 4, 4).repeat_interleave(n // k, 0),  # noqa: E731
                                                           torch.randn(k, 3, 4, 4))
    assert_fails(check_collapsed_ratio, other, 10, match="diversity_ratio to measure")


# ------------------------------------------------------------------ time to a quality
first = lambda h, t: next((i * (h.train_seconds - h.eval_seconds) / h.iterations  # noqa: E731
                           for i, v in zip(h.metric_iterations, h.metrics["frechet_distance"]) if v <= t), math.inf)


@pytest.mark.parametrize("answer", [
    first,
    lambda h, t: next((i * (h.train_seconds - h.eval_seconds) / len(h.loss_d)
                       for i, v in zip(h.metric_iterations, h.metrics["frechet_distance"]) if v <= t), None),
    lambda h, t: min([i for i, v in zip(h.metric_iterations, h.metrics["frechet_distance"]) if v <= t],
                     default=math.inf) * (h.train_seconds - h.eval_seconds) / h.iterations,
])
def test_seconds_to_reach_accepts_right_answers(answer, capsys):
    assert_passes(check_seconds_to_reach, answer, capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (lambda h, t: next((i * h.train_seconds / h.iterations
                        for i, v in zip(h.metric_iterations, h.metrics["frechet_distance"]) if v <= t), math.inf),
     "leave the evaluation time out"),
    (lambda h, t: next((i for i, v in zip(h.metric_iterations, h.metrics["frechet_distance"]) if v <= t), math.inf),
     "that is the iteration"),
    (lambda h, t: next((i * (h.train_seconds - h.eval_seconds) / h.iterations
                        for i, v in zip(h.metric_iterations, h.metrics["frechet_distance"]) if v < t), 0.0),
     "return math.inf"),
    (lambda h, t: 40.0, "expected"),  # the first case's answer, typed in
    (lambda h, t: next((i * (h.train_seconds - h.eval_seconds) / h.iterations
                        for i, v in zip(h.metric_iterations, h.metrics["frechet_distance"]) if v < t), math.inf),
     "compare with <=, not <"),  # strict: misses an evaluation exactly at the threshold
])
def test_seconds_to_reach_names_the_mistake(answer, message):
    assert_fails(check_seconds_to_reach, answer, match=message)


def test_seconds_to_reach_gets_a_copy_it_may_change(capsys):
    def destructive(h: History, t: float) -> float:
        result = first(h, t)
        h.metrics.clear()
        return result

    assert_passes(check_seconds_to_reach, destructive, capsys=capsys)


# ------------------------------------------------------------------ GBlock
class OwnBlock(nn.Module):
    """The same block as a custom Module: its own names, F.relu, a convolution bias."""

    def __init__(self, kernel_size: int = 4, padding: int = 1, no_grad: bool = False) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(3, 20, kernel_size, 2, padding, bias=True)
        self.norm = nn.BatchNorm2d(20)
        self.no_grad = no_grad

    def forward(self, x):
        with torch.set_grad_enabled(not self.no_grad):
            return F.relu(self.norm(self.up(x)))


@pytest.mark.parametrize("block", [
    nn.Sequential(nn.ConvTranspose2d(3, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20), nn.ReLU()),
    nn.Sequential(nn.ConvTranspose2d(3, 20, kernel_size=4, stride=2, padding=1, bias=False),
                  nn.BatchNorm2d(20), nn.ReLU(inplace=True)),
    nn.Sequential(nn.ConvTranspose2d(3, 20, 4, 2, 1, bias=True), nn.BatchNorm2d(20), nn.ReLU()),  # bias: cancelled
    GBlock(3, 20),
    OwnBlock(),
], ids=["sequential", "inplace-relu", "bias", "GBlock", "own-module"])
def test_gblock_accepts_right_answers(block, capsys):
    assert_passes(check_gblock, block, capsys=capsys)


@pytest.mark.parametrize("block", [
    nn.Sequential(nn.ConvTranspose2d(3, 20, 6, 2, 2, bias=False), nn.BatchNorm2d(20), nn.ReLU()),
    GBlock(3, 20, kernel_size=6, stride=2, padding=2),
    OwnBlock(kernel_size=6, padding=2),
], ids=["sequential", "GBlock", "own-module"])
def test_gblock_with_kernel_6_accepts_right_answers(block, capsys):
    assert_passes(check_gblock, block, 3, 20, 6, capsys=capsys)


def test_gblock_does_not_change_the_learners_block(capsys):
    block = GBlock(3, 20)
    before = copy.deepcopy(block.state_dict())
    assert_passes(check_gblock, block, capsys=capsys)
    assert all(torch.equal(before[key], value) for key, value in block.state_dict().items())


@pytest.mark.parametrize("layers, message", [
    ([nn.ConvTranspose2d(3, 20, 2, 2, 0, bias=False), nn.BatchNorm2d(20), nn.ReLU()],
     r"kernel_size \(2, 2\), expected 4: the sides come out right"),  # the loophole
    ([nn.ConvTranspose2d(3, 20, 4, 2, 0, bias=False), nn.BatchNorm2d(20), nn.ReLU()],
     r"expected shape \(2, 20, 32, 32\).*got \(2, 20, 34, 34\): your transposed convolution has kernel 4, "
     r"stride 2, padding 0"),
    ([nn.ConvTranspose2d(3, 20, 3, 2, 1, bias=False), nn.BatchNorm2d(20), nn.ReLU()], r"got \(2, 20, 31, 31\)"),
    ([nn.ConvTranspose2d(3, 20, 4, 2, 1, dilation=1, groups=1, bias=False), nn.BatchNorm2d(20, affine=False),
      nn.ReLU()], "affine=False"),
    ([nn.ConvTranspose2d(3, 10, 4, 2, 1, bias=False), nn.BatchNorm2d(10), nn.ReLU()], "check out_channels"),
    # lesson 02's eps trap (the second argument is eps, not momentum) and no running statistics
    ([nn.ConvTranspose2d(3, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20, 0.8), nn.ReLU()],
     r"eps = 0.8: its second argument is eps, not momentum"),
    ([nn.ConvTranspose2d(3, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20, track_running_stats=False),
      nn.ReLU()], "track_running_stats=False"),
    ([nn.Conv2d(3, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20), nn.ReLU()], "side shrank"),
    ([nn.ConvTranspose2d(3, 20, 4, 2, 1, bias=False), nn.ReLU()], "no nn.BatchNorm2d"),
    ([nn.ConvTranspose2d(3, 20, 4, 2, 1, bias=False), nn.ReLU(), nn.BatchNorm2d(20)], "negative values"),
    ([nn.ConvTranspose2d(3, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20), nn.LeakyReLU(0.2)],
     "negative values"),
    ([nn.ConvTranspose2d(20, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20), nn.ReLU()],
     "fails on a batch of shape"),
    ([nn.ConvTranspose2d(3, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20), nn.ReLU(), nn.Dropout(0.5)],
     "not ReLU"),
])
def test_gblock_names_the_mistake(layers, message):
    assert_fails(check_gblock, nn.Sequential(*layers), match=message)


def test_gblock_with_kernel_6_refuses_the_lessons_kernel_4():
    assert_fails(check_gblock, GBlock(3, 20), 3, 20, 6, match=r"kernel_size \(4, 4\), expected 6")


def test_gblock_wants_gradients_to_reach_the_layers():
    assert_fails(check_gblock, OwnBlock(no_grad=True), match="carries no gradient")


def test_gblock_refuses_what_is_not_a_module():
    assert_fails(check_gblock, lambda x: x, match="expected an nn.Module")


# ------------------------------------------------------------------ exercise 04.1: kernel 6 and GroupNorm
class GroupNormBlock(nn.Module):
    """A right answer to 04.1 written as a module of its own, with a bias the check must accept."""

    def __init__(self) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(3, 20, 6, 2, 2)
        self.norm = nn.GroupNorm(4, 20)

    def forward(self, x):
        return F.relu(self.norm(self.up(x)))


@pytest.mark.parametrize("block", [
    nn.Sequential(nn.ConvTranspose2d(3, 20, 6, 2, 2, bias=False), nn.GroupNorm(4, 20), nn.ReLU()),
    nn.Sequential(nn.ConvTranspose2d(3, 20, kernel_size=6, stride=2, padding=2), nn.GroupNorm(4, 20),
                  nn.ReLU(inplace=True)),
    GroupNormBlock(),
], ids=["sequential", "bias-inplace", "own-module"])
def test_gblock_with_group_norm_accepts_right_answers(block, capsys):
    check_gblock(block, 3, 20, 6, 2, 4)
    assert "Correct!" in (out := capsys.readouterr().out) and "GroupNorm(4, 20)" in out


@pytest.mark.parametrize("block, message", [
    (GBlock(3, 20, kernel_size=6, stride=2, padding=2), "normalises with BatchNorm"),  # the package's block
    (nn.Sequential(nn.ConvTranspose2d(3, 20, 6, 2, 2), nn.BatchNorm2d(20), nn.ReLU()), "normalises with BatchNorm"),
    (nn.Sequential(nn.ConvTranspose2d(3, 20, 6, 2, 2), nn.InstanceNorm2d(20, affine=True), nn.ReLU()),
     "no nn.GroupNorm"),
    (nn.Sequential(nn.ConvTranspose2d(3, 20, 6, 2, 2), nn.GroupNorm(20, 20), nn.ReLU()), "20 groups, expected 4"),
    (nn.Sequential(nn.ConvTranspose2d(3, 20, 6, 2, 2), nn.GroupNorm(5, 20), nn.ReLU()), "5 groups, expected 4"),
    (nn.Sequential(nn.ConvTranspose2d(3, 20, 6, 2, 2), nn.GroupNorm(4, 20, 0.8), nn.ReLU()), "eps = 0.8"),
    (nn.Sequential(nn.ConvTranspose2d(3, 20, 6, 2, 2), nn.GroupNorm(4, 20, affine=False), nn.ReLU()), "affine=False"),
    (nn.Sequential(nn.ConvTranspose2d(3, 20, 4, 2, 1), nn.GroupNorm(4, 20), nn.ReLU()), r"kernel_size \(4, 4\), expected 6"),
    (nn.Sequential(nn.ConvTranspose2d(3, 20, 6, 2, 2), nn.ReLU(), nn.GroupNorm(4, 20)), "negative values"),
    (nn.Sequential(nn.ConvTranspose2d(3, 20, 6, 2, 2), nn.GroupNorm(4, 20), nn.ReLU(), nn.Dropout(0.5)), "not ReLU"),
], ids=["GBlock", "batchnorm", "instancenorm", "20-groups", "5-groups", "eps-trap", "affine", "kernel-4",
        "relu-first", "dropout"])
def test_gblock_with_group_norm_names_the_mistake(block, message):
    assert_fails(check_gblock, block, 3, 20, 6, 2, 4, match=message)
