"""A training run's folder (``train --out``): what a run writes there, and the checks first.

A run writes only inside its folder and never through a link placed there (a folder copied
from someone else may hold one); it does not mix its pictures and time with those of an
earlier run it cannot continue; and it continues a checkpoint only with the recipe that
trained it. Each check returns what is wrong, for the command line to say in one line.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .run_lock import LOCK_NAME

CHECKPOINT_NAME = "checkpoint.pt"
CONFIG_NAME = "config.json"
SUMMARY_NAME = "summary.json"
SAMPLES_DIR = "samples"  # one grid per epoch: samples/epoch_NNN.png
PICTURES = ("samples.png", "real_vs_fake.png", "curves.png", "metrics.png", "progress.gif")
WRITTEN = (LOCK_NAME, CHECKPOINT_NAME, CONFIG_NAME, SUMMARY_NAME, SAMPLES_DIR, *PICTURES)

# RunConfig fields a resumed run may change: how long, how often it looks, how fast it
# computes. Every other field is the recipe the checkpoint was trained with.
RESUMABLE = ("setting", "epochs", "snapshot_every", "eval_every", "n_eval", "precision",
             "channels_last")


def links_in(folder: Path) -> list[str]:
    """``name -> target`` for each name a run writes in ``folder`` that is a symbolic link."""
    candidates = [folder / name for name in WRITTEN]
    samples = folder / SAMPLES_DIR
    if samples.is_dir() and not samples.is_symlink():
        candidates += sorted(samples.glob("epoch_*.png"))
    return [f"{path.relative_to(folder)} -> {os.readlink(path)}" for path in candidates
            if path.is_symlink()]


def earlier_outputs(folder: Path) -> list[str]:
    """Pictures and the summary of an earlier run in ``folder`` (what a fresh run would mix in)."""
    found = [name for name in (SUMMARY_NAME, *PICTURES) if (folder / name).exists()]
    grids = sorted((folder / SAMPLES_DIR).glob("epoch_*.png"))
    if grids:
        found.append(f"{SAMPLES_DIR}/ ({len(grids)} epoch grids)")
    return found


def recipe_changes(saved: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``field old -> new`` for every field of the recipe that ``new`` changes (two to_dict()s)."""
    return [f"{key} {saved.get(key)!r} -> {value!r}" for key, value in new.items()
            if key not in RESUMABLE and _normal(saved.get(key)) != _normal(value)]


def _normal(value: Any) -> Any:
    """JSON's view of a value: tuples are lists (config.json stores betas as a list)."""
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies below it (links resolved)."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))
