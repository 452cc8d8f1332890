"""Lesson 06: saved runs (write, read, cut), the diagnosis measures, and the graded check."""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from gan_tutorial.lessons import saved_runs
from gan_tutorial.exercises.checks import CheckError
from gan_tutorial.exercises.diagnosis import (FAILURES, check_diagnosis, failures_named, grid_contrast, late_means,
                                    mean_jump, snapshot_change)
from gan_tutorial.history import History
from gan_tutorial.lessons import preset
from gan_tutorial.models import DCGANGenerator, FCDiscriminator, FCGenerator, UpsampleGenerator, weights_init
from gan_tutorial.lessons.saved_runs import SAVED_RUNS, load_run, read_tiles, save_run, write_tiles
from gan_tutorial.train import GANTrainer

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "06_troubleshooting.ipynb"
SHAPE = (1, 8, 8)


# ------------------------------------------------------------------ the graded check
@pytest.mark.parametrize("answer", ["mode dropping", "Mode collapse (partial)", "MODE-DROPPING!",
                                    "G drops digits: far too many 1s", "partial collapse onto the 1s"])
def test_right_answers_to_mystery_a_written_differently_pass(answer, capsys):
    check_diagnosis(answer, "mystery_a")
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize("answer", ["D wins, G stalls", "the discriminator wins", "vanishing gradient for G",
                                    "generator stalled: the minimax loss saturates", "d is too strong"])
def test_right_answers_to_mystery_b_written_differently_pass(answer, capsys):
    check_diagnosis(answer, "mystery_b")
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize("run", ["mystery_a", "mystery_b"])
def test_naming_every_failure_at_once_fails(run):
    everything = ", ".join(f.name for f in FAILURES.values())
    with pytest.raises(CheckError, match="names several failures"):
        check_diagnosis(everything, run)
    with pytest.raises(CheckError, match="names several failures"):
        check_diagnosis("mode collapse or D wins", run)


@pytest.mark.parametrize("run, wrong", [("mystery_a", "oscillation"), ("mystery_a", "D wins"),
                                        ("mystery_b", "checkerboard"), ("mystery_b", "mode collapse"),
                                        ("mystery_b", "the discriminator overfits")])
def test_a_wrong_failure_fails_without_giving_the_answer_away(run, wrong):
    with pytest.raises(CheckError) as failure:
        check_diagnosis(wrong, run)
    right = "mode" if run == "mystery_a" else "stall"
    assert right not in str(failure.value).lower().replace(wrong.lower(), "")


@pytest.mark.parametrize("answer", ["", "   ", "no idea", None, 3, FAILURES])
def test_answers_that_name_nothing_fail(answer):
    with pytest.raises(CheckError):
        check_diagnosis(answer, "mystery_a")


def test_an_unknown_run_is_named():
    with pytest.raises(CheckError, match="mystery_a, mystery_b"):
        check_diagnosis("mode collapse", "mystery_z")


def test_every_failure_is_recognised_by_its_own_name_and_nothing_else():
    for key, failure in FAILURES.items():
        assert failures_named(failure.name) == [key]
        assert failures_named(failure.signature) in ([key], [])  # a signature never names another
    assert failures_named("the discriminator overfits") == ["d_overfits"]
    assert failures_named("grid pattern on the background") == ["checkerboard"]
    assert failures_named("losses keep oscillating") == ["oscillation"]


def test_the_mystery_runs_carry_no_label():
    for name in ("mystery_a", "mystery_b"):
        run = load_run(name)
        assert failures_named(run.info["what"]) == [], run.info["what"]
        assert "sigmoid" not in run.info["source"].lower() and "smooth" not in run.info["what"].lower()


# ------------------------------------------------------------------ measures
def smooth_images(n=16, side=64, seed=0) -> torch.Tensor:
    """Blurred noise in [-1, 1]: a stand-in for natural images, without any lattice."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, side // 8, side // 8, generator=g)
    x = torch.nn.functional.interpolate(x, size=side, mode="bilinear", align_corners=False)
    return x * 2 - 1


def test_grid_contrast_is_about_one_without_a_grid_and_large_with_one():
    plain = smooth_images()
    assert 0.8 < grid_contrast(plain) < 1.25
    lattice = torch.zeros(64, 64)
    lattice[::16, :] = 1
    lattice[:, ::16] = 1
    gridded = (plain + 0.3 * lattice).clamp(-1, 1)
    assert grid_contrast(gridded) > 3
    off_lattice = torch.zeros(64, 64)
    off_lattice[::13, :] = 1  # a period that is not the generator's: not counted
    assert grid_contrast((plain + 0.3 * off_lattice).clamp(-1, 1)) < 1.5


def test_grid_contrast_reads_uint8_and_float_alike_and_ignores_brightness():
    images = smooth_images()
    lattice = torch.zeros(64, 64)
    lattice[::8, ::8] = 0.5
    images = (images * 0.5 + lattice).clamp(-1, 1)
    as_uint8 = ((images + 1) / 2 * 255).round().to(torch.uint8)
    assert grid_contrast(images) == pytest.approx(grid_contrast(as_uint8), rel=0.1)  # rounding adds a little noise
    assert grid_contrast(images) == pytest.approx(grid_contrast(images * 0.5 + 0.2), rel=1e-6)


def test_untrained_transposed_convolutions_print_a_grid_and_upsampling_does_not():
    torch.manual_seed(0)
    dcgan, upsample = DCGANGenerator(latent_dim=16, ngf=8, nc=1, image_size=32), UpsampleGenerator(16, 1, 32)
    dcgan.apply(weights_init)
    upsample.apply(weights_init)
    with torch.no_grad():
        assert grid_contrast(dcgan(torch.randn(16, 16, 1, 1))) > 1.5
        assert grid_contrast(upsample(torch.randn(16, 16))) < 1.2


@pytest.mark.parametrize("images, period", [(torch.zeros(8, 64, 64), None), (torch.zeros(2, 1, 64, 64), 1),
                                            (torch.zeros(2, 1, 64, 64), 12)])
def test_grid_contrast_refuses_bad_input(images, period):
    with pytest.raises(ValueError):
        grid_contrast(images, period)


def test_late_means_mean_jump_and_snapshot_change():
    history = History(loss_d=[9.0, 1.0, 2.0], loss_g=[0.0, 3.0, 5.0], d_x=[1.0, 0.5, 0.7],
                      d_g_z1=[0.0, 0.2, 0.4], d_g_z2=[0.0, 0.1, 0.3])
    assert late_means(history, last=2) == pytest.approx(
        {"loss_d": 1.5, "loss_g": 4.0, "d_x": 0.6, "d_g_z1": 0.3, "d_g_z2": 0.2})
    with pytest.raises(ValueError, match="empty"):
        late_means(History())
    assert mean_jump([0.2, 0.8, 0.5, float("nan"), 0.5]) == pytest.approx((0.6 + 0.3 + 0.0) / 3)
    with pytest.raises(ValueError):
        mean_jump([1.0])
    a = torch.zeros(2, 1, 4, 4, dtype=torch.uint8)
    b = torch.full((2, 1, 4, 4), 255, dtype=torch.uint8)
    assert snapshot_change([a, b, b]) == pytest.approx([1.0, 0.0])
    assert snapshot_change([torch.full((1, 1, 2, 2), -1.0), torch.ones(1, 1, 2, 2)]) == pytest.approx([1.0])


# ------------------------------------------------------------------ saved runs: write, read, cut
@pytest.mark.parametrize("shape, n, nrow", [((1, 5, 7), 7, 3), ((3, 4, 4), 9, 3), ((3, 6, 6), 1, 1)])
def test_tiles_round_trip_exactly(tmp_path, shape, n, nrow):
    images = torch.randint(0, 256, (n, *shape), dtype=torch.uint8)
    write_tiles(images, tmp_path / "tiles.png", nrow)
    assert torch.equal(read_tiles(tmp_path / "tiles.png", list(shape), n), images)
    with pytest.raises(ValueError, match="do not hold"):
        read_tiles(tmp_path / "tiles.png", [shape[0], shape[1] + 1, shape[2]], n)


@pytest.fixture
def run_folder(tmp_path) -> Path:
    """A real (tiny) training run's folder, as the command line writes it."""
    torch.manual_seed(0)
    G = FCGenerator(latent_dim=4, hidden=(16,), image_shape=SHAPE)
    D = FCDiscriminator(image_shape=SHAPE, hidden=(16,), logits=True)
    trainer = GANTrainer(G, D, device="cpu", n_fixed=6)
    data = DataLoader(TensorDataset(torch.rand(80, *SHAPE) * 2 - 1, torch.zeros(80)), batch_size=8, drop_last=True)
    folder = tmp_path / "run"
    trainer.fit(data, 3, snapshot_every=5, checkpoint=folder / "checkpoint.pt", progress=False,
                evaluate=lambda t: {"score": float(t.history.iterations)}, eval_every=10)
    config = preset("01", "quick").to_dict()
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "summary.json").write_text(json.dumps({"precision": "fp32", "torch_threads": 1,
                                                     "training_seconds_total": 12.0,
                                                     "metric_references": {"score": {"floor": 1.0}}}))
    return folder


def test_a_saved_run_keeps_the_curves_numbers_and_snapshots(run_folder, tmp_path):
    state = torch.load(run_folder / "checkpoint.pt", weights_only=False)["history"]
    out = save_run(run_folder, tmp_path / "saved" / "tiny", what="a test run", snapshots={10: (4, None), 30: (6, 4)},
                   measured={"x": 1}, extra_images={"fakes": (state["snapshots"][-1], 3)})
    run = load_run("tiny", root=tmp_path / "saved")
    assert run.iterations == 30 and run.block == 1
    for key in ("loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2"):
        assert getattr(run.history, key) == pytest.approx(state[key], rel=1e-6)
    assert run.history.metric_iterations == [0, 10, 20, 30]
    assert run.metrics == {"score": 30.0}
    assert torch.equal(run.snapshot(10), state["snapshots"][2][:4])
    assert run.snapshot().shape == (6, 1, 4, 4)  # the last, shrunk to 4x4 as asked
    assert torch.equal(run.images("fakes"), state["snapshots"][-1])
    assert run.info["measured"] == {"x": 1} and run.info["metric_references"] == {"score": {"floor": 1.0}}
    assert run.info["precision"] == "fp32" and run.config["seed"] == preset("01", "quick").seed
    assert "fp32" in run.describe() and "30 iterations" in run.describe() and "0.2 min" in run.describe()
    assert load_run(out).name == "tiny"  # a path works as well as a name
    with pytest.raises(KeyError, match="no snapshot at iteration 20"):
        run.snapshot(20)
    with pytest.raises(KeyError, match="no images 'real'"):
        run.images("real")


def test_cutting_a_run_keeps_what_it_had_done_by_then(run_folder, tmp_path):
    save_run(run_folder, tmp_path / "tiny", what="t", snapshots={10: (4, None), 30: (4, None)})
    run = load_run(tmp_path / "tiny")
    cut = run.until(15)
    assert cut.iterations == 15 and cut.history.loss_g == run.history.loss_g[:15]
    assert cut.history.metric_iterations == [0, 10] and list(cut.snapshots) == [10]
    assert cut.history.train_seconds == pytest.approx(12.0 * 15 / 30)
    assert "its first 15 of 30 iterations" in cut.describe() and run.iterations == 30  # the original is untouched
    with pytest.raises(ValueError, match="1..30"):
        run.until(31)


def test_long_runs_are_stored_as_block_means_on_the_right_axis(run_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(saved_runs, "MAX_POINTS", 10)  # 30 iterations -> blocks of 3
    save_run(run_folder, tmp_path / "tiny", what="t")
    state = torch.load(run_folder / "checkpoint.pt", weights_only=False)["history"]
    run = load_run(tmp_path / "tiny")
    assert run.block == 3 and run.iterations == 30
    assert run.history.loss_d[:3] == pytest.approx([np.mean(state["loss_d"][:3])] * 3, rel=1e-6)
    assert np.mean(run.history.loss_d) == pytest.approx(np.mean(state["loss_d"]), rel=1e-5)
    with pytest.raises(ValueError, match="multiple of 3"):
        run.until(10)
    assert run.until(9).iterations == 9


def test_a_missing_run_is_named_with_the_runs_that_exist(tmp_path):
    (tmp_path / "there").mkdir()
    (tmp_path / "there" / "run.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no saved run 'gone'.*saved runs there: there"):
        load_run("gone", root=tmp_path)


def test_save_run_refuses_a_snapshot_the_run_does_not_have(run_folder, tmp_path):
    with pytest.raises(ValueError, match="no snapshot at iteration 7"):
        save_run(run_folder, tmp_path / "x", what="t", snapshots={7: (4, None)})


# ------------------------------------------------------------------ the shipped runs
SHIPPED = sorted(p.parent.name for p in SAVED_RUNS.glob("*/run.json"))


def test_the_saved_runs_are_small_and_hold_no_weights():
    files = [p for p in SAVED_RUNS.rglob("*") if p.is_file()]
    assert len(SHIPPED) >= 12
    assert sum(p.stat().st_size for p in files) < 600_000
    assert {p.suffix for p in files} <= {".json", ".npz", ".png"}
    for name in SHIPPED:
        assert sum(p.stat().st_size for p in (SAVED_RUNS / name).iterdir()) < 100_000, name


@pytest.mark.parametrize("name", SHIPPED)
def test_every_saved_run_states_what_a_comparison_needs(name):
    run = load_run(name)
    for key in ("what", "source", "precision", "iterations", "training_seconds"):
        assert key in run.info, key
    for key in ("lesson", "seed", "lr", "batch_size", "epochs"):
        assert key in run.config, key
    assert run.iterations == run.info["iterations"] > 0 and run.snapshots
    assert run.info["training_seconds"] > 0 or run.info.get("time_note")
    assert re.search(r"seed \d+, (bf16|fp32)", run.describe())


# (failing run, fixed run, where both are cut): the gallery's comparisons
PAIRS = [("l02_sigmoid_stall", "l02_logits", 300), ("l01_no_dropout", "l01_dropout", None),
         ("l02_32_transposed", "l02_32_upsample", None), ("l04_no_augment", "l04_diffaugment", 700)]


@pytest.mark.parametrize("failing, fixed, at", PAIRS)
def test_each_fix_is_measured_on_the_same_budget(failing, fixed, at):
    a, b = load_run(failing), load_run(fixed)
    if at:
        a, b = a.until(at), b.until(at)
    assert a.iterations == b.iterations
    assert a.config["batch_size"] == b.config["batch_size"] and a.config["seed"] == b.config["seed"]
    assert a.info["precision"] == b.info["precision"] and a.config["lesson"] == b.config["lesson"]


def test_the_high_learning_rate_run_sees_as_many_sprites_as_the_class_run():
    high, low = load_run("l04_high_lr"), load_run("l04_diffaugment")
    seen = [run.iterations * run.config["batch_size"] for run in (high, low)]
    assert abs(seen[0] - seen[1]) <= high.config["batch_size"]
    assert high.config["augment"] == low.config["augment"]  # only lr and batch differ
    assert (high.config["lr"], high.config["batch_size"]) != (low.config["lr"], low.config["batch_size"])


def test_the_gallery_shows_what_the_lesson_says():
    """The claims of the lesson's prose, read from the saved runs (a regenerated run must keep them)."""
    stall, logits = load_run("l02_sigmoid_stall"), load_run("l02_logits")
    assert late_means(stall.history)["loss_g"] > 30 and late_means(stall.history)["d_x"] > 0.99
    assert round(stall.metrics["frechet_distance"]) == 951
    assert round(logits.until(300).metrics["frechet_distance"]) == 529 and round(logits.metrics["frechet_distance"]) == 181
    assert round(load_run("l02_sigmoid_seed1").metrics["frechet_distance"]) == 404
    no_dropout, dropout = load_run("l01_no_dropout"), load_run("l01_dropout")
    counts = np.array(no_dropout.info["measured"]["evaluation_fakes_digit_counts"])
    assert counts.argmax() == 1 and counts[0] / counts.sum() < 0.01
    assert no_dropout.metrics["top_digit_share"] > 0.28 > 0.21 > dropout.metrics["top_digit_share"]
    assert load_run("l04_no_augment").info["measured"]["grid_contrast"]["700"] > 6
    transposed, upsample = load_run("l02_32_transposed"), load_run("l02_32_upsample")
    assert transposed.info["measured"]["grid_contrast"]["200"] > 3 > 1.1 > upsample.info["measured"]["grid_contrast"]["200"]


# ------------------------------------------------------------------ the notebook
def test_the_lesson_loads_every_saved_run_and_grades_both_mysteries():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for name in SHIPPED:
        assert f'"{name}"' in source, f"saved run {name} is never used by the lesson"
    graded = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded == ['check_diagnosis(diagnosis_a, "mystery_a")', 'check_diagnosis(diagnosis_b, "mystery_b")']
