import random

import numpy as np
import pytest
import torch

from gan_tutorial.config import QUICK_ENV, full_or_quick, quick_mode
from gan_tutorial.runtime import get_device, seed_everything


@pytest.mark.parametrize("value,expected", [("1", True), ("true", True), ("ON", True),
                                            ("0", False), ("", False), ("no", False)])
def test_quick_mode_switch(monkeypatch, value, expected):
    monkeypatch.setenv(QUICK_ENV, value)
    assert quick_mode() is expected
    assert full_or_quick("full", "quick") == ("quick" if expected else "full")


def test_quick_mode_off_when_unset(monkeypatch):
    monkeypatch.delenv(QUICK_ENV, raising=False)
    assert not quick_mode()


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
