"""Checkpoint files: atomic writes, safe loads, and errors that say what is wrong.

``GANTrainer.save`` / ``load`` build on these; they are usable on their own too::

    save_checkpoint("runs/x.pt", {"generator": G.state_dict(), ...})
    state = load_checkpoint("runs/x.pt", map_location="cpu")

Every problem with a file's *content* (empty, truncated, not a checkpoint, keys missing,
written by a newer version) raises one :class:`CheckpointError` naming the file.
Problems with the *location* (a path inside a file, a read-only folder) raise the matching
``OSError`` subclass with a message naming the path; :func:`check_writable` finds them
before training starts instead of after the first epoch.
"""
from __future__ import annotations

import errno
import glob
import os
import pickle
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from .processes import left_by_dead_process

FORMAT_VERSION = 1
"""Version of the checkpoint layout written by :func:`save_checkpoint`.

Files without a ``format_version`` key (written before it existed) count as version 0
and load the same way. Raise it when the layout changes incompatibly.
"""

REQUIRED_KEYS = ("generator", "discriminator", "opt_g", "opt_d", "fixed_noise", "history")
"""Keys every ``GANTrainer`` checkpoint holds."""

_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default (zip) format starts with this
_START_AFRESH = "Delete it (or choose another checkpoint path) to start afresh."


class CheckpointError(ValueError):
    """A checkpoint file cannot be used: it is damaged, not a checkpoint, or incompatible.

    ``path`` is the file, ``problem`` what is wrong with it.
    """

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"Checkpoint {self.path}: {problem}")


class NonFiniteStateError(CheckpointError):
    """Refused to write weights holding NaN or inf (training diverged)."""


def tmp_path_for(path: str | os.PathLike) -> Path:
    """A temporary file for one save, unique to this process and call: ``<name>.<pid>-<random>.tmp``.

    Unique, so two writers (or a second run starting up) never write into, or delete, the
    temporary file of another save.
    """
    path = Path(path)
    return path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def stale_tmp_files(path: str | os.PathLike) -> list[Path]:
    """Temporary files of saves to ``path`` whose process is gone (a kill -9 mid-save)."""
    path = Path(path)
    return [tmp for tmp in path.parent.glob(f"{glob.escape(path.name)}.*tmp")
            if tmp.name == f"{path.name}.tmp" or left_by_dead_process(tmp, path.name)]


def _remove(tmp: Path) -> None:
    """Delete a temporary file if it is there; never mask the error being handled."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


def _prepare_folder(path: Path) -> None:
    """Create ``path``'s folder, or raise an ``OSError`` that names the culprit and the fix."""
    if path.is_dir():
        raise IsADirectoryError(
            f"Checkpoint path {path} is a folder. Give a file name inside it, "
            f"e.g. {path / 'checkpoint.pt'}.")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(
                    f"Cannot write checkpoint {path}: {parent} is a file, not a folder. "
                    f"Choose a checkpoint path inside a folder.")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except PermissionError as err:
        raise PermissionError(
            f"Cannot write checkpoint {path}: no permission to create its folder "
            f"{path.parent} ({err.strerror}). Choose a checkpoint path in a folder you can "
            f"write to.") from err
    except OSError as err:  # e.g. a read-only file system
        raise type(err)(err.errno, f"Cannot write checkpoint {path}: creating its folder "
                                   f"{path.parent} failed ({err.strerror}). Choose another "
                                   f"checkpoint path.") from err


def check_writable(path: str | os.PathLike) -> Path:
    """Fail now, with a clear message, if a checkpoint cannot be written to ``path``.

    Creates the folder if needed and writes (then removes) a temporary file, exactly as a
    save will; this also clears stale temporary files left by saves whose process died.
    Call it before training so a bad path is found in a second, not after the first epoch.
    """
    path = Path(path)
    _prepare_folder(path)
    for stale in stale_tmp_files(path):
        _remove(stale)
    tmp = tmp_path_for(path)
    try:
        with open(tmp, "wb") as probe:
            probe.write(b"")
    except PermissionError as err:
        raise PermissionError(
            f"Cannot write checkpoint {path}: the folder {path.parent} is not writable "
            f"({err.strerror}). Choose a checkpoint path in a folder you can write to.") from err
    except OSError as err:
        raise type(err)(
            err.errno, f"Cannot write checkpoint {path}: creating {tmp.name} next to it failed "
            f"({err.strerror}). Choose another checkpoint path.") from err
    finally:
        _remove(tmp)
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(f"Cannot write checkpoint {path}: the file is read-only. "
                              f"Make it writable or choose another checkpoint path.")
    return path


def save_checkpoint(path: str | os.PathLike, state: Mapping[str, Any]) -> Path:
    """Write ``state`` (plus ``format_version``) to ``path`` atomically.

    The data goes to a temporary file of its own (:func:`tmp_path_for`), is flushed to disk, then replaces ``path`` in one
    step, so a crash or Ctrl-C mid-save leaves the previous checkpoint intact; the
    temporary file is removed when the save is interrupted.
    """
    path = Path(path)
    _prepare_folder(path)
    tmp = tmp_path_for(path)
    try:
        with open(tmp, "wb") as f:
            torch.save({**state, "format_version": FORMAT_VERSION}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:  # KeyboardInterrupt included: never leave a stale .tmp behind
        _remove(tmp)
        if disk_full(err):
            raise DiskFullError(path, _state_bytes(state)) from None
        raise
    return path


def write_file(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Write a file whole or not at all, and never through a link placed at ``path``.

    ``write(tmp)`` writes the content to a temporary file of its own next to ``path``
    (:func:`tmp_path_for` plus ``path``'s suffix), which then replaces ``path`` in one step: a crash, Ctrl-C or
    full disk leaves the old file as it was, and a symbolic link at ``path`` is replaced
    by the file rather than followed. A full disk raises :class:`DiskFullError` naming
    ``path``.
    """
    path = Path(path)
    tmp = tmp_path_for(path)
    tmp = tmp.with_name(tmp.name + path.suffix)  # keeps the suffix that picks an image format
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as err:  # KeyboardInterrupt included: never leave a stale .tmp behind
        _remove(tmp)
        if disk_full(err):
            raise DiskFullError(path, None) from None
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`write_file` for UTF-8 text (a JSON record, a Markdown table)."""
    return write_file(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


class DiskFullError(OSError):
    """No space left to write a file: one sentence naming it and the space it needs."""

    def __init__(self, path: str | os.PathLike, needed: int | None) -> None:
        folder = Path(path).parent
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            free = 0
        need = f"about {needed / 1e6:,.0f} MB needed, " if needed is not None else ""
        super().__init__(errno.ENOSPC, f"No space left to write {path}: {need}{free / 1e6:,.0f} MB "
                                       f"free on the disk of {folder}. Free some space there, or "
                                       f"choose another folder; nothing that was there before was "
                                       f"changed")


def disk_full(err: BaseException) -> bool:
    """Whether ``err`` (or what caused it) says the disk is full; torch.save hides ENOSPC
    inside 'RuntimeError: [enforce fail at inline_container.cc] ... unexpected pos'."""
    while err is not None:
        if getattr(err, "errno", None) == errno.ENOSPC or "No space left" in str(err):
            return True
        err = err.__cause__ or err.__context__
    return False


def _state_bytes(state: Any) -> int:
    """Bytes of the tensors in a (nested) checkpoint state: about its size on disk."""
    if isinstance(state, torch.Tensor):
        return state.numel() * state.element_size()
    if isinstance(state, Mapping):
        return sum(_state_bytes(v) for v in state.values())
    if isinstance(state, (list, tuple)):
        return sum(_state_bytes(v) for v in state)
    return 0


def _describe(obj: Any) -> str:
    if isinstance(obj, torch.Tensor):
        return f"a single tensor of shape {tuple(obj.shape)}"
    return f"a {type(obj).__name__}"


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device | None = None,
                    required_keys: Iterable[str] = REQUIRED_KEYS) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    Raises ``FileNotFoundError`` when there is no file, and :class:`CheckpointError` naming
    the file and the problem when it is empty, truncated, not a checkpoint, lacks one of
    ``required_keys``, or was written by a newer format version.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}.")
    if path.is_dir():
        raise CheckpointError(path, "is a folder, not a checkpoint file.")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(path, "is empty (0 bytes): the save that wrote it was interrupted "
                                    f"or the disk was full. {_START_AFRESH}")
    with open(path, "rb") as f:
        head = f.read(len(_ZIP_MAGIC))
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        pickled = head == _ZIP_MAGIC or head.startswith(b"\x80")  # zip, or a pickle protocol 2+
        if pickled and "weights only" in str(err).lower():
            raise CheckpointError(
                path, "holds Python objects other than tensors and plain containers, so it was "
                      "not written by gan_tutorial; it is not loaded because unpickling such a "
                      "file can run arbitrary code.") from err
        raise CheckpointError(path, f"is not a PyTorch checkpoint (it starts with {head!r}). "
                                    f"{_START_AFRESH}") from err
    except Exception as err:  # torch reports damage as RuntimeError, EOFError, OSError, ...
        if head == _ZIP_MAGIC:
            raise CheckpointError(
                path, f"is damaged or truncated ({size:,} bytes): the save that wrote it did not "
                      f"finish, or the file was changed or copied incompletely. "
                      f"{_START_AFRESH}") from err
        raise CheckpointError(path, f"is not a PyTorch checkpoint (it starts with {head!r}). "
                                    f"{_START_AFRESH}") from err
    if not isinstance(state, dict):
        raise CheckpointError(path, f"holds {_describe(state)}, not a gan_tutorial checkpoint "
                                    f"(a dict with keys {', '.join(REQUIRED_KEYS)}).")
    version = state.get("format_version", 0)
    if type(version) is not int or version < 0:
        raise CheckpointError(path, f"has an invalid format_version {version!r}.")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            path, f"was written by a newer gan_tutorial (checkpoint format {version}; this "
                  f"version reads formats up to {FORMAT_VERSION}). Upgrade gan_tutorial to "
                  f"load it.")
    missing = [key for key in required_keys if key not in state]
    if missing:
        hint = ""
        if state and all(isinstance(v, torch.Tensor) for v in state.values()):
            hint = (" It looks like a single model's state_dict: load that with "
                    "model.load_state_dict(torch.load(path, weights_only=True)).")
        raise CheckpointError(path, f"lacks the keys {missing}, so it was not written by "
                                    f"GANTrainer.save.{hint}")
    return state


def first_non_finite(state_dict: Mapping[str, Any]) -> str | None:
    """Name of the first floating-point tensor holding NaN or inf, or None if all are finite."""
    tensors = {k: v for k, v in state_dict.items()
               if isinstance(v, torch.Tensor) and (v.is_floating_point() or v.is_complex())}
    if not tensors:
        return None
    device = next(iter(tensors.values())).device
    flags = torch.stack([torch.isfinite(t).all().to(device) for t in tensors.values()]).cpu()
    if bool(flags.all()):  # one host sync for the whole model
        return None
    return next(k for k, ok in zip(tensors, flags.tolist()) if not ok)


def state_is_finite(state_dict: Mapping[str, Any]) -> bool:
    """True when every floating-point tensor of ``state_dict`` is free of NaN and inf."""
    return first_non_finite(state_dict) is None


# ---------------------------------------------------------------- compatibility checks
_ARCHITECTURE_HINT = ("The architecture must match the one that saved the checkpoint "
                      "(same classes and arguments, e.g. latent_dim, ngf/ndf, nc, image_size, hidden).")
_SHOWN = 5  # problems listed per network before "... and N more"


def _shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def _listed(problems: list[str]) -> list[str]:
    if len(problems) <= _SHOWN:
        return problems
    return problems[:_SHOWN] + [f"... and {len(problems) - _SHOWN} more"]


def state_dict_mismatches(name: str, model: torch.nn.Module, saved: Any) -> list[str]:
    """Why ``saved`` cannot be loaded into ``model`` (empty when it can), each line naming ``name``.

    Compares keys and shapes against ``model.state_dict()`` without changing the model.
    """
    if not isinstance(saved, Mapping):
        return [f"{name}: expected a state_dict, found {_describe(saved)}"]
    current = model.state_dict()
    problems = []
    missing = [k for k in current if k not in saved]
    unexpected = [k for k in saved if k not in current]
    if missing:
        problems.append(f"{name}: {len(missing)} entries of this model are missing from the "
                        f"checkpoint (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{name}: the checkpoint has {len(unexpected)} entries this model lacks "
                        f"(e.g. {', '.join(unexpected[:3])})")
    for key, mine in current.items():
        theirs = saved.get(key)
        if key not in saved:
            continue
        if not isinstance(theirs, torch.Tensor):
            problems.append(f"{name}: {key} is {_describe(theirs)} in the checkpoint, not a tensor")
        elif theirs.shape != mine.shape:
            problems.append(f"{name}: {key} has shape {_shape(theirs)} in the checkpoint but "
                            f"{_shape(mine)} in this model")
    return _listed(problems)


def optimizer_mismatches(name: str, optimizer: torch.optim.Optimizer, saved: Any) -> list[str]:
    """Why ``saved`` cannot be loaded into ``optimizer`` (empty when it can).

    Checks the parameter groups and that every per-parameter state tensor (e.g. Adam's
    moments) has its parameter's shape; torch itself checks only the group sizes, and only
    while already loading.
    """
    if not isinstance(saved, Mapping) or not isinstance(saved.get("param_groups"), list) \
            or not isinstance(saved.get("state"), Mapping):
        return [f"{name}: expected an optimizer state_dict (state, param_groups), "
                f"found {_describe(saved)}"]
    groups, saved_groups = optimizer.param_groups, saved["param_groups"]
    if len(groups) != len(saved_groups):
        return [f"{name}: the checkpoint has {len(saved_groups)} parameter groups, "
                f"this optimizer {len(groups)}"]
    problems = []
    for i, (group, saved_group) in enumerate(zip(groups, saved_groups)):
        ids = saved_group.get("params") if isinstance(saved_group, Mapping) else None
        if not isinstance(ids, list) or len(ids) != len(group["params"]):
            n_saved = len(ids) if isinstance(ids, list) else "no"
            problems.append(f"{name}: parameter group {i} has {n_saved} parameters in the "
                            f"checkpoint but {len(group['params'])} in this optimizer")
            continue
        for param_id, param in zip(ids, group["params"]):
            entry = saved["state"].get(param_id, {})
            if not isinstance(entry, Mapping):
                problems.append(f"{name}: the state of parameter {param_id} is {_describe(entry)}")
                continue
            for key, value in entry.items():
                if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != param.shape:
                    problems.append(f"{name}: {key} of parameter {param_id} has shape "
                                    f"{_shape(value)} in the checkpoint but the parameter has "
                                    f"{_shape(param)}")
    return _listed(problems)


def raise_if_incompatible(path: str | os.PathLike, problems: list[str]) -> None:
    """Raise one :class:`CheckpointError` listing ``problems`` (with the architecture hint)."""
    if problems:
        hint = _ARCHITECTURE_HINT if any("shape" in p or "entries" in p or "parameter" in p
                                         for p in problems) else ""
        raise CheckpointError(path, "does not fit this trainer; nothing was loaded.\n  "
                              + "\n  ".join(problems) + (f"\n{hint}" if hint else ""))
