"""Test-suite settings shared by the unit tests and the nbval notebook runs.

* Quick mode is on unless GAN_TUTORIAL_QUICK is set to a value, so ``pytest`` runs every
  notebook in minutes. The notebook kernels inherit this environment.
* The datasets are looked for once, at the start (see ``tests/suite_data.py``): missing MNIST
  and Pokémon are downloaded outside CI. A dataset that is still missing skips, outside CI,
  only the tests and notebooks that need it, each with a message saying how to get it; in CI
  (``CI=true``) the run stops at once with that message.
"""
import os
import sys
from pathlib import Path

import pytest

if not os.environ.get("GAN_TUTORIAL_QUICK", "").strip():  # unset or empty: quick
    os.environ["GAN_TUTORIAL_QUICK"] = "1"

sys.path.insert(0, str(Path(__file__).parent / "tests"))
# scripts/ import their neighbours by name (Python puts a script's folder first when it runs);
# tests that load a script as a module need the same
sys.path.insert(0, str(Path(__file__).parent / "scripts"))
from suite_data import NOTEBOOK_NEEDS, DataStatus, in_ci  # noqa: E402

_status: DataStatus | None = None


def data_status() -> DataStatus:
    """The datasets found (or fetched) at the start of this session."""
    global _status
    if _status is None:
        _status = DataStatus.check(download=not in_ci())
    return _status


# Test tiers: `make test-fast` runs what is none of these (the unit tests, under 2 minutes);
# `make test` runs everything.
SLOW_FILES = {"test_browser.py": "browser", "test_packaging.py": "slow", "test_distributed.py": "slow",
              "test_missing_data.py": "slow", "test_publish_results.py": "slow"}  # whole suites / runs
MARKERS = {"notebook": "executes a lesson notebook under nbval",
           "browser": "drives JupyterLab in Chromium",
           "slow": "builds a wheel, starts processes or trains for seconds (not in make test-fast)"}


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    status = data_status()
    if in_ci() and status.missing:
        raise pytest.UsageError("CI=true and test data is missing:\n" + status.describe_missing())


def pytest_report_header(config: pytest.Config) -> list[str]:
    return data_status().header_lines()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip a lesson notebook whose dataset is missing (outside CI), with how to get it."""
    status = data_status()
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
        elif path.name in SLOW_FILES:
            item.add_marker(getattr(pytest.mark, SLOW_FILES[path.name]))
        needs = NOTEBOOK_NEEDS.get(path.stem)
        if needs and needs in status.missing:
            item.add_marker(pytest.mark.skip(reason=status.missing[needs]))


def _require(name: str) -> Path:
    status = data_status()
    if name in status.missing:
        pytest.skip(status.missing[name])
    return status.root


@pytest.fixture(scope="session")
def mnist_data() -> Path:
    """The data root, holding MNIST/raw (skips with how-to when MNIST is missing)."""
    return _require("MNIST")


@pytest.fixture(scope="session")
def celeba_data() -> Path:
    """The data root, holding celeba/img_align_celeba (skips with how-to when missing)."""
    return _require("CelebA")


@pytest.fixture(scope="session")
def pokemon_data() -> Path:
    """The data root, holding pokemon/<class>/ (skips with how-to when missing)."""
    return _require("Pokémon")


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The data root, for tests that use several datasets (skips with how-to if one is missing)."""
    for name in ("MNIST", "Pokémon", "CelebA"):
        _require(name)
    return data_status().root
