"""Stopping cleanly: Ctrl-C and SIGTERM stop training the same way, and neither may cut a save.

``kill``, a batch scheduler's time limit and a closing terminal send SIGTERM; Python's
default would end the process at once and lose the epoch's updates. Inside
:func:`terminate_as_interrupt` SIGTERM raises :class:`Terminated`, a ``KeyboardInterrupt``,
so the code that saves on Ctrl-C saves on SIGTERM too.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled like Ctrl-C (save, then stop)."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (outside the main thread: no change)."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def deferred_interrupt() -> Iterator[list[int]]:
    """Run the block with Ctrl-C and SIGTERM held back; the yielded list holds those that came.

    Outside the main thread signals cannot be caught, and the block runs as it is.
    """
    received: list[int] = []
    if not _main_thread():
        yield received
        return
    previous = {sig: signal.signal(sig, lambda signum, frame: received.append(signum))
                for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
