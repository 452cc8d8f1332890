"""Every training cell of every notebook follows the lesson's setting (quick, class or full).

A run length typed into a notebook (``epochs=5``, ``batch_size=100``, ``full_or_quick(5, 1)``)
would train the same in the class setting as in the full one: lesson 02's upsample model
once trained 5 epochs over 70,000 digits in a class period. So the arguments that decide how
much a cell trains must come from the preset (``cfg.epochs``, ``cfg.batch_size``, ...), and
the class setting must do the same work whatever the size of the dataset.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from torch.utils.data import Dataset

from gan_tutorial.data import limit_dataset, make_loader
from gan_tutorial.lessons import LESSONS, preset

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
# call -> the arguments (position, keyword) that decide how much it trains
RUN_LENGTH = {"fit": ((1, "epochs"), (None, "snapshot_every"), (None, "eval_every")),
              "make_loader": ((1, "batch_size"),),
              "limit_dataset": ((1, "limit"),)}


def _typed_in(node: ast.expr) -> str | None:
    """Why ``node`` is a run length typed into the notebook, or None when it comes from elsewhere."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Constant) and isinstance(inner.value, (int, float)) \
                and not isinstance(inner.value, bool):
            return f"the number {inner.value!r}"
        if isinstance(inner, ast.Call) and getattr(inner.func, "id", None) == "full_or_quick":
            return "full_or_quick(...), which gives the full value in the class setting"
    return None


def typed_run_lengths(source: str) -> list[str]:
    """Every run-length argument of fit/make_loader/limit_dataset typed into ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        for position, keyword in RUN_LENGTH.get(name, ()):
            args = [node.args[position]] if position is not None and len(node.args) > position else []
            args += [k.value for k in node.keywords if k.arg == keyword]
            for arg in args:
                why = _typed_in(arg)
                if why and not (keyword == "epochs" and isinstance(arg, ast.BinOp)):  # epochs + 1: resume
                    found.append(f"{name}(... {keyword}={ast.unparse(arg)}): {why}")
    return found


@pytest.mark.parametrize("name", NAMES)
def test_every_training_cell_reads_the_setting(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    typed = [f"cell {i}: {problem}" for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             for problem in typed_run_lengths(cell.source)]
    assert not typed, f"{name} types run lengths instead of reading its setting: {typed}"


def test_the_static_check_finds_typed_run_lengths():
    assert typed_run_lengths("trainer32.fit(loader32, full_or_quick(5, 1), snapshot_every=100)") == [
        "fit(... epochs=full_or_quick(5, 1)): full_or_quick(...), which gives the full value in the class setting",
        "fit(... snapshot_every=100): the number 100"]
    assert typed_run_lengths("make_loader(d, batch_size=64)") == ["make_loader(... batch_size=64): the number 64"]
    assert typed_run_lengths("t.fit(loader, cfg.epochs, snapshot_every=cfg.snapshot_every)") == []
    assert typed_run_lengths("t.fit(loader, epochs + 1, snapshot_every=None)") == []


SHIPPED = {("mnist", "train"): 60_000, ("mnist", "all"): 70_000, ("celeba", None): 6_000,
           ("pokemon", None): 1_639}  # items in ../shared/data


def shipped(cfg) -> int:
    """Items of the lesson's dataset (and MNIST split) in ../shared/data."""
    return SHIPPED[(cfg.dataset, cfg.data_kwargs.get("split"))]


class StandIn(Dataset):
    """A dataset of ``n`` items that loads nothing: stands in for all of CelebA or d2l's sprites."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        raise AssertionError("the stand-in is only counted, never loaded")


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_class_setting_does_the_same_work_on_a_sample_and_on_the_whole_dataset(lesson):
    cfg = preset(lesson, "class")
    assert cfg.limit is not None, "the class setting must cap the data it uses"
    updates = []
    for n in (shipped(cfg), 200_000):
        loader = make_loader(limit_dataset(StandIn(n), cfg.limit), cfg.batch_size)
        updates.append(len(loader) * cfg.epochs)
    assert updates[0] == updates[1] == LESSONS[lesson].settings["class"].iterations
    assert 300 <= updates[0] <= 40_000  # a class period's work, not a full run's


# ------------------------------------------------------------------ trainer and model arguments
TRAINER_OPTIONS = ("lr", "betas", "d_loss_reduction", "n_fixed", "g_loss", "d_steps", "real_label",
                   "lr_d", "loss", "ema_decay", "channels_last")
LESSON_OF = {"01_fc_gan_mnist": "01", "02_dcgan_mnist": "02", "03_dcgan_celeba": "03",
             "04_dcgan_pokemon": "04", "07_modern_gans": "07", "08_conditional_gan": "08"}


def calls_of(source: str, callee: str) -> list[ast.Call]:
    """Every call of the plain name ``callee`` in ``source``, except one assigned to a ``check_*``
    name: a trainer a page builds to check its hand-written step against ``train_step`` (one step
    in fp32 and the plain memory layout, so that both round alike), which trains no lesson."""
    tree = ast.parse(source)
    checking = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                and all(isinstance(t, ast.Name) and t.id.startswith("check_") for t in node.targets)}
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == callee and id(node) not in checking]


def literal_arguments(source: str, callee: str) -> list[dict]:
    """The keyword arguments written as literals in every call of ``callee`` in ``source``."""
    found = []
    for node in calls_of(source, callee):
        values = {}
        for keyword in node.keywords:
            try:
                values[keyword.arg] = ast.literal_eval(keyword.value)
            except ValueError:
                pass  # cfg.lr, a variable: read from the preset or built on the page
        found.append(values)
    return found


@pytest.mark.parametrize("name", sorted(LESSON_OF))
def test_every_trainer_and_discriminator_of_a_lesson_matches_its_preset(name):
    """Values typed on the page (lr=2e-4, logits=True) must be the preset's: a change to the
    preset that the notebook did not follow would make the CLI and the notebook train apart."""
    cfg = preset(LESSON_OF[name], "class").to_dict()
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    source = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    differing = []
    for call in literal_arguments(source, "GANTrainer"):
        for key in TRAINER_OPTIONS:
            if key in call and list(np_tuple(call[key])) != list(np_tuple(cfg[key])):
                differing.append(f"GANTrainer({key}={call[key]!r}), preset {cfg[key]!r}")
    for call in literal_arguments(source, cfg["discriminator"]):
        for key in ("logits", "first_batch_norm", "dropout"):
            if cfg["discriminator_kwargs"].get(key, False) != call.get(key, False):
                differing.append(f"{cfg['discriminator']}({key}={call.get(key, False)!r}), preset "
                                 f"{cfg['discriminator_kwargs'].get(key, False)!r}")
    assert not differing, f"{name} differs from its preset: {differing}"


def np_tuple(value):
    return value if isinstance(value, (list, tuple)) else [value]


def test_the_argument_reader_sees_literals_and_leaves_expressions():
    calls = literal_arguments("GANTrainer(G, D, lr=0.005, betas=cfg.betas, n_fixed=100)", "GANTrainer")
    assert calls == [{"lr": 0.005, "n_fixed": 100}]


def test_a_trainer_that_only_checks_a_step_on_the_page_is_not_read_as_a_lessons_trainer():
    source = ("trainer = GANTrainer(G, D, channels_last=False)\n"
              "check_trainer = GANTrainer(G, D, precision='fp32', channels_last=False)")
    assert literal_arguments(source, "GANTrainer") == [{"channels_last": False}]


def trainers_missing(source: str, options: set[str]) -> list[str]:
    """Each GANTrainer(...) call in ``source`` that does not pass every one of ``options``
    (a ``**trainer_kwargs(cfg)`` passes them all)."""
    found = []
    for node in calls_of(source, "GANTrainer"):
        given = {keyword.arg for keyword in node.keywords}
        if None not in given and options - given:
            found.append(f"{ast.unparse(node)[:60]}... lacks {', '.join(sorted(options - given))}")
    return found


@pytest.mark.parametrize("name", sorted(LESSON_OF))
def test_every_trainer_of_a_lesson_takes_the_options_of_its_settings(name):
    """An option only one setting uses (lesson 03's full run samples from a moving average of G)
    must reach every trainer the notebook builds, or the notebook's run of that setting would
    train without it while the command line's trains with it."""
    options = {key for setting in LESSONS[LESSON_OF[name]].settings.values() for key in setting.options
               if key in TRAINER_OPTIONS}
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    missing = [f"cell {i}: {problem}" for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
               for problem in trainers_missing(cell.source, options)]
    assert not missing, f"{name} builds trainers without its settings' options: {missing}"


def test_the_option_reader_finds_a_trainer_without_a_settings_option():
    assert trainers_missing("t = GANTrainer(G, D, lr=2e-4, device=device)", {"ema_decay"}) == [
        "GANTrainer(G, D, lr=0.0002, device=device)... lacks ema_decay"]
    assert trainers_missing("GANTrainer(G, D, ema_decay=cfg.ema_decay)", {"ema_decay"}) == []
    assert trainers_missing("GANTrainer(G, D, **trainer_kwargs(cfg))", {"ema_decay"}) == []
