"""Packaging as users meet it: build the wheel and sdist, install the wheel, run the CLI."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__",
                                    "runs", "data", "assignments", ".pytest_cache", ".ipynb_checkpoints")
PROBE = "gan_tutorial/metrics/weights/_packaging_probe.pt"


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything pointing Python at this checkout or muting bytecode."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONHOME")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path | str]:
    """``python -m build`` run on a copy of the source tree that holds one shipped weights file."""
    if importlib.util.find_spec("build") is None:
        message = "the 'build' package is missing: pip install build (it is in the [test] extra)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    probe = source / PROBE  # stands for the shipped weights: *.pt under gan_tutorial/metrics/weights/
    probe.parent.mkdir(exist_ok=True)
    torch.save({"probe": torch.arange(3.0)}, probe)
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(root / "dist"),
                             str(source)], env=_clean_env(), capture_output=True, text=True,
                            timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    wheels, sdists = list((root / "dist").glob("*.whl")), list((root / "dist").glob("*.tar.gz"))
    assert len(wheels) == len(sdists) == 1, log[-4000:]
    return {"root": root, "wheel": wheels[0], "sdist": sdists[0], "log": log}


def test_build_makes_wheel_and_sdist_without_warnings(built):
    warnings = [line for line in str(built["log"]).splitlines() if "warning" in line.lower()]
    assert warnings == []
    wheel_files = zipfile.ZipFile(built["wheel"]).namelist()
    for name in ("gan_tutorial/__main__.py", "gan_tutorial/lessons/cli.py", "gan_tutorial/lessons/__init__.py",
                 "gan_tutorial/plumbing/distributed.py", PROBE):
        assert name in wheel_files
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel_files)
    sdist_files = [name.split("/", 1)[-1] for name in tarfile.open(built["sdist"]).getnames()]
    assert "LICENSE" in sdist_files and PROBE in sdist_files


def test_the_wheel_holds_no_solution_for_students_to_find(built):
    """Students install the wheel (docs/teaching.md): no lesson notebook, no teaching notes, no solution text."""
    wheel = zipfile.ZipFile(built["wheel"])
    names = wheel.namelist()
    assert not [n for n in names if n.endswith((".ipynb", ".md")) or "teaching" in n], names
    assert all(n.startswith(("gan_tutorial/", "gan_tutorial-")) for n in names), names
    for name in names:
        text = wheel.read(name).decode("utf-8", errors="ignore")
        assert "### BEGIN SOLUTION" not in text, name


def test_installed_wheel_works_outside_the_repository(built, tmp_path, mnist_data):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # pip of this environment installs into the new one; no index, no dependencies
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(built["wheel"])],
                   check=True, timeout=300, env=_clean_env())
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # reuse the installed torch and the other dependencies: a path entry after the venv's own
    (Path(site) / "_reuse_dependencies.pth").write_text(str(Path(torch.__file__).parent.parent) + "\n")
    env = _clean_env(GAN_TUTORIAL_DATA=str(mnist_data), OMP_NUM_THREADS="1")
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([str(python), *args], cwd=work, env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        return result

    checks = run("-c", "import importlib.resources as r, torch, gan_tutorial; "
                       "from gan_tutorial import metrics, models; "
                       f"probe = r.files('gan_tutorial.metrics') / 'weights' / '{Path(PROBE).name}'; "
                       "print(gan_tutorial.__file__); "
                       "print(torch.load(probe, weights_only=True)['probe'].tolist()); "
                       "print(models.DCGANGenerator()(torch.zeros(1, 100, 1, 1)).shape)")
    module_file, weights, shape = checks.stdout.strip().splitlines()
    assert Path(module_file).is_relative_to(venv), "imported the checkout, not the installed wheel"
    assert weights == "[0.0, 1.0, 2.0]"
    assert shape == "torch.Size([1, 3, 64, 64])"
    assert "torchrun" in run("-m", "gan_tutorial", "--help").stdout
    assert "train" in run(str(venv / "bin" / "gan-tutorial"), "--help").stdout  # the console script
    run("-m", "gan_tutorial", "train", "01", "--setting", "quick", "--limit", "200", "--epochs", "1",
        "--device", "cpu", "--out", "run")
    summary = json.loads((work / "run" / "summary.json").read_text())
    assert summary["iterations"] == 2 and (work / "run" / "progress.gif").is_file()
