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

import sys
from collections.abc import Callable, Iterable
from typing import Any

from torch.overrides import TorchFunctionMode

BCE_FUNCTIONS = frozenset({"binary_cross_entropy", "binary_cross_entropy_with_logits"})
"""torch's own binary cross-entropy (``nn.BCELoss``, ``nn.BCEWithLogitsLoss`` and the functionals)."""

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


def torch_calls(fn: Callable, *args: Any, **kwargs: Any) -> tuple[Any, set[str]]:
    """``fn(*args, **kwargs)`` and the names of the torch functions it called on the way.

    Only the outermost torch call of each chain is seen (``nn.BCELoss()(p, y)`` records
    ``binary_cross_entropy``, not what that calls inside), which is what a check needs.
    """
    with _Recorder() as recorder:
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
