"""Every exercise check passes on right answers (several spellings) and names typical mistakes."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_tutorial import GBlock, diversity
from gan_tutorial.checks import (CheckError, check_bce, check_conv_size, check_d_loss,
                                 check_denormalised, check_diversity, check_g_loss, check_gblock,
                                 check_tconv_size)


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


# ------------------------------------------------------------------ BCE by hand
@pytest.mark.parametrize("answer", [
    lambda p, y: -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean(),
    lambda p, y: nn.functional.binary_cross_entropy(p, y),
    lambda p, y: float(-(y * p.log() + (1 - y) * (1 - p).log()).sum() / len(p)),
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
    (lambda p, y: 1 / 0, "raised ZeroDivisionError"),
])
def test_bce_names_the_mistake(answer, message):
    assert_fails(check_bce, answer, match=message)


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
])
def test_conv_size_names_the_mistake(answer, message):
    assert_fails(check_conv_size, answer, match=message)


# ------------------------------------------------------------------ denormalisation
@pytest.fixture
def images():
    return torch.tanh(torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(2)) * 2)


@pytest.mark.parametrize("answer", [
    lambda x: (x + 1) / 2,
    lambda x: x * 0.5 + 0.5,
    lambda x: ((x + 1) / 2).clamp(0, 1).numpy(),
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
                   diversity(images)):
        assert_passes(check_diversity, answer, images, capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (lambda f: torch.cdist(f, f).mean() / f.size(1) ** 0.5, "including each image with itself"),
    (lambda f: torch.pdist(f).mean(), r"divide by sqrt\(values per image\) = sqrt\(192\)"),
    (lambda f: torch.pdist(f).mean() / f.size(1), r"\*square root\*"),
    (lambda f: (torch.pdist(f) ** 2).mean() / f.size(1), "not its square"),
])
def test_diversity_names_the_mistake(answer, message, images):
    assert_fails(check_diversity, answer(images.flatten(1)), images, match=message)


# ------------------------------------------------------------------ GBlock
def test_gblock_accepts_right_answers(capsys):
    answers = [
        nn.Sequential(nn.ConvTranspose2d(3, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20), nn.ReLU()),
        nn.Sequential(nn.ConvTranspose2d(3, 20, kernel_size=4, stride=2, padding=1, bias=False),
                      nn.BatchNorm2d(20), nn.ReLU(inplace=True)),
        GBlock(3, 20),
    ]
    for block in answers:
        assert_passes(check_gblock, block, capsys=capsys)


@pytest.mark.parametrize("layers, message", [
    ([nn.ConvTranspose2d(3, 20, 4, 2, 0, bias=False), nn.BatchNorm2d(20), nn.ReLU()],
     r"expected shape \(2, 20, 32, 32\), got \(2, 20, 34, 34\): check padding"),
    ([nn.ConvTranspose2d(3, 20, 3, 2, 1, bias=False), nn.BatchNorm2d(20), nn.ReLU()],
     r"expected shape \(2, 20, 32, 32\), got \(2, 20, 31, 31\): check padding"),
    ([nn.ConvTranspose2d(3, 10, 4, 2, 1, bias=False), nn.BatchNorm2d(10), nn.ReLU()],
     "check out_channels"),
    ([nn.Conv2d(3, 20, 4, 2, 1, bias=False), nn.BatchNorm2d(20), nn.ReLU()], "side shrank"),
    ([nn.ConvTranspose2d(3, 20, 4, 2, 1), nn.BatchNorm2d(20), nn.ReLU()], "bias=False"),
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
