"""Hostile inputs, round three (issue 28): the run folder of ``python -m gan_tutorial train``.

A run writes only inside its --out folder, never through a link placed there, never into the
images it trains on; its summary's time and pictures describe exactly the run it reports;
resuming with another recipe is refused instead of mixing two runs; the command's own
arguments are checked before anything runs. Each test failed on the code before the fix.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_tutorial.lessons.cli import EXIT_SIGTERM, main
from test_cli import SMALL, one_line_error, run_cli

REPO = Path(__file__).resolve().parent.parent
QUICK07 = ["07", "--setting", "quick", *SMALL, "--no-eval"]


def _photos(folder: Path, n: int = 12) -> Path:
    """An ImageFolder-style folder of ``n`` small coloured PNGs."""
    (folder / "mine").mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", (40, 40), (20 * i % 255, 90, 200)).save(folder / "mine" / f"{i:02d}.png")
    return folder


def _image_folder_config(path: Path, folder: str) -> Path:
    config = path / "photos.json"
    config.write_text(json.dumps({"lesson": "04", "setting": "quick", "dataset": "image_folder",
                                  "data_kwargs": {"path": folder, "image_size": 64}, "limit": None,
                                  "batch_size": 4, "epochs": 1, "snapshot_every": 2}))
    return config


# ------------------------------------------------------------------------------ case 3
def test_a_run_folder_inside_the_images_it_trains_on_is_refused(tmp_path, capsys, monkeypatch):
    """--out photos/runs would add the run's own PNGs to its training data when it resumes."""
    monkeypatch.chdir(tmp_path)
    _photos(tmp_path / "photos")
    config = _image_folder_config(tmp_path, "photos")
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "photos").rglob("*"))
    assert run_cli("train", config, "--no-eval", "--out", "photos/runs") == 2
    err = one_line_error(capsys)
    assert "photos/runs" in err and "inside" in err and "--out" in err
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "photos").rglob("*")) == before


def test_a_relative_image_folder_is_read_from_the_data_root_when_it_is_there(tmp_path, capsys, monkeypatch):
    """A relative ``path`` is looked up under --data-root first, then the working folder;
    when neither holds it, the error names both places."""
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    _photos(root / "photos")
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = _image_folder_config(tmp_path, "photos")
    assert run_cli("train", config, "--no-eval", "--data-root", root, "--out", tmp_path / "run") == 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs_done"] == 1
    capsys.readouterr()
    assert run_cli("train", config, "--no-eval", "--data-root", elsewhere, "--out", tmp_path / "run2") == 1
    err = one_line_error(capsys)
    assert str(elsewhere / "photos") in err and "working folder" in err


# ------------------------------------------------------------------------------ case 4
def test_a_fresh_run_into_an_earlier_runs_folder_is_refused(tmp_path, mnist_data, capsys):
    """Deleting checkpoint.pt and training again would leave the old run's epoch grids and
    time in the new run's folder and summary."""
    out = tmp_path / "X"
    assert run_cli("train", *QUICK07, "--epochs", "3", "--data-root", mnist_data, "--out", out) == 0
    (out / "checkpoint.pt").unlink()
    grids = sorted((out / "samples").iterdir())
    capsys.readouterr()
    assert run_cli("train", *QUICK07, "--epochs", "1", "--data-root", mnist_data, "--out", out) == 2
    err = one_line_error(capsys)
    assert "earlier run" in err and "checkpoint.pt" in err and "--out" in err
    assert sorted((out / "samples").iterdir()) == grids  # nothing deleted either


# ------------------------------------------------------------------------------ case 5
def _checkpoint_seconds(path: Path) -> tuple[int, float]:
    state = torch.load(path, map_location="cpu", weights_only=False)
    return state["history"]["epochs_done"], state["history"]["train_seconds"]


@pytest.mark.slow
def test_training_time_before_a_kill_9_is_kept(tmp_path, mnist_data):
    """Per-epoch checkpoints carry the time trained so far; the summary reads the
    checkpoint's total instead of adding up old summary files."""
    out = tmp_path / "X"
    command = [sys.executable, "-m", "gan_tutorial", "train", *QUICK07, "--epochs", "400",
               "--data-root", str(mnist_data), "--out", str(out)]
    run = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        epochs = 0
        while epochs < 4 and time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                epochs, _ = _checkpoint_seconds(out / "checkpoint.pt")
            except (OSError, EOFError, RuntimeError, KeyError):
                pass
        assert epochs >= 4, "the run did not reach 4 epochs in 2 minutes"
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    epochs, seconds = _checkpoint_seconds(out / "checkpoint.pt")
    assert seconds > 0, "the checkpoint of a killed run holds no training time"
    assert subprocess.run([*command[:-4], "--epochs", str(epochs + 1), "--data-root", str(mnist_data),
                           "--out", str(out)], cwd=REPO, capture_output=True).returncode == 0
    summary = json.loads((out / "summary.json").read_text())
    _, total = _checkpoint_seconds(out / "checkpoint.pt")
    assert summary["training_seconds_total"] == pytest.approx(total, abs=1e-3)
    assert total == pytest.approx(seconds + summary["this_run"]["training_seconds"], rel=0.5, abs=0.5)
    assert total > seconds


@pytest.mark.slow
def test_sigterm_while_the_final_pictures_are_written_still_writes_the_summary(tmp_path, mnist_data):
    """The stop waits for the pictures and the summary, then says it stopped (exit 143)."""
    out = tmp_path / "X"
    code = ("import os, signal, sys\n"
            "import gan_tutorial.plots as a\n"
            "save = a.save_progress_gif\n"
            "def stopped(*args, **kw):\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "    return save(*args, **kw)\n"
            "a.save_progress_gif = stopped\n"
            "from gan_tutorial.lessons.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", code, "train", *QUICK07, "--epochs", "1",
                           "--data-root", str(mnist_data), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == EXIT_SIGTERM, done.stderr
    assert "SIGTERM" in done.stderr + done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs_done"] == 1 and summary["training_seconds_total"] > 0
    assert (out / "progress.gif").is_file()


# ------------------------------------------------------------------------------ case 7
@pytest.mark.parametrize("name", [".lock", "config.json.tmp", "summary.json.tmp", "samples.png",
                                  "summary.json", "checkpoint.pt", "samples"])
def test_nothing_is_written_through_a_link_in_the_run_folder(tmp_path, mnist_data, name, capsys):
    """A run folder copied from someone else may hold links to files elsewhere."""
    out, outside = tmp_path / "X", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    target = outside / ("folder" if name == "samples" else "precious.txt")
    if name == "samples":
        target.mkdir()
    else:
        target.write_text("keep me\n")
    (out / name).symlink_to(target)
    code = run_cli("train", *QUICK07, "--epochs", "1", "--data-root", mnist_data, "--out", out)
    if name == "samples" or not target.is_dir():
        assert (target.read_text() if target.is_file() else sorted(target.iterdir())) in ("keep me\n", [])
    if code != 0:  # refused: one line naming the link and the fix
        err = one_line_error(capsys)
        assert name in err and "link" in err
    else:  # or written beside it: the link replaced by the run's own file
        assert not (out / name).is_symlink() or name.endswith(".tmp")


# ------------------------------------------------------------------------------ unclear cases
def test_resuming_as_another_variant_is_refused_naming_what_differs(tmp_path, mnist_data, capsys):
    """A 07 run resumed as 07-hinge would be half BCE, half hinge, labelled hinge."""
    out = tmp_path / "X"
    assert run_cli("train", *QUICK07, "--epochs", "1", "--data-root", mnist_data, "--out", out) == 0
    config_before = (out / "config.json").read_text()
    capsys.readouterr()
    assert run_cli("train", "07-hinge", "--setting", "quick", *SMALL, "--no-eval", "--epochs", "2",
                   "--data-root", mnist_data, "--out", out) == 2
    err = one_line_error(capsys)
    assert "loss 'bce' -> 'hinge'" in err and "--out" in err
    assert (out / "config.json").read_text() == config_before


def test_resuming_a_quick_run_in_the_class_setting_is_refused(tmp_path, mnist_data, capsys):
    out = tmp_path / "X"
    assert run_cli("train", "07", "--setting", "quick", "--limit", "8", "--batch-size", "4",
                   "--no-eval", "--epochs", "1", "--data-root", mnist_data, "--out", out) == 0
    capsys.readouterr()
    assert run_cli("train", "07", "--setting", "class", "--no-eval", "--data-root", mnist_data,
                   "--out", out) == 2
    err = one_line_error(capsys)
    assert "batch_size 4 ->" in err and "limit 8 ->" in err
    # continuing with the run's own values is what the message offers
    assert run_cli("train", "07", "--setting", "quick", "--limit", "8", "--batch-size", "4",
                   "--no-eval", "--epochs", "2", "--data-root", mnist_data, "--out", out) == 0


def test_sampling_a_checkpoint_with_nan_weights_is_an_error(tmp_path, mnist_data, capsys):
    out = tmp_path / "X"
    assert run_cli("train", *QUICK07, "--epochs", "1", "--data-root", mnist_data, "--out", out) == 0
    state = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    first = next(k for k, v in state["generator"].items() if v.is_floating_point())
    state["generator"][first].fill_(float("nan"))
    torch.save(state, out / "checkpoint.pt")
    capsys.readouterr()
    assert run_cli("sample", out, "-o", tmp_path / "grid.png") == 1
    err = one_line_error(capsys)
    assert "checkpoint.pt" in err and "NaN" in err
    assert not (tmp_path / "grid.png").exists()


@pytest.mark.parametrize("out, says", [("", "--out"), ("dangling", "does not exist")])
def test_an_out_folder_that_cannot_be_one_is_named(tmp_path, monkeypatch, capsys, out, says):
    """--out '' would write into the working folder; a link to nowhere said "File exists"."""
    monkeypatch.chdir(tmp_path)
    if out == "dangling":
        Path("dangling").symlink_to(tmp_path / "nowhere")
        assert run_cli("train", *QUICK07, "--out", out) == 2
    else:
        with pytest.raises(SystemExit) as exited:
            run_cli("train", *QUICK07, "--out", out)
        assert exited.value.code == 2
    err = one_line_error(capsys)
    assert says in err and "File exists" not in err
    assert sorted(os.listdir(tmp_path)) == (["dangling"] if out else [])


def test_a_bad_device_variable_is_named_as_the_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_TUTORIAL_DEVICE", "gpu")
    assert run_cli("train", *QUICK07, "--out", tmp_path / "run") == 2
    err = one_line_error(capsys)
    assert "GAN_TUTORIAL_DEVICE" in err and "--device None" not in err


def test_a_folder_named_like_a_config_file_is_called_a_folder(tmp_path, capsys):
    (tmp_path / "x.json").mkdir()
    assert run_cli("train", tmp_path / "x.json", "--out", tmp_path / "run") == 2
    err = one_line_error(capsys)
    assert "folder" in err and "not found" not in err


def test_duplicate_keys_in_a_config_file_are_refused(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text('{"lesson": "07", "lr": 0.0002, "lr": 0.02}')
    assert run_cli("train", config, "--out", tmp_path / "run") == 2
    err = one_line_error(capsys)
    assert "lr" in err and "twice" in err


def test_train_help_names_every_lesson(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "01, 02, 03 or 04" not in text
    for name in ("07", "08", "07-hinge"):
        assert name in text
