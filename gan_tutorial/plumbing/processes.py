"""Other processes: is one still alive, and make worker processes die with their parent."""
from __future__ import annotations

import ctypes
import os
import re
import signal
import sys
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (another user's process counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def left_by_dead_process(path: Path, prefix: str) -> bool:
    """Whether ``path``, named ``<prefix>.<pid>-...`` or ``<prefix>.<pid>....``, was written by a
    process that is gone: the temporary files of saves and cache builds carry their writer's PID."""
    owner = re.match(r"(\d+)[-.]", path.name[len(prefix) + 1:])
    return owner is not None and not process_alive(int(owner.group(1)))


def signal_on_parent_death(sig: int) -> None:
    """On Linux, have this process receive ``sig`` when its parent dies, however it dies
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        pass


def die_with_parent(worker_id: int = 0) -> None:
    """A DataLoader ``worker_init_fn``: on Linux the worker is killed when its parent dies.

    PyTorch's workers notice a dead parent only every few seconds and may first finish their
    batch; a build killed with kill -9 left decoding workers running for minutes.
    """
    signal_on_parent_death(signal.SIGKILL)
