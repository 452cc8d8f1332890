"""Checks for the exercises that reason about layers: design a stack, predict its output, count its cost.

Every expected answer is computed here from real ``torch.nn`` layers (the sides they output,
PyTorch's own FLOP counter), never read from the page, and any right answer passes. An
answer that gets its number by running convolutions instead of reasoning about kernel,
stride and padding is refused: the calls are recorded (:mod:`gan_tutorial.exercises.torch_calls`).
Failures raise :class:`~gan_tutorial.exercises.checks.CheckError`, like every other check.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .checks import CheckError, as_int, learners_call, passed
from .torch_calls import CONVOLUTIONS, torch_calls

__all__ = ["check_tconv_design", "check_side_prediction", "check_conv_macs"]


def _call(fn: Callable, call: str, *args):
    """``fn(*args)`` as a number; the learner's error, or a convolution run, as a CheckError."""
    value, calls = learners_call(torch_calls, call, fn, *args)
    if calls & CONVOLUTIONS:
        raise CheckError(f"{call} runs a convolution ({', '.join(sorted(calls & CONVOLUTIONS))}): "
                         f"the exercise is to work it out from kernel, stride and padding, "
                         f"not to measure it")
    return as_int(value, call)


# ------------------------------------------------------------------ design (lesson 02)
def _triple(entry, i: int) -> tuple[int, int, int]:
    try:
        k, s, p = (int(v) for v in entry)
    except (TypeError, ValueError) as err:
        raise CheckError(f"layer {i + 1} is {entry!r}: write each layer as (kernel, stride, padding), "
                         f"three whole numbers") from err
    if k < 1 or s < 1 or p < 0:
        raise CheckError(f"layer {i + 1} is (k={k}, s={s}, p={p}): kernel and stride must be at least 1, "
                         f"padding at least 0")
    return k, s, p


def _tconv_side(n: int, k: int, s: int, p: int) -> int | None:
    """The side ``nn.ConvTranspose2d(k, s, p)`` really outputs for side ``n`` (None: it refuses)."""
    with torch.no_grad():
        try:
            return nn.ConvTranspose2d(1, 1, k, s, p, bias=False)(torch.zeros(1, 1, n, n)).shape[-1]
        except RuntimeError:
            return None


def _overlaps_evenly(n: int, k: int, s: int) -> bool:
    """Whether a constant n x n input through an all-ones (k, s) kernel comes out flat inside."""
    layer = nn.ConvTranspose2d(1, 1, k, s, 0, bias=False)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        out = layer(torch.ones(1, 1, n, n))[0, 0]
    inner = out[k - 1:s * (n - 1) + 1, k - 1:s * (n - 1) + 1]  # pixels every stamp can reach
    return inner.numel() == 0 or bool((inner == inner.flatten()[0]).all())


def check_tconv_design(design: Sequence, target: int = 28, n_layers: int = 3) -> None:
    """``design``: ``n_layers`` (kernel, stride, padding) triples of transposed convolutions growing
    1x1 noise to ``target`` x ``target``: the first to a small square, each later one doubling
    the side, each kernel overlapping evenly (a constant input comes out flat inside, as with
    DCGAN's (4, 2, 1): no built-in checkerboard). Any design with those properties passes.
    """
    if hasattr(design, "tolist") and not isinstance(design, (str, bytes)):
        design = design.tolist()  # a numpy array or a tensor of triples is a design too
    if isinstance(design, (str, bytes)) or not isinstance(design, Sequence):
        raise CheckError(f"design should be a list of {n_layers} (kernel, stride, padding) triples, "
                         f"got {type(design).__name__}")
    if len(design) != n_layers:
        raise CheckError(f"design has {len(design)} layers, expected {n_layers}: one from 1x1 to a "
                         f"small square, then {n_layers - 1} that double the side")
    sides = [1]
    for i, entry in enumerate(design):
        k, s, p = _triple(entry, i)
        n = sides[-1]
        side = _tconv_side(n, k, s, p)
        if side is None or side < 1:
            raise CheckError(f"layer {i + 1} (k={k}, s={s}, p={p}) cannot take a {n}x{n} input: "
                             f"s(n - 1) + k - 2p = {s * (n - 1) + k - 2 * p} is not a positive side")
        if i > 0 and side != 2 * n:
            raise CheckError(f"layer {i + 1} (k={k}, s={s}, p={p}) turns {n} into {side}, not {2 * n}: "
                             f"a doubling layer needs s(n - 1) + k - 2p = 2n for every n")
        if i > 0 and (other := _tconv_side(n + 1, k, s, p)) != 2 * (n + 1):
            raise CheckError(f"layer {i + 1} (k={k}, s={s}, p={p}) doubles {n} but turns {n + 1} into "
                             f"{other}: a doubling layer needs s(n - 1) + k - 2p = 2n for every n")
        if n > 1 and not _overlaps_evenly(n, k, s):
            raise CheckError(f"layer {i + 1} (k={k}, s={s}, p={p}) overlaps unevenly: a constant input "
                             f"comes out as a checkerboard (lesson 02, section 7). Pick a kernel that "
                             f"is a multiple of the stride")
        sides.append(side)
    path = " -> ".join(str(n) for n in sides)
    if sides[-1] != target:
        raise CheckError(f"your layers grow {path}, ending at {sides[-1]}, not {target}: work backwards "
                         f"from {target} through the doublings to the side the first layer must make")
    passed(f"{path}: the sides agree with nn.ConvTranspose2d and every kernel overlaps evenly.")


# ------------------------------------------------------------------ prediction (lesson 04)
def _twin(layer: nn.Module) -> nn.Module:
    """A 1-channel copy of a (transposed) convolution: the same kernel, stride, padding, dilation."""
    kwargs = dict(stride=layer.stride, padding=layer.padding, dilation=layer.dilation, bias=False)
    if isinstance(layer, nn.ConvTranspose2d):
        return nn.ConvTranspose2d(1, 1, layer.kernel_size, output_padding=layer.output_padding, **kwargs)
    return nn.Conv2d(1, 1, layer.kernel_size, **kwargs)


def _sides_through(layers: list[nn.Module], n: int) -> int | None:
    """The output side of ``layers`` (applied in order) for an n x n input, None if one refuses it."""
    x = torch.zeros(1, 1, n, n)
    with torch.no_grad():
        for layer in layers:
            try:
                x = layer(x)
            except RuntimeError:
                return None
    return x.shape[-1]


def check_side_prediction(predict: Callable[[int], int], model: nn.Module, name: str = "d_side",
                          sides: Sequence[int] = (64, 65, 71, 80, 96, 100, 127, 128, 200)) -> None:
    """``predict(n)``: the side of ``model``'s output map for an n x n input, worked out from the
    kernel, stride and padding of its convolutions (applied in the order they were registered),
    without running them. Compared with what 1-channel copies of those layers really output.
    """
    layers = [_twin(m) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no convolutions to predict")
    cases = [(n, true) for n in sides if (true := _sides_through(layers, n)) is not None]
    answers = [_call(predict, f"{name}({n})", n) for n, _ in cases]
    floats = [n * 1.0 for n, _ in cases]  # the same chain without rounding down
    for layer in layers:
        (k, _), (s, _), (p, _) = layer.kernel_size, layer.stride, layer.padding
        transposed = isinstance(layer, nn.ConvTranspose2d)
        floats = [s * (v - 1) + k - 2 * p if transposed else (v - k + 2 * p + s) / s for v in floats]
    but_last = [_sides_through(layers[:-1], n) for n, _ in cases]
    for (n, true), got in zip(cases, answers):
        if got == true:
            continue
        head = f"{name}({n}) = {got}, but {type(model).__name__}'s layers give {true}"
        if all(a == b for a, b in zip(answers, but_last)):
            raise CheckError(f"{head}: that is the side before the last layer; count it too")
        if all(abs(a - b) < 1e-9 for a, b in zip(answers, floats)):
            raise CheckError(f"{head}: a convolution's window either fits or it does not, so every "
                             f"layer rounds down (floor division //), not only the end")
        raise CheckError(f"{head}: follow the side layer by layer with each one's kernel, stride and padding")
    passed(f"{name} agrees with the layers on {len(cases)} input sides "
           f"({', '.join(f'{n} -> {t}' for n, t in cases[:4])}, ...).")


# ------------------------------------------------------------------ cost (lesson 05)
_MACS_CASES = [(3, 64, 4, 32, 2), (64, 128, 4, 16, 2), (512, 1, 4, 1, 1), (1, 1, 3, 5, 1), (7, 5, 2, 9, 1),
               (16, 3, 5, 6, 2)]
"""(c_in, c_out, k, n_out, stride): DCGAN-like layers first, then settings no page shows."""

_MACS_MISTAKES = [
    (lambda ci, co, k, n: 2 * ci * co * k * k * n * n, "that counts FLOPs: one multiply-add is two "
                                                       "FLOPs, count each multiply-add once"),
    (lambda ci, co, k, n: co * k * k * n * n, "each output value sums over all c_in input channels too"),
    (lambda ci, co, k, n: ci * k * k * n * n, "there are c_out output maps, each computed separately"),
    (lambda ci, co, k, n: ci * co * n * n, "each output value sums over a k x k window: k² products per channel"),
    (lambda ci, co, k, n: ci * co * k * n * n, "the window is k x k: k², not k, products per channel"),
    (lambda ci, co, k, n: ci * co * k * k * n, "the output map is n_out x n_out: n_out² values"),
    (lambda ci, co, k, n: ci * co * k * k, "that is one output pixel's cost; there are n_out² of them"),
]


def check_conv_macs(conv_macs: Callable[[int, int, int, int], int]) -> None:
    """``conv_macs(c_in, c_out, k, n_out)``: the multiply-adds of one image through a bias-free
    ``nn.Conv2d(c_in, c_out, k)`` whose output maps are n_out x n_out, against PyTorch's FLOP
    counter on real layers (2 FLOPs per multiply-add; stride and padding only set n_out).
    """
    answers = [_call(conv_macs, f"conv_macs(c_in={ci}, c_out={co}, k={k}, n_out={n})", ci, co, k, n)
               for ci, co, k, n, _ in _MACS_CASES]
    for (ci, co, k, n, s), got in zip(_MACS_CASES, answers):
        layer = nn.Conv2d(ci, co, k, stride=s, bias=False)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            out = layer(torch.zeros(1, ci, s * (n - 1) + k, s * (n - 1) + k))
        assert out.shape[-1] == n
        true = counter.get_total_flops() // 2
        if got == true:
            continue
        head = (f"conv_macs(c_in={ci}, c_out={co}, k={k}, n_out={n}) = {got}, but PyTorch counts "
                f"{true} multiply-adds for that Conv2d")
        for mistake, why in _MACS_MISTAKES:
            if all(a == mistake(*c[:4]) for c, a in zip(_MACS_CASES, answers)):
                raise CheckError(f"{head}: {why}")
        raise CheckError(f"{head}: count the output values, then the products behind each one")
    passed(f"conv_macs agrees with PyTorch's FLOP counter on {len(_MACS_CASES)} Conv2d layers.")
