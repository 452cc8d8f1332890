"""Argument checks the scripts share: a bad argument is refused before any work, in one line
naming it and the fix (exit code 2, no traceback), and a full disk is one line too (exit code 1).

    from script_args import Parser, seeds, existing_folder
    parser = Parser(description=...)
    parser.add_argument("--seeds", type=seeds, default="0-4")
"""
from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Iterable
from pathlib import Path

# the command line's one-line parser and whole-number type serve the scripts too
from gan_tutorial.lessons.cli import OneLineParser as Parser, positive_int  # noqa: F401
from gan_tutorial.lessons.config_fields import SEED_RANGE

SEED_MAX = SEED_RANGE[1]  # the largest seed `gan_tutorial train --seed` takes


def seeds(text: str) -> list[int]:
    """An argparse type: "0-4" -> [0, 1, 2, 3, 4]; "0,3,7" -> [0, 3, 7]; each seed once."""
    found: list[int] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected seeds like 0-4 or 0,3,7 (whole numbers from 0), got {text!r}") from None
        if high < low:
            raise argparse.ArgumentTypeError(f"{part.strip()!r} is an empty range: write the smaller "
                                             f"seed first, e.g. {high}-{low}")
        if high > SEED_MAX:
            raise argparse.ArgumentTypeError(f"seed {high} is above {SEED_MAX:,}, the largest seed")
        for seed in range(low, high + 1):
            if seed in found:
                raise argparse.ArgumentTypeError(f"seed {seed} is listed twice in {text!r}")
            found.append(seed)
    return found


def lesson(text: str) -> str:
    """An argparse type: a lesson's name, normalised ("1" -> "01")."""
    from gan_tutorial.lessons import lesson_name

    try:
        return lesson_name(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def existing_folder(text: str) -> Path:
    """An argparse type: a folder that is there."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} {_what(path)}: give an existing folder")
    return path


def existing_file(text: str) -> Path:
    """An argparse type: a file that is there."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} {_what(path)}: give an existing file")
    return path


def output_folder(text: str) -> Path:
    """An argparse type: a folder to write into, created if missing (no file in its way)."""
    path = Path(text)
    for above in (path, *path.parents):
        if above.exists():
            if not above.is_dir():
                raise argparse.ArgumentTypeError(f"{above} is a file, so {text} cannot be a folder to "
                                                 f"write into: give another folder")
            break
    return path


def output_file(text: str) -> Path:
    """An argparse type: a file to write, its folder created if missing (no file in its way)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: give a file name, e.g. {path / 'out.md'}")
    output_folder(str(path.parent))
    return path


def overwritten(outputs: Iterable[Path], inputs: Iterable[Path]) -> tuple[Path, Path] | None:
    """The first (output, input) pair that name the same file (links and .. resolved), else None."""
    resolved = {Path(p).resolve(): Path(p) for p in inputs}
    for out in outputs:
        if Path(out).resolve() in resolved:
            return Path(out), resolved[Path(out).resolve()]
    return None


def one_line_on_full_disk(main: Callable) -> Callable:
    """Decorate a script's main: a full disk (DiskFullError from gan_tutorial.plumbing.checkpoint's
    write_file / write_text) ends it with that one sentence (exit code 1), no traceback."""
    @functools.wraps(main)
    def wrapped(*args, **kwargs):
        from gan_tutorial.plumbing.checkpoint import DiskFullError

        try:
            return main(*args, **kwargs)
        except DiskFullError as err:
            raise SystemExit(f"error: {err.strerror}") from None
    return wrapped


def _what(path: Path) -> str:
    """What is at ``path``, for a message: "does not exist", "is a folder", ..."""
    if path.is_dir():
        return "is a folder"
    if path.is_file():
        return "is a file"
    return "is neither a file nor a folder" if path.exists() else "does not exist"
