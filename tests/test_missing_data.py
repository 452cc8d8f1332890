"""A fresh machine without CelebA (or offline, without any data) still passes `make test`.

Each test runs a small slice of the suite in a subprocess against a data root made here,
so it sees exactly what a new user's `make test` would print.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gan_tutorial.data import data_root

REPO = Path(__file__).resolve().parent.parent
SLICE = ["notebooks/03_dcgan_celeba.ipynb", "tests/test_data.py::test_celeba_from_local_folder",
         "tests/test_data.py::test_in_memory_datasets_load_without_workers", "tests/test_data.py::test_mnist_bad_split"]
OFFLINE = {key: "http://127.0.0.1:9" for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}


def run_slice(root: Path, ci: bool, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(GAN_TUTORIAL_DATA=str(root), **(extra_env or {}))
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-rs", *SLICE], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def root_without_celeba(tmp_path: Path, mnist_data: Path, pokemon_data: Path) -> Path:
    """A data root with the real MNIST and Pokémon (linked) but no CelebA."""
    root = tmp_path / "data"
    root.mkdir()
    (root / "MNIST").symlink_to(mnist_data / "MNIST")
    (root / "pokemon").symlink_to(pokemon_data / "pokemon")
    return root


def test_without_celeba_the_suite_passes_and_says_why_lesson_03_is_skipped(root_without_celeba):
    result = run_slice(root_without_celeba, ci=False)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert re.search(r"\b2 passed, \d+ skipped", out), out
    assert f"CelebA is missing: looked for {root_without_celeba / 'celeba' / 'img_align_celeba'}" in out
    assert "downloaded by hand" in out and "docs/data.md" in out
    assert "SKIPPED" in out and "03_dcgan_celeba.ipynb" in out


def test_without_celeba_ci_fails_at_once_with_the_message(root_without_celeba):
    result = run_slice(root_without_celeba, ci=True)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "CI=true and test data is missing" in out and "CelebA is missing" in out
    assert "passed" not in out  # nothing ran: one message, not one failure per test


def test_offline_with_no_data_says_so_once_and_runs_the_rest(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    result = run_slice(root, ci=False, extra_env=OFFLINE)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert out.count("NO DATASET could be found or downloaded") == 1, out
    assert re.search(r"\b1 passed, \d+ skipped", out), out
    for name in ("MNIST", "Pokémon", "CelebA"):
        assert f"{name} is missing: looked for {root}" in out
    assert "the download failed" in out


def test_data_root_is_the_one_configured():
    assert data_root().is_dir(), f"the suite's data root {data_root()} does not exist"
