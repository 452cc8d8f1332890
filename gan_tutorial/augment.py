"""DiffAugment (Zhao et al., NeurIPS 2020): augment real *and* fake images before D.

A discriminator trained on a few thousand images memorises them: it becomes certain, and the
generator's gradient no longer says what real images look like. Augmenting only the real
images would teach G to draw augmented images. DiffAugment applies the same random,
differentiable transformations to the real batch and to the fakes, in D's update and in
G's, so D must judge shapes and colours it cannot memorise, and G's gradient flows back
through the transformation.

    trainer = GANTrainer(G, D, augment=DiffAugment("color,translation,cutout"))

Each transformation draws fresh random numbers per image and per call. Images are in
[-1, 1]; cutout fills with 0 (mid-grey), as the authors' code does.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _per_image(x: torch.Tensor) -> torch.Tensor:
    """One uniform [0, 1) number per image, shaped to broadcast over (C, H, W)."""
    return torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device)


def brightness(x: torch.Tensor) -> torch.Tensor:
    """Add one number in [-0.5, 0.5) to every pixel of an image."""
    return x + (_per_image(x) - 0.5)


def saturation(x: torch.Tensor) -> torch.Tensor:
    """Scale each pixel's distance from its grey value by a factor in [0, 2)."""
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_per_image(x) * 2) + mean


def contrast(x: torch.Tensor) -> torch.Tensor:
    """Scale each image's distance from its mean by a factor in [0.5, 1.5)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_per_image(x) + 0.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its side in x and y, filling with zeros."""
    n, _, h, w = x.shape
    shift_h, shift_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-shift_h, shift_h + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-shift_w, shift_w + 1, (n, 1, 1), device=x.device)
    batch, rows, cols = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                       torch.arange(w, device=x.device), indexing="ij")
    rows = (rows + dy + 1).clamp(0, h + 1)  # +1: index into the zero-padded image
    cols = (cols + dx + 1).clamp(0, w + 1)
    padded = F.pad(x, (1, 1, 1, 1))
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Blank one square of ``ratio`` times the side, at a random place in each image."""
    n, _, h, w = x.shape
    size_h, size_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + (1 - size_h % 2), (n, 1, 1), device=x.device)
    left = torch.randint(0, w + (1 - size_w % 2), (n, 1, 1), device=x.device)
    batch, rows, cols = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(size_h, device=x.device),
                                       torch.arange(size_w, device=x.device), indexing="ij")
    rows = (rows + top - size_h // 2).clamp(0, h - 1)
    cols = (cols + left - size_w // 2).clamp(0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[batch, rows, cols] = 0
    return x * mask.unsqueeze(1)


def flip(x: torch.Tensor) -> torch.Tensor:
    """Mirror each image left to right with probability 1/2 (a mirrored face is still a face)."""
    return torch.where(_per_image(x) < 0.5, x.flip(-1), x)


POLICIES = {"color": (brightness, saturation, contrast), "translation": (translation,),
            "cutout": (cutout,), "flip": (flip,)}


class DiffAugment:
    """The augmentation ``GANTrainer(augment=...)`` applies to every image D sees.

    ``policy`` names transformations from :data:`POLICIES`, comma-separated, applied in that
    order: "color,translation,cutout" is the paper's choice for small datasets.
    """

    def __init__(self, policy: str = "color,translation,cutout") -> None:
        names = [name.strip() for name in policy.split(",") if name.strip()]
        unknown = [name for name in names if name not in POLICIES]
        if unknown or not names:
            raise ValueError(f"DiffAugment policy {policy!r}: use comma-separated names from "
                             f"{', '.join(POLICIES)}")
        self.policy = ",".join(names)
        self.steps = [step for name in names for step in POLICIES[name]]

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        for step in self.steps:
            images = step(images)
        return images

    def __repr__(self) -> str:
        return f"DiffAugment({self.policy!r})"
