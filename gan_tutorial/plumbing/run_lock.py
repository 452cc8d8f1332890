"""One run per output folder: ``python -m gan_tutorial train`` holds a lock on its ``--out``.

Two runs writing into one folder would overwrite each other's checkpoint without a word.
The lock is an advisory ``fcntl.flock`` on ``<out>/.lock``, which also holds the owner's PID
and start time for the message a second run shows. The operating system releases it when
the process ends in any way (kill -9 included), so a lock left by a dead run is simply
taken over. Where ``fcntl`` does not exist (Windows) runs are not locked.
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = ".lock"


class FolderInUseError(RuntimeError):
    """Another live process holds the lock of a run folder."""


@contextlib.contextmanager
def run_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold ``folder``'s lock while the block runs; FolderInUseError naming the owner if taken."""
    path = Path(folder) / LOCK_NAME
    if fcntl is None:
        yield path
        return
    try:  # never through a link placed there: it would truncate the file it points to
        handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644), "r+")
    except OSError as err:
        if not path.is_symlink():
            raise
        raise OSError(err.errno, f"{path} is a link to {os.readlink(path)}; a run writes only "
                                 f"inside its own folder: remove the link") from None
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "an unknown process"
            raise FolderInUseError(
                f"{folder} is in use by another training run ({owner}). Wait for it to finish, "
                f"stop it, or give this run another --out.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"PID {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        handle.flush()
        yield path
    finally:
        handle.close()  # releases the lock


def lock_holder(folder: str | os.PathLike) -> str | None:
    """Who holds ``folder``'s lock right now ("PID ..., started ..."), else None; the lock is
    tried for a moment only (a run starting in that instant is told the folder is in use)."""
    if fcntl is None:
        return None
    try:
        handle = open(Path(folder) / LOCK_NAME)
    except OSError:  # no lock file: nobody
        return None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)  # released on close
        except BlockingIOError:
            return handle.read().strip() or "an unknown process"
    return None
