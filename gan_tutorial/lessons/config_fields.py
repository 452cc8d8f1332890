"""Field-by-field checks of a run configuration (a preset changed by a config file or flags).

Unchecked, a value of the wrong kind travels into torch, numpy or PIL and comes back as a
traceback that names neither the file nor the field (``lr: "fast"``), or trains for an
epoch and then fails (``batch_size: 0``), or trains and diverges (``lr: NaN``). Each check
here returns one sentence per problem: which field, what it must be, what it is;
``RunConfig.problems`` (:mod:`gan_tutorial.lessons`) runs them, imported there as ``fields``.
"""
from __future__ import annotations

import inspect
import math
from typing import Any

SEED_RANGE = (0, 2**32 - 1)  # what numpy's seed accepts (torch accepts more)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive_int(name: str, value: Any, allow_none: bool = False, minimum: int = 1) -> list[str]:
    if value is None and allow_none:
        return []
    if not _is_int(value) or value < minimum:
        what = "a whole number" + (f" >= {minimum}" if minimum != 1 else " >= 1")
        return [f"{name} must be {what}{' or null' if allow_none else ''}, got {value!r}"]
    return []


def positive_number(name: str, value: Any) -> list[str]:
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        return [f"{name} must be a positive finite number, got {value!r}"]
    return []


def open_fraction(name: str, value: Any, allow_none: bool = False) -> list[str]:
    """A number strictly between 0 and 1 (a decay, a probability)."""
    if value is None and allow_none:
        return []
    if not _is_number(value) or not 0 < value < 1:
        return [f"{name} must be a number in (0, 1){' or null' if allow_none else ''}, got {value!r}"]
    return []


def seed(name: str, value: Any) -> list[str]:
    if not _is_int(value) or not SEED_RANGE[0] <= value <= SEED_RANGE[1]:
        return [f"{name} must be a whole number from {SEED_RANGE[0]} to {SEED_RANGE[1]:,}, got {value!r}"]
    return []


def choice(name: str, value: Any, choices) -> list[str]:
    if value not in choices:
        return [f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}"]
    return []


def keyword_arguments(name: str, value: Any, target, exclude: tuple[str, ...] = ()) -> list[str]:
    """``value`` must be a dict whose keys ``target`` (a class or function) accepts."""
    if not isinstance(value, dict):
        return [f"{name} must be a table/object of arguments, got {value!r}"]
    accepted = [p for p in inspect.signature(target).parameters if p not in ("self", *exclude)]
    unknown = sorted(set(value) - set(accepted))
    if unknown:
        return [f"{name} has unknown key(s) {', '.join(map(repr, unknown))} for "
                f"{getattr(target, '__name__', target)}; accepted: {', '.join(accepted)}"]
    return []


def betas(name: str, value: Any) -> list[str]:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(_is_number(b) and 0 <= b < 1 for b in value)):
        return [f"{name} must be two numbers in [0, 1), e.g. [0.5, 0.999], got {value!r}"]
    return []


def true_or_false(name: str, value: Any, allow_none: bool = False) -> list[str]:
    if value is None and allow_none:
        return []
    if not isinstance(value, bool):
        return [f"{name} must be true or false{' or null' if allow_none else ''}, got {value!r}"]
    return []
