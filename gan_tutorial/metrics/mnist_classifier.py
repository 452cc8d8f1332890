"""A small LeNet-style MNIST classifier shipped with the package, for offline quality metrics.

Inception-based FID needs weights downloaded from the internet and 299×299 colour
images; for MNIST a small digit classifier is both offline and more telling. Its
weights are trained by ``scripts/train_mnist_classifier.py`` (seeded, a few CPU
minutes, >= 99% test accuracy), ship in ``gan_tutorial/metrics/weights/`` and are checked
against the SHA-256 recorded below before loading.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ..plumbing.hashing import file_hash

WEIGHTS_PATH = Path(__file__).parent / "weights" / "mnist_lenet.pt"
# Written by scripts/train_mnist_classifier.py; update both together.
WEIGHTS_SHA256 = "7dfce66e88ce36d1629187bb538352945cfbffef9cdf85d59f01657d870ab2b6"

INPUT_SIZE = 28


class MNISTClassifier(nn.Module):
    """LeNet-style CNN: two 5×5 conv + max-pool stages, one hidden layer, 10 logits.

    Takes ``(n, 1, 28, 28)`` digits in [-1, 1] (the range the lessons use).
    ``features`` returns the hidden layer's activations (the "penultimate features"
    used by the Fréchet distance); ``forward`` returns the 10 class logits.
    """

    num_features = 128

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5, padding=2)  # 28 -> 28, pooled to 14
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2)  # 14 -> 14, pooled to 7
        self.fc1 = nn.Linear(32 * 7 * 7, self.num_features)
        self.dropout = nn.Dropout(0.3)
        self.fc2 = nn.Linear(self.num_features, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations, shape ``(n, 128)``."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.fc1(x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.dropout(self.features(x)))


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    return file_hash(path, "sha256")


def load_mnist_classifier(path: str | Path | None = None,
                          expected_sha256: str | None = WEIGHTS_SHA256) -> MNISTClassifier:
    """The trained classifier in eval mode, on the CPU, its weights checked and frozen.

    ``path`` defaults to the shipped ``gan_tutorial/metrics/weights/mnist_lenet.pt``; pass
    ``expected_sha256=None`` to skip the checksum (for weights you trained yourself).
    """
    path = WEIGHTS_PATH if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"MNIST classifier weights not found at {path}. They ship with the package; "
            f"reinstall it, or recreate them with `python scripts/train_mnist_classifier.py`.")
    if expected_sha256 is not None:
        actual = sha256_of(path)
        if actual != expected_sha256:
            raise ValueError(
                f"{path} has SHA-256 {actual}, expected {expected_sha256}: the file is corrupt or "
                f"was retrained. Reinstall the package, or after retraining with "
                f"scripts/train_mnist_classifier.py update WEIGHTS_SHA256 in "
                f"gan_tutorial/metrics/mnist_classifier.py.")
    model = MNISTClassifier()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    model.eval()
    model.requires_grad_(False)
    return model


@lru_cache(maxsize=1)
def shipped_classifier() -> MNISTClassifier:
    """The shipped classifier, loaded and checked once per process."""
    return load_mnist_classifier()
