"""Generators and discriminators used in the lessons, plus DCGAN weight init.

* ``FCGenerator`` / ``FCDiscriminator``: the original, fully connected GAN (lesson 01).
* ``GBlock`` / ``DBlock``: the DCGAN building blocks (d2l calls them G_block / D_block).
* ``DCGANGenerator`` / ``DCGANDiscriminator``: DCGAN for 32, 64 or 128 pixel images,
  stacked from those blocks (lessons 02-04).
* ``UpsampleGenerator`` / ``ConvDiscriminator``: the "upsample + conv" 32x32 variant
  often seen in classroom work, to contrast with transposed convolutions.
* ``ConditionalGenerator`` / ``ConditionalDiscriminator``: DCGAN told which class to draw
  or judge (a conditional GAN); they take ``(z, labels)`` and ``(images, labels)``.

Every generator has a ``latent_shape`` attribute: noise is ``torch.randn(n, *G.latent_shape)``.
Every discriminator returns one number per image, shape ``(n,)``: a probability, or a
logit when its ``outputs_logits`` attribute is True.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import nn

SUPPORTED_SIZES = (32, 64, 128)


# ---------------------------------------------------------------- argument and input checks
def _positive_int(owner: str, name: str, value: object) -> int:
    """``value`` as an int, or ValueError naming ``owner``'s argument ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _positive_ints(owner: str, name: str, values: object) -> tuple[int, ...]:
    """``values`` as a non-empty tuple of positive ints, or ValueError naming the entry."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{owner}: {name} must be a non-empty sequence of positive integers, "
                         f"got {values!r}")
    return tuple(_positive_int(owner, f"{name}[{i}]", v) for i, v in enumerate(values))


def _shape_text(shape: Sequence[int]) -> str:
    """A batch shape with its first (batch) size written as n: "(n, 3, 64, 64)"."""
    return "(" + ", ".join(["n", *map(str, shape[1:])]) + ")"


def _check_input(owner: str, what: str, x: torch.Tensor, *expected: tuple[int, ...]) -> None:
    """ValueError unless ``x`` is a batch whose per-item shape is one of ``expected``.

    One shape comparison per forward: cheap, and it turns a silent wrong number of scores
    (or an obscure matrix-size error deep inside) into a message naming both shapes.
    """
    if x.dim() >= 2 and tuple(x.shape[1:]) in expected:
        return
    batched = any(x.dim() == len(shape) + 1 for shape in expected)
    given = _shape_text(x.shape) if batched else f"a tensor of shape {tuple(x.shape)}"
    wanted = " or ".join(_shape_text((0, *shape)) for shape in expected)
    hint = ": make it with torch.randn(n, *G.latent_shape)" if what == "noise" else ""
    raise ValueError(f"{owner} expects {what} of shape {wanted}, got {given}{hint}")


# ---------------------------------------------------------------- fully connected GAN
def mlp_layers(sizes: Sequence[int], activation: nn.Module, dropout: float) -> list[nn.Module]:
    """Linear layers between consecutive ``sizes``, each followed by activation (+ dropout)."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), activation]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return layers


def _activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    raise ValueError(f"activation must be 'relu' or 'leaky_relu', got {name!r}")


class FCGenerator(nn.Module):
    """Noise vector -> image through dense layers (Goodfellow et al., 2014).

    Defaults give the lesson-01 network: 64 -> 256 -> 256 -> 784, ReLU, Tanh output.
    The classroom variant is ``FCGenerator(hidden=(32, 64, 128), activation="leaky_relu",
    dropout=0.3)``.
    """

    def __init__(
        self,
        latent_dim: int = 64,
        hidden: Sequence[int] = (256, 256),
        image_shape: Sequence[int] = (1, 28, 28),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        latent_dim = _positive_int("FCGenerator", "latent_dim", latent_dim)
        hidden = _positive_ints("FCGenerator", "hidden", hidden)
        self.latent_shape = (latent_dim,)
        self.image_shape = _positive_ints("FCGenerator", "image_shape", image_shape)
        n_pixels = math.prod(self.image_shape)
        self.main = nn.Sequential(
            *mlp_layers([latent_dim, *hidden], _activation(activation), dropout),
            nn.Linear(hidden[-1], n_pixels),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_input("FCGenerator", "noise", z, self.latent_shape)
        return self.main(z).view(-1, *self.image_shape)


class FCDiscriminator(nn.Module):
    """Image -> one score per image (is it real?), through dense layers.

    Defaults give the network of the GAN paper's tutorials: 784 -> 256 -> 256 -> 1,
    LeakyReLU(0.2), Sigmoid (a probability). With ``logits=True`` (what lesson 01 trains) the
    Sigmoid is left out and the trainer uses ``BCEWithLogitsLoss``: the same loss, computed
    without rounding a sure D's output to exactly 0 or 1.
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (1, 28, 28),
        hidden: Sequence[int] = (256, 256),
        dropout: float = 0.0,
        logits: bool = False,
    ) -> None:
        super().__init__()
        self.image_shape = _positive_ints("FCDiscriminator", "image_shape", image_shape)
        hidden = _positive_ints("FCDiscriminator", "hidden", hidden)
        n_pixels = math.prod(self.image_shape)
        self.main = nn.Sequential(
            nn.Flatten(),
            *mlp_layers([n_pixels, *hidden], nn.LeakyReLU(0.2), dropout),
            nn.Linear(hidden[-1], 1),
            *([] if logits else [nn.Sigmoid()]),
        )
        self.outputs_logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input("FCDiscriminator", "images", x, self.image_shape, (math.prod(self.image_shape),))
        return self.main(x).view(-1)


# ---------------------------------------------------------------- DCGAN building blocks
class GBlock(nn.Sequential):
    """ConvTranspose2d (no bias) + BatchNorm + ReLU. With k=4, s=2, p=1 it doubles the side.

    Output side: n' = s(n - 1) + k - 2p, so (4, 2, 1) maps 16 -> 32 and (4, 1, 0) maps 1 -> 4.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 4,
                 stride: int = 2, padding: int = 1) -> None:
        _positive_int("GBlock", "in_channels", in_channels)
        _positive_int("GBlock", "out_channels", out_channels)
        super().__init__(
            nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class DBlock(nn.Sequential):
    """Conv2d (no bias) + optional BatchNorm + LeakyReLU. With k=4, s=2, p=1 it halves the side.

    Output side: floor((n - k + 2p + s) / s), so (4, 2, 1) maps 16 -> 8.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 4,
                 stride: int = 2, padding: int = 1, batch_norm: bool = True,
                 alpha: float = 0.2) -> None:
        _positive_int("DBlock", "in_channels", in_channels)
        _positive_int("DBlock", "out_channels", out_channels)
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        ]
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.LeakyReLU(alpha, inplace=True))
        super().__init__(*layers)


def _doublings(image_size: int) -> int:
    """How many times a 4x4 map doubles to reach ``image_size`` (3 for 32, 4 for 64, 5 for 128)."""
    if type(image_size) is not int or image_size not in SUPPORTED_SIZES:
        raise ValueError(
            f"image_size must be one of {SUPPORTED_SIZES} (the 4x4 start doubled 3, 4 or 5 "
            f"times), got {image_size!r}. Resize your images to one of these sizes, "
            "e.g. with transforms.Resize(64) + transforms.CenterCrop(64)."
        )
    return int(math.log2(image_size // 4))


class DCGANGenerator(nn.Module):
    """DCGAN generator (Radford et al., 2015): z (latent_dim x 1 x 1) -> image (nc x size x size).

    For size 64: 1 -> 4 -> 8 -> 16 -> 32 -> 64 with channels 8ngf, 4ngf, 2ngf, ngf, nc.
    BatchNorm + ReLU after every layer but the last, which has Tanh; no conv biases.
    ``latent_dim`` is what the PyTorch DCGAN tutorial calls ``nz``.
    """

    def __init__(self, latent_dim: int = 100, ngf: int = 64, nc: int = 3,
                 image_size: int = 64) -> None:
        super().__init__()
        latent_dim = _positive_int("DCGANGenerator", "latent_dim", latent_dim)
        ngf = _positive_int("DCGANGenerator", "ngf", ngf)
        nc = _positive_int("DCGANGenerator", "nc", nc)
        n_up = _doublings(image_size)
        mults = [2 ** i for i in reversed(range(n_up))]  # 64px: [8, 4, 2, 1]
        layers: list[nn.Module] = [GBlock(latent_dim, ngf * mults[0], 4, 1, 0)]  # 1 -> 4
        for m_in, m_out in zip(mults[:-1], mults[1:]):
            layers.append(GBlock(ngf * m_in, ngf * m_out))  # doubles the side
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.latent_shape = (latent_dim, 1, 1)
        self.image_size = image_size

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_input("DCGANGenerator", "noise", z, self.latent_shape)
        return self.main(z)


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: image (nc x size x size) -> one score per image.

    Mirrors the generator: Conv(4, 2, 1) halves the side down to 4x4, then Conv(4, 1, 0)
    gives 1x1. No BatchNorm on the input layer (unless ``first_batch_norm``), LeakyReLU(0.2).
    With ``logits=False`` (default) a Sigmoid gives probabilities; with ``logits=True`` the raw
    score is returned and the trainer uses ``BCEWithLogitsLoss``, which is numerically safer.
    ``spectral_norm=True`` (SN-GAN, Miyato et al. 2018) divides every convolution's weight by
    its largest singular value, which bounds how fast D's score can change, and leaves out
    BatchNorm, as SN-GAN's discriminator does. ``batch_norm=False`` leaves it out alone
    (a WGAN-GP critic: its gradient penalty is per image, which BatchNorm would mix).
    """

    def __init__(self, ndf: int = 64, nc: int = 3, image_size: int = 64,
                 logits: bool = False, first_batch_norm: bool = False,
                 alpha: float = 0.2, spectral_norm: bool = False, batch_norm: bool = True) -> None:
        super().__init__()
        ndf = _positive_int("DCGANDiscriminator", "ndf", ndf)
        nc = _positive_int("DCGANDiscriminator", "nc", nc)
        n_down = _doublings(image_size)
        mults = [2 ** i for i in range(n_down)]  # 64px: [1, 2, 4, 8]
        norm = batch_norm and not spectral_norm
        layers: list[nn.Module] = [DBlock(nc, ndf, batch_norm=first_batch_norm and norm, alpha=alpha)]
        for m_in, m_out in zip(mults[:-1], mults[1:]):
            layers.append(DBlock(ndf * m_in, ndf * m_out, batch_norm=norm, alpha=alpha))
        layers.append(nn.Conv2d(ndf * mults[-1], 1, 4, 1, 0, bias=False))  # 4 -> 1
        if not logits:
            layers.append(nn.Sigmoid())
        self.main = nn.Sequential(*layers)
        if spectral_norm:
            for module in self.main.modules():
                if isinstance(module, nn.Conv2d):
                    torch.nn.utils.parametrizations.spectral_norm(module)
        self.outputs_logits = logits
        self.image_size = image_size
        self.image_shape = (nc, image_size, image_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input("DCGANDiscriminator", "images", x, self.image_shape)
        return self.main(x).view(-1)


# ---------------------------------------------------------------- conditional DCGAN
def label_codes(labels: torch.Tensor, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """(n,) class indices -> (n, num_classes, 1, 1) one-hot codes in ``like``'s dtype: what the
    conditional networks stack onto the noise (G) or, spread over the image, onto it (D)."""
    if labels.dim() != 1 or len(labels) != len(like):
        raise ValueError(f"expected one label per image, shape ({len(like)},), got "
                         f"{_shape_text(labels.shape)}")
    if labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) < num_classes:
        raise ValueError(f"labels must be class indices 0..{num_classes - 1}, got values "
                         f"{int(labels.min())}..{int(labels.max())}")
    return nn.functional.one_hot(labels.long(), num_classes).to(like.dtype)[:, :, None, None]


class ConditionalGenerator(nn.Module):
    """G(z, y): a DCGAN generator whose input is the noise plus the one-hot code of the class
    it must draw (Mirza & Osindero 2014; the cDCGAN recipe)."""

    def __init__(self, num_classes: int = 10, latent_dim: int = 100, ngf: int = 64, nc: int = 1,
                 image_size: int = 32) -> None:
        super().__init__()
        self.num_classes = _positive_int("ConditionalGenerator", "num_classes", num_classes)
        latent_dim = _positive_int("ConditionalGenerator", "latent_dim", latent_dim)
        self.net = DCGANGenerator(latent_dim + num_classes, ngf, nc, image_size)
        self.latent_shape = (latent_dim, 1, 1)
        self.image_size = image_size

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _check_input("ConditionalGenerator", "noise", z, self.latent_shape)
        return self.net(torch.cat([z, label_codes(labels.to(z.device), self.num_classes, z)], 1))


class ConditionalDiscriminator(nn.Module):
    """D(x, y): a DCGAN discriminator that sees the image plus its claimed class, as one
    constant one-hot plane per class stacked onto the colour channels."""

    def __init__(self, num_classes: int = 10, ndf: int = 64, nc: int = 1, image_size: int = 32,
                 logits: bool = True) -> None:
        super().__init__()
        self.num_classes = _positive_int("ConditionalDiscriminator", "num_classes", num_classes)
        self.net = DCGANDiscriminator(ndf, nc + num_classes, image_size, logits=logits)
        self.outputs_logits = logits
        self.image_size = image_size
        self.image_shape = (_positive_int("ConditionalDiscriminator", "nc", nc), image_size, image_size)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _check_input("ConditionalDiscriminator", "images", x, self.image_shape)
        planes = label_codes(labels.to(x.device), self.num_classes, x).expand(-1, -1, *x.shape[2:])
        return self.net(torch.cat([x, planes], 1))


# ---------------------------------------------------------------- upsample + conv variant
class UpsampleGenerator(nn.Module):
    """Generator that grows images with Upsample + 3x3 Conv instead of transposed convs: noise
    -> Linear -> 128 maps of side image_size / 4 -> doubled twice to ``image_size`` (32 by
    default, any multiple of 4).

    Nearest-neighbour upsampling followed by a convolution avoids the checkerboard
    artefacts that overlapping transposed convolutions can leave.
    """

    def __init__(self, latent_dim: int = 100, nc: int = 1, image_size: int = 32) -> None:
        super().__init__()
        latent_dim = _positive_int("UpsampleGenerator", "latent_dim", latent_dim)
        nc = _positive_int("UpsampleGenerator", "nc", nc)
        if _positive_int("UpsampleGenerator", "image_size", image_size) % 4:
            raise ValueError(f"UpsampleGenerator: image_size must be a multiple of 4, "
                             f"got {image_size}")
        self.init_size = image_size // 4
        self.latent_shape = (latent_dim,)
        self.project = nn.Linear(latent_dim, 128 * self.init_size ** 2)
        self.main = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 128, 3, stride=1, padding=1),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 3, stride=1, padding=1),
            nn.BatchNorm2d(64),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, nc, 3, stride=1, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_input("UpsampleGenerator", "noise", z, self.latent_shape)
        x = self.project(z).view(-1, 128, self.init_size, self.init_size)
        return self.main(x)


class ConvDiscriminator(nn.Module):
    """Four stride-2 3x3 conv blocks (16, 32, 64, 128 channels) + Linear (+ Sigmoid).

    ``logits=True`` leaves the Sigmoid out, as for the other discriminators.
    """

    def __init__(self, nc: int = 1, image_size: int = 32, logits: bool = False) -> None:
        super().__init__()
        nc = _positive_int("ConvDiscriminator", "nc", nc)
        if _positive_int("ConvDiscriminator", "image_size", image_size) % 16:
            raise ValueError(f"ConvDiscriminator: image_size must be a multiple of 16, "
                             f"got {image_size}")
        self.image_shape = (nc, image_size, image_size)

        def block(n_in: int, n_out: int, bn: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(n_in, n_out, 3, 2, 1),
                                       nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(0.25)]
            if bn:
                layers.append(nn.BatchNorm2d(n_out))
            return layers

        self.main = nn.Sequential(
            *block(nc, 16, bn=False), *block(16, 32), *block(32, 64), *block(64, 128),
            nn.Flatten(),
            nn.Linear(128 * (image_size // 16) ** 2, 1),
            *([] if logits else [nn.Sigmoid()]),
        )
        self.outputs_logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input("ConvDiscriminator", "images", x, self.image_shape)
        return self.main(x).view(-1)


# ---------------------------------------------------------------- initialisation
def weights_init(module: nn.Module) -> None:
    """DCGAN init: conv weights ~ N(0, 0.02) (conv biases, if any, 0); BatchNorm weight
    ~ N(1, 0.02), bias 0.

    Use as ``model.apply(weights_init)``.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
