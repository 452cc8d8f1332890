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
from gan_tutorial.exercises import diagnosis
from gan_tutorial.exercises.diagnosis import (EVIDENCE, FAILURES, check_diagnosis, check_evidence_reader, evidence_of,
                                              failures_named, failures_shown, grid_contrast, late_means, mean_jump,
                                              snapshot_change)
from gan_tutorial.history import History
from gan_tutorial.lessons import preset
from gan_tutorial.models import DCGANGenerator, FCDiscriminator, FCGenerator, UpsampleGenerator, weights_init
from gan_tutorial.lessons.saved_runs import SAVED_RUNS, load_run, read_tiles, save_run, write_tiles
from gan_tutorial.train import GANTrainer

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "06_troubleshooting.ipynb"
SHAPE = (1, 8, 8)


# ------------------------------------------------------------------ the graded checks
MYSTERIES = sorted(p.parent.name for p in SAVED_RUNS.glob("mystery_*/run.json"))
GALLERY = sorted(p.parent.name for p in SAVED_RUNS.glob("*/run.json") if not p.parent.name.startswith("mystery_"))


def own(name: str) -> tuple[saved_runs.SavedRun, dict]:
    run = load_run(name)
    return run, evidence_of(run)


def shown(name: str) -> list[str]:
    run, evidence = own(name)
    return failures_shown(evidence, bool(run.history.metrics.get("top_digit_share")), run.training_images)


def test_there_are_six_mysteries_with_a_healthy_one_and_one_with_several_failures():
    assert len(MYSTERIES) >= 6
    outcomes = {name: shown(name) for name in MYSTERIES}
    assert [] in outcomes.values(), outcomes
    assert any(len(keys) >= 2 for keys in outcomes.values()), outcomes
    assert len({tuple(keys) for keys in outcomes.values()}) >= 4, outcomes  # not one answer six times


def test_the_gallery_runs_meet_the_rules_the_lesson_names():
    """The failing run of each section meets its failure's rule; the fixed runs are healthy."""
    assert shown("l02_sigmoid_stall") == ["d_wins"]
    assert shown("l01_no_dropout") == ["mode_collapse"]
    assert "checkerboard" in failures_shown(evidence_of(load_run("l04_no_augment").until(700)), False, 1639)
    assert "d_overfits" in failures_shown(evidence_of(load_run("l04_no_augment").until(700)), False, 1639)
    for fixed in ("l01_dropout", "l02_logits", "l04_diffaugment", "l02_32_upsample"):
        assert shown(fixed) == [], fixed


def answer_for(keys: list[str]) -> str:
    return " and ".join(FAILURES[k].name for k in keys) or "healthy"


@pytest.mark.parametrize("name", MYSTERIES)
def test_each_mystery_passes_with_its_own_evidence_and_the_failures_it_shows(name, capsys):
    run, evidence = own(name)
    check_diagnosis(answer_for(shown(name)), evidence, run)
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize("name", MYSTERIES)
def test_every_wrong_diagnosis_gets_the_same_message(name):
    """No per-option feedback: trying the failures one by one learns nothing from the messages."""
    run, evidence = own(name)
    right = shown(name)
    messages = set()
    for wrong in [[k] for k in FAILURES if [k] != right] + ([[]] if right else []):
        with pytest.raises(CheckError) as refused:
            check_diagnosis(answer_for(wrong), evidence, run)
        messages.add(str(refused.value))
    assert len(messages) == 1, messages
    message = messages.pop()
    assert not any(FAILURES[k].name.lower() in message.lower() for k in FAILURES)


@pytest.mark.parametrize("name", MYSTERIES)
def test_numbers_that_are_not_the_runs_own_are_refused_before_the_diagnosis(name):
    run, evidence = own(name)
    for key in EVIDENCE:
        guessed = {**evidence, key: evidence[key] * 1.5 + 0.1}
        with pytest.raises(CheckError, match=f"{key} in your evidence is not {name}'s own"):
            check_diagnosis(answer_for(shown(name)), guessed, run)
    with pytest.raises(CheckError, match="missing: variety"):
        check_diagnosis("healthy", {k: v for k, v in evidence.items() if k != "variety"}, run)
    with pytest.raises(CheckError, match="dict of the five numbers"):
        check_diagnosis("healthy", "D(x) is 0.8", run)


def test_the_check_grades_the_evidence_not_a_stored_key():
    """The same run with D certain at the end becomes a stall: no answer is stored anywhere."""
    run = load_run("mystery_c")
    assert shown("mystery_c") == []
    n = len(run.history.d_x)
    run.history.d_x[-100:] = [0.999] * 100
    run.history.d_g_z2[-100:] = [0.001] * 100
    check_diagnosis("D wins, G stalls", evidence_of(run), run)
    with pytest.raises(CheckError, match="does not fit"):
        check_diagnosis("healthy", evidence_of(run), run)
    assert len(run.history.d_x) == n
    source = Path(diagnosis.__file__).read_text()
    assert not re.search(r"[0-9a-f]{32}", source) and "mystery_" not in source


# The loopholes of issue 32: answers a grader saw accepted though wrong, or refused though right.
def test_the_model_trained_fine_is_a_diagnosis_of_health_not_of_mode_collapse():
    assert failures_named("the model trained fine") == ["healthy"]
    run, evidence = own("mystery_a")
    assert shown("mystery_a") != []
    with pytest.raises(CheckError, match="does not fit"):
        check_diagnosis("the model trained fine", evidence, run)


@pytest.mark.parametrize("answer, keys", [
    ("mode collapse: too many 1s in the grid", ["mode_collapse"]),
    ("D wins; the grid is G's lattice, not a checkerboard problem", ["d_wins"]),
    ("mode dropping. D does not overfit", ["mode_collapse"]),
    ("the discriminator overpowers the generator", ["d_wins"]),
    ("no useful gradient reaches G", ["d_wins"]),
    ("G stalls, no mode collapse", ["d_wins"]),
    ("D doesn't overfit and there is no checkerboard; it oscillates", ["oscillation"]),
    ("D overfits the small dataset, with a checkerboard on every fake and fakes too alike",
     ["mode_collapse", "checkerboard", "d_overfits"]),
    ("healthy: nothing wrong", ["healthy"]),
    ("the model is fine", []),  # "model" is not "mode"
    ("the models trained well", ["healthy"]),
    ("grid", []),  # a grid alone is no checkerboard diagnosis
])
def test_the_matcher_reads_negations_and_the_words_of_each_failure(answer, keys):
    assert failures_named(answer) == keys


def test_every_failure_is_recognised_by_its_own_name_and_nothing_else():
    for key, failure in FAILURES.items():
        assert failures_named(failure.name) == [key]
        assert failures_named(failure.signature) in ([key], [])  # a signature never names another
    assert failures_named("the discriminator overfits") == ["d_overfits"]
    assert failures_named("grid pattern on the background") == ["checkerboard"]
    assert failures_named("losses keep oscillating") == ["oscillation"]


@pytest.mark.parametrize("answer", ["", "   ", "no idea", None, 3])
def test_answers_that_name_nothing_fail(answer):
    run, evidence = own("mystery_a")
    with pytest.raises(CheckError):
        check_diagnosis(answer, evidence, run)


def test_healthy_and_a_failure_at_once_is_refused():
    run, evidence = own("mystery_a")
    with pytest.raises(CheckError, match="healthy and names a failure"):
        check_diagnosis("healthy, some mode collapse", evidence, run)


@pytest.mark.parametrize("name", MYSTERIES)
def test_the_mystery_runs_carry_only_what_a_user_of_a_run_sees(name):
    info = json.loads((SAVED_RUNS / name / "run.json").read_text())
    assert set(info) <= set(saved_runs.PUBLIC_FIELDS), set(info) - set(saved_runs.PUBLIC_FIELDS)
    assert set(info["config"]) <= set(saved_runs.PUBLIC_CONFIG)
    text = json.dumps(info).lower()
    for giveaway in ("source", "sweep", "minimax", "smooth", "label", "dropout", "augment", "lr", "loss",
                     "recipe", "/", "what", "measured"):
        assert giveaway not in text.replace("frechet_distance", "").replace("real vs real", ""), giveaway
    assert load_run(name).unlabelled


def test_no_page_names_a_mysterys_answer():
    pages = [REPO / "docs" / "teaching.md", REPO / "README.md", REPO / "docs" / "results.md"]
    for page in pages:
        for line in page.read_text().splitlines():
            if re.search(r"mystery(_| run )[a-h]\b", line, re.IGNORECASE):  # a line about one mystery run
                assert failures_named(line) == [], (page.name, line)


# ------------------------------------------------------------------ reading the evidence (exercise 06.1)
def reader(variant: str = "right"):
    def read(run):
        late = late_means(run.history)
        metrics = run.history.metrics
        quality = "frechet_distance" if metrics.get("frechet_distance") else "diversity_ratio"
        its = np.array(run.history.metric_iterations)
        values = np.array(metrics[quality], dtype=float)
        half = values if variant == "whole run" else values[its >= run.iterations / 2]
        variety = "top_digit_share" if metrics.get("top_digit_share") else "diversity_ratio"
        snapshot = run.snapshot(min(run.snapshots)) if variant == "first snapshot" else run.snapshot()
        return {"d_x": late["d_x"], "d_g_z": late["d_g_z1" if variant == "before D's step" else "d_g_z2"],
                "variety": metrics[variety][-1], "grid_contrast": grid_contrast(snapshot),
                "quality_jump": mean_jump(half) / half.mean()}
    return read


def test_a_right_evidence_reader_passes(capsys):
    runs = [load_run(name) for name in GALLERY]
    check_evidence_reader(reader(), runs)
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize("variant, off", [("before D's step", "d_g_z"), ("whole run", "quality_jump"),
                                          ("first snapshot", "grid_contrast")])
def test_an_evidence_reader_that_measures_elsewhere_is_named(variant, off):
    runs = [load_run(name) for name in GALLERY]
    with pytest.raises(CheckError, match=f"off in .*{off}"):
        check_evidence_reader(reader(variant), runs)


def test_the_packages_evidence_is_not_an_answer_to_06_1():
    runs = [load_run(name) for name in GALLERY]
    with pytest.raises(CheckError, match="evidence_of"):
        check_evidence_reader(lambda run: diagnosis.evidence_of(run), runs)


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
    assert sum(p.stat().st_size for p in files) < 900_000
    assert {p.suffix for p in files} <= {".json", ".npz", ".png"}
    for name in SHIPPED:
        assert sum(p.stat().st_size for p in (SAVED_RUNS / name).iterdir()) < 100_000, name


@pytest.mark.parametrize("name", SHIPPED)
def test_every_saved_run_states_what_a_comparison_needs(name):
    run = load_run(name)
    if name.startswith("mystery_"):  # unlabelled: what a user of a run sees (tested above)
        assert re.search(r"images at \d+ px, batch \d+, [\d,]+ iterations .*(bf16|fp32)", run.describe())
        return
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
def test_the_lesson_loads_every_saved_run_and_grades_every_mystery_from_evidence():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for name in GALLERY:
        assert f'"{name}"' in source, f"saved run {name} is never used by the lesson"
    graded = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    letters = [name.split("_")[1] for name in MYSTERIES]
    assert graded == ["check_evidence_reader(read_evidence, list(runs.values()))"] + [
        f'check_diagnosis(diagnosis_{x}, evidence_{x}, mysteries["{x.upper()}"])' for x in letters]
