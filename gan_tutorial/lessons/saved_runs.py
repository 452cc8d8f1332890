"""Small records of real training runs that ship with the lessons: curves, a few images, numbers.

A checkpoint holds a run's weights (tens of MB). A saved run keeps only what a learner reads
to diagnose training, in a folder of a few dozen KB:

* ``run.json``: the run's exact settings (the ``config.json`` it trained with), seed,
  precision, threads, training time, the quality numbers measured while it trained, what it
  is and where it came from;
* ``history.npz``: Loss_D, Loss_G, D(x) and D(G(z)) before/after D's step for every
  iteration, or, for long runs, their means over blocks of ``history_block`` iterations;
* ``snapshot_<iteration>.png``: fixed-noise fakes at a few iterations, at full resolution,
  tiled without padding so they can be cut back into images.

    run = load_run("l02_sigmoid_stall")
    plot_training(run.history)                  # the package's plots read run.history
    show_images(run.snapshot(), nrow=6)         # the last saved snapshot
    print(run.describe())                       # settings, seed, precision, minutes

:func:`save_run` writes such a folder from a training run's output folder (the command
line's ``checkpoint.pt``, ``config.json`` and ``summary.json``).
"""
from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .config_fields import positive_int
from ..history import STAT_KEYS, History

SAVED_RUNS = Path(__file__).resolve().parents[2] / "notebooks" / "saved_runs"
"""Where the lessons' saved runs live in a checkout of the project."""

MAX_POINTS = 1_000
"""At most this many stored points per curve: longer runs are stored as block means."""


@dataclass
class SavedRun:
    """One saved run: its history (for the package's plots), snapshots and recorded facts.

    ``history`` has one entry per iteration, as a trainer's does. When the run was stored as
    means over blocks of ``block`` iterations, each mean is repeated ``block`` times so the
    iteration axis of every plot stays right; such a curve is already averaged over ``block``
    iterations.
    """

    name: str
    info: dict[str, Any]
    history: History
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)  # iteration -> uint8 N x C x H x W
    folder: Path | None = None  # where it was read from (for :meth:`images`)

    @property
    def config(self) -> dict[str, Any]:
        """The settings the run trained with (its ``config.json``)."""
        return self.info["config"]

    @property
    def block(self) -> int:
        """Iterations averaged into one stored point of the curves (1: every iteration kept)."""
        return int(self.info.get("history_block", 1))

    @property
    def iterations(self) -> int:
        return self.history.iterations

    @property
    def training_images(self) -> int:
        """How many images the run trained on (its dataset, or the slice of it it used)."""
        images = self.info.get("training_images", self.config.get("limit"))
        if not isinstance(images, int):
            raise SavedRunError(f"saved run {self.name!r} does not record how many images it trained on")
        return images

    @property
    def unlabelled(self) -> bool:
        """Whether the run keeps only what a user of a run sees (a mystery run of lesson 06)."""
        return "lesson" not in self.config

    @property
    def metrics(self) -> dict[str, float]:
        """The quality numbers of the last evaluation (Fréchet distance, digits, diversity...)."""
        return {key: values[-1] for key, values in self.history.metrics.items() if values}

    def snapshot(self, iteration: int | None = None) -> torch.Tensor:
        """The fixed-noise fakes saved at ``iteration`` (default: the last saved), uint8 N x C x H x W."""
        if not self.snapshots:
            raise KeyError(f"saved run {self.name!r} holds no snapshots")
        if iteration is None:
            iteration = max(self.snapshots)
        if iteration not in self.snapshots:
            raise KeyError(f"saved run {self.name!r} has no snapshot at iteration {iteration}; "
                           f"saved: {sorted(self.snapshots)}")
        return self.snapshots[iteration]

    def until(self, iteration: int) -> "SavedRun":
        """The same run as it stood after ``iteration`` updates: curves, evaluations and snapshots
        up to there. Two runs cut at the same iteration compare on the same budget."""
        if not 0 < iteration <= self.iterations:
            raise ValueError(f"iteration must be in 1..{self.iterations} for {self.name!r}, got {iteration}")
        if iteration % self.block:
            raise ValueError(f"{self.name!r} is stored in blocks of {self.block} iterations: "
                             f"cut it at a multiple of {self.block}")
        h = self.history
        cut = History(**{key: list(getattr(h, key)[:iteration]) for key in STAT_KEYS},
                      epoch=list(h.epoch[:iteration]))
        kept = [i for i, it in enumerate(h.metric_iterations) if it <= iteration]
        cut.metric_iterations = [h.metric_iterations[i] for i in kept]
        cut.metrics = {key: [values[i] for i in kept] for key, values in h.metrics.items()}
        cut.snapshot_iterations = [it for it in h.snapshot_iterations if it <= iteration]
        cut.train_seconds = h.train_seconds * iteration / max(1, h.iterations)  # pro rata
        info = deepcopy(self.info)
        info["cut_at"] = iteration
        return SavedRun(self.name, info, cut,
                        {it: images for it, images in self.snapshots.items() if it <= iteration}, self.folder)

    def images(self, name: str) -> torch.Tensor:
        """Extra images saved with the run (e.g. ``"fakes"`` for a digit histogram), uint8 N x C x H x W."""
        entries = self.info.get("extra_images", {})
        if name not in entries or self.folder is None:
            raise KeyError(f"saved run {self.name!r} has no images {name!r}; it has {sorted(entries) or 'none'}")
        return _read_entry(self.folder, f"extra_images {name!r}", entries[name])

    def describe(self) -> str:
        """One line: what trained, how long, on what; the facts a fair comparison needs."""
        c, i = self.config, self.info
        minutes = self.history.train_seconds / 60
        if self.unlabelled:
            return (f"{self.name}: {self.training_images:,} {c['dataset']} images at {c['image_size']} px, "
                    f"batch {c['batch_size']}, {self.iterations:,} iterations "
                    f"({self.iterations * c['batch_size']:,} images seen); {minutes:.1f} min, {i['precision']}"
                    + (f" on {i['threads']} CPU thread(s)" if i.get("threads") else ""))
        cut = f" (its first {i['cut_at']:,} of {i['iterations']:,} iterations)" if "cut_at" in i else ""
        images = self.iterations * c["batch_size"]
        time = (f"{'about ' if cut else ''}{minutes:.1f} min" if minutes > 0
                else f"time not recorded{': ' + i['time_note'] if i.get('time_note') else ''}")
        precision = f"{i['precision']} (inferred)" if i.get("precision_note") else i["precision"]
        return (f"{self.name}: lesson {c['lesson']}, seed {c['seed']}, {precision}, lr {c['lr']:g}, "
                f"batch {c['batch_size']}, {self.iterations:,} iterations ({images:,} images seen){cut}; "
                f"{time}" + (f" on {i['threads']} CPU thread(s)" if i.get("threads") else ""))


# ------------------------------------------------------------------------------ reading
def run_folder(name: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """The folder of saved run ``name``: a path to it, or a name under ``root`` (default: the
    project's :data:`SAVED_RUNS`, else ``saved_runs/`` in the working folder)."""
    path = Path(name)
    if (path / "run.json").is_file():
        return path
    roots = [Path(root)] if root is not None else [SAVED_RUNS, Path.cwd() / "saved_runs"]
    for folder in (r / str(name) for r in roots):
        if (folder / "run.json").is_file():
            return folder
    there = sorted(p.parent.name for r in roots for p in r.glob("*/run.json"))
    raise FileNotFoundError(f"no saved run {str(name)!r} in {' or '.join(str(r) for r in roots)}"
                            + (f"; saved runs there: {', '.join(there)}" if there else
                               "; pass root= the folder that holds the saved runs"))


class SavedRunError(ValueError):
    """A saved run's file is missing, damaged or unsafe; the message names the file and the fix."""


_FIX = "copy the saved run's folder again, or write it again with save_run"


def _read_info(run_json: Path) -> dict[str, Any]:
    """``run.json`` as a dict, with the fields :func:`load_run` needs checked (SavedRunError)."""
    try:
        info = json.loads(run_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise SavedRunError(f"cannot read {run_json}: {err}; {_FIX}") from err
    except ValueError as err:
        raise SavedRunError(f"{run_json} is not valid JSON ({err}); {_FIX}") from err
    if not isinstance(info, dict):
        raise SavedRunError(f"{run_json} must hold an object of the run's facts; {_FIX}")
    problems = [f"it lacks {key!r}" for key in ("config", "iterations") if key not in info]
    if not problems:
        problems = (positive_int("iterations", info["iterations"], minimum=0)
                    + positive_int("history_block", info.get("history_block", 1))
                    + [f"{key} must be an object, got {info[key]!r}" for key in ("config", "snapshots",
                       "extra_images") if not isinstance(info.get(key, {}), dict)])
    if problems:
        raise SavedRunError(f"{run_json}: {'; '.join(problems)}; {_FIX}")
    return info


def _read_entry(folder: Path, what: str, entry: Any) -> torch.Tensor:
    """The images of one ``run.json`` entry (``{"file", "shape", "count"}``), read from a file
    inside ``folder``; an entry that points elsewhere is refused (SavedRunError)."""
    run_json = folder / "run.json"
    if not isinstance(entry, dict) or not {"file", "shape", "count"} <= set(entry):
        raise SavedRunError(f"{run_json}: {what} must be an object with file, shape and count, "
                            f"got {entry!r}; {_FIX}")
    file, shape, count = entry["file"], entry["shape"], entry["count"]
    path = folder / str(file)
    if (not isinstance(file, str) or Path(file).is_absolute()
            or not path.resolve().is_relative_to(folder.resolve())):
        raise SavedRunError(f"{run_json}: {what} names the file {file!r}, which is not inside "
                            f"{folder} (a saved run reads only its own files); {_FIX}")
    if (positive_int("count", count) or not isinstance(shape, list) or len(shape) != 3
            or any(positive_int("shape", side) for side in shape)):
        raise SavedRunError(f"{run_json}: {what} needs a count (a whole number >= 1) and a shape "
                            f"of three (C, H, W), got count {count!r}, shape {shape!r}; {_FIX}")
    return read_tiles(path, shape, count)


def load_run(name: str | os.PathLike, root: str | os.PathLike | None = None) -> SavedRun:
    """Read a saved run (see the module docstring) by name or path.

    A missing, damaged or unsafe file (a snapshot entry pointing outside the run's folder)
    raises SavedRunError naming the file.
    """
    folder = run_folder(name, root)
    info = _read_info(folder / "run.json")
    block, iterations = info.get("history_block", 1), info["iterations"]
    history_file = folder / "history.npz"
    try:
        if history_file.is_file() and not zipfile.is_zipfile(history_file):
            raise ValueError("it is not a NumPy .npz archive")  # np.load's own words suggest pickle
        with np.load(history_file, allow_pickle=False) as stored:
            series = {key: np.repeat(stored[key].astype(np.float64), block)[:iterations].tolist()
                      for key in STAT_KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise SavedRunError(f"cannot read {history_file}: {err}; {_FIX}") from err
    short = [key for key, values in series.items() if len(values) != iterations]
    if short:
        raise SavedRunError(f"{history_file} holds fewer than the {iterations} iterations "
                            f"{folder / 'run.json'} records ({', '.join(short)}); {_FIX}")
    history = History(**series)
    history.epoch = []  # epochs are not kept; every plot reads iterations
    history.metric_iterations = list(info.get("metric_iterations", []))
    history.metrics = {key: list(values) for key, values in info.get("metrics", {}).items()}
    history.train_seconds = float(info.get("training_seconds", 0.0))
    history.epochs_done = int(info["config"].get("epochs", 0))
    snapshots = {int(it): _read_entry(folder, f"snapshot {it}", entry)
                 for it, entry in info.get("snapshots", {}).items()}
    history.snapshot_iterations = sorted(snapshots)
    return SavedRun(folder.name, info, history, snapshots, folder)


def read_tiles(path: Path, shape: list[int], count: int) -> torch.Tensor:
    """Cut a tiled PNG (no padding, row by row) back into ``count`` uint8 images of ``shape`` (C, H, W).

    A missing or damaged file raises SavedRunError naming it.
    """
    channels, height, width = shape
    try:
        with Image.open(path) as opened:
            image = np.asarray(opened.convert("L" if channels == 1 else "RGB"))
    except (OSError, ValueError, SyntaxError, struct.error, Image.DecompressionBombError) as err:
        raise SavedRunError(f"cannot read {path}: {err}; {_FIX}") from err
    if image.ndim == 2:
        image = image[..., None]
    rows, cols = image.shape[0] // height, image.shape[1] // width
    if image.shape[0] % height or image.shape[1] % width or rows * cols < count:
        raise SavedRunError(f"{path}: {image.shape[1]}x{image.shape[0]} pixels do not hold {count} "
                            f"tiles of {width}x{height}; {_FIX}")
    tiles = image.reshape(rows, height, cols, width, channels).transpose(0, 2, 4, 1, 3)
    return torch.from_numpy(np.ascontiguousarray(tiles.reshape(rows * cols, channels, height, width)[:count]))


# ------------------------------------------------------------------------------ writing
def write_tiles(images: torch.Tensor, path: Path, nrow: int) -> None:
    """uint8 N x C x H x W -> one PNG, ``nrow`` tiles per row, no padding (what :func:`read_tiles` reads)."""
    n, channels, height, width = images.shape
    rows = math.ceil(n / nrow)
    canvas = torch.zeros(rows * nrow, channels, height, width, dtype=torch.uint8)
    canvas[:n] = images
    grid = canvas.reshape(rows, nrow, channels, height, width).permute(0, 3, 1, 4, 2)
    grid = grid.reshape(rows * height, nrow * width, channels).numpy()
    Image.fromarray(grid[..., 0] if channels == 1 else grid).save(path, optimize=True)


def shrink(images: torch.Tensor, side: int | None) -> torch.Tensor:
    """uint8 images scaled down to ``side`` pixels (area averaging), or unchanged for ``None``."""
    if side is None or side >= images.shape[-1]:
        return images
    small = torch.nn.functional.interpolate(images.float(), size=(side, side), mode="area")
    return small.round().clamp(0, 255).to(torch.uint8)


def block_means(values: list[float], block: int) -> np.ndarray:
    """Means over consecutive blocks of ``block`` values (the last block may be shorter)."""
    values = np.asarray(values, dtype=np.float64)
    starts = np.arange(0, len(values), block)
    return np.add.reduceat(values, starts) / np.diff(np.append(starts, len(values)))


PUBLIC_FIELDS = ("name", "config", "training_images", "precision", "threads", "iterations",
                 "training_seconds", "history_block", "metric_iterations", "metrics",
                 "metric_references", "snapshots", "extra_images")
"""What an unlabelled (mystery) run keeps: what a user of a run sees, nothing that names its recipe."""

PUBLIC_CONFIG = ("dataset", "image_size", "batch_size")


def unlabel(folder: str | os.PathLike, name: str) -> dict[str, Any]:
    """Rewrite the saved run in ``folder`` as the mystery run ``name``: only :data:`PUBLIC_FIELDS`
    stay (curves, evaluations, snapshots, the data it trained on), not its settings or source."""
    run_json = Path(folder) / "run.json"
    info = json.loads(run_json.read_text(encoding="utf-8"))
    config = info["config"]
    info["training_images"] = info.get("training_images", config.get("limit"))
    info["config"] = {"dataset": config["dataset"], "batch_size": config["batch_size"],
                      "image_size": config["data_kwargs"]["image_size"]}
    info["name"] = name
    public = {key: info[key] for key in PUBLIC_FIELDS if key in info}
    run_json.write_text(json.dumps(public, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return public


def save_run(source: str | os.PathLike, out: str | os.PathLike, *, what: str,
             snapshots: dict[int, tuple[int, int | None]] | None = None, until: int | None = None,
             extra_images: dict[str, tuple[torch.Tensor, int]] | None = None,
             measured: dict[str, Any] | None = None, facts: dict[str, Any] | None = None) -> Path:
    """Write a saved run into ``out`` from a training run's folder ``source``.

    ``source`` holds ``checkpoint.pt`` and ``config.json`` (and ``summary.json`` when the run
    finished; ``facts`` gives what an unfinished run's folder does not record: ``precision``,
    ``threads``, ``time_note``). Keeps the curves
    (block means when longer than :data:`MAX_POINTS`), the evaluations, the snapshots named
    in ``snapshots`` (iteration -> (how many of its fakes, side to shrink them to or None for
    full resolution); default: 36 full-size fakes of the last), ``extra_images``
    (name -> uint8 tensor, e.g. fakes for a digit histogram) and ``measured`` (numbers the
    export measured from the full checkpoint, with how). ``until`` keeps only the first
    ``until`` iterations.
    """
    from ..plumbing.checkpoint import load_checkpoint

    source, out = Path(source), Path(out)
    state = load_checkpoint(source / "checkpoint.pt", map_location="cpu")["history"]
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    summary_file = source / "summary.json"
    summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.is_file() else {}
    iterations = len(state["loss_d"]) if until is None else until
    if iterations > len(state["loss_d"]):
        raise ValueError(f"{source} has {len(state['loss_d'])} iterations, fewer than until={until}")
    block = max(1, math.ceil(iterations / MAX_POINTS))
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "history.npz",
                        **{key: block_means(state[key][:iterations], block).astype(np.float32)
                           for key in STAT_KEYS})
    kept = [i for i, it in enumerate(state["metric_iterations"]) if it <= iterations]
    available = dict(zip(state["snapshot_iterations"], state["snapshots"]))
    wanted = snapshots or {max(it for it in available if it <= iterations): (36, None)}
    stored = {}
    for it, (count, side) in wanted.items():
        if it not in available or it > iterations:
            raise ValueError(f"{source} has no snapshot at iteration {it} (within {iterations}); "
                             f"it has {sorted(available)}")
        images = shrink(available[it][:count], side)
        write_tiles(images, out / f"snapshot_{it:06d}.png", nrow=max(1, math.isqrt(len(images))))
        stored[str(it)] = {"file": f"snapshot_{it:06d}.png", "count": len(images),
                           "shape": list(images.shape[1:]), "shrunk": side is not None}
    for name, (images, nrow) in (extra_images or {}).items():
        write_tiles(images, out / f"{name}.png", nrow=nrow)
    seconds = summary.get("training_seconds_total", state.get("train_seconds", 0.0))
    info = {
        "name": out.name, "what": what, "source": str(source),
        "config": config, "precision": summary.get("precision"), "threads": summary.get("torch_threads"),
        "device": summary.get("device", "cpu"), "torch": summary.get("torch"),
        "iterations": iterations, "iterations_in_source": len(state["loss_d"]),
        "training_seconds": round(seconds * iterations / max(1, len(state["loss_d"])), 1),
        "history_block": block,
        "metric_iterations": [state["metric_iterations"][i] for i in kept],
        "metrics": {key: [round(float(values[i]), 4) for i in kept] for key, values in state["metrics"].items()},
        "metric_references": summary.get("metric_references", {}),
        "snapshots": stored,
        "extra_images": {name: {"file": f"{name}.png", "count": len(images), "shape": list(images.shape[1:])}
                         for name, (images, _) in (extra_images or {}).items()},
        "measured": measured or {},
        **(facts or {}),
    }
    (out / "run.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out

