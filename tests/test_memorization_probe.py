"""scripts/memorization_probe.py: each image's score is paired with its own mirror image's."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("memorization_probe", REPO / "scripts" / "memorization_probe.py")
memorization_probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(memorization_probe)


class LeftMinusRight(nn.Module):
    """A 'discriminator' that prefers bright left halves: mirroring negates its score."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        return x[..., :half].mean(dim=(1, 2, 3)) - x[..., half:].mean(dim=(1, 2, 3))


def test_each_image_is_scored_against_its_own_mirror_image():
    images = torch.randn(10, 3, 8, 8)  # 10 images in batches of 4: the last 2 are left out
    original, mirrored = memorization_probe.mirror_gap(LeftMinusRight(), images, batch=4)
    expected = LeftMinusRight()(images[:8])
    assert torch.allclose(original, expected) and torch.allclose(mirrored, -expected)


def test_a_mirror_symmetric_score_gives_no_gap():
    images = torch.randn(8, 3, 8, 8)
    original, mirrored = memorization_probe.mirror_gap(lambda x: x.mean(dim=(1, 2, 3)), images, batch=4)
    assert torch.allclose(original - mirrored, torch.zeros(8), atol=1e-6)
