"""The command line: python -m gan_tutorial train / sample / lessons, and the lesson presets."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_tutorial import GANTrainer
from gan_tutorial.lessons.cli import main, resolve_config
from gan_tutorial.lessons import (LESSONS, SETTINGS, RunConfig, build_models, lesson_name, preset,
                                   trainer_kwargs)

REPO = Path(__file__).resolve().parent.parent
PROMISED = ["checkpoint.pt", "config.json", "curves.png", "progress.gif", "real_vs_fake.png",
            "samples.png", "summary.json"]
# each lesson's quick setting, shrunk further so a test takes seconds: (extra CLI arguments)
SMALL = ["--limit", "8", "--batch-size", "4", "--snapshot-every", "2"]
TINY = {"01": ["--limit", "300"], "02": SMALL, "03": SMALL, "04": SMALL,
        "07": SMALL, "07-wgan-gp": SMALL, "07-combined": SMALL, "08": SMALL}
DATA_FIXTURE = {"01": "mnist_data", "02": "mnist_data", "03": "celeba_data", "04": "pokemon_data",
                "07": "mnist_data", "07-wgan-gp": "mnist_data", "07-combined": "mnist_data",
                "08": "mnist_data"}
# Lesson 07's other variants differ from "07" by one trainer option each, tested in
# test_modern_options.py; the quick runs cover the baseline, the gradient penalty's extra
# pass, all of the combined options at once, and the conditional model.


def run_cli(*args: str) -> int:
    return main([str(a) for a in args])


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, f"expected a one-line error, got:\n{err}"
    assert "Traceback" not in err
    return err


# ------------------------------------------------------------------------------ presets
@pytest.mark.parametrize("name", list(LESSONS))
@pytest.mark.parametrize("setting", SETTINGS)
def test_every_preset_builds_matching_models(name, setting):
    """G's images fit D and have the size the lesson's data is loaded at."""
    config = preset(name, setting)
    G, D = build_models(config)
    labels = (torch.tensor([0, 1]),) if getattr(G, "num_classes", None) else ()  # conditional: 08
    fake = G(torch.randn(2, *G.latent_shape), *labels)
    assert D(fake, *labels).shape == (2,)
    assert fake.shape[-1] == config.data_kwargs["image_size"]
    GANTrainer(G, D, device="cpu", **trainer_kwargs(config))


def test_settings_grow_from_quick_to_full():
    for lesson in LESSONS.values():
        quick, klass, full = (lesson.settings[s] for s in SETTINGS)
        images = [s.epochs * (s.limit or 10**9) for s in (quick, klass, full)]
        assert images[0] < images[1] <= images[2], lesson.name


def test_a_settings_own_options_override_the_lessons_for_that_setting_alone():
    base = LESSONS["03"]
    lesson = dataclasses.replace(base, options={"lr_d": 1e-4, "ema_decay": 0.9}, settings={
        **base.settings, "full": dataclasses.replace(base.settings["full"], options={"ema_decay": 0.99}),
        "class": dataclasses.replace(base.settings["class"], options={})})  # none of its own
    assert (lesson.config("full").ema_decay, lesson.config("full").lr_d) == (0.99, 1e-4)
    assert (lesson.config("class").ema_decay, lesson.config("class").lr_d) == (0.9, 1e-4)
    # the shipped presets: each setting's options are in its config, and checked like the rest
    for lesson in LESSONS.values():
        for name, setting in lesson.settings.items():
            config = lesson.config(name).check()
            assert all(getattr(config, key) == value for key, value in setting.options.items())


def test_the_lesson_list_shows_the_options_of_a_setting(capsys):
    assert run_cli("lessons") == 0
    out = capsys.readouterr().out
    shown = [(lesson, name, setting) for lesson in LESSONS.values()
             for name, setting in lesson.settings.items() if setting.options]
    assert shown, "no setting has options of its own (lesson 03's full setting had ema_decay)"
    for lesson, name, setting in shown:
        block = out.split(f"{lesson.name}  {lesson.title}")[1].splitlines()
        line = next(text for text in block if text.split()[:1] == [name])
        assert all(f"{key} {value}" in line for key, value in setting.options.items()), line


def test_lesson_names():
    assert lesson_name("1") == lesson_name("01") == lesson_name("lesson01") == "01"
    with pytest.raises(ValueError, match="choose one of 01, 02, 03, 04"):
        lesson_name("05")


# ------------------------------------------------------------------------------ arguments
def test_help_names_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli("--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for word in ("train", "sample", "lessons", "torchrun"):
        assert word in out
    with pytest.raises(SystemExit):
        run_cli("train", "--help")
    out = capsys.readouterr().out
    for option in ("--setting", "--epochs", "--batch-size", "--device", "--precision", "--out"):
        assert option in out


@pytest.mark.parametrize("args, culprit", [
    (["train", "09"], "unknown lesson '09'"),
    (["train", "01", "--epochs", "-3"], "--epochs"),
    (["train", "01", "--epochs", "0"], "--epochs"),
    (["train", "01", "--batch-size", "many"], "--batch-size"),
    (["train", "01", "--precision", "fp8"], "--precision"),
    (["train", "01", "--setting", "long"], "--setting"),
    (["train", "missing.json"], "missing.json not found"),
    (["sample", "no/such/checkpoint.pt"], "no checkpoint at no/such/checkpoint.pt"),
])
def test_bad_arguments_give_one_line_and_exit_2(args, culprit, capsys):
    try:
        code = run_cli(*args)
    except SystemExit as exit_info:  # argparse's own checks
        code = exit_info.code
    assert code == 2
    assert culprit in one_line_error(capsys)


def test_unwritable_out_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert run_cli("train", "01", "--setting", "quick", "--out", blocker / "run") == 2
    assert f"cannot write to --out {blocker / 'run'}" in one_line_error(capsys)


def test_bad_device_is_named(tmp_path, capsys):
    assert run_cli("train", "01", "--setting", "quick", "--device", "tpu", "--out", tmp_path) == 2
    assert "--device tpu" in one_line_error(capsys)


def test_error_from_the_real_command_has_no_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "gan_tutorial", "train", "99"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"python -m gan_tutorial train: error: unknown lesson '99': choose one of {', '.join(LESSONS)}, "
        "or a .json/.toml config file"]


# ------------------------------------------------------------------------------ train
@pytest.mark.parametrize("name", list(TINY))
def test_quick_run_of_each_lesson_writes_every_promised_file(name, tmp_path, request, capsys):
    request.getfixturevalue(DATA_FIXTURE[name])  # skips (outside CI) with how-to when data is missing
    out = tmp_path / "run"
    assert run_cli("train", name, "--setting", "quick", "--device", "cpu", "--out", out, *TINY[name]) == 0
    for file in PROMISED:
        assert (out / file).is_file(), f"{file} missing; have {sorted(p.name for p in out.iterdir())}"
    config = preset(name, "quick")
    assert len(list((out / "samples").glob("epoch_*.png"))) == config.epochs
    summary = json.loads((out / "summary.json").read_text())
    assert summary["lesson"] == name and summary["setting"] == "quick"
    assert summary["epochs_done"] == config.epochs
    assert summary["iterations"] == summary["this_run"]["iterations"] > 0
    assert summary["this_run"]["images_per_second"] > 0
    assert set(summary["final"]) == {"loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2"}
    assert Image.open(out / "progress.gif").n_frames >= 2
    # not a terminal here: one line per N iterations instead of a bar
    assert f"[1/{config.epochs}][0/" in capsys.readouterr().out


def test_rerun_resumes_from_out(tmp_path, mnist_data, capsys):
    out = tmp_path / "run"
    assert run_cli("train", "01", "--setting", "quick", "--limit", "300", "--epochs", "1",
                   "--out", out) == 0
    first = json.loads((out / "summary.json").read_text())
    assert run_cli("train", "01", "--setting", "quick", "--limit", "300", "--epochs", "2",
                   "--out", out) == 0
    assert "resuming at epoch 1" in capsys.readouterr().out
    second = json.loads((out / "summary.json").read_text())
    assert second["epochs_done"] == 2
    assert second["iterations"] == 2 * first["iterations"]
    assert second["this_run"]["iterations"] == first["iterations"]
    assert second["training_seconds_total"] > first["training_seconds_total"]
    trainer = GANTrainer(*build_models(preset("01")), device="cpu")
    assert trainer.load(out / "checkpoint.pt").epochs_done == 2


def test_resume_refuses_another_architecture(tmp_path, mnist_data, capsys):
    out = tmp_path / "run"
    assert run_cli("train", "01", "--setting", "quick", "--limit", "200", "--epochs", "1",
                   "--out", out) == 0
    capsys.readouterr()
    assert run_cli("train", "02", "--setting", "quick", "--out", out) == 2
    assert "holds a checkpoint of lesson 01" in one_line_error(capsys)


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_config_file_overrides_preset_fields(suffix, tmp_path, mnist_data):
    path = tmp_path / f"small{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps({"lesson": "01", "setting": "quick", "epochs": 1, "limit": 200,
                                    "generator_kwargs": {"latent_dim": 16, "hidden": [32]}}))
    else:
        path.write_text('lesson = "01"\nsetting = "quick"\nepochs = 1\nlimit = 200\n'
                        '[generator_kwargs]\nlatent_dim = 16\nhidden = [32]\n')
    out = tmp_path / "run"
    assert run_cli("train", path, "--out", out) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["generator_kwargs"] == {"latent_dim": 16, "hidden": [32]}
    assert saved["epochs"] == 1 and saved["limit"] == 200 and saved["lr"] == preset("01").lr
    # the run's own config.json is a config file too, and the command line still wins
    assert run_cli("train", out / "config.json", "--epochs", "2", "--out", out) == 0
    assert json.loads((out / "summary.json").read_text())["epochs_done"] == 2


def test_a_null_in_a_config_file_turns_the_option_off(tmp_path):
    """Lesson 04's d2l recipe file says "augment": null; it once trained with DiffAugment anyway."""
    path = tmp_path / "d2l.json"
    path.write_text(json.dumps({"lesson": "04", "setting": "class", "lr": 0.005, "batch_size": 256,
                                "augment": None, "eval_every": None}))
    config = resolve_config(str(path), None)
    assert preset("04", "class").augment is not None
    assert config.augment is None and config.eval_every is None and config.lr == 0.005
    # flags not given on the command line (None) still change nothing
    assert config.override(epochs=None, augment=None).augment is None
    assert preset("04", "class").override(augment=None).augment == preset("04", "class").augment


def test_config_file_with_unknown_field_is_named(tmp_path, capsys):
    path = tmp_path / "typo.json"
    path.write_text(json.dumps({"lesson": "01", "epoch": 3}))
    assert run_cli("train", path) == 2
    assert "unknown field(s) epoch" in one_line_error(capsys)


# ------------------------------------------------------------------------------ sample
def test_sample_draws_from_a_run_and_from_a_notebook_checkpoint(tmp_path, mnist_data, capsys):
    out = tmp_path / "run"
    assert run_cli("train", "01", "--setting", "quick", "--limit", "200", "--epochs", "1",
                   "--out", out) == 0
    grid = tmp_path / "grid.png"
    assert run_cli("sample", out / "checkpoint.pt", "-n", "16", "-o", grid) == 0
    assert Image.open(grid).size == (4 * 30 + 2, 4 * 30 + 2)  # 4 x 4 digits of 28 + 2 padding
    assert run_cli("sample", out, "-n", "6", "--nrow", "3", "-o", grid) == 0  # the folder works too
    assert Image.open(grid).size == (3 * 30 + 2, 2 * 30 + 2)

    # a checkpoint without config.json (as the notebooks write) needs --lesson
    notebook_style = tmp_path / "elsewhere" / "01_fc_gan.pt"
    notebook_style.parent.mkdir()
    notebook_style.write_bytes((out / "checkpoint.pt").read_bytes())
    capsys.readouterr()
    assert run_cli("sample", notebook_style, "-o", grid) == 2
    assert "pass --lesson" in one_line_error(capsys)
    assert run_cli("sample", notebook_style, "--lesson", "01", "-n", "4", "-o", grid) == 0
    capsys.readouterr()
    assert run_cli("sample", notebook_style, "--lesson", "02", "-o", grid) == 1  # wrong architecture
    assert "cannot load" in one_line_error(capsys)


def test_sample_draws_from_the_moving_average_unless_asked_for_gs_own_weights(tmp_path, mnist_data):
    config = tmp_path / "ema.json"
    config.write_text(json.dumps({"lesson": "01", "setting": "quick", "ema_decay": 0.5}))
    averaged, plain = tmp_path / "averaged", tmp_path / "plain"
    assert run_cli("train", config, *TINY["01"], "--no-eval", "--device", "cpu", "--out", averaged) == 0
    assert run_cli("train", "01", "--setting", "quick", *TINY["01"], "--no-eval", "--device", "cpu",
                   "--out", plain) == 0
    grids = {}
    for run in (averaged, plain):
        for flag in ((), ("--own-weights",)):
            path = tmp_path / f"{run.name}{len(flag)}.png"
            assert run_cli("sample", run, "-n", "16", "--seed", "3", *flag, "-o", path) == 0
            grids[run.name, bool(flag)] = np.asarray(Image.open(path))
    assert not np.array_equal(grids["averaged", False], grids["averaged", True])
    assert np.array_equal(grids["plain", False], grids["plain", True])  # no average: the same G


def test_eval_every_records_mnist_metrics(tmp_path, mnist_data):
    out = tmp_path / "run"
    assert run_cli("train", "01", "--setting", "quick", "--limit", "300", "--epochs", "1",
                   "--eval-every", "2", "--out", out) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert {"frechet_distance", "digits_covered"} <= set(summary["metrics"])
    assert summary["metrics"]["frechet_distance"] > 0
    assert (out / "metrics.png").is_file()
    trainer = GANTrainer(*build_models(preset("01")), device="cpu")
    assert trainer.load(out / "checkpoint.pt").metric_iterations == [0, 2, 3]


def test_no_eval_skips_the_quality_numbers(tmp_path, mnist_data):
    out = tmp_path / "run"
    assert run_cli("train", "01", "--setting", "quick", "--limit", "300", "--epochs", "1",
                   "--no-eval", "--out", out) == 0
    assert json.loads((out / "summary.json").read_text())["metrics"] == {}
    assert not (out / "metrics.png").exists()


# ------------------------------------------------------------------------------ one run per --out
def test_a_second_run_on_the_same_out_is_refused_until_the_first_is_gone(tmp_path, mnist_data, capsys):
    """Two writers on one --out overwrote each other's checkpoint (issue 15, case 3)."""
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom gan_tutorial.plumbing.run_lock import run_lock\n"
         "with run_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(600)\n", str(out)],
        stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "held"
        args = ["train", "01", "--setting", "quick", *TINY["01"], "--no-eval", "--device", "cpu",
                "--out", out]
        assert run_cli(*args) == 1
        err = one_line_error(capsys)
        assert f"in use by another training run (PID {holder.pid}, started" in err and "--out" in err
        assert not (out / "checkpoint.pt").exists()
    finally:
        holder.kill()  # kill -9: the lock goes with the process
        holder.wait()
    assert run_cli(*args) == 0  # a dead owner's lock is taken over
    assert (out / "checkpoint.pt").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_saves_then_exits_with_its_code_and_the_same_command_resumes(tmp_path, mnist_data, sig, code):
    """SIGTERM (kill, a scheduler's time limit) used to end a run with no message and lose its
    epoch; now it saves like Ctrl-C, and neither claims "done" nor exits 0."""
    import signal
    import time

    out = tmp_path / "run"
    command = [sys.executable, "-m", "gan_tutorial", "train", "01", "--setting", "quick", "--limit", "300",
               "--epochs", "400", "--no-eval", "--device", "cpu", "--out", str(out)]
    env = {**os.environ, "GAN_TUTORIAL_DATA": str(mnist_data), "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    deadline = time.monotonic() + 600  # a loaded machine can take minutes to import torch
    while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)  # the first epoch's checkpoint: training is under way
    assert (out / "checkpoint.pt").exists(), "training never started"
    run.send_signal(getattr(signal, sig))
    output, _ = run.communicate(timeout=120)
    assert run.returncode == code, output
    assert "Run the same command again to resume" in output and "done:" not in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] and 0 < summary["iterations"] < 400 * 3
    saved = torch.load(out / "checkpoint.pt", weights_only=True)["history"]
    assert len(saved["loss_d"]) == summary["iterations"]  # every update up to the signal was saved
    resumed = subprocess.run([*command[:-5], "--epochs", str(summary["epochs_done"] + 1), *command[-4:]],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming at epoch {summary['epochs_done']}" in resumed.stdout


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    import gan_tutorial.lessons.cli as cli_module

    def broken(args):
        raise RuntimeError("something deep inside\nwith a second line")

    monkeypatch.setattr(cli_module, "list_lessons", broken)
    assert run_cli("lessons") == 1
    err = one_line_error(capsys)
    assert "something deep inside with a second line" in err and "--debug" in err
    with pytest.raises(RuntimeError):
        run_cli("--debug", "lessons")
    monkeypatch.setenv("GAN_TUTORIAL_DEBUG", "maybe")
    assert run_cli("lessons") == 2
    assert "GAN_TUTORIAL_DEBUG='maybe'" in one_line_error(capsys)


# ------------------------------------------------------------------------------ hostile config files
BAD_FIELDS = {  # value -> words the one-line error must contain (the field and what it must be)
    '"lr": "fast"': ["lr must be a positive finite number", "'fast'"],
    '"lr": -0.001': ["lr must be a positive finite number"],
    '"lr": NaN': ["NaN is not a number JSON allows"],
    '"lr": Infinity': ["Infinity is not a number JSON allows"],
    '"epochs": 1e400': ["epochs must be a whole number >= 0", "inf"],
    '"epochs": 1.5': ["epochs must be a whole number >= 0", "1.5"],
    '"batch_size": 0': ["batch_size must be a whole number >= 1", "0"],
    '"betas": [0.5]': ["betas must be two numbers in [0, 1)"],
    '"n_fixed": 0': ["n_fixed must be a whole number >= 1"],
    '"generator_kwargs": "big"': ["generator_kwargs must be a table/object of arguments"],
    '"generator_kwargs": {"size": 3}': ["generator_kwargs has unknown key(s) 'size'", "accepted: latent_dim"],
    '"data_kwargs": {"split": "train", "image_size": 28, "root": "/"}': ["data_kwargs has unknown key(s) 'root'"],
    '"seed": -1': ["seed must be a whole number from 0"],
    '"augment": "rotate"': ["augment: DiffAugment policy 'rotate'"],
}


@pytest.mark.parametrize("field", BAD_FIELDS)
def test_a_bad_config_field_is_named_in_one_line_before_anything_trains(tmp_path, capsys, field):
    config = tmp_path / "bad.json"
    config.write_text('{"lesson": "01", "setting": "quick", ' + field + "}")
    assert run_cli("train", config, "--device", "cpu", "--out", tmp_path / "run") == 2
    err = one_line_error(capsys)
    assert str(config) in err and all(words in err for words in BAD_FIELDS[field]), err
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_config_files_with_a_bom_or_in_utf16_are_read(tmp_path, encoding):
    from gan_tutorial.lessons.cli import read_config_file

    config = tmp_path / "c.json"
    config.write_text('{"lesson": "01", "lr": 0.001}', encoding=encoding)
    assert read_config_file(config) == {"lesson": "01", "lr": 0.001}


def test_a_config_file_in_another_encoding_says_to_save_it_as_utf8(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_bytes('{"lesson": "01", "title": "Übung"}'.encode("latin-1"))
    assert run_cli("train", config, "--out", tmp_path / "run") == 2
    assert "is not UTF-8 text" in one_line_error(capsys)


def test_bad_flags_name_themselves(tmp_path, capsys):
    for args, words in ((["train", "01", "--seed", "-1"], "--seed: must be a whole number from 0"),
                        (["train", "01", "--seed", str(2**70)], "--seed: must be a whole number from 0"),
                        (["sample", tmp_path, "-n", "10000000"], "-n: at most 2,500 images"),
                        (["sample", tmp_path, "-o", tmp_path], "is a folder: give a file name"),
                        (["sample", tmp_path, "-o", tmp_path / "grid"], "has no image extension")):
        with pytest.raises(SystemExit) as stop:
            run_cli(*args)
        assert stop.value.code == 2
        assert words in one_line_error(capsys)


def test_a_hand_edited_config_json_is_not_blamed_on_the_checkpoint(tmp_path, mnist_data, capsys):
    out = tmp_path / "run"
    args = ["train", "01", "--setting", "quick", *TINY["01"], "--no-eval", "--device", "cpu", "--out", out]
    assert run_cli(*args) == 0
    checkpoint = (out / "checkpoint.pt").read_bytes()
    saved = json.loads((out / "config.json").read_text())
    saved["lr"] = "fast"
    (out / "config.json").write_text(json.dumps(saved))
    assert run_cli(*args[:-2], "--epochs", "3", "--out", out) == 2
    err = one_line_error(capsys)
    assert "config.json cannot be used" in err and "lr must be" in err
    assert "checkpoint next to it is not affected" in err
    assert (out / "checkpoint.pt").read_bytes() == checkpoint


def with_nz(config: dict) -> dict:
    """``config`` (a config.json) as runs saved before the rename wrote it: "nz" for latent_dim."""
    old = {**config, "generator_kwargs": {("nz" if key == "latent_dim" else key): value
                                          for key, value in config["generator_kwargs"].items()}}
    assert "nz" in old["generator_kwargs"] and "latent_dim" not in old["generator_kwargs"]
    return old


@pytest.mark.parametrize("lesson", ["02", "03", "04", "07", "08"])  # every preset that said "nz"
def test_a_config_saved_with_nz_reads_as_latent_dim(lesson):
    config = preset(lesson, "class")
    old = with_nz(config.to_dict())
    assert RunConfig.from_dict(old) == config
    assert RunConfig.from_dict(old).architecture() == config.architecture()  # so a resume matches
    assert config.updated(generator_kwargs=old["generator_kwargs"]) == config  # a config file too
    both = {**config.to_dict(), "generator_kwargs": {**config.generator_kwargs, "nz": 100}}
    with pytest.raises(ValueError, match=r"generator_kwargs has unknown key\(s\) 'nz'"):
        RunConfig.from_dict(both)  # two names for one size: refused, not guessed


def test_an_old_run_folder_with_nz_in_its_config_json_resumes_and_samples(tmp_path, mnist_data, capsys):
    out = tmp_path / "run"
    args = ["train", "02", "--setting", "quick", *TINY["02"], "--no-eval", "--device", "cpu"]
    assert run_cli(*args, "--out", out) == 0
    (out / "config.json").write_text(json.dumps(with_nz(json.loads((out / "config.json").read_text()))))
    capsys.readouterr()
    assert run_cli(*args, "--epochs", "2", "--out", out) == 0
    assert "resuming at epoch 1" in capsys.readouterr().out
    assert json.loads((out / "summary.json").read_text())["epochs_done"] == 2
    grid = tmp_path / "grid.png"
    (out / "config.json").write_text(json.dumps(with_nz(json.loads((out / "config.json").read_text()))))
    assert run_cli("sample", out, "-n", "4", "-o", grid) == 0
    side = json.loads((out / "config.json").read_text())["data_kwargs"]["image_size"] + 2  # + padding
    assert Image.open(grid).size == (2 * side + 2, 2 * side + 2)  # 2 x 2 digits
    assert run_cli("sample", out, "--config", out / "config.json", "-n", "4", "-o", grid) == 0


def test_sample_draws_large_counts_in_batches(tmp_path, mnist_data, monkeypatch):
    import gan_tutorial.lessons.cli as cli_module

    out = tmp_path / "run"
    assert run_cli("train", "01", "--setting", "quick", *TINY["01"], "--no-eval", "--device", "cpu",
                   "--out", out) == 0
    monkeypatch.setattr(cli_module, "SAMPLE_BATCH", 7)
    drawn = []
    real_sample = GANTrainer.sample
    monkeypatch.setattr(GANTrainer, "sample", lambda self, *a, **k: drawn.append(k.get("n")) or real_sample(self, *a, **k))
    assert run_cli("sample", out, "-n", "20", "-o", tmp_path / "g.png") == 0
    assert drawn == [7, 7, 6]
    assert Image.open(tmp_path / "g.png").size[0] > 0


# ------------------------------------------------------------------------------ the environment
def test_the_cli_reads_the_setting_from_the_environment_and_a_flag_overrides_it(monkeypatch):
    from gan_tutorial.lessons.cli import resolve_config

    monkeypatch.delenv("GAN_TUTORIAL_QUICK", raising=False)
    monkeypatch.delenv("GAN_TUTORIAL_SETTING", raising=False)
    assert resolve_config("02", None).setting == "full"
    monkeypatch.setenv("GAN_TUTORIAL_SETTING", "class")
    assert resolve_config("02", None).setting == "class"
    assert resolve_config("02", "full").setting == "full"  # the flag wins
    monkeypatch.setenv("GAN_TUTORIAL_QUICK", "1")
    assert resolve_config("02", None).setting == "quick"
    assert resolve_config("02", "class").setting == "class"


@pytest.mark.parametrize("variable, value", [("GAN_TUTORIAL_QUICK", "maybe"), ("GAN_TUTORIAL_SETTING", "long")])
def test_a_bad_environment_value_is_the_same_clear_error_in_the_cli(monkeypatch, capsys, variable, value):
    from gan_tutorial.plumbing.environment import lesson_setting

    monkeypatch.delenv("GAN_TUTORIAL_QUICK", raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError) as notebook_error:  # what a notebook's first cell raises
        lesson_setting("class")
    assert run_cli("train", "01") == 2
    err = one_line_error(capsys)
    assert str(notebook_error.value) in err and f"{variable}={value!r}" in err


def test_a_full_disk_while_writing_pictures_is_one_line_naming_the_place(tmp_path, mnist_data, capsys, monkeypatch):
    import errno

    import matplotlib.figure

    def full(self, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
    out = tmp_path / "run"
    assert run_cli("train", "01", "--setting", "quick", *TINY["01"], "--no-eval", "--device", "cpu",
                   "--out", out) == 1
    err = one_line_error(capsys)
    assert "No space left to write" in err and str(out) in err and "MB free" in err
    assert (out / "checkpoint.pt").is_file()  # what was saved before stays


def test_the_run_records_its_trainer_options_and_a_resume_with_another_precision_warns(tmp_path, mnist_data, capsys):
    out = tmp_path / "run"
    args = ["train", "01", "--setting", "quick", *TINY["01"], "--no-eval", "--device", "cpu", "--out", out]
    assert run_cli(*args, "--precision", "fp32") == 0
    saved = json.loads((out / "config.json").read_text())
    assert {k: saved[k] for k in ("precision", "g_loss", "d_steps", "real_label", "augment")} == {
        "precision": "fp32", "g_loss": "non-saturating", "d_steps": 1, "real_label": 1.0, "augment": None}
    assert torch.load(out / "checkpoint.pt", weights_only=True)["options"]["precision"] == "fp32"
    with pytest.warns(UserWarning, match="precision 'fp32' -> 'bf16'"):
        assert run_cli(*args[:-2], "--epochs", "3", "--precision", "bf16", "--out", out) == 0


# ------------------------------------------------------------------------------ one line, never a traceback
class _Code:
    def __reduce__(self):
        return (print, ("this ran while loading",))


def _bad_checkpoint(kind: str, path: Path, good: bytes) -> None:
    import pickle

    if kind == "damaged":
        path.write_bytes(good[:100] + bytes(200) + good[300:])
    elif kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "newer format":
        state = torch.load(path, weights_only=True)
        state["format_version"] = 99
        torch.save(state, path)
    elif kind == "foreign":
        torch.save({"model": torch.zeros(3)}, path)
    elif kind == "pickle with code":
        path.write_bytes(pickle.dumps({"generator": _Code()}))


@pytest.mark.parametrize("kind", ["damaged", "truncated", "newer format", "foreign", "pickle with code"])
def test_a_bad_checkpoint_in_out_is_one_line_and_left_as_it_is(tmp_path, mnist_data, capsys, kind):
    out = tmp_path / "run"
    args = ["train", "01", "--setting", "quick", *TINY["01"], "--no-eval", "--device", "cpu", "--out", out]
    assert run_cli(*args) == 0
    capsys.readouterr()
    checkpoint = out / "checkpoint.pt"
    _bad_checkpoint(kind, checkpoint, checkpoint.read_bytes())
    bad = checkpoint.read_bytes()
    assert run_cli(*args[:-2], "--epochs", "3", "--out", out) == 1
    err = one_line_error(capsys)
    assert str(checkpoint) in err
    assert "this ran while loading" not in capsys.readouterr().out
    assert checkpoint.read_bytes() == bad  # never overwritten by a fresh start


@pytest.mark.parametrize("setup, words", [
    (lambda tmp, mp: None, "precision 'fp16' needs a CUDA GPU"),
    (lambda tmp, mp: (tmp.joinpath("cachefile").write_text("x"), mp.setenv("GAN_TUTORIAL_CACHE", str(tmp / "cachefile"))),
     "GAN_TUTORIAL_CACHE="),
    (lambda tmp, mp: (tmp.joinpath("rootfile").write_text("x"), mp.setenv("GAN_TUTORIAL_DATA", str(tmp / "rootfile"))),
     "GAN_TUTORIAL_DATA="),
])
def test_library_errors_reach_the_command_line_as_one_line(tmp_path, monkeypatch, capsys, mnist_data, setup, words):
    setup(tmp_path, monkeypatch)
    extra = ["--precision", "fp16"] if "fp16" in words else []
    lesson = "04" if "CACHE" in words else "01"
    code = run_cli("train", lesson, "--setting", "quick", "--no-eval", "--device", "cpu",
                   "--out", tmp_path / "run", *extra)
    assert code in (1, 2)
    assert words in one_line_error(capsys)
