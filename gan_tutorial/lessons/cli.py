"""The command line: train any lesson headless, draw samples from a checkpoint.

    python -m gan_tutorial train 02 --setting class --out runs/02
    python -m gan_tutorial sample runs/02/checkpoint.pt -n 64 -o grid.png
    torchrun --nproc-per-node 4 -m gan_tutorial train 03 --setting full --out runs/03

``train`` writes into ``--out``: ``checkpoint.pt``, ``config.json`` (the run's settings and
architecture, which ``sample`` and resuming read), ``samples/epoch_NNN.png`` (one grid per
epoch), ``samples.png``, ``real_vs_fake.png``, ``curves.png``, ``progress.gif`` and
``summary.json``. Run the same command again to continue from the checkpoint.
"""
from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import torch

from .. import __version__
from ..plumbing.checkpoint import DiskFullError, disk_full, first_non_finite, write_file, write_text
from ..history import STAT_KEYS
from ..plumbing.interrupts import deferred_interrupt
from . import (LESSONS, MAX_SAMPLES, SETTINGS, RunConfig, build_models, dataset_folder,
               load_dataset, preset, trainer_kwargs)
from ..plumbing.precision import PRECISIONS
from ..plumbing.run_folder import (CHECKPOINT_NAME, CONFIG_NAME, SAMPLES_DIR, SUMMARY_NAME, earlier_outputs,
                                   is_inside, links_in, recipe_changes)
from ..plumbing.run_lock import FolderInUseError, run_lock

EXIT_USAGE = 2  # bad arguments (argparse's convention)
EXIT_FAILURE = 1  # the run itself failed (data missing, ...)
EXIT_SIGINT, EXIT_SIGTERM = 130, 143  # stopped by Ctrl-C / SIGTERM (after saving): 128 + signal
DEBUG_ENV = "GAN_TUTORIAL_DEBUG"  # set to 1 (or pass --debug) to see tracebacks


class CLIError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class OneLineParser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) and point at --help (the scripts use it too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _whole_number(text: str, low: int, high: int | None = None) -> int:
    """An argparse type: a whole number from ``low`` (to ``high``), else a message saying so."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low or (high is not None and value > high):
        allowed = f"from {low} to {high:,}" if high is not None else f">= {low}"
        raise argparse.ArgumentTypeError(f"must be a whole number {allowed}, got {value}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return _whole_number(text, 1)


def _class_index(text: str) -> int:
    return _whole_number(text, 0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


SAMPLE_BATCH = 500  # images generated at a time
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
ESTIMATE_STEPS = 20  # training steps timed for the estimate printed before a run (median; then undone)
ESTIMATE_FROM = 100  # updates left from which a run prints that estimate (a shorter one just starts)


def _sample_count(text: str) -> int:
    value = positive_int(text)
    if value > MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"at most {MAX_SAMPLES:,} images fit one grid, got {value:,}; "
                                         f"run sample several times with other --seed values for more")
    return value


def _image_file(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: give a file name, e.g. {path / 'grid.png'}")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text} has no image extension: end it with "
                                         f"{', '.join(IMAGE_SUFFIXES)}")
    return path


def _out_folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: name the folder the run writes into, e.g. runs/01")
    return Path(text)


def _seed(text: str) -> int:
    from .config_fields import SEED_RANGE

    return _whole_number(text, *SEED_RANGE)


def _sample_in_batches(trainer, n: int, seed: int, digit: int | None = None) -> torch.Tensor:
    """``n`` images from fresh noise drawn with ``seed``, generated ``SAMPLE_BATCH`` at a time;
    a conditional run draws ``digit`` (None: every class in turn)."""
    torch.manual_seed(seed)
    chunks = []
    for start in range(0, n, SAMPLE_BATCH):
        size = min(SAMPLE_BATCH, n - start)
        labels = None
        if trainer.num_classes is not None:
            labels = torch.full((size,), digit) if digit is not None else \
                (torch.arange(start, start + size) % trainer.num_classes)
        chunks.append(trainer.sample(n=size, labels=labels))
    return torch.cat(chunks)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m gan_tutorial",
        description="Train the GAN tutorial's lessons without a notebook, or draw images "
                    "from a trained generator.",
        epilog="Examples:\n"
               "  python -m gan_tutorial train 01 --setting quick --out runs/01\n"
               "  python -m gan_tutorial sample runs/01/checkpoint.pt -n 64 -o grid.png\n"
               "  torchrun --nproc-per-node 2 -m gan_tutorial train 02 --out runs/02\n"
               "Data is read from $GAN_TUTORIAL_DATA (see docs/data.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gan_tutorial {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help=f"show the full traceback of an error (also: {DEBUG_ENV}=1)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=OneLineParser)

    train = commands.add_parser(
        "train", help="train a lesson (01-04, 07 or a variant such as 07-hinge, 08) or a config file",
        description="Train one lesson headless, as its notebook does. Writes checkpoint.pt, "
                    "config.json, sample grids, curves.png, progress.gif and summary.json into "
                    "--out; run the same command again to resume from the checkpoint there. "
                    "Under torchrun it trains on every process with DistributedDataParallel.",
    )
    train.add_argument("lesson", metavar="LESSON",
                       help=f"a lesson ({', '.join(LESSONS)}), or a .json/.toml file with a "
                            f"'lesson' key and any preset fields to override (a run's config.json "
                            f"works too)")
    train.add_argument("--setting", choices=SETTINGS, default=None,
                       help="run length: quick (about a minute), class (under 10 minutes on a "
                            "2-core CPU in bf16), full (the source tutorial) [default: $GAN_TUTORIAL_SETTING "
                            "(quick if $GAN_TUTORIAL_QUICK is on), else the config file's, else full]")
    train.add_argument("--epochs", type=positive_int, help="total epochs (overrides the setting)")
    train.add_argument("--batch-size", type=positive_int,
                       help="images per batch (per process under torchrun)")
    train.add_argument("--limit", type=positive_int,
                       help="use only this many items of the dataset (evenly spread)")
    train.add_argument("--snapshot-every", type=positive_int,
                       help="iterations between fixed-noise snapshots (frames of progress.gif)")
    train.add_argument("--seed", type=_seed, help="random seed (default: the lesson's)")
    train.add_argument("--device", help="cpu, cuda, cuda:1 or mps [default: the fastest available]")
    train.add_argument("--precision", choices=PRECISIONS, default=None,
                       help="arithmetic precision for training; checkpoints stay fp32 "
                            "[default: the config's, auto]")
    train.add_argument("--max-minutes", type=_positive_float,
                       help="stop cleanly after this much training time, with a checkpoint")
    train.add_argument("--eval-every", type=positive_int,
                       help="iterations between quality evaluations (MNIST classifier numbers, "
                            "FID or diversity) [default: the setting's, else about 20 per run]")
    train.add_argument("--no-eval", action="store_true", help="skip the quality evaluations")
    train.add_argument("--out", type=_out_folder, default=None,
                       help="output folder [default: runs/lesson<NN>_<setting>]")
    train.add_argument("--print-every", type=positive_int, default=50,
                       help="when not on a terminal: one line every N iterations of an epoch [default: 50]")
    train.add_argument("--data-root", type=Path,
                       help="folder holding MNIST/, celeba/, pokemon/ [default: $GAN_TUTORIAL_DATA]")

    sample = commands.add_parser(
        "sample", help="draw images from a trained generator",
        description="Draw a grid of images from a checkpoint written by 'train'. The "
                    "architecture is read from config.json next to the checkpoint, or given "
                    "with --lesson or --config (e.g. for a notebook's checkpoint).",
    )
    sample.add_argument("checkpoint", metavar="CHECKPOINT", type=Path,
                        help="a checkpoint file, or a folder written by 'train'")
    sample.add_argument("-n", type=_sample_count, default=64,
                        help=f"how many images, at most {MAX_SAMPLES:,} [default: 64]")
    sample.add_argument("-o", "--output", type=_image_file, default=Path("grid.png"),
                        help=f"image file to write ({', '.join(IMAGE_SUFFIXES)}) [default: grid.png]")
    sample.add_argument("--nrow", type=positive_int, help="images per row [default: about sqrt(n)]")
    sample.add_argument("--seed", type=_seed, default=0, help="random seed for the noise [default: 0]")
    sample.add_argument("--digit", type=_class_index,
                        help="the class a conditional run (lesson 08) draws [default: every class in turn]")
    sample.add_argument("--own-weights", action="store_true",
                        help="draw from G's own weights, not from the moving average of them that a "
                             "run with ema_decay keeps (lesson 03's full setting does)")
    sample.add_argument("--lesson", help="the checkpoint's lesson (01-04, 07..., 08) when it has no config.json")
    sample.add_argument("--config", type=Path, help="a config.json/.toml describing the architecture")
    sample.add_argument("--device", help="cpu, cuda, cuda:1 or mps")

    commands.add_parser("lessons", help="list the lessons and their settings",
                        description="List every lesson preset with its three settings.")
    return parser


# ------------------------------------------------------------------------------ configuration
def _config_text(path: Path) -> str:
    """A config file's text: UTF-8 (with or without a BOM) or UTF-16 with its BOM."""
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CLIError(f"config file {path} is not UTF-8 text (byte {err.start}); save it as "
                       f"UTF-8") from None


def read_config_file(path: Path) -> dict[str, Any]:
    """The fields in a .json or .toml config file."""
    try:
        text = _config_text(path)
        if path.suffix.lower() == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                raise CLIError(f"{path}: TOML needs Python 3.11 or newer; use a .json file") from None
            values = tomllib.loads(text)
        else:
            values = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_refuse_twice)
    except CLIError:
        raise
    except (OSError, ValueError) as err:
        raise CLIError(f"cannot read config file {path}: {err}") from None
    if not isinstance(values, dict):
        raise CLIError(f"config file {path} must hold a table/object of settings")
    return values


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows; write a finite number")


def _refuse_twice(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, unless a key is given twice (JSON keeps the last one without a word)."""
    keys = [key for key, _ in pairs]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise ValueError(f"{', '.join(map(repr, twice))} given twice; keep one")
    return dict(pairs)


def _environment_setting() -> str | None:
    """The setting GAN_TUTORIAL_QUICK / GAN_TUTORIAL_SETTING choose, as in the notebooks; None: neither set."""
    from ..plumbing.environment import QUICK_ENV, SETTING_ENV, env_value, lesson_setting

    if env_value(QUICK_ENV) is None and env_value(SETTING_ENV) is None:
        return None
    try:
        return lesson_setting("full")
    except ValueError as err:
        raise CLIError(str(err)) from None


def resolve_config(lesson: str, setting: str | None) -> RunConfig:
    """The preset named by ``lesson``, or a config file's lesson with its overrides.

    The setting: ``setting`` (the --setting flag), else the environment's (as in the
    notebooks), else the config file's, else "full".
    """
    setting = setting or _environment_setting()
    path = Path(lesson)
    if path.suffix.lower() in (".json", ".toml"):
        if path.is_dir():
            raise CLIError(f"{path} is a folder, not a config file: name the .json/.toml file "
                           f"(a run folder's {CONFIG_NAME} works)")
        if not path.is_file():
            raise CLIError(f"config file {path} not found")
        values = read_config_file(path)
        if "lesson" not in values:
            raise CLIError(f"config file {path} needs a 'lesson' key naming the preset it changes "
                           f"(`python -m gan_tutorial lessons` lists them)")
        try:
            base = preset(values.pop("lesson"), setting or values.pop("setting", "full"))
            values.pop("setting", None)
            return base.updated(**values)  # null in the file means null (e.g. no augmentation)
        except (ValueError, TypeError) as err:
            raise CLIError(f"config file {path}: {err}") from None
    try:
        return preset(lesson, setting or "full")
    except ValueError as err:
        raise CLIError(f"{err}, or a .json/.toml config file") from None


def ensure_writable_folder(folder: Path, what: str = "--out") -> None:
    """Create ``folder`` and prove a file can be written there, else a CLIError naming it."""
    if folder.is_symlink() and not folder.exists():
        raise CLIError(f"cannot write to {what} {folder}: it is a link to {os.readlink(folder)}, "
                       f"which does not exist; create that folder or remove the link")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write_test"):
            pass
    except OSError as err:
        raise CLIError(f"cannot write to {what} {folder}: {err.strerror or err}; "
                       f"choose a folder you can write to") from None


def _write_json(path: Path, values: dict[str, Any]) -> None:
    write_text(path, json.dumps(values, indent=2) + "\n")


# ------------------------------------------------------------------------------ train
def train(args: argparse.Namespace) -> int:
    """The ``train`` command (holding the lock on ``--out`` until it is done)."""
    with contextlib.ExitStack() as held:
        try:
            return _train(args, held)
        except OSError as err:  # a sample grid, curves or the GIF on a full disk
            if disk_full(err) and not isinstance(err, DiskFullError):
                raise DiskFullError(Path(getattr(err, "filename", None) or args.out or "runs"), None) from None
            raise


def _train(args: argparse.Namespace, held: contextlib.ExitStack) -> int:
    from ..plumbing import distributed
    from ..plumbing.runtime import seed_everything
    from ..train import GANTrainer

    try:
        config = resolve_config(args.lesson, args.setting).override(
            epochs=args.epochs, batch_size=args.batch_size, limit=args.limit,
            snapshot_every=args.snapshot_every, seed=args.seed, precision=args.precision)
    except ValueError as err:  # the flags' values: --seed, --epochs, ...
        raise CLIError(f"command-line flag: --{str(err).replace('_', '-')}") from None
    out = args.out or Path("runs") / f"lesson{config.lesson}_{config.setting}"
    context = None
    if distributed.launched_by_torchrun():
        try:
            context = distributed.setup(args.device)
        except (RuntimeError, ValueError) as err:
            raise CLIError(f"--device {args.device}: {err}" if args.device else str(err)) from None
    is_main = context is None or context.is_main
    checkpoint, config_file = out / CHECKPOINT_NAME, out / CONFIG_NAME
    if is_main:
        _check_run_folder(config, out, args.data_root)
        ensure_writable_folder(out)
        try:
            held.enter_context(run_lock(out))  # a second run on the same --out is refused
        except FolderInUseError as err:
            raise CLIError(str(err), code=EXIT_FAILURE) from None
        _check_same_run(config, config_file, checkpoint)
    device = context.device if context else _device(args.device)

    seed_everything(config.seed)
    G, D = build_models(config)
    trainer = GANTrainer(G, D, device=device, **trainer_kwargs(config), is_main_process=is_main,
                         resume_hint="Run the same command again to resume.")
    resumed = trainer.resume_if_possible(checkpoint)
    iterations_before = trainer.history.iterations
    if context is not None:
        distributed.wrap_trainer(trainer, context)
        torch.manual_seed(config.seed + context.rank)  # each rank draws its own training noise

    try:
        dataset = load_dataset(config, args.data_root)
    except FileNotFoundError as err:
        raise CLIError(str(err), code=EXIT_FAILURE) from None
    if context is not None:
        loader = distributed.make_loader(dataset, config.batch_size, context, seed=config.seed)
    else:
        from ..data import make_loader
        loader = make_loader(dataset, config.batch_size, device=device)
    world = context.world_size if context else 1
    if is_main:
        _write_json(config_file, config.to_dict())
        what = f"resuming at epoch {trainer.history.epochs_done}" if resumed else "starting"
        print(f"lesson {config.lesson} ({LESSONS[config.lesson].title}), setting {config.setting}: "
              f"{what}; {len(dataset):,} items, {len(loader)} batches of {config.batch_size}"
              f"{f' x {world} processes' if world > 1 else ''} per epoch, {config.epochs} epochs, "
              f"device {device}; writing to {out}", flush=True)
        if trainer.history.epochs_done >= config.epochs:
            print(f"already trained {trainer.history.epochs_done} epochs: pass --epochs "
                  f"{trainer.history.epochs_done + 1} or more to train further", flush=True)

    fit_kwargs: dict[str, Any] = {}
    if args.max_minutes is not None:
        fit_kwargs["max_minutes"] = args.max_minutes
    if not args.no_eval:
        from . import make_evaluator

        fit_kwargs["evaluate"] = make_evaluator(config, root=args.data_root)
        fit_kwargs["eval_every"] = args.eval_every or config.evaluation_interval(len(loader))
    estimated = None
    if context is None and trainer.remaining(loader, config.epochs) >= ESTIMATE_FROM:  # how long
        estimated = trainer.estimate_minutes(loader, config.epochs, steps=ESTIMATE_STEPS,
                                             evaluate=fit_kwargs.get("evaluate"),
                                             eval_every=fit_kwargs.get("eval_every"))
    tty = sys.stderr.isatty()
    started = time.perf_counter()
    history = trainer.fit(loader, config.epochs, snapshot_every=config.snapshot_every,
                          checkpoint=checkpoint, sample_dir=out / SAMPLES_DIR,
                          print_every=None if tty else args.print_every, progress=tty, **fit_kwargs)
    seconds = time.perf_counter() - started

    identical = distributed.replicas_identical(trainer.G, trainer.D) if context else None
    if is_main:
        with deferred_interrupt() as stopped:  # a stop now waits for the pictures and summary
            summary = _write_outputs(trainer, config, dataset, out, args, device, world,
                                     history.iterations - iterations_before, seconds, identical,
                                     estimated)
        if stopped and not history.interrupted:
            history.interrupted = True
            history.stop_reason = "terminated" if signal.SIGTERM in stopped else "interrupted"
            print(f"{'Stopped by SIGTERM' if signal.SIGTERM in stopped else 'Interrupted'} while "
                  f"the pictures were written; they and {SUMMARY_NAME} are complete.", flush=True)
        what = "stopped" if history.interrupted else "done"
        print(f"{what}: {summary['epochs_done']} epochs, {summary['iterations']} iterations; this run "
              f"{summary['this_run']['iterations']} iterations in {seconds:.1f} s "
              f"({summary['this_run']['images_per_second']:.0f} images/s); files in {out}", flush=True)
    if context is not None:
        distributed.barrier()
        distributed.cleanup()
    if history.interrupted:  # saved: say so with the shell's code for the signal
        return EXIT_SIGTERM if history.stop_reason == "terminated" else EXIT_SIGINT
    return 0


def _device(name: str | None) -> torch.device:
    """The device --device (or $GAN_TUTORIAL_DEVICE) names, else a CLIError saying which is wrong."""
    from ..plumbing.runtime import get_device

    try:
        return get_device(name)
    except (RuntimeError, ValueError) as err:  # the message names the variable when it came from there
        raise CLIError(f"--device {name}: {err}" if name is not None else str(err)) from None


def _check_run_folder(config: RunConfig, out: Path, data_root: Path | None) -> None:
    """Refuse an --out that lies in the training data, holds links where the run writes, or
    holds an earlier run's pictures without the checkpoint to continue it (before anything
    is created)."""
    try:
        data_folder = dataset_folder(config, data_root)
    except FileNotFoundError as err:
        raise CLIError(str(err), code=EXIT_FAILURE) from None
    if is_inside(out, data_folder):
        raise CLIError(f"--out {out} is inside {data_folder}, the images this run trains on: its "
                       f"own pictures would become training data; choose a folder outside it")
    if not out.is_dir():
        return
    links = links_in(out)
    if links:
        raise CLIError(f"{out} holds links where a run writes its files ({'; '.join(links)}); a run "
                       f"writes only inside its own folder: remove the links, or use another --out")
    earlier = earlier_outputs(out)
    if earlier and not (out / CHECKPOINT_NAME).exists():
        raise CLIError(f"{out} holds the files of an earlier run ({', '.join(earlier)}) but no "
                       f"{CHECKPOINT_NAME} to continue it from, so this run's pictures and time would "
                       f"mix with them; use another --out, or delete those files")


def _check_same_run(config: RunConfig, config_file: Path, checkpoint: Path) -> None:
    """Refuse to resume a checkpoint of another architecture or recipe (say which, and what to do)."""
    if not checkpoint.is_file() or not config_file.is_file():
        return
    try:
        saved = RunConfig.from_dict(read_config_file(config_file))
    except (ValueError, TypeError, CLIError) as err:
        raise CLIError(f"{config_file} cannot be used ({err}). The checkpoint next to it is not "
                       f"affected: undo the edit, or delete {config_file.name} (train writes it "
                       f"again from this command's settings), then run again") from None
    if saved.architecture() != config.architecture():
        raise CLIError(f"{checkpoint.parent} holds a checkpoint of lesson {saved.lesson} "
                       f"({saved.generator}/{saved.discriminator} {saved.generator_kwargs}) that "
                       f"this run's models do not match; use another --out or delete that folder")
    changes = recipe_changes(saved.to_dict(), config.to_dict())
    if changes:
        raise CLIError(f"{checkpoint} was trained with another recipe than this command's "
                       f"({'; '.join(changes)}), and continuing it would mix the two in one run; "
                       f"give the run's own values (its {CONFIG_NAME} lists them) or another --out")


def _write_outputs(trainer, config: RunConfig, dataset, out: Path, args: argparse.Namespace,
                   device: torch.device, world: int, iterations: int, seconds: float,
                   identical: bool | None, estimated_minutes: float | None = None) -> dict[str, Any]:
    """Sample grids, curves, GIF and summary.json after training (rank 0 only)."""
    import matplotlib

    matplotlib.use("Agg")  # headless: never open a window
    import matplotlib.pyplot as plt
    from torchvision.utils import save_image

    from ..plots import save_progress_gif
    from ..data import spread_images
    from . import quality_references
    from ..plots import plot_metric, plot_training, show_real_vs_fake

    def save_figure(fig, name: str) -> None:
        write_file(out / name, lambda tmp: fig.savefig(tmp, dpi=80, bbox_inches="tight"))
        plt.close(fig)

    history = trainer.history
    fake = trainer.sample(trainer.fixed_noise, labels=trainer.fixed_labels)
    nrow = max(1, round(math.sqrt(len(fake))))
    write_file(out / "samples.png",
               lambda tmp: save_image(fake, tmp, nrow=nrow, normalize=True, value_range=(-1, 1)))
    save_figure(show_real_vs_fake(spread_images(dataset, len(fake)), fake, nrow=nrow), "real_vs_fake.png")
    if history.iterations:
        save_figure(plot_training(history), "curves.png")
    metrics = history.metrics
    references = quality_references(config, root=args.data_root) if metrics else {}
    if metrics:
        fig, axes = plt.subplots(len(metrics), 1, figsize=(8, 3 * len(metrics)), squeeze=False)
        for ax, key in zip(axes[:, 0], metrics):
            plot_metric(history, key, ax=ax, reference=references.get(key),
                        log=key == "frechet_distance")
        fig.tight_layout()
        save_figure(fig, "metrics.png")
    if history.snapshots:
        write_file(out / "progress.gif", lambda tmp: save_progress_gif(history, tmp))

    images = iterations * config.batch_size * world
    last = {key: getattr(history, key)[-1] for key in STAT_KEYS
            if getattr(history, key)}
    summary = {
        "lesson": config.lesson, "title": LESSONS[config.lesson].title, "setting": config.setting,
        "config": config.to_dict(),
        "device": str(device), "world_size": world, "global_batch_size": config.batch_size * world,
        "precision_requested": config.precision,
        "precision": str(getattr(trainer, "precision", "fp32")),
        "torch_threads": torch.get_num_threads(),
        "epochs_done": history.epochs_done, "iterations": history.iterations,
        "interrupted": history.interrupted,
        "this_run": {"iterations": iterations, "images": images,
                     "training_seconds": round(seconds, 3),
                     # printed before training (None under torchrun or with nothing left to train)
                     "estimated_seconds": None if estimated_minutes is None else round(60 * estimated_minutes, 1),
                     "images_per_second": round(images / seconds, 2) if seconds > 0 else 0.0},
        "training_seconds_total": round(history.train_seconds, 3),  # the checkpoint's: every run of it
        "final": last,
        "replicas_identical": identical,
        "metrics": {name: values[-1] for name, values in metrics.items() if values},
        "metric_references": references,
        "evaluation_seconds_this_run": round(history.eval_seconds, 3),
        "files": sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) + [SUMMARY_NAME],
        "torch": torch.__version__, "gan_tutorial": __version__,
    }
    summary["files"] = sorted(set(summary["files"]))
    _write_json(out / SUMMARY_NAME, summary)
    return summary


# ------------------------------------------------------------------------------ sample
def sample(args: argparse.Namespace) -> int:
    """The ``sample`` command."""
    from torchvision.utils import save_image

    from ..train import GANTrainer

    path = args.checkpoint
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise CLIError(f"no checkpoint at {path}: train first, e.g. "
                       f"python -m gan_tutorial train 01 --out {path.parent}")
    if args.config is not None:
        config = resolve_config(str(args.config), None)
    elif args.lesson is not None:
        config = resolve_config(args.lesson, None)
    elif (path.parent / CONFIG_NAME).is_file():
        try:
            config = RunConfig.from_dict(read_config_file(path.parent / CONFIG_NAME))
        except (ValueError, TypeError) as err:
            raise CLIError(f"{path.parent / CONFIG_NAME} is not a run configuration: {err}") from None
    else:
        raise CLIError(f"no {CONFIG_NAME} next to {path} to say which architecture it is: "
                       f"pass --lesson (see `python -m gan_tutorial lessons`) or --config FILE")
    device = _device(args.device)
    G, D = build_models(config)
    # sampling runs in fp32 on any device, whatever the run trained in: no precision warning
    trainer = GANTrainer(G, D, device=device, **{**trainer_kwargs(config), "precision": "fp32"})
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*was trained with other options")
            trainer.load(path)
    except (RuntimeError, KeyError, ValueError, EOFError, OSError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CLIError(f"cannot load {path} as lesson {config.lesson}'s {config.generator}: "
                       f"{first_line}", code=EXIT_FAILURE) from None
    if args.digit is not None and trainer.num_classes is None:
        raise CLIError(f"--digit {args.digit}: {path} is lesson {config.lesson}'s unconditional "
                       f"GAN, which cannot be told what to draw; train lesson 08 (conditional) for that")
    if args.digit is not None and args.digit >= trainer.num_classes:
        raise CLIError(f"--digit {args.digit}: this run knows classes 0 to {trainer.num_classes - 1}")
    if args.own_weights:
        trainer.G_ema = None  # sample() draws from the moving average whenever there is one
    for name, net in (("generator", trainer.G), ("moving average of the generator", trainer.G_ema)):
        bad = None if net is None else first_non_finite(net.state_dict())
        if bad is not None:
            raise CLIError(f"{path}: the {name}'s weights hold NaN or inf ({bad}), so it would draw "
                           f"blank images; the run diverged before it was saved: sample an earlier "
                           f"checkpoint, or train again with a lower learning rate", code=EXIT_FAILURE)
    images = _sample_in_batches(trainer, args.n, args.seed, args.digit)
    if args.output.parent != Path(""):
        ensure_writable_folder(args.output.parent, "-o")
    nrow = args.nrow or max(1, round(math.sqrt(args.n)))
    write_file(args.output,
               lambda tmp: save_image(images, tmp, nrow=nrow, normalize=True, value_range=(-1, 1)))
    print(f"{args.n} images from {path} (lesson {config.lesson}, {trainer.history.iterations} "
          f"iterations) -> {args.output}")
    return 0


def list_lessons(_: argparse.Namespace) -> int:
    """The ``lessons`` command."""
    for lesson in LESSONS.values():
        print(f"{lesson.name}  {lesson.title}  ({lesson.notebook})")
        for name, s in lesson.settings.items():
            data = "all data" if s.limit is None else f"{s.limit:,} items"
            options = "".join(f", {key} {value}" for key, value in s.options.items())
            print(f"      {name:<6} {s.epochs:>3} epoch{'s' if s.epochs > 1 else ' '}, batch {s.batch_size}, "
                  f"{data}{options}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m gan_tutorial``; returns the exit code.

    Every error reaches the user as one line naming the culprit (the library's messages
    say which file, field or setting and what to do); ``--debug`` shows the traceback.
    """
    from ..plumbing.environment import env_flag

    parser = build_parser()
    args = parser.parse_args(argv)
    command = {"train": train, "sample": sample, "lessons": list_lessons}[args.command]
    prefix = f"{parser.prog} {args.command}"
    try:
        debug = args.debug or env_flag(DEBUG_ENV)
    except ValueError as err:
        print(f"{prefix}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return command(args)
    except CLIError as err:
        print(f"{prefix}: error: {err}", file=sys.stderr)
        return err.code
    except KeyboardInterrupt:  # before training started or after it ended: nothing to save
        print(f"{prefix}: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except Exception as err:  # noqa: BLE001 - one line for the user, the traceback on request
        if debug:
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"{prefix}: error: {message} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE
