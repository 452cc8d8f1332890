"""Which torch functions a piece of code calls: how exercise checks tell work from hand-in.

A check that must refuse "hand in torch's own loss" (``nn.BCELoss``, ``F.binary_cross_entropy``)
or "run the layers instead of predicting their output" cannot see that in a returned value. It
can see it in the calls: :func:`torch_calls` runs a function under a
:class:`torch.overrides.TorchFunctionMode` and records the name of every torch function the
function calls directly (``binary_cross_entropy``, ``conv2d``, ``log``, ...), however it reached
it: an ``nn.Module`` defined on the page, ``torch.nn.functional`` or ``torch._C``.
:func:`python_calls` does the same for given Python functions (the package's own
``diversity``, say), through the interpreter's profiling hook.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

BCE_FUNCTIONS = frozenset({"binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
                           "nll_loss"})
"""torch's own cross-entropy (``nn.BCELoss``, ``nn.BCEWithLogitsLoss``, the functionals, and
``F.cross_entropy``/``nn.CrossEntropyLoss``/``F.nll_loss``, which give BCE on two classes)."""

CONVOLUTIONS = frozenset({"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                          "conv_transpose3d", "convolution", "_convolution"})
"""Running a (transposed) convolution, whichever way it is called."""


class _Recorder(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.append(getattr(func, "__name__", repr(func)))
        return func(*args, **(kwargs or {}))


class _SeenDisable:
    """Stands in for ``torch._C.DisableTorchFunction`` while an answer runs: entering it is
    recorded and disables nothing, so the torch calls inside stay visible."""

    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    def __call__(self) -> "_SeenDisable":
        return self

    def __enter__(self) -> "_SeenDisable":
        self.recorder.names.append("DisableTorchFunction")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None


@contextlib.contextmanager
def _disable_seen(fn: Callable, recorder: _Recorder) -> Iterator[None]:
    """Replace DisableTorchFunction in ``torch._C`` and in ``fn``'s globals (a name imported from
    it) by :class:`_SeenDisable` while the block runs; put the real one back after."""
    real = torch._C.DisableTorchFunction
    stand_in = _SeenDisable(recorder)
    spaces = [torch._C.__dict__, *([fn.__globals__] if hasattr(fn, "__globals__") else [])]
    patched = [(space, name) for space in spaces for name, value in list(space.items()) if value is real]
    for space, name in patched:
        space[name] = stand_in
    try:
        yield
    finally:
        for space, name in patched:
            space[name] = real


def torch_calls(fn: Callable, *args: Any, **kwargs: Any) -> tuple[Any, set[str]]:
    """``fn(*args, **kwargs)`` and the names of the torch functions it called on the way.

    Only the outermost torch call of each chain is seen (``nn.BCELoss()(p, y)`` records
    ``binary_cross_entropy``, not what that calls inside), which is what a check needs.
    ``torch._C.DisableTorchFunction``, which would hide the calls, is recorded instead of obeyed.
    """
    with _Recorder() as recorder, _disable_seen(fn, recorder):
        result = fn(*args, **kwargs)
    return result, set(recorder.names)


def python_calls(fn: Callable, watched: Iterable[Callable], *args: Any) -> tuple[Any, set[str]]:
    """``fn(*args)`` and the names of the ``watched`` Python functions it called, at any depth."""
    codes = {f.__code__: f.__name__ for f in watched}
    seen: set[str] = set()

    def profile(frame, event, arg):  # noqa: ARG001 - the hook's signature
        if event == "call" and frame.f_code in codes:
            seen.add(codes[frame.f_code])

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = fn(*args)
    finally:
        sys.setprofile(previous)
    return result, seen
