"""A ``GANTrainer``'s checkpoint: what it holds, written atomically, checked before it is loaded.

``GANTrainer.save`` and ``GANTrainer.load`` call these; the file format itself (atomic
writes, safe loads, errors naming the file) is :mod:`gan_tutorial.plumbing.checkpoint`.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ..history import History
from .checkpoint import (NonFiniteStateError, first_non_finite, load_checkpoint, optimizer_mismatches,
                         raise_if_incompatible, save_checkpoint, state_dict_mismatches)
from .distributed import unwrap

if TYPE_CHECKING:
    from ..train import GANTrainer


def save_trainer(trainer: GANTrainer, path: str | os.PathLike) -> Path:
    """Write models, optimisers, fixed noise and history to ``path`` (atomically).

    Raises :class:`~gan_tutorial.plumbing.checkpoint.NonFiniteStateError` (and writes nothing)
    when a network's weights hold NaN or inf, so a diverged run never replaces a good
    checkpoint.
    """
    path = Path(path)
    G, D = unwrap(trainer.G), unwrap(trainer.D)
    for name, net in (("generator", G), ("discriminator", D)):
        bad = first_non_finite(net.state_dict())
        if bad is not None:
            raise NonFiniteStateError(
                path, f"refusing to write it: the {name}'s weights hold NaN or inf ({bad}), "
                      f"so training has diverged after {trainer.history.iterations} iterations. "
                      f"The file already there (if any) is kept. Lower the learning rate or "
                      f"check the data for NaN/inf, then resume from the last good checkpoint.")
    state = {
        "generator": G.state_dict(),
        "discriminator": D.state_dict(),
        "opt_g": trainer.opt_g.state_dict(),
        "opt_d": trainer.opt_d.state_dict(),
        "fixed_noise": trainer.fixed_noise.cpu(),
        "history": trainer.history.state_dict(),
        "options": trainer.options(),  # how it was trained: a resume says what differs
    }
    if trainer.G_ema is not None:
        state["generator_ema"] = trainer.G_ema.state_dict()
    return save_checkpoint(path, state)  # tmp file + os.replace: a crash keeps the old one


def load_trainer(trainer: GANTrainer, path: str | os.PathLike) -> History:
    """Restore everything :func:`save_trainer` wrote; the next ``fit`` continues from there.

    Everything is checked before anything is assigned: a file that is damaged, not a
    checkpoint, or saved by another architecture raises
    :class:`~gan_tutorial.plumbing.checkpoint.CheckpointError` and leaves the trainer unchanged.
    """
    from ..train import moving_average

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}. Train with fit(..., checkpoint="
                                f"{str(path)!r}) first to create one.")
    state = load_checkpoint(path, map_location=trainer.device)
    G, D = unwrap(trainer.G), unwrap(trainer.D)
    problems = (state_dict_mismatches("generator", G, state["generator"])
                + state_dict_mismatches("discriminator", D, state["discriminator"]))
    if not problems:  # optimiser shapes follow the networks': check them only when those fit
        problems = (optimizer_mismatches("generator optimizer (opt_g)", trainer.opt_g, state["opt_g"])
                    + optimizer_mismatches("discriminator optimizer (opt_d)", trainer.opt_d,
                                           state["opt_d"]))
    noise = state["fixed_noise"]
    latent = tuple(G.latent_shape)
    if not isinstance(noise, torch.Tensor) or tuple(noise.shape[1:]) != latent:
        found = tuple(noise.shape) if isinstance(noise, torch.Tensor) else type(noise).__name__
        problems.append(f"fixed_noise: expected shape (n, {', '.join(map(str, latent))}), "
                        f"found {found}")
    ema_state = state.get("generator_ema") if trainer.G_ema is not None else None
    if ema_state is not None:
        problems += state_dict_mismatches("generator_ema", trainer.G_ema, ema_state)
    try:
        history = History.from_state_dict(state["history"])
    except (TypeError, ValueError) as err:
        problems.append(f"history: cannot be restored ({err})")
    raise_if_incompatible(path, problems)

    # All checked: assign. Keep this trainer's learning rates and betas (a changed one is
    # named below) and this machine's optimiser implementation (foreach, fused,
    # capturable), which describes how to step here, not what was learned.
    G.load_state_dict(state["generator"])
    D.load_state_dict(state["discriminator"])
    for opt, key in ((trainer.opt_g, "opt_g"), (trainer.opt_d, "opt_d")):
        saved = dict(state[key])
        saved["param_groups"] = [
            {**group, **{k: mine[k] for k in ("lr", "betas", "foreach", "fused", "capturable",
                                              "differentiable") if k in mine}}
            for group, mine in zip(saved["param_groups"], opt.param_groups)]
        opt.load_state_dict(saved)
    if trainer.G_ema is not None:  # a run saved without an average starts one from its G
        if ema_state is not None:
            trainer.G_ema.load_state_dict(ema_state)
        else:
            trainer.G_ema = moving_average(G, trainer.G_ema.ema_decay)
    trainer.fixed_noise = noise.to(trainer.device)
    trainer.history = history
    _warn_about_changed_options(trainer, path, state.get("options") or {})
    return trainer.history


def _warn_about_changed_options(trainer: GANTrainer, path: Path, saved: dict) -> None:
    """Say which options of the checkpoint's run this trainer changes (they are used)."""
    mine = trainer.options()
    changed = [f"{key} {saved[key]!r} -> {mine[key]!r}" for key in mine
               if key in saved and saved[key] != mine[key]]
    if changed:
        warnings.warn(f"{path} was trained with other options; continuing with this trainer's: "
                      f"{'; '.join(changed)}. Build the trainer with the checkpoint's values to "
                      f"continue the run exactly as it was.", stacklevel=4)
