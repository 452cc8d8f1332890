"""Holding Ctrl-C back while something must not be cut in half (a final snapshot and save)."""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def deferred_interrupt() -> Iterator[list[int]]:
    """Run the block with Ctrl-C (SIGINT) held back; the yielded list says whether one came.

    Outside the main thread signals cannot be caught, and the block runs as it is.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)
