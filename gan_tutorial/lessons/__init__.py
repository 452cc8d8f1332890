"""Lesson presets: each lesson's data, models, trainer settings and run lengths in one place.

The notebooks and the command line (``python -m gan_tutorial train 02``) read the same
presets, so a lesson trains the same way wherever it runs. Every lesson has three settings:

* ``quick``: a small slice of the data for an epoch or two, about a minute on a CPU (CI);
* ``class``: a fixed amount of work (updates and images seen, on a capped slice of the data)
  that shows recognisable images within 10 minutes on a 2-core CPU, whether the data root
  holds a sample of the dataset or all of it;
* ``full``: the source tutorial's settings where the lesson follows one (lesson 03 adapts
  them to the 6,000-face sample it ships with).

    cfg = preset("02", "class")          # a RunConfig: plain values, JSON-friendly
    G, D = build_models(cfg)
    dataset = load_dataset(cfg)
    trainer = GANTrainer(G, D, **trainer_kwargs(cfg))
"""
from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import MISSING, asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from torch import nn
from torch.utils.data import Dataset

from . import config_fields as fields
from .. import data, models
from ..augment import DiffAugment
from ..plumbing.environment import SETTINGS
from ..plumbing.precision import PRECISIONS
from ..losses import G_LOSSES, LOSSES

MAX_SAMPLES = 2_500  # the most images one grid holds (fixed noise, `sample -n`): a 50 x 50 grid


@dataclass(frozen=True)
class Setting:
    """How long, and on how much data, one setting of a lesson trains (and any run option,
    such as a moving average of G, that only this setting uses).

    With a ``limit`` the amount of work is fixed: ``iterations`` updates whatever the size of
    the dataset in the data root (as long as it holds at least ``limit`` items).
    """

    epochs: int
    batch_size: int
    limit: int | None  # how many items of the dataset to use (evenly spread); None: all
    snapshot_every: int | None  # iterations between fixed-noise snapshots (the progress GIF)
    eval_every: int | None = None  # iterations between quality evaluations; None: about 20 a run
    n_eval: int | None = None  # images generated (and real ones compared) per evaluation;
    # None: 1,000 digits or 200 colour images
    options: dict[str, Any] = field(default_factory=dict)  # RunConfig fields of this setting alone

    @property
    def iterations(self) -> int | None:
        """Updates this setting trains (batches are whole: the last partial one is dropped)."""
        return None if self.limit is None else self.epochs * (self.limit // self.batch_size)


@dataclass(frozen=True)
class Lesson:
    """Everything that defines one lesson's training run, for all three settings."""

    name: str
    title: str
    notebook: str
    seed: int
    dataset: str  # "mnist", "celeba", "pokemon" or "image_folder" (see load_dataset)
    data_kwargs: dict[str, Any]
    generator: str  # a class name from gan_tutorial.models
    generator_kwargs: dict[str, Any]
    discriminator: str
    discriminator_kwargs: dict[str, Any]
    dcgan_init: bool  # apply models.weights_init (N(0, 0.02) conv weights) to both networks
    lr: float
    betas: tuple[float, float]
    d_loss_reduction: str  # "sum" (PyTorch DCGAN tutorial) or "mean" (d2l)
    n_fixed: int  # fixed noise vectors snapshotted for the progress animation
    settings: dict[str, Setting]
    augment: str | None = None  # a DiffAugment policy ("color,translation,cutout") or None
    options: dict[str, Any] = field(default_factory=dict)  # other RunConfig fields (loss, lr_d...)

    def config(self, setting: str = "full") -> "RunConfig":
        """The flat, JSON-friendly configuration of this lesson at one setting."""
        if setting not in self.settings:
            raise ValueError(f"setting must be one of {', '.join(SETTINGS)}, got {setting!r}")
        chosen = self.settings[setting]
        values = dict(
            lesson=self.name, setting=setting, seed=self.seed, dataset=self.dataset,
            data_kwargs=self.data_kwargs, limit=chosen.limit,
            generator=self.generator, generator_kwargs=self.generator_kwargs,
            discriminator=self.discriminator, discriminator_kwargs=self.discriminator_kwargs,
            dcgan_init=self.dcgan_init, lr=self.lr, betas=self.betas,
            d_loss_reduction=self.d_loss_reduction, n_fixed=self.n_fixed, augment=self.augment,
            batch_size=chosen.batch_size, epochs=chosen.epochs,
            snapshot_every=chosen.snapshot_every, eval_every=chosen.eval_every,
            n_eval=chosen.n_eval)
        # the setting's own options (lr, image size, ...) replace the lesson's
        return RunConfig(**copy.deepcopy({**values, **self.options, **chosen.options}))


@dataclass
class RunConfig:
    """One run: a lesson at one setting, possibly with fields overridden (CLI, config file).

    ``to_dict`` / ``from_dict`` round-trip through JSON; the command line stores it as
    ``config.json`` next to the checkpoint, which is how ``sample`` knows the architecture.
    """

    lesson: str
    setting: str
    seed: int
    dataset: str
    data_kwargs: dict[str, Any]
    limit: int | None
    generator: str
    generator_kwargs: dict[str, Any]
    discriminator: str
    discriminator_kwargs: dict[str, Any]
    dcgan_init: bool
    lr: float
    betas: tuple[float, float]
    d_loss_reduction: str
    n_fixed: int
    batch_size: int
    epochs: int
    snapshot_every: int | None
    augment: str | None = None  # DiffAugment policy applied to everything D sees, or None
    precision: str = "auto"  # see gan_tutorial.plumbing.precision; the CLI's --precision overrides it
    g_loss: str = "non-saturating"  # or "minimax"
    d_steps: int = 1  # D updates per G update
    real_label: float = 1.0  # D's target for real images (0.9: one-sided label smoothing)
    eval_every: int | None = None  # iterations between quality evaluations (None: about 20)
    n_eval: int | None = None  # images per quality evaluation (None: 1,000 digits, 200 others)
    lr_d: float | None = None  # D's learning rate if not lr (two time-scale update rule)
    loss: str = "bce"  # or "hinge", "wgan-gp" (gan_tutorial.losses)
    ema_decay: float | None = None  # sample from a moving average of G's weights (e.g. 0.999)
    channels_last: bool | None = None  # memory layout of conv models (None: channels-last if any)

    def problems(self) -> list[str]:
        """Every field that has a value this run cannot use, one sentence each."""
        loaders = {"mnist": data.load_mnist, "celeba": data.load_celeba,
                   "pokemon": data.load_pokemon, "image_folder": data.load_image_folder}
        found = (fields.choice("lesson", self.lesson, tuple(LESSONS))
                 + fields.choice("setting", self.setting, SETTINGS)
                 + fields.true_or_false("dcgan_init", self.dcgan_init)
                 + fields.seed("seed", self.seed)
                 + fields.choice("dataset", self.dataset, DATASETS)
                 + fields.positive_int("limit", self.limit, allow_none=True)
                 + fields.choice("generator", self.generator, tuple(GENERATORS))
                 + fields.choice("discriminator", self.discriminator, tuple(DISCRIMINATORS))
                 + fields.positive_number("lr", self.lr) + fields.betas("betas", self.betas)
                 + fields.choice("d_loss_reduction", self.d_loss_reduction, ("sum", "mean"))
                 + fields.positive_int("n_fixed", self.n_fixed)
                 + fields.positive_int("batch_size", self.batch_size)
                 + fields.positive_int("epochs", self.epochs, minimum=0)
                 + fields.positive_int("snapshot_every", self.snapshot_every, allow_none=True)
                 + fields.positive_int("eval_every", self.eval_every, allow_none=True)
                 + fields.positive_int("n_eval", self.n_eval, allow_none=True)
                 + fields.choice("precision", self.precision, PRECISIONS)
                 + fields.choice("g_loss", self.g_loss, G_LOSSES)
                 + fields.positive_int("d_steps", self.d_steps)
                 + (fields.positive_number("lr_d", self.lr_d) if self.lr_d is not None else [])
                 + fields.choice("loss", self.loss, LOSSES)
                 + fields.open_fraction("ema_decay", self.ema_decay, allow_none=True)
                 + fields.true_or_false("channels_last", self.channels_last, allow_none=True))
        if self.loss != "bce" and not self.discriminator_kwargs.get("logits", False):
            found.append(f"loss {self.loss!r} reads D's raw score: set discriminator_kwargs "
                         f"logits to true")
        if not (isinstance(self.real_label, (int, float)) and not isinstance(self.real_label, bool)
                and 0.5 < self.real_label <= 1):
            found.append(f"real_label must be a number in (0.5, 1] (0.9 is the usual smoothing), "
                         f"got {self.real_label!r}")
        if self.dataset in loaders:  # root, limit: their own settings, not data_kwargs
            found += fields.keyword_arguments("data_kwargs", self.data_kwargs, loaders[self.dataset],
                                              exclude=("root", "limit"))
            if isinstance(self.data_kwargs, dict) and "image_size" in self.data_kwargs:  # all four take it
                found += fields.positive_int("data_kwargs.image_size", self.data_kwargs["image_size"])
        if isinstance(self.n_fixed, int) and self.n_fixed > MAX_SAMPLES:
            found.append(f"n_fixed must be at most {MAX_SAMPLES:,} (fixed noise vectors drawn into "
                         f"one snapshot grid at every snapshot), got {self.n_fixed:,}")
        if self.generator in GENERATORS:
            found += fields.keyword_arguments("generator_kwargs", self.generator_kwargs,
                                              GENERATORS[self.generator])
        if self.discriminator in DISCRIMINATORS:
            found += fields.keyword_arguments("discriminator_kwargs", self.discriminator_kwargs,
                                              DISCRIMINATORS[self.discriminator])
        if self.augment is not None:
            try:
                DiffAugment(self.augment)
            except (ValueError, AttributeError) as err:
                found.append(f"augment: {err}")
        return found

    def check(self) -> "RunConfig":
        """Itself, or ValueError listing every field that has an unusable value."""
        found = self.problems()
        if found:
            raise ValueError("; ".join(found))
        return self

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["betas"] = list(self.betas)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RunConfig":
        """Build from a dict of the fields, as ``to_dict`` writes it (a field added since may be
        missing and takes its default); names unknown and missing fields."""
        values = _latent_dim_for_nz(values)  # runs saved before the rename say "nz"
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        optional = {f.name for f in dataclasses.fields(cls) if f.default is not MISSING}  # may be left out
        missing = sorted(names - set(values) - optional)
        if missing:
            raise ValueError(f"missing field(s) {', '.join(missing)}")
        config = cls(**values)
        if isinstance(config.betas, list):
            config.betas = tuple(config.betas)  # JSON has lists
        return config.check()

    def override(self, **changes: Any) -> "RunConfig":
        """A copy with some fields changed; ``None`` values are ignored (flags not given)."""
        return self.updated(**{k: v for k, v in changes.items() if v is not None})

    def updated(self, **values: Any) -> "RunConfig":
        """A copy with fields set exactly as given, ``None`` included (a config file's
        ``"augment": null`` turns augmentation off); names unknown fields."""
        values = _latent_dim_for_nz(values)  # a config file copied from an old run says "nz"
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        changed = replace(self, **values)
        if isinstance(changed.betas, list):
            changed.betas = tuple(changed.betas)
        return changed.check()

    def evaluation_interval(self, batches_per_epoch: int) -> int:
        """Iterations between quality evaluations: ``eval_every``, else about 20 per run."""
        if self.eval_every is not None:
            return self.eval_every
        return max(1, self.epochs * batches_per_epoch // 20)

    def architecture(self) -> dict[str, Any]:
        """The fields a checkpoint depends on: resuming needs these to match."""
        return {"generator": self.generator, "generator_kwargs": self.generator_kwargs,
                "discriminator": self.discriminator,
                "discriminator_kwargs": self.discriminator_kwargs}


def _latent_dim_for_nz(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with generator_kwargs' ``"nz"`` called ``"latent_dim"``: every generator's
    noise size has that one name now, and the config.json of runs saved before says ``"nz"``."""
    kwargs = values.get("generator_kwargs")
    if isinstance(kwargs, dict) and "nz" in kwargs and "latent_dim" not in kwargs:
        renamed = {("latent_dim" if key == "nz" else key): value for key, value in kwargs.items()}
        values = {**values, "generator_kwargs": renamed}
    return values


# ------------------------------------------------------------------------------ the lessons
# Class settings: a fixed number of updates on a capped slice of the data (``limit`` no larger
# than the samples in shared/data), so a class run does the same work with a sample of the
# dataset or all of it. Every discriminator returns logits (BCEWithLogitsLoss): with a Sigmoid
# and BCELoss a discriminator that becomes certain stops G's gradient (lesson 02 shows it).
# A comment at a choice says why it was made; the runs behind it are in docs/results.md,
# "Why the presets are what they are".
LESSON_01 = Lesson(
    name="01", title="Fully connected GAN on MNIST", notebook="01_fc_gan_mnist.ipynb", seed=1,
    dataset="mnist", data_kwargs={"split": "train", "image_size": 28},
    generator="FCGenerator", generator_kwargs={"latent_dim": 64, "hidden": [256, 256]},
    # Dropout in D, as in Goodfellow et al. (2014): without it this dense GAN over-draws thin
    # digits, 1s and 7s
    discriminator="FCDiscriminator",
    discriminator_kwargs={"hidden": [256, 256], "logits": True, "dropout": 0.3},
    dcgan_init=False, lr=2e-4, betas=(0.5, 0.999), d_loss_reduction="sum", n_fixed=64,
    settings={
        "quick": Setting(epochs=2, batch_size=100, limit=1000, snapshot_every=5, n_eval=200),
        "class": Setting(epochs=60, batch_size=100, limit=60_000, snapshot_every=1_200,
                         eval_every=2_400),
        "full": Setting(epochs=200, batch_size=100, limit=None, snapshot_every=4_000,
                        eval_every=6_000),
    },
)

def _at_size(lesson_kwargs: dict[str, dict[str, Any]], size: int) -> dict[str, dict[str, Any]]:
    """Setting options that train a lesson's data and DCGAN at ``size`` pixels instead."""
    return {name: {**kwargs, "image_size": size} for name, kwargs in lesson_kwargs.items()}


_LESSON_02_KWARGS = dict(
    data_kwargs={"split": "all", "image_size": 64},
    generator_kwargs={"latent_dim": 100, "ngf": 64, "nc": 1, "image_size": 64},
    discriminator_kwargs={"ndf": 64, "nc": 1, "image_size": 64, "logits": True})
_LESSON_02_CLASS_OPTIONS = {"lr": 4e-4, "ema_decay": 0.999, **_at_size(_LESSON_02_KWARGS, 32)}
LESSON_02 = Lesson(
    name="02", title="DCGAN on MNIST (64x64)", notebook="02_dcgan_mnist.ipynb", seed=0,
    dataset="mnist", generator="DCGANGenerator", discriminator="DCGANDiscriminator",
    dcgan_init=True, lr=2e-4, betas=(0.5, 0.999), d_loss_reduction="sum", n_fixed=100,
    **_LESSON_02_KWARGS,
    settings={
        "quick": Setting(epochs=1, batch_size=32, limit=128, snapshot_every=1, n_eval=200),
        # The same DCGAN at 32x32 (one doubling fewer: a quarter of the work per digit), twice the
        # learning rate and samples from a moving average of G: 3,500 updates of 32 reach a lower
        # Fréchet distance than 1,500 at 64x64 and lr 2e-4, in about half their time
        # (docs/results/sweeps/lesson02_class_vs_64px_1500x32.md, which
        # configs/lesson02_class_64px_1500x32.json pins)
        "class": Setting(epochs=7, batch_size=32, limit=16_000, snapshot_every=250, eval_every=350,
                         options=_LESSON_02_CLASS_OPTIONS),
        "full": Setting(epochs=5, batch_size=100, limit=None, snapshot_every=100, eval_every=175),
    },
)

_LESSON_03_KWARGS = dict(
    data_kwargs={"image_size": 64},
    generator_kwargs={"latent_dim": 100, "ngf": 64, "nc": 3, "image_size": 64},
    discriminator_kwargs={"ndf": 64, "nc": 3, "image_size": 64, "logits": True})
_LESSON_03_CLASS_OPTIONS = {"lr": 4e-4, "ema_decay": 0.999, **_at_size(_LESSON_03_KWARGS, 32)}

LESSON_03 = Lesson(
    name="03", title="DCGAN on CelebA faces", notebook="03_dcgan_celeba.ipynb", seed=999,
    dataset="celeba", generator="DCGANGenerator", discriminator="DCGANDiscriminator",
    **_LESSON_03_KWARGS,
    dcgan_init=True, lr=2e-4, betas=(0.5, 0.999), d_loss_reduction="sum", n_fixed=64,
    settings={
        # quick trains what class trains, so that CI's quick runs go through the class code path
        "quick": Setting(epochs=1, batch_size=32, limit=96, snapshot_every=1, n_eval=64,
                         options=_LESSON_03_CLASS_OPTIONS),
        # The same DCGAN at 32x32 with lr 4e-4, sampled from a moving average of G, as lesson
        # 02's class setting: 2,992 updates of 32 in well under half the time of 1,683 at 64x64
        # and lr 2e-4 (docs/results/sweeps/lesson03_class_vs_64px_1683x32.md, which
        # configs/lesson03_class_64px_1683x32.json pins), whose runs each repeated one speckled face
        "class": Setting(epochs=16, batch_size=32, limit=6_000, snapshot_every=200,
                         eval_every=300, n_eval=200,
                         options=_LESSON_03_CLASS_OPTIONS),
        # 50 epochs, since the source tutorial's 5 (all of CelebA: --epochs 5 --snapshot-every
        # 500) are only 230 updates on the 6,000-face sample; sampled from a moving average of G,
        # since G's own weights streak after about 30 passes
        "full": Setting(epochs=50, batch_size=128, limit=None, snapshot_every=100,
                        eval_every=230, n_eval=200, options={"ema_decay": 0.995}),
    },
)

LESSON_04 = Lesson(
    name="04", title="DCGAN on Pokémon sprites", notebook="04_dcgan_pokemon.ipynb", seed=0,
    dataset="pokemon", data_kwargs={"image_size": 64},
    # Half d2l's widths (32 base channels instead of 64): a quarter of the work in the middle
    # layers buys the 3,000 and more updates sprite-like shapes need within a class period
    generator="DCGANGenerator",
    generator_kwargs={"latent_dim": 100, "ngf": 32, "nc": 3, "image_size": 64},
    discriminator="DCGANDiscriminator",
    discriminator_kwargs={"ndf": 32, "nc": 3, "image_size": 64, "logits": True,
                          "first_batch_norm": True},
    dcgan_init=True, lr=2e-4, betas=(0.5, 0.999), d_loss_reduction="mean", n_fixed=64,
    augment="color,translation,cutout",
    settings={
        "quick": Setting(epochs=2, batch_size=32, limit=64, snapshot_every=1, n_eval=64),
        # Batches of 32, as lessons 02 and 03, so that 3,500 updates fit a class period; sampled
        # from a moving average of G, as lesson 03's full setting, since G's own weights at the
        # last update can draw white bands
        "class": Setting(epochs=70, batch_size=32, limit=1_600, snapshot_every=200,
                         eval_every=500, n_eval=200, options={"ema_decay": 0.995}),
        "full": Setting(epochs=300, batch_size=64, limit=None, snapshot_every=250,
                        eval_every=500, n_eval=200),
    },
)

# The d2l book's recipe for lesson 04 (its widths, lr 0.005, batch 256, no augmentation), which
# on the 1,639-sprite set draws one striped texture in a class period: kept to show and compare.
D2L_POKEMON = dict(lr=0.005, batch_size=256, augment=None,
                   generator_kwargs={**LESSON_04.generator_kwargs, "ngf": 64},
                   discriminator_kwargs={**LESSON_04.discriminator_kwargs, "ndf": 64})

# Lesson 07, "what modern GANs changed": lesson 02's DCGAN at 32x32 (a quarter of the work per
# image, so three seeds of every variant fit in a class period), then one change at a time.
_MNIST_32 = dict(
    dataset="mnist", data_kwargs={"split": "train", "image_size": 32}, dcgan_init=True,
    lr=2e-4, betas=(0.5, 0.999), d_loss_reduction="sum", n_fixed=100, seed=0,
    settings={
        "quick": Setting(epochs=1, batch_size=32, limit=128, snapshot_every=1, n_eval=200),
        "class": Setting(epochs=5, batch_size=64, limit=19_200, snapshot_every=100,
                         eval_every=100),
        "full": Setting(epochs=10, batch_size=64, limit=None, snapshot_every=500,
                        eval_every=500),
    },
)
_DCGAN_32 = dict(generator="DCGANGenerator",
                 generator_kwargs={"latent_dim": 100, "ngf": 64, "nc": 1, "image_size": 32},
                 discriminator="DCGANDiscriminator",
                 discriminator_kwargs={"ndf": 64, "nc": 1, "image_size": 32, "logits": True})


def _modern(name: str, title: str, d_kwargs: dict[str, Any] | None = None,
            **changes: Any) -> Lesson:
    """Lesson 07's baseline with one change (or a few): trainer options or Lesson fields."""
    base = {**_MNIST_32, **_DCGAN_32}
    base["discriminator_kwargs"] = {**base["discriminator_kwargs"], **(d_kwargs or {})}
    lesson_fields = {f.name for f in dataclasses.fields(Lesson)}
    base.update({k: v for k, v in changes.items() if k in lesson_fields})
    options = {k: v for k, v in changes.items() if k not in lesson_fields}
    return Lesson(name=name, title=title, notebook="07_modern_gans.ipynb", options=options, **base)


MODERN_VARIANTS = (
    _modern("07", "DCGAN at 32x32 (the baseline of lesson 07)"),
    _modern("07-hinge", "hinge loss", loss="hinge"),
    _modern("07-sn", "spectral normalisation in D", d_kwargs={"spectral_norm": True}),
    _modern("07-ttur", "two time-scale learning rates (G 1e-4, D 4e-4)", lr=1e-4, lr_d=4e-4),
    # decay 0.99: a class run is 1,500 updates; with 0.999 its first half would still hold 47%
    # of the average (lesson 07, exercise 2), and update 1's untrained weights 22%
    _modern("07-ema", "moving average of G's weights (decay 0.99)", ema_decay=0.99),
    # Gulrajani et al.: critic without BatchNorm, Adam(1e-4, (0, 0.9)), 5 critic steps per G step
    _modern("07-wgan-gp", "WGAN-GP", d_kwargs={"batch_norm": False}, loss="wgan-gp",
            lr=1e-4, betas=(0.0, 0.9), d_steps=5),
    _modern("07-combined", "hinge + spectral norm + two learning rates + moving average",
            d_kwargs={"spectral_norm": True}, loss="hinge", lr=1e-4, lr_d=4e-4, ema_decay=0.99),
    # the two changes that did no harm alone in the class runs
    _modern("07-hinge-ema", "hinge loss + moving average (decay 0.99)", loss="hinge", ema_decay=0.99),
)

# Lesson 08's conditional DCGAN: told which digit to draw (32x32, as lesson 07). Its class run is
# twice lesson 07's, because at 1,500 updates the share of digits drawn as asked was still rising,
# short of the 95% target.
_MNIST_32_LONGER_CLASS = {**_MNIST_32, "settings": {
    **_MNIST_32["settings"],
    "class": Setting(epochs=10, batch_size=64, limit=19_200, snapshot_every=200, eval_every=200)}}
LESSON_08 = Lesson(
    name="08", title="Conditional DCGAN on MNIST", notebook="08_conditional_gan.ipynb",
    generator="ConditionalGenerator",
    generator_kwargs={"num_classes": 10, "latent_dim": 100, "ngf": 64, "nc": 1, "image_size": 32},
    discriminator="ConditionalDiscriminator",
    discriminator_kwargs={"num_classes": 10, "ndf": 64, "nc": 1, "image_size": 32, "logits": True},
    **_MNIST_32_LONGER_CLASS)

LESSONS: dict[str, Lesson] = {lesson.name: lesson for lesson in
                              (LESSON_01, LESSON_02, LESSON_03, LESSON_04, *MODERN_VARIANTS,
                               LESSON_08)}

GENERATORS = {"FCGenerator": models.FCGenerator, "DCGANGenerator": models.DCGANGenerator,
              "UpsampleGenerator": models.UpsampleGenerator,
              "ConditionalGenerator": models.ConditionalGenerator}
DISCRIMINATORS = {"FCDiscriminator": models.FCDiscriminator,
                  "DCGANDiscriminator": models.DCGANDiscriminator,
                  "ConvDiscriminator": models.ConvDiscriminator,
                  "ConditionalDiscriminator": models.ConditionalDiscriminator}
DATASETS = ("mnist", "celeba", "pokemon", "image_folder")


def lesson_name(name: str) -> str:
    """Normalise "1", "01" or "lesson01" to "01" ("07-hinge": a variant of lesson 07); raise
    ValueError naming the choices."""
    key = str(name).strip().lower().removeprefix("lesson").strip("_ -")
    if key.isdigit() and f"{int(key):02d}" in LESSONS:
        return f"{int(key):02d}"
    if key in LESSONS:
        return key
    raise ValueError(f"unknown lesson {name!r}: choose one of {', '.join(LESSONS)}")


def preset(lesson: str, setting: str = "full") -> RunConfig:
    """The configuration of ``lesson`` (a name of :data:`LESSONS`: "01" to "04", "07" and its
    variants, "08"; see :func:`lesson_name`) at ``setting`` (quick, class or full)."""
    return LESSONS[lesson_name(lesson)].config(setting)


def build_models(config: RunConfig) -> tuple[nn.Module, nn.Module]:
    """The generator and discriminator of a run, DCGAN-initialised when the lesson says so."""
    if config.generator not in GENERATORS:
        raise ValueError(f"unknown generator {config.generator!r}: choose one of {', '.join(GENERATORS)}")
    if config.discriminator not in DISCRIMINATORS:
        raise ValueError(f"unknown discriminator {config.discriminator!r}: choose one of "
                         f"{', '.join(DISCRIMINATORS)}")
    generator = GENERATORS[config.generator](**config.generator_kwargs)
    discriminator = DISCRIMINATORS[config.discriminator](**config.discriminator_kwargs)
    if config.dcgan_init:
        generator.apply(models.weights_init)
        discriminator.apply(models.weights_init)
    return generator, discriminator


def trainer_kwargs(config: RunConfig) -> dict[str, Any]:
    """The ``GANTrainer`` keyword arguments of a run (all but the device): the one way the
    command line, the lessons and the notebooks build a trainer from a configuration."""
    return {"lr": config.lr, "betas": tuple(config.betas),
            "d_loss_reduction": config.d_loss_reduction, "n_fixed": config.n_fixed,
            "augment": DiffAugment(config.augment) if config.augment else None,
            "precision": config.precision, "g_loss": config.g_loss, "d_steps": config.d_steps,
            "real_label": config.real_label, "lr_d": config.lr_d, "loss": config.loss,
            "ema_decay": config.ema_decay, "channels_last": config.channels_last}


DATASET_FOLDERS = {"mnist": "MNIST", "celeba": "celeba", "pokemon": "pokemon"}  # under the data root


def image_folder_path(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """Where an ``image_folder`` run's images are: an absolute ``path`` as it is; a relative
    one under the data root (``root``, else ``$GAN_TUTORIAL_DATA``) when it is there, else
    in the working folder. DatasetNotFoundError naming both places when neither holds it."""
    if path is None:
        raise data.DatasetNotFoundError("an image_folder run needs data_kwargs.path: the folder "
                                        "that holds <any name>/<image> files")
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    under_root = data.data_root(root) / path
    if under_root.is_dir():
        return under_root
    if path.is_dir():
        return path
    raise data.DatasetNotFoundError(
        f"No image folder {path}: looked under the data root ({under_root}) and in the working "
        f"folder ({Path.cwd() / path}). Move the images to one of them, or give an absolute path.")


def dataset_folder(config: RunConfig, root: str | os.PathLike | None = None) -> Path:
    """The folder a run reads its training data from."""
    if config.dataset == "image_folder":
        return image_folder_path(config.data_kwargs.get("path"), root)
    return data.data_root(root) / DATASET_FOLDERS[config.dataset]


def load_dataset(config: RunConfig, root: str | None = None) -> Dataset:
    """The run's training data (``config.limit`` items of it), from the data root.

    ``image_folder`` reads any ImageFolder-style folder: ``data_kwargs={"path": ...}``
    (a relative path: see :func:`image_folder_path`).
    """
    kwargs = dict(config.data_kwargs)
    if config.dataset == "mnist":
        return data.load_mnist(root, limit=config.limit, **kwargs)
    if config.dataset == "celeba":
        return data.load_celeba(root, limit=config.limit, **kwargs)
    if config.dataset == "pokemon":
        return data.load_pokemon(root, limit=config.limit, **kwargs)
    if config.dataset == "image_folder":
        kwargs["path"] = image_folder_path(kwargs.get("path"), root)
        return data.load_image_folder(limit=config.limit, **kwargs)
    raise ValueError(f"unknown dataset {config.dataset!r}: choose one of {', '.join(DATASETS)}")


def _real_samples(config: RunConfig, n: int, root: str | None) -> tuple:
    """Two disjoint samples of ``n`` real images: what fakes are scored against, and a second
    one that gives the real-data floor."""
    if config.dataset == "mnist":
        from ..metrics import mnist_reference_digits

        return mnist_reference_digits(n, root=root)  # random test digits, not the first ones
    everything = load_dataset(replace(config, limit=None), root)
    both = data.first_images(data.limit_dataset(everything, 2 * n), 2 * n)
    return both[0::2], both[1::2]


def make_evaluator(config: RunConfig, n: int | None = None, root: str | None = None):
    """The quality numbers for a lesson, as ``fit(..., evaluate=...)`` takes them.

    Digits (MNIST: lessons 01, 02, 07, 08): the shipped MNIST classifier's Fréchet distance and digit
    coverage, against ``n`` (default 1,000) random real test digits. Colour images:
    Inception FID against ``n`` (default 200) training images when its weights are
    available, else the diversity ratio (see :mod:`gan_tutorial.metrics.fid`).
    """
    if config.dataset == "mnist":
        from ..metrics import mnist_evaluator

        real, _ = _real_samples(config, n or config.n_eval or 1000, root)
        return mnist_evaluator(real, n=len(real), seed=config.seed)
    from ..metrics.fid import fid_evaluator

    real, _ = _real_samples(config, n or config.n_eval or 200, root)
    return fid_evaluator(real, n=len(real), seed=config.seed)


def quality_references(config: RunConfig, n: int | None = None,
                       root: str | None = None) -> dict[str, dict[str, float]]:
    """What a lesson's quality numbers read against, at the evaluator's sample size.

    Digits: the Fréchet distance of real vs real digits (the floor) and of noise (the
    ceiling). Colour images: the diversity ratio of real vs real images (near 1).
    """
    if config.dataset == "mnist":
        from ..metrics import mnist_frechet_reference

        real, other = _real_samples(config, n or config.n_eval or 1000, root)
        return {"frechet_distance": mnist_frechet_reference(real, other)}
    from ..metrics import diversity_ratio

    real, other = _real_samples(config, n or config.n_eval or 200, root)
    return {"diversity_ratio": {"real vs real": diversity_ratio(other, real)}}
