"""FID (Fréchet Inception Distance) for the colour lessons, with an offline fallback.

FID compares the statistics of Inception-v3 features of real and generated images
(torchmetrics' ``FrechetInceptionDistance``; lower is better). Inception's weights are
downloaded once, by torch-fidelity, into the torch hub cache; without internet they
are missing, so every function here checks first and says how to get them. Without
them, lessons 03 and 04 fall back to ``gan_tutorial.metrics.diversity_ratio``.

Numbers from a few hundred images are biased upwards compared with the 50,000-image
FID of papers: compare runs only at the same number of images.
"""
from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from . import diversity_ratio
from ..history import to_uint8

if TYPE_CHECKING:
    from ..train import GANTrainer

INCEPTION_WEIGHTS_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                         "weights-inception-2015-12-05-6726825d.pth")


class InceptionUnavailableError(RuntimeError):
    """Raised when FID's Inception network cannot be built (package or weights missing)."""


def inception_weights_path() -> Path:
    """Where torch-fidelity keeps (or will download) Inception's weights: the torch hub cache.

    ``$TORCH_HOME/hub/checkpoints/`` (default ``~/.cache/torch/hub/checkpoints/``).
    """
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS_URL.rsplit("/", 1)[1]


def inception_unavailable_reason() -> str | None:
    """None when FID with Inception can run here, else a message saying how to enable it."""
    if importlib.util.find_spec("torch_fidelity") is None:
        return ("FID needs the torch-fidelity package for its Inception network: "
                "`pip install torch-fidelity` (or `pip install torchmetrics[image]`).")
    path = inception_weights_path()
    if not path.is_file():
        return (f"FID needs Inception's weights (about 90 MB), which are not in {path}. On a machine with "
                f"internet run once `python -c \"from gan_tutorial.metrics.fid import download_inception_weights; "
                f"download_inception_weights()\"`, or download {INCEPTION_WEIGHTS_URL} and copy it "
                f"to {path} (set TORCH_HOME to use another cache folder). Until then the lessons "
                f"report the diversity ratio instead.")
    return None


def fid_available() -> bool:
    """Whether FID with Inception can be computed here (package installed, weights cached)."""
    return inception_unavailable_reason() is None


def download_inception_weights() -> Path:
    """Download Inception's weights into the torch hub cache (needs internet, once)."""
    path = inception_weights_path()
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(INCEPTION_WEIGHTS_URL, os.fspath(path))
    return path


class _CustomFeatures(nn.Module):
    """Adapts a user's feature module for torchmetrics: floats in [-1, 1] in, ``(n, d)`` out."""

    def __init__(self, feature: nn.Module, example: torch.Tensor) -> None:
        super().__init__()
        self.feature = feature
        with torch.no_grad():  # tell torchmetrics the size instead of letting it probe 299×299 inputs
            self.num_features = int(self(example[:2]).shape[-1])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = images.detach().cpu()
        images = images.float() / 127.5 - 1 if images.dtype == torch.uint8 else images.float()
        return self.feature(images).flatten(1)


def _fid_metric(feature: nn.Module | None, real: torch.Tensor, batch_size: int):
    """A torchmetrics FrechetInceptionDistance holding ``real``'s statistics."""
    reason = None if feature is not None else inception_unavailable_reason()
    if reason is not None:
        raise InceptionUnavailableError(reason)
    from torchmetrics.image.fid import FrechetInceptionDistance

    if feature is not None:
        metric = FrechetInceptionDistance(feature=_CustomFeatures(feature, real), reset_real_features=False,
                                          sync_on_compute=False)  # local to each torchrun process
    else:
        metric = FrechetInceptionDistance(feature=2048, reset_real_features=False, sync_on_compute=False,
                                          feature_extractor_weights_path=os.fspath(inception_weights_path()))
    _update(metric, real, True, feature, batch_size)
    return metric


def _as_input(images: torch.Tensor, feature: nn.Module | None) -> torch.Tensor:
    """Inception takes uint8 RGB; a custom ``feature`` gets the images as they are."""
    if feature is None:
        images = to_uint8(images) if images.dtype != torch.uint8 else images.cpu()
        return images.expand(-1, 3, -1, -1) if images.size(1) == 1 else images
    return images


def _update(metric, images: torch.Tensor, real: bool, feature: nn.Module | None, batch_size: int) -> None:
    with torch.no_grad():
        for start in range(0, images.size(0), batch_size):
            metric.update(_as_input(images[start:start + batch_size], feature), real=real)


def _fake_fid(metric, fake: torch.Tensor, feature: nn.Module | None, batch_size: int) -> float:
    metric.reset()  # forgets the fakes only (reset_real_features=False)
    _update(metric, fake, False, feature, batch_size)
    return float(metric.compute())


def image_fid(fake: torch.Tensor, real: torch.Tensor, feature: nn.Module | None = None,
              batch_size: int = 100) -> float:
    """FID between ``fake`` and ``real`` images (``(n, C, H, W)``, [-1, 1] floats or uint8).

    With ``feature=None``, Inception-v3's 2048 pool features through torchmetrics (raises
    :class:`InceptionUnavailableError`, with how to get the weights, when they are not
    cached). Any ``nn.Module`` mapping a float batch in [-1, 1] to ``(n, d)`` features
    can replace Inception; the number then lives in that module's feature space.
    """
    if fake.size(0) < 2 or real.size(0) < 2:
        raise ValueError("FID needs at least two fake and two real images")
    metric = _fid_metric(feature, real, batch_size)
    return _fake_fid(metric, fake, feature, batch_size)


def image_quality(fake: torch.Tensor, real: torch.Tensor,
                  feature: nn.Module | None = None) -> dict[str, float]:
    """``{"fid": ...}`` when FID can run here, else ``{"diversity_ratio": ...}`` with a warning saying why."""
    if feature is None and not fid_available():
        warnings.warn(inception_unavailable_reason(), stacklevel=2)
        return {"diversity_ratio": diversity_ratio(fake, real)}
    return {"fid": image_fid(fake, real, feature)}


def fid_evaluator(real: torch.Tensor, n: int = 500, seed: int = 0, batch_size: int = 100,
                  feature: nn.Module | None = None,
                  fallback: bool = True) -> Callable[[GANTrainer], dict[str, float]]:
    """``fn(trainer) -> {"fid": ...}`` for ``trainer.fit(..., evaluate=fn, eval_every=N)``.

    Real features are computed once; ``n`` noise vectors are drawn once from the
    evaluator's own ``torch.Generator(seed)`` (the global RNG, hence training, is not
    touched) and sampled with ``trainer.sample``. When Inception is unavailable and
    ``fallback`` is True, warns once with how to get it and returns
    ``{"diversity_ratio": ...}`` instead; with ``fallback=False`` it raises
    :class:`InceptionUnavailableError`. Inception costs about 6 GFLOP per image: on a
    CPU keep ``n`` small and evaluate rarely.
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    generator = torch.Generator().manual_seed(seed)
    noise: list[torch.Tensor] = []
    metric = None
    if feature is None and not fid_available():
        if not fallback:
            raise InceptionUnavailableError(inception_unavailable_reason())
        warnings.warn(inception_unavailable_reason(), stacklevel=2)
    else:
        metric = _fid_metric(feature, real, batch_size)

    def evaluate(trainer: GANTrainer) -> dict[str, float]:
        if not noise:
            noise.append(torch.randn(n, *trainer.latent_shape, generator=generator))
        fake = torch.cat([trainer.sample(chunk) for chunk in noise[0].split(batch_size)])
        if metric is None:
            return {"diversity_ratio": diversity_ratio(fake, real)}
        return {"fid": _fake_fid(metric, fake, feature, batch_size)}

    return evaluate
