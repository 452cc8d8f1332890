"""Try the hostile-but-fair inputs and faults of issue 8 and print ``case · result``.

    python scripts/hostile_inputs.py              # every case
    python scripts/hostile_inputs.py -k 10        # cases whose item or title contains "10"
    python scripts/hostile_inputs.py --full       # whole messages instead of one line

Each case is one function decorated with ``@case(item, title)``. It runs in its own empty
temporary folder (passed as ``tmp``), with the environment restored afterwards; it may copy
real files from the data root with :func:`copy_from_data` (the data root itself is never
written). It returns what the user now sees (usually the error message) and raises
:class:`Unhandled` (or any unexpected exception) when the case is not handled. To add a
case, add one function; :func:`expect_error` and :func:`assert_unchanged` do most checks::

    @case("5", "an image folder holding a zero-byte PNG")
    def zero_byte_png(tmp: Path) -> str:
        folder = copy_from_data("pokemon/1", tmp)
        (folder / "broken.png").write_bytes(b"")
        return expect_error(lambda: load_pokemon(folder.parent, ...), ValueError, "broken.png")

Not part of the test run: the unit tests (tests/test_checkpoint.py, test_models.py,
test_config_runtime.py) cover the same cases; this script shows them as a user meets them.
Exit status: 0 when every case is handled, 1 otherwise.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import os
import pickle
import runpy
import shutil
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gan_tutorial.checkpoint import (FORMAT_VERSION, CheckpointError,  # noqa: E402
                                     NonFiniteStateError, check_writable, tmp_path_for)
from gan_tutorial.config import DEVICE_ENV, QUICK_ENV, quick_mode  # noqa: E402
from gan_tutorial.data import data_root  # noqa: E402
from gan_tutorial.models import (ConvDiscriminator, DCGANDiscriminator,  # noqa: E402
                                 DCGANGenerator, FCDiscriminator, FCGenerator)
from gan_tutorial.runtime import get_device, seed_everything  # noqa: E402
from gan_tutorial.train import GANTrainer  # noqa: E402


# ---------------------------------------------------------------- the registry
class Unhandled(Exception):
    """The case is not handled: the message says what happened instead."""


@dataclass
class Case:
    item: str  # the issue-8 item number, e.g. "10"
    title: str  # what a user tries
    run: Callable[[Path], str]


CASES: list[Case] = []


def case(item: str, title: str) -> Callable[[Callable[[Path], str]], Callable[[Path], str]]:
    """Register ``fn(tmp) -> message`` as a case of issue 8 item ``item``."""
    def register(fn: Callable[[Path], str]) -> Callable[[Path], str]:
        CASES.append(Case(item, title, fn))
        return fn
    return register


# ---------------------------------------------------------------- helpers for cases
def copy_from_data(relative: str, tmp: Path) -> Path:
    """Copy a file or folder from the data root into ``tmp`` and return the copy."""
    source = data_root() / relative
    if not source.exists():
        raise Unhandled(f"needs {source}, which is missing (set GAN_TUTORIAL_DATA)")
    target = tmp / "data" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)
    return target


def expect_error(call: Callable[[], object], error: type[BaseException] | tuple,
                 *must_contain: str) -> str:
    """Run ``call``; it must raise ``error`` whose message holds every ``must_contain``.

    Returns "<ErrorType>: <message>".
    """
    try:
        result = call()
    except error as err:
        message = str(err)
        missing = [text for text in must_contain if text not in message]
        if missing:
            raise Unhandled(f"{type(err).__name__} without {missing}: {message}") from err
        return f"{type(err).__name__}: {message}"
    except Exception as err:  # noqa: BLE001 - any other error is the finding
        raise Unhandled(f"{type(err).__name__} instead of {error}: {err}") from err
    raise Unhandled(f"no error; returned {result!r:.80}")


def snapshot(trainer: GANTrainer) -> dict:
    """Deep copy of every tensor and value load() may touch."""
    def copy(obj):
        if isinstance(obj, torch.Tensor):
            return obj.detach().clone()
        if isinstance(obj, dict):
            return {k: copy(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [copy(v) for v in obj]
        return obj
    return copy({"G": trainer.G.state_dict(), "D": trainer.D.state_dict(),
                 "opt_g": trainer.opt_g.state_dict(), "opt_d": trainer.opt_d.state_dict(),
                 "fixed_noise": trainer.fixed_noise, "history": trainer.history.state_dict()})


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    return a == b


def assert_unchanged(before: dict, trainer: GANTrainer) -> None:
    """Raise Unhandled unless the trainer holds exactly the ``before`` snapshot."""
    after = snapshot(trainer)
    changed = [k for k in before if not _same(before[k], after[k])]
    if changed:
        raise Unhandled(f"the trainer was changed by a failed call: {changed}")


def lesson_trainer(ngf: int = 64, ndf: int = 64, steps: int = 1) -> GANTrainer:
    """Lesson 03/04's DCGAN (64px, 3 channels) on the CPU, after ``steps`` tiny steps."""
    trainer = GANTrainer(DCGANGenerator(nz=100, ngf=ngf, nc=3),
                         DCGANDiscriminator(ndf=ndf, nc=3), device="cpu", n_fixed=4)
    for _ in range(steps):
        trainer.history.record(0, trainer.train_step(torch.rand(2, 3, 64, 64) * 2 - 1))
    return trainer


def small_trainer(steps: int = 2) -> GANTrainer:
    """A tiny fully connected GAN, for checkpoint cases where the model does not matter."""
    trainer = GANTrainer(FCGenerator(latent_dim=8, hidden=(32,), image_shape=(1, 8, 8)),
                         FCDiscriminator(image_shape=(1, 8, 8), hidden=(32,)), device="cpu",
                         n_fixed=4)
    for _ in range(steps):
        trainer.history.record(0, trainer.train_step(torch.rand(4, 1, 8, 8) * 2 - 1))
    return trainer


def load_bad(path: Path, *must_contain: str) -> str:
    """A fresh trainer's load(path) must raise CheckpointError and leave the trainer as it was."""
    trainer = small_trainer()
    before = snapshot(trainer)
    message = expect_error(lambda: trainer.load(path), CheckpointError, str(path), *must_contain)
    assert_unchanged(before, trainer)
    return f"trainer unchanged; {message}"


# ---------------------------------------------------------------- item 1 (checkpoint part)
@case("1", "save() after training diverged (NaN in D's weights) over a good checkpoint")
def nan_weights_never_saved(tmp: Path) -> str:
    trainer = small_trainer()
    path = trainer.save(tmp / "run.pt")
    good = path.read_bytes()
    with torch.no_grad():
        trainer.D.main[1].weight.fill_(float("nan"))
    message = expect_error(lambda: trainer.save(path), NonFiniteStateError, "NaN", "discriminator")
    if path.read_bytes() != good:
        raise Unhandled("the good checkpoint was overwritten")
    small_trainer(steps=0).load(path)
    return f"good checkpoint kept and loads; {message}"


# ---------------------------------------------------------------- item 2
@case("2", "load() a checkpoint whose generator has another ngf (64 saved, 32 here)")
def other_generator(tmp: Path) -> str:
    path = lesson_trainer(ngf=64).save(tmp / "ngf64.pt")
    trainer = lesson_trainer(ngf=32)
    before = snapshot(trainer)
    message = expect_error(lambda: trainer.load(path), CheckpointError,
                           "generator: main.0.0.weight has shape (100, 512, 4, 4) in the "
                           "checkpoint but (100, 256, 4, 4) in this model",
                           "architecture must match")
    assert_unchanged(before, trainer)
    return f"trainer unchanged; {message}"


@case("2", "load() a checkpoint with the same G but another D (was: G replaced, then crash)")
def other_discriminator(tmp: Path) -> str:
    seed_everything(0)
    path = lesson_trainer(ndf=64).save(tmp / "ndf64.pt")
    seed_everything(1)
    trainer = lesson_trainer(ndf=32)
    before = snapshot(trainer)
    message = expect_error(lambda: trainer.load(path), CheckpointError, "discriminator: ",
                           "architecture must match")
    assert_unchanged(before, trainer)
    return f"trainer unchanged, G included; {message}"


@case("2", "load() a checkpoint whose Adam moments have the wrong shape")
def bad_optimizer_state(tmp: Path) -> str:
    path = small_trainer().save(tmp / "run.pt")
    state = torch.load(path, weights_only=True)
    state["opt_d"]["state"][0]["exp_avg"] = torch.zeros(3, 3)
    torch.save(state, path)
    return load_bad(path, "discriminator optimizer (opt_d)", "(3, 3)")


# ---------------------------------------------------------------- item 6
@case("6", "DCGANGenerator(nz=0)")
def zero_nz(tmp: Path) -> str:
    return expect_error(lambda: DCGANGenerator(nz=0), ValueError, "nz", "positive integer")


@case("6", "DCGANDiscriminator(ndf=-64)")
def negative_ndf(tmp: Path) -> str:
    return expect_error(lambda: DCGANDiscriminator(ndf=-64), ValueError, "ndf")


@case("6", "DCGANGenerator(nc=0)")
def zero_nc(tmp: Path) -> str:
    return expect_error(lambda: DCGANGenerator(nc=0), ValueError, "nc")


@case("6", "FCGenerator(latent_dim=0)")
def zero_latent(tmp: Path) -> str:
    return expect_error(lambda: FCGenerator(latent_dim=0), ValueError, "latent_dim")


@case("6", "FCGenerator(hidden=(256, 0))")
def zero_hidden(tmp: Path) -> str:
    return expect_error(lambda: FCGenerator(hidden=(256, 0)), ValueError, "hidden[1]")


@case("6", "FCDiscriminator(image_shape=(1, 0, 28))")
def zero_image_side(tmp: Path) -> str:
    return expect_error(lambda: FCDiscriminator(image_shape=(1, 0, 28)), ValueError,
                        "image_shape[1]")


@case("6", "64px DCGAN discriminator fed 128px images (was: 25 scores per image, silently)")
def too_large_images(tmp: Path) -> str:
    return expect_error(lambda: DCGANDiscriminator()(torch.zeros(2, 3, 128, 128)), ValueError,
                        "(n, 3, 64, 64)", "(n, 3, 128, 128)")


@case("6", "64px DCGAN discriminator fed 32px images")
def too_small_images(tmp: Path) -> str:
    return expect_error(lambda: DCGANDiscriminator()(torch.zeros(2, 3, 32, 32)), ValueError,
                        "(n, 3, 64, 64)", "(n, 3, 32, 32)")


@case("6", "colour discriminator fed a real MNIST digit batch (1 channel, 28px)")
def grey_digits(tmp: Path) -> str:
    import gzip

    import numpy as np
    raw = copy_from_data("MNIST/raw/t10k-images-idx3-ubyte.gz", tmp)
    with gzip.open(raw) as f:
        pixels = np.frombuffer(f.read(), dtype=np.uint8, offset=16)[: 4 * 784]
    digits = torch.from_numpy(pixels.copy()).float().div(127.5).sub(1).view(4, 1, 28, 28)
    return expect_error(lambda: DCGANDiscriminator()(digits), ValueError,
                        "(n, 3, 64, 64)", "(n, 1, 28, 28)")


@case("6", "64px discriminator fed a real Pokémon sprite at its file size, not resized")
def unresized_sprite(tmp: Path) -> str:
    from PIL import Image
    from torchvision.transforms.functional import to_tensor
    folder = data_root() / "pokemon"
    first = sorted(p for p in folder.rglob("*.png"))[:1] if folder.is_dir() else []
    if not first:
        raise Unhandled(f"needs a sprite under {folder}")
    sprite = copy_from_data(str(first[0].relative_to(data_root())), tmp)
    image = to_tensor(Image.open(sprite).convert("RGB")).unsqueeze(0) * 2 - 1
    side = f"(n, 3, {image.shape[2]}, {image.shape[3]})"
    return expect_error(lambda: DCGANDiscriminator()(image), ValueError, "(n, 3, 64, 64)", side)


@case("6", "FC discriminator (28px) fed 32px images")
def fc_wrong_size(tmp: Path) -> str:
    return expect_error(lambda: FCDiscriminator()(torch.zeros(2, 1, 32, 32)), ValueError,
                        "(n, 1, 28, 28)", "(n, 1, 32, 32)")


@case("6", "ConvDiscriminator (32px) fed 64px images")
def conv_wrong_size(tmp: Path) -> str:
    return expect_error(lambda: ConvDiscriminator()(torch.zeros(2, 1, 64, 64)), ValueError,
                        "(n, 1, 32, 32)", "(n, 1, 64, 64)")


# ---------------------------------------------------------------- item 7
def _device_case(value: str) -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        os.environ[DEVICE_ENV] = value
        return expect_error(get_device, ValueError, DEVICE_ENV, "cpu, cuda, cuda:N")
    return run


for _value in ("tpu", "CPU", "meta"):
    case("7", f"{DEVICE_ENV}={_value}")(_device_case(_value))


def _quick_case(value: str) -> Callable[[Path], str]:
    def run(tmp: Path) -> str:
        os.environ[QUICK_ENV] = value
        return expect_error(quick_mode, ValueError, QUICK_ENV, "1/true/yes/on", "0/false/no/off")
    return run


for _value in ("2", "maybe"):
    case("7", f"{QUICK_ENV}={_value} (was: silently off)")(_quick_case(_value))


@case("7", f"{QUICK_ENV}= (empty) when the test suite starts (was: quick mode off)")
def empty_quick(tmp: Path) -> str:
    os.environ[QUICK_ENV] = ""
    runpy.run_path(str(REPO / "conftest.py"))
    if not quick_mode():
        raise Unhandled("conftest left quick mode off")
    return f"quick mode on: {QUICK_ENV}={os.environ[QUICK_ENV]!r} after conftest.py"


# ---------------------------------------------------------------- item 10
@case("10", "load() a zero-byte checkpoint")
def zero_bytes(tmp: Path) -> str:
    (tmp / "run.pt").write_bytes(b"")
    return load_bad(tmp / "run.pt", "empty (0 bytes)")


@case("10", "load() a checkpoint truncated to half its size")
def truncated(tmp: Path) -> str:
    path = small_trainer().save(tmp / "run.pt")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return load_bad(path, "damaged or truncated")


@case("10", "load() a text file named run.pt")
def text_file(tmp: Path) -> str:
    (tmp / "run.pt").write_text("epochs: 5\nlr: 2e-4\n")
    return load_bad(tmp / "run.pt", "not a PyTorch checkpoint")


@case("10", "load() a plain tensor saved with torch.save")
def plain_tensor(tmp: Path) -> str:
    torch.save(torch.zeros(3, 64, 64), tmp / "run.pt")
    return load_bad(tmp / "run.pt", "single tensor of shape (3, 64, 64)")


@case("10", "load() a generator's bare state_dict")
def bare_state_dict(tmp: Path) -> str:
    torch.save(small_trainer().G.state_dict(), tmp / "run.pt")
    return load_bad(tmp / "run.pt", "lacks the keys", "model.load_state_dict")


@case("10", "load() a checkpoint missing 'opt_d' and 'history'")
def missing_keys(tmp: Path) -> str:
    path = small_trainer().save(tmp / "run.pt")
    state = torch.load(path, weights_only=True)
    del state["opt_d"], state["history"]
    torch.save(state, path)
    return load_bad(path, "lacks the keys ['opt_d', 'history']")


@case("10", "load() a checkpoint from a newer format version")
def newer_format(tmp: Path) -> str:
    path = small_trainer().save(tmp / "run.pt")
    state = torch.load(path, weights_only=True)
    state["format_version"] = FORMAT_VERSION + 1
    torch.save(state, path)
    return load_bad(path, "newer gan_tutorial")


@case("10", "load() a pickle of arbitrary Python objects")
def arbitrary_pickle(tmp: Path) -> str:
    (tmp / "run.pt").write_bytes(pickle.dumps({"model": Path("x")}, protocol=2))
    return load_bad(tmp / "run.pt", "Python objects other than tensors")


@case("10", "load() a checkpoint saved before format versions existed")
def old_checkpoint(tmp: Path) -> str:
    trainer = small_trainer()
    state = torch.load(trainer.save(tmp / "run.pt"), weights_only=True)
    del state["format_version"]
    torch.save(state, tmp / "old.pt")
    restored = small_trainer(steps=0)
    restored.load(tmp / "old.pt")
    if restored.history.iterations != trainer.history.iterations:
        raise Unhandled("history not restored")
    return "loads as before (no error)"


# ---------------------------------------------------------------- item 11 (checkpoint part)
@case("11", "Ctrl-C while save() is writing")
def ctrl_c_during_save(tmp: Path) -> str:
    trainer = small_trainer()
    path = trainer.save(tmp / "run.pt")
    good = path.read_bytes()
    real_save = torch.save

    def interrupted(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)
        raise KeyboardInterrupt

    torch.save = interrupted
    try:
        expect_error(lambda: trainer.save(path), KeyboardInterrupt)
    finally:
        torch.save = real_save
    if path.read_bytes() != good:
        raise Unhandled("the previous checkpoint changed")
    if tmp_path_for(path).exists():
        raise Unhandled(f"stale {tmp_path_for(path).name} left behind")
    return "KeyboardInterrupt re-raised; previous checkpoint intact, no .tmp left"


@case("11", "a stale run.pt.tmp from a save killed with kill -9")
def stale_tmp(tmp: Path) -> str:
    path = tmp / "run.pt"
    tmp_path_for(path).write_bytes(b"PK\x03\x04 half a checkpoint")
    check_writable(path)
    if tmp_path_for(path).exists():
        raise Unhandled("stale .tmp still there after check_writable")
    return "removed by check_writable(), which fit() calls before training"


# ---------------------------------------------------------------- item 12
@case("12", "check_writable(): checkpoint path inside a file")
def inside_a_file(tmp: Path) -> str:
    blocker = tmp / "notes.txt"
    blocker.write_text("a file")
    return expect_error(lambda: check_writable(blocker / "run.pt"), NotADirectoryError,
                        str(blocker), "is a file, not a folder")


@case("12", "check_writable(): checkpoint path is a folder")
def path_is_folder(tmp: Path) -> str:
    return expect_error(lambda: check_writable(tmp), IsADirectoryError, str(tmp), "is a folder")


@case("12", "check_writable(): read-only folder")
def read_only_folder(tmp: Path) -> str:
    if os.geteuid() != 0:
        folder = tmp / "ro"
        folder.mkdir()
        folder.chmod(0o555)
    elif Path("/sys/kernel").is_dir():  # root ignores permission bits; sysfs refuses anyway
        folder = Path("/sys/kernel")
    else:
        raise Unhandled("cannot make a read-only folder as root here")
    try:
        return expect_error(lambda: check_writable(folder / "run.pt"), PermissionError,
                            str(folder), "not writable")
    finally:
        if folder.is_relative_to(tmp):
            folder.chmod(0o755)


@case("12", "fit(checkpoint=path inside a file) fails before the first batch")
def fit_checks_before_training(tmp: Path) -> str:
    blocker = tmp / "notes.txt"
    blocker.write_text("a file")
    served = []

    class CountingLoader:
        def __len__(self) -> int:
            return 2

        def __iter__(self):
            for _ in range(2):
                served.append(1)
                yield torch.rand(4, 1, 8, 8) * 2 - 1

    trainer = small_trainer(steps=0)
    message = expect_error(lambda: trainer.fit(CountingLoader(), epochs=1, progress=False,
                                               checkpoint=blocker / "run.pt"),
                           NotADirectoryError, str(blocker))
    if served:
        raise Unhandled(f"found only after {len(served)} batches were trained: {message}")
    return message


# ---------------------------------------------------------------- items 1, 11: faults inside fit()
@case("1", "fit() on data with a NaN image, logits D (lesson 04's set-up) over a good checkpoint")
def fit_diverges(tmp: Path) -> str:
    from torch.utils.data import DataLoader, TensorDataset

    from gan_tutorial.train import TrainingDivergedError

    trainer = GANTrainer(DCGANGenerator(nz=4, ngf=2, nc=1, image_size=32),
                         DCGANDiscriminator(ndf=2, nc=1, image_size=32, logits=True,
                                            first_batch_norm=True), device="cpu", n_fixed=4)
    images = torch.rand(32, 1, 32, 32) * 2 - 1
    path = tmp / "run.pt"
    trainer.fit(DataLoader(TensorDataset(images), batch_size=8), 1, checkpoint=path, progress=False)
    good = path.read_bytes()
    images[20] = float("nan")
    message = expect_error(lambda: trainer.fit(DataLoader(TensorDataset(images), batch_size=8), 3,
                                               checkpoint=path, progress=False),
                           TrainingDivergedError, "iteration", "learning rate", str(path))
    if path.read_bytes() != good:
        raise Unhandled("the good checkpoint was overwritten")
    GANTrainer(DCGANGenerator(nz=4, ngf=2, nc=1, image_size=32),
               DCGANDiscriminator(ndf=2, nc=1, image_size=32, logits=True, first_batch_norm=True),
               device="cpu").load(path)
    return f"checkpoint kept and loadable; {message}"


@case("11", "Ctrl-C mid-epoch, then fit() again (was: the epoch counted twice)")
def interrupt_then_continue(tmp: Path) -> str:
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(torch.rand(40, 1, 8, 8) * 2 - 1), batch_size=8)

    class Interrupting:
        def __len__(self) -> int:
            return len(loader)

        def __iter__(self):
            for i, batch in enumerate(loader):
                if i == 3:
                    raise KeyboardInterrupt
                yield batch

    trainer = small_trainer(steps=0)
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        trainer.fit(Interrupting(), 2, checkpoint=tmp / "run.pt", progress=False)
        history = trainer.fit(loader, 2, checkpoint=tmp / "run.pt", progress=False)
    if history.iterations != 10 or history.epoch != [0] * 5 + [1] * 5:
        raise Unhandled(f"{history.iterations} iterations recorded for 2 epochs of 5 batches")
    if list(tmp.glob("*.tmp")):
        raise Unhandled("a .tmp file was left behind")
    return "the interrupted epoch was finished, not repeated: 10 iterations for 2 epochs of 5, no .tmp"


@case("11", "Ctrl-C during fit()'s final save")
def interrupt_during_final_save(tmp: Path) -> str:
    import signal

    from torch.utils.data import DataLoader, TensorDataset

    trainer = small_trainer(steps=0)
    real_save = trainer.save

    def save_with_ctrl_c(path):
        os.kill(os.getpid(), signal.SIGINT)
        return real_save(path)

    trainer.save = save_with_ctrl_c
    loader = DataLoader(TensorDataset(torch.rand(16, 1, 8, 8) * 2 - 1), batch_size=8)
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        history = trainer.fit(loader, 1, checkpoint=tmp / "run.pt", progress=False)
    saved = small_trainer(steps=0).load(tmp / "run.pt")
    if not history.interrupted or saved.iterations != 2 or list(tmp.glob("*.tmp")):
        raise Unhandled("the save was cut or the interrupt was lost")
    return "the save finished first; fit() returned with interrupted=True; checkpoint loads, no .tmp"


# ---------------------------------------------------------------- items 3, 4, 5, 8, 9, 13: data
@case("3", "a Pokémon unpack killed after 3 of 10 classes (was: reused forever)")
def pokemon_unpack_interrupted(tmp: Path) -> str:
    import zipfile

    from gan_tutorial.data import load_pokemon

    sprites = sorted(copy_from_data("pokemon/1", tmp).glob("*.png"))[:2]
    root = tmp / "root"
    root.mkdir()
    with zipfile.ZipFile(root / "pokemon.zip", "w") as archive:
        for c in range(10):
            for sprite in sprites:
                archive.write(sprite, f"pokemon/{c:03d}/{sprite.name}")
        archive.extractall(root, [m for m in archive.namelist() if m < "pokemon/003"])
    os.environ["GAN_TUTORIAL_CACHE"] = str(tmp / "cache")
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        classes = len(load_pokemon(root, image_size=16, download=False).classes)
    if classes != 10:
        raise Unhandled(f"{classes} classes after loading")
    return "incomplete folder detected and unpacked again from pokemon.zip: 10 of 10 classes"


def _mnist_copy(tmp: Path) -> Path:
    raw = tmp / "root" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        for suffix in ("", ".gz"):
            shutil.copy(data_root() / "MNIST" / "raw" / (name + suffix), raw)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"")
    os.environ["GAN_TUTORIAL_CACHE"] = str(tmp / "cache")
    return raw


def _damaged_mnist(tmp: Path, name: str, damage: Callable[[bytearray], bytes]) -> str:
    """A damaged file with no good copy to rebuild it from is named, and nothing is deleted
    (issue 15); one whose .gz is intact is rebuilt from it and kept as NAME.bad."""
    from gan_tutorial.data import CorruptDatasetError, load_mnist

    raw = _mnist_copy(tmp)
    (raw / name).write_bytes(damage(bytearray((raw / name).read_bytes())))
    if name.endswith(".gz"):
        return expect_error(lambda: load_mnist(raw.parent.parent, split="test", download=False),
                            CorruptDatasetError, str(raw / name), "Nothing was deleted")
    load_mnist(raw.parent.parent, split="test", download=False)
    if not (raw / f"{name}.bad").is_file():
        raise Unhandled(f"{name} was not kept as {name}.bad")
    return f"rebuilt from its intact .gz; the damaged file kept as {name}.bad"


@case("4", "a truncated MNIST .gz (was: 'MNIST was not found', and the advice did not help)")
def mnist_truncated(tmp: Path) -> str:
    return _damaged_mnist(tmp, "t10k-images-idx3-ubyte.gz", lambda b: bytes(b[:len(b) // 2]))


@case("4", "an extracted MNIST file with a zeroed header (was: bare AssertionError)")
def mnist_zero_header(tmp: Path) -> str:
    return _damaged_mnist(tmp, "t10k-images-idx3-ubyte", lambda b: bytes(16) + bytes(b[16:]))


@case("4", "an extracted MNIST file with same-size corrupted bytes (was: loaded silently)")
def mnist_same_size(tmp: Path) -> str:
    def flip(b: bytearray) -> bytes:
        b[5000:5100] = bytes(255 - x for x in b[5000:5100])
        return bytes(b)
    return _damaged_mnist(tmp, "t10k-images-idx3-ubyte", flip)


@case("5", "an image folder with a truncated JPEG and a zero-byte PNG")
def unreadable_images(tmp: Path) -> str:
    from gan_tutorial.data import find_unreadable_images, load_image_folder

    folder = tmp / "faces" / "ok"
    folder.mkdir(parents=True)
    for path in sorted((data_root() / "celeba" / "img_align_celeba").glob("*.jpg"))[:3]:
        shutil.copy(path, folder / path.name)
    (folder / "truncated.jpg").write_bytes((folder / path.name).read_bytes()[:3000])
    (folder / "empty.png").write_bytes(b"")
    with contextlib.redirect_stderr(open(os.devnull, "w")):  # its progress bar
        found = sorted(Path(path).name for path, _ in find_unreadable_images(folder.parent))
    if found != ["empty.png", "truncated.jpg"]:
        raise Unhandled(f"find_unreadable_images listed {found}")
    os.environ["GAN_TUTORIAL_CACHE"] = str(tmp / "cache")
    with contextlib.redirect_stdout(open(os.devnull, "w")), contextlib.redirect_stderr(open(os.devnull, "w")):
        message = expect_error(lambda: load_image_folder(folder.parent, image_size=16).images,
                               Exception, "truncated.jpg")
    return f"find_unreadable_images lists both; loading names the file: {message}"


@case("8", "the Pokémon download with no network (was: raw URLError)")
def pokemon_offline(tmp: Path) -> str:
    from urllib.error import URLError

    from gan_tutorial import data
    from gan_tutorial.data import DatasetNotFoundError

    def offline(*args, **kwargs):
        raise URLError("no route to host")

    real = data.download_url
    data.download_url = offline
    try:
        return expect_error(lambda: data.load_pokemon(tmp / "root", download=True),
                            DatasetNotFoundError, "could not be downloaded", "pokemon.zip")
    finally:
        data.download_url = real


@case("9", "GAN_TUTORIAL_DATA naming a file (was: NotADirectoryError / FileExistsError)")
def data_root_is_a_file(tmp: Path) -> str:
    from gan_tutorial.data import load_mnist

    (tmp / "data.txt").write_text("not a folder")
    os.environ["GAN_TUTORIAL_DATA"] = str(tmp / "data.txt")
    return expect_error(lambda: load_mnist(split="test"), Exception, "GAN_TUTORIAL_DATA", "folder")


@case("13", "make test on a machine without CelebA: skipped with a message; fails under CI=true")
def no_celeba(tmp: Path) -> str:
    import subprocess

    root = tmp / "root"
    root.mkdir()
    (root / "MNIST").symlink_to(data_root() / "MNIST")
    (root / "pokemon").symlink_to(data_root() / "pokemon")
    results = {}
    for ci in (False, True):
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        env.update(GAN_TUTORIAL_DATA=str(root), **({"CI": "true"} if ci else {}))
        results[ci] = subprocess.run([sys.executable, "-m", "pytest", "-rs", "-q",
                                      "notebooks/03_dcgan_celeba.ipynb"], cwd=REPO, env=env,
                                     capture_output=True, text=True, timeout=600)
    out = results[False].stdout
    if results[False].returncode != 0 or "CelebA is missing" not in out:
        raise Unhandled(f"outside CI: exit {results[False].returncode}: {out[-300:]}")
    if results[True].returncode == 0:
        raise Unhandled("CI=true passed without CelebA")
    return ("outside CI: lesson 03 skipped, exit 0, 'CelebA is missing: looked for …/celeba/"
            "img_align_celeba … downloaded by hand …'; CI=true: stops at once, exit "
            f"{results[True].returncode}")


# ---------------------------------------------------------------- runner
@contextlib.contextmanager
def isolated():
    """An empty temporary folder; the environment and torch.save are restored afterwards."""
    env, real_save = dict(os.environ), torch.save
    with tempfile.TemporaryDirectory(prefix="hostile_") as tmp:
        try:
            yield Path(tmp)
        finally:
            torch.save = real_save
            os.environ.clear()
            os.environ.update(env)
            for path in Path(tmp).rglob("*"):  # undo chmods so the folder can be removed
                with contextlib.suppress(OSError):
                    path.chmod(0o755)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="run only cases whose item or title contains this")
    parser.add_argument("--full", action="store_true", help="print whole messages")
    parser.add_argument("--traceback", action="store_true", help="print tracebacks of failures")
    args = parser.parse_args()
    torch.set_num_threads(1)
    chosen = [c for c in CASES if args.k in c.item or args.k.lower() in c.title.lower()]
    width = max(len(f"{c.item:>3}  {c.title}") for c in chosen)
    print(f"{'case':<{width}} · result")
    handled = 0
    start = time.perf_counter()
    for c in chosen:
        with isolated() as tmp:
            try:
                outcome, ok = c.run(tmp), True
            except Unhandled as err:
                outcome, ok = f"NOT HANDLED: {err}", False
            except Exception as err:  # noqa: BLE001 - a crash is a finding, keep going
                outcome, ok = f"NOT HANDLED (crashed): {type(err).__name__}: {err}", False
                if args.traceback:
                    traceback.print_exc()
        handled += ok
        text = outcome.replace(str(tmp), "<tmp>")
        if not args.full:
            text = textwrap.shorten(" ".join(text.split()), 220, placeholder=" …")
        mark = "ok  " if ok else "FAIL"
        print(f"{f'{c.item:>3}  {c.title}':<{width}} · {mark} {text}")
    print(f"\n{handled} of {len(chosen)} handled ({time.perf_counter() - start:.1f} s)")
    return 0 if handled == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
