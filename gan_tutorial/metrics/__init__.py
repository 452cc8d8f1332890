"""Numbers that help read a GAN's progress.

GAN losses do not fall steadily like a classifier's, so the lessons also look at how
varied the generated images are: a generator that has collapsed onto a few modes
makes near-identical images, and the mean distance between them shrinks
(``diversity_ratio``). For MNIST, ``mnist_quality`` and ``mnist_evaluator`` measure
quality offline with a small shipped digit classifier: a Fréchet distance on its
features (FID's formula, but not comparable with papers' Inception FID) and the
distribution of predicted digits, which exposes mode collapse. FID for the colour
lessons lives in ``gan_tutorial.metrics.fid``.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F

from ..history import History

if TYPE_CHECKING:
    from ..train import GANTrainer


def diversity(images: torch.Tensor) -> float:
    """Mean pairwise L2 distance between images, per pixel, on the [-1, 1] scale.

    Takes generator/dataset tensors in [-1, 1] or uint8 snapshots. Around the value
    real images give means varied samples; far below it signals mode collapse.
    """
    if images.size(0) < 2:
        raise ValueError("diversity needs at least two images")
    images = images.detach()
    images = images.float() / 127.5 - 1 if images.dtype == torch.uint8 else images.float()
    flat = images.flatten(1)
    distances = torch.cdist(flat, flat)
    n = flat.size(0)
    mean_distance = distances.sum() / (n * (n - 1))  # the diagonal is zero
    return (mean_distance / flat.size(1) ** 0.5).item()


def diversity_ratio(fake: torch.Tensor, real: torch.Tensor) -> float:
    """``diversity(fake) / diversity(real)``: near 1 is healthy, near 0 is collapse."""
    return diversity(fake) / diversity(real)


def diversity_curve(history: History, real: torch.Tensor) -> list[float]:
    """``diversity_ratio`` of every fixed-noise snapshot in ``history`` against ``real``."""
    reference = diversity(real)
    return [diversity(snapshot) / reference for snapshot in history.snapshots]


# --- MNIST quality from a small shipped classifier -----------------------------------------
#
# FID compares Inception-v3 features of real and generated images; Inception needs
# weights from the internet and was trained on photos, not digits. For MNIST the
# package ships a small LeNet-style classifier (gan_tutorial/metrics/mnist_classifier.py) and
# measures, offline, a Fréchet distance on its penultimate features plus what it sees
# in the fakes: which digits, how evenly, how confidently.

def prepare_digits(images: torch.Tensor) -> torch.Tensor:
    """Any digit batch -> ``(n, 1, 28, 28)`` float in [-1, 1], as the classifier expects.

    Accepts generator output in [-1, 1] or uint8 snapshots, 1 or 3 channels (averaged
    to grey), any size (resized with antialiased bilinear interpolation, as
    ``load_mnist(image_size=64)`` made lesson 02's 64×64 digits).
    """
    from .mnist_classifier import INPUT_SIZE

    if images.dim() != 4 or images.size(1) not in (1, 3):
        raise ValueError(f"expected digits shaped (n, 1, H, W) or (n, 3, H, W), got {tuple(images.shape)}")
    images = images.detach().cpu()
    images = images.float() / 127.5 - 1 if images.dtype == torch.uint8 else images.float()
    if images.size(1) == 3:
        images = images.mean(1, keepdim=True)
    if images.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        images = F.interpolate(images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                               antialias=True, align_corners=False)
    return images.clamp(-1, 1)


class DigitFeatures(nn.Module):
    """The MNIST classifier's penultimate features (128 per image) for any digit batch.

    A feature extractor for torchmetrics' ``FrechetInceptionDistance(feature=DigitFeatures())``:
    it resizes and rescales its input with :func:`prepare_digits`.
    """

    num_features = 128

    def __init__(self, classifier: nn.Module | None = None) -> None:
        super().__init__()
        from .mnist_classifier import shipped_classifier

        self.classifier = shipped_classifier() if classifier is None else classifier

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(prepare_digits(images))


def _frechet_metric(features: nn.Module, real: torch.Tensor, batch_size: int = 500):
    """A torchmetrics FrechetInceptionDistance on ``features`` that keeps ``real``'s statistics."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    # sync_on_compute=False: under torchrun every process scores its own samples; torchmetrics
    # would otherwise all-gather across the process group (and hang when rank 0 alone computes)
    metric = FrechetInceptionDistance(feature=features, reset_real_features=False,
                                      sync_on_compute=False)
    with torch.no_grad():
        for start in range(0, real.size(0), batch_size):
            metric.update(real[start:start + batch_size], real=True)
    return metric


def _fake_frechet(metric, fake: torch.Tensor, batch_size: int = 500) -> float:
    metric.reset()  # forgets the fakes only (reset_real_features=False)
    with torch.no_grad():
        for start in range(0, fake.size(0), batch_size):
            metric.update(fake[start:start + batch_size], real=False)
        return float(metric.compute())


class MNISTFrechetDistance:
    """Fréchet distance of fake digits to one fixed set of real digits (features computed once).

    ``MNISTFrechetDistance(real)(fake)`` equals ``mnist_frechet_distance(fake, real)``;
    keep the object to score many fake batches against the same real ones.
    """

    def __init__(self, real: torch.Tensor) -> None:
        if real.size(0) < 2:
            raise ValueError("the Fréchet distance needs at least two real images")
        self.metric = _frechet_metric(DigitFeatures(), real)

    def __call__(self, fake: torch.Tensor) -> float:
        if fake.size(0) < 2:
            raise ValueError("the Fréchet distance needs at least two fake images")
        return _fake_frechet(self.metric, fake)


def mnist_frechet_distance(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Fréchet distance between fake and real digits in the MNIST classifier's feature space.

    The same formula as FID (torchmetrics' ``FrechetInceptionDistance`` with the shipped
    classifier's 128 penultimate features instead of Inception's 2048), so lower is
    better and 0 means identical statistics. It is NOT comparable with the Inception-space
    FID numbers of papers, and like FID it depends on the number of images: two
    disjoint random samples of 1,000 real test digits give about 6–10 (the real-data
    floor), uniform noise about 750–790 (the ceiling); compare runs with the same ``n``.
    """
    return MNISTFrechetDistance(real)(fake)


def mnist_reference_digits(n: int = 1000, seed: int = 0,
                           root: str | os.PathLike | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint random samples of ``n`` MNIST test digits (uint8, 28×28): ``real, other_real``.

    Score fakes against ``real``; ``other_real`` gives the real-data floor
    (:func:`mnist_frechet_reference`). Drawn at random (seeded), not the first ``n``: the
    test set's first 5,000 digits come from cleaner writers than its last 5,000, so the
    first 1,000 would make too low a floor.
    """
    from ..data import load_mnist

    images = load_mnist(root, split="test").images
    if 2 * n > len(images):
        raise ValueError(f"n={n} needs {2 * n} test digits, MNIST test has {len(images)}")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    return images[order[:n]], images[order[n:2 * n]]


def mnist_frechet_reference(real: torch.Tensor, other_real: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """The Fréchet distance's reference points against ``real``, to read a run's numbers by.

    ``"real vs real"``: distance of ``other_real`` (disjoint real digits, as many as the
    fakes you score) — the floor a perfect generator reaches at that sample size.
    ``"noise"``: distance of as many uniform-noise images — the ceiling. The dict plugs
    into ``plot_metric(history, "frechet_distance", reference=...)``.
    """
    frechet = MNISTFrechetDistance(real)
    generator = torch.Generator().manual_seed(seed)
    noise = torch.rand(other_real.shape, generator=generator) * 2 - 1
    return {"real vs real": frechet(other_real), "noise": frechet(noise)}


@torch.no_grad()
def classify_digits(images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Class probabilities ``(n, 10)`` the shipped MNIST classifier gives ``images``."""
    from .mnist_classifier import shipped_classifier

    classifier = shipped_classifier()
    return torch.cat([classifier(prepare_digits(images[i:i + batch_size])).softmax(1)
                      for i in range(0, images.size(0), batch_size)])


def predicted_digits(images: torch.Tensor) -> torch.Tensor:
    """The digit (0–9) the classifier sees in each image."""
    return classify_digits(images).argmax(1)


def digit_distribution(probabilities: torch.Tensor, confidence: float = 0.9,
                       min_share: float = 0.01) -> dict[str, float]:
    """What the classifier sees in a batch, from its probabilities ``(n, 10)``.

    Returns:
        digits_covered: how many of the 10 digits are predicted for at least
            ``min_share`` of the images (10 for real MNIST; 1 for a collapsed generator).
        top_digit_share: share of the most frequent predicted digit (0.1 when balanced, 1.0 when collapsed).
        digit_entropy: entropy of the predicted-digit histogram in bits (max log2(10) = 3.32).
        digit_kl_uniform: KL divergence of that histogram from uniform, in bits (0 when balanced).
        confident_share: share of images whose top probability exceeds ``confidence``
            (real digits: about 0.99; blurry or half-formed fakes score lower).
    """
    n = probabilities.size(0)
    counts = torch.bincount(probabilities.argmax(1), minlength=10).double()
    shares = counts / n
    nonzero = shares[shares > 0]
    entropy = max(0.0, float(-(nonzero * nonzero.log2()).sum()))  # no -0.0 for one digit
    return {
        "digits_covered": float((shares >= min_share).sum()),
        "top_digit_share": float(shares.max()),
        "digit_entropy": entropy,
        "digit_kl_uniform": float(torch.log2(torch.tensor(10.0, dtype=torch.float64))) - entropy,
        "confident_share": float((probabilities.max(1).values > confidence).double().mean()),
    }


def label_accuracy(probabilities: torch.Tensor, asked: torch.Tensor) -> float:
    """Share of a conditional GAN's digits that the classifier reads as the digit asked for."""
    return float((probabilities.argmax(1).cpu() == asked.cpu()).double().mean())


def per_digit_frechet(fake: torch.Tensor, asked: torch.Tensor, real: torch.Tensor,
                      real_labels: torch.Tensor) -> dict[int, float]:
    """Fréchet distance (shipped classifier) of each asked-for digit's fakes against real
    images of that digit: does G draw every digit well, or only some?"""
    return {int(d): mnist_frechet_distance(fake[asked == d], real[real_labels == d])
            for d in asked.unique()}


def mnist_quality(fake: torch.Tensor, real: torch.Tensor, confidence: float = 0.9) -> dict[str, float]:
    """All MNIST quality numbers for a batch of fakes against real digits, in one dict.

    ``frechet_distance`` (see :func:`mnist_frechet_distance`: lower is better, not
    comparable with papers' FID) plus the predicted-digit statistics of
    :func:`digit_distribution`. Use the same number of images (500–1,000 is plenty)
    whenever you compare numbers.
    """
    return {"frechet_distance": mnist_frechet_distance(fake, real),
            **digit_distribution(classify_digits(fake), confidence)}


def mnist_evaluator(real: torch.Tensor, n: int = 1000, seed: int = 0, batch_size: int = 250,
                    confidence: float = 0.9) -> Callable[[GANTrainer], dict[str, float]]:
    """``fn(trainer) -> mnist_quality numbers`` for ``trainer.fit(..., evaluate=fn, eval_every=N)``.

    ``real``: real digits to compare with, e.g. ``mnist_reference_digits(1000)[0]``.
    The real digits' features are computed once. The ``n`` noise vectors come from the
    evaluator's own ``torch.Generator`` seeded with ``seed`` and are drawn once, so every
    evaluation scores the same latent points (a smoother curve) and the global RNG, hence
    training, is untouched. Samples come from ``trainer.sample`` in batches of
    ``batch_size`` (BatchNorm uses batch statistics; running statistics are not changed).
    """
    if n < 2:
        raise ValueError(f"n must be at least 2 to measure a Fréchet distance, got {n}")
    frechet = MNISTFrechetDistance(real)
    generator = torch.Generator().manual_seed(seed)
    noise: list[torch.Tensor] = []

    def evaluate(trainer: GANTrainer) -> dict[str, float]:
        if not noise:
            noise.append(torch.randn(n, *trainer.latent_shape, generator=generator))
        if getattr(trainer, "num_classes", None) is None:
            fake = torch.cat([trainer.sample(chunk) for chunk in noise[0].split(batch_size)])
            return {"frechet_distance": frechet(fake),
                    **digit_distribution(classify_digits(fake), confidence)}
        asked = torch.arange(n) % trainer.num_classes  # a conditional GAN: every digit in turn
        fake = torch.cat([trainer.sample(chunk, labels=wanted) for chunk, wanted
                          in zip(noise[0].split(batch_size), asked.split(batch_size))])
        probabilities = classify_digits(fake)
        return {"frechet_distance": frechet(fake), **digit_distribution(probabilities, confidence),
                "label_accuracy": label_accuracy(probabilities, asked)}

    return evaluate
