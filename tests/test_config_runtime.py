import os
import random
import runpy
from pathlib import Path

import numpy as np
import pytest
import torch

import gan_tutorial
from gan_tutorial.plumbing import environment
from gan_tutorial.plumbing.environment import DEVICE_ENV, QUICK_ENV, quick_mode
from gan_tutorial.plumbing.runtime import get_device, seed_everything

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("value,expected", [("1", True), ("true", True), ("ON", True),
                                            ("Yes", True), (" on ", True), ("0", False),
                                            ("", False), ("  ", False), ("no", False),
                                            ("OFF", False), ("False", False)])
def test_quick_mode_switch(monkeypatch, value, expected):
    monkeypatch.setenv(QUICK_ENV, value)
    assert quick_mode() is expected


def test_quick_mode_off_when_unset(monkeypatch):
    monkeypatch.delenv(QUICK_ENV, raising=False)
    assert not quick_mode()


@pytest.mark.parametrize("value", ["2", "-1", "maybe", "enabled", "y", "tru e"])
def test_quick_mode_refuses_values_that_mean_nothing(monkeypatch, value):
    monkeypatch.setenv(QUICK_ENV, value)
    with pytest.raises(ValueError, match=rf"{QUICK_ENV}={value!r} is not an on/off value\. "
                                         r"Use one of 1/true/yes/on .* 0/false/no/off"):
        quick_mode()


def test_empty_quick_value_does_not_defeat_the_test_suite_default(monkeypatch):
    monkeypatch.setenv(QUICK_ENV, "")
    runpy.run_path(str(ROOT / "conftest.py"))
    assert os.environ[QUICK_ENV] == "1"
    assert quick_mode()
    monkeypatch.setenv(QUICK_ENV, "0")  # an explicit value is kept
    runpy.run_path(str(ROOT / "conftest.py"))
    assert os.environ[QUICK_ENV] == "0"


def test_seed_everything_repeats_python_numpy_and_torch():
    seed_everything(123)
    first = (random.random(), np.random.rand(), torch.rand(3))
    seed_everything(123)
    second = (random.random(), np.random.rand(), torch.rand(3))
    assert first[0] == second[0] and first[1] == second[1]
    assert torch.equal(first[2], second[2])


def test_get_device(monkeypatch):
    monkeypatch.delenv("GAN_TUTORIAL_DEVICE", raising=False)
    assert get_device("cpu") == torch.device("cpu")
    assert get_device().type in {"cpu", "cuda", "mps"}
    monkeypatch.setenv("GAN_TUTORIAL_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_asking_for_missing_cuda_fails_clearly():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        get_device("cuda")


@pytest.mark.parametrize("value", ["tpu", "CPU", "meta", "gpu", "cuda:x", "cuda:-1", "cpu cuda"])
def test_device_variable_refuses_non_devices(monkeypatch, value):
    monkeypatch.setenv(DEVICE_ENV, value)
    with pytest.raises(ValueError, match=rf"{DEVICE_ENV}={value!r} is not a device gan_tutorial "
                                         r"can train on\. Use one of: cpu, cuda, cuda:N"):
        get_device()


def test_device_variable_suggests_the_lower_case_name(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "CPU")
    with pytest.raises(ValueError, match="Did you mean 'cpu'"):
        get_device()


def test_empty_device_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, " ")
    assert get_device().type in {"cpu", "cuda", "mps"}


def test_device_argument_is_checked_too(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    with pytest.raises(ValueError, match=r"device='meta' is not a device"):
        get_device("meta")
    assert get_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_asking_for_missing_cuda_by_variable_names_it(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "cuda:1")
    with pytest.raises(RuntimeError, match=rf"cuda:1 was asked for \({DEVICE_ENV}\), but CUDA "
                                           r"is not available"):
        get_device()


def test_lesson_setting_one_switch(monkeypatch):
    from gan_tutorial.plumbing.environment import SETTING_ENV, lesson_setting

    monkeypatch.delenv(QUICK_ENV, raising=False)
    monkeypatch.delenv(SETTING_ENV, raising=False)
    assert lesson_setting() == "class" and lesson_setting("full") == "full"
    monkeypatch.setenv(SETTING_ENV, "full")
    assert lesson_setting("class") == "full"
    monkeypatch.setenv(QUICK_ENV, "1")
    assert lesson_setting("full") == "quick"  # the test suite's quick mode wins
    monkeypatch.delenv(QUICK_ENV)
    monkeypatch.setenv(SETTING_ENV, "long")
    with pytest.raises(ValueError, match="GAN_TUTORIAL_SETTING='long' is not a setting"):
        lesson_setting()
    monkeypatch.delenv(SETTING_ENV)
    with pytest.raises(ValueError, match="'medium' is not a setting"):
        lesson_setting("medium")


def test_every_environment_variable_is_read_in_environment_py():
    """One door: no other module of the package (subpackages included) reads os.environ
    (torchrun's RANK/WORLD_SIZE are torchrun's, read where the process group is set up)."""
    package = Path(gan_tutorial.__file__).parent
    readers = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                     if "os.environ" in p.read_text() or "getenv(" in p.read_text())
    assert readers == ["plumbing/distributed.py", "plumbing/environment.py"]


@pytest.mark.parametrize("variable, reader", [("GAN_TUTORIAL_DATA", "data_root_setting"),
                                              ("GAN_TUTORIAL_CACHE", "cache_setting")])
def test_folder_variables_blank_is_unset_and_a_file_is_refused(tmp_path, monkeypatch, variable, reader):
    read = getattr(environment, reader)
    monkeypatch.setenv(variable, "   ")
    assert read() is None
    monkeypatch.setenv(variable, str(tmp_path))
    assert read() == tmp_path
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv(variable, str(tmp_path / "file"))
    with pytest.raises(NotADirectoryError, match=rf"{variable}=.*names a file, not a folder"):
        read()
