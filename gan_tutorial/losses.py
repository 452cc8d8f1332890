"""What D and G minimise: one small object per GAN loss, each called the same way by the step.

``GANTrainer.train_step`` computes D's outputs on real and fake images, then asks its loss::

    loss_d = loss.d_loss(out_real, out_fake) + loss.penalty(critic, real, fake)   # (1) D
    loss_g = loss.g_loss(out_fake_after)                                          # (2) G

so a new loss is a new class here, never a new branch in the step.

* :class:`BCE` (Goodfellow et al. 2014, the lessons' default): D's binary cross-entropy on
  real (label 1, or 0.9 with label smoothing) and fake (label 0) images; G's
  non-saturating loss, BCE against label 1. :class:`MinimaxBCE` gives G the original
  minimax loss, log(1 - D(G(z))), which saturates early.
* :class:`Hinge` (Lim & Ye 2017; SN-GAN, BigGAN): D pushes real scores above +1 and fake
  scores below -1 and stops caring beyond; G raises the fakes' score.
* :class:`WGANGP` (Gulrajani et al. 2017): D is a critic estimating the Wasserstein
  distance, kept 1-Lipschitz by a gradient penalty.

Hinge and WGAN-GP read D's raw score (a logit); BCE reads a logit or a probability.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

LOSSES = ("bce", "hinge", "wgan-gp")
G_LOSSES = ("non-saturating", "minimax")  # G's loss in the BCE game
GP_WEIGHT = 10.0  # lambda of Gulrajani et al.

Critic = Callable[[torch.Tensor], torch.Tensor]


class GANLoss:
    """The losses of D and G, from D's outputs on a real and a fake batch."""

    name = "gan"

    def d_loss(self, out_real: torch.Tensor, out_fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, out_fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def penalty(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | float:
        """An extra term of D's loss that needs D itself (WGAN-GP's gradient penalty); none here."""
        return 0.0

    def probability(self, out: torch.Tensor) -> torch.Tensor:
        """D's output as the probability "real" that the curves plot (D(x), D(G(z)))."""
        return torch.sigmoid(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class BCE(GANLoss):
    """Goodfellow et al.'s game: D minimises BCE(D(x), 1) + BCE(D(G(z)), 0); G, non-saturating,
    minimises BCE(D(G(z)), 1), i.e. maximises log D(G(z)).

    ``logits``: D's output is a logit (``BCEWithLogitsLoss``) rather than a probability.
    ``real_label``: D's target for real images (0.9: one-sided label smoothing).
    ``reduction``: "sum" adds D's two terms (PyTorch DCGAN tutorial), "mean" averages them (d2l).
    """

    name = "bce"

    def __init__(self, logits: bool = True, real_label: float = 1.0, reduction: str = "sum") -> None:
        if reduction not in ("sum", "mean"):
            raise ValueError(f"d_loss_reduction must be 'sum' or 'mean', got {reduction!r}")
        if not 0.5 < real_label <= 1.0:
            raise ValueError(f"real_label must be in (0.5, 1] (0.9 is the usual smoothing), got {real_label}")
        self.logits, self.real_label, self.reduction = logits, real_label, reduction
        self.criterion = nn.BCEWithLogitsLoss() if logits else nn.BCELoss()

    def d_loss(self, out_real: torch.Tensor, out_fake: torch.Tensor) -> torch.Tensor:
        # BCE with label 1 keeps only the -log D(x) term, label 0 only -log(1 - D(G(z)))
        loss = (self.criterion(out_real, torch.full_like(out_real, self.real_label))
                + self.criterion(out_fake, torch.zeros_like(out_fake)))
        return loss / 2 if self.reduction == "mean" else loss

    def g_loss(self, out_fake: torch.Tensor) -> torch.Tensor:
        return self.criterion(out_fake, torch.ones_like(out_fake))

    def probability(self, out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(out) if self.logits else out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.criterion.__class__.__name__}, real_label={self.real_label}, "
                f"reduction={self.reduction!r})")


class MinimaxBCE(BCE):
    """The BCE game with G's original minimax loss: G minimises log(1 - D(G(z))), i.e. the
    negated BCE against label 0. Its gradient vanishes while D rejects the fakes."""

    def g_loss(self, out_fake: torch.Tensor) -> torch.Tensor:
        return -self.criterion(out_fake, torch.zeros_like(out_fake))


def hinge_d_loss(score_real: torch.Tensor, score_fake: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1 - score_real).mean() + F.relu(1 + score_fake).mean()


def wasserstein_d_loss(score_real: torch.Tensor, score_fake: torch.Tensor) -> torch.Tensor:
    """E[D(G(z))] - E[D(x)]: minimising it maximises the critic's estimate of the distance."""
    return score_fake.mean() - score_real.mean()


def critic_g_loss(score_fake: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]: G raises the score of its fakes (the same for hinge and WGAN)."""
    return -score_fake.mean()


class Hinge(GANLoss):
    """D: :func:`hinge_d_loss`; G: :func:`critic_g_loss`."""

    name = "hinge"

    def d_loss(self, out_real: torch.Tensor, out_fake: torch.Tensor) -> torch.Tensor:
        return hinge_d_loss(out_real, out_fake)

    def g_loss(self, out_fake: torch.Tensor) -> torch.Tensor:
        return critic_g_loss(out_fake)


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, weight: float = GP_WEIGHT) -> torch.Tensor:
    """weight * E[(||grad D(x_hat)|| - 1)^2] on random points x_hat between reals and fakes.

    The gradient is part of the graph (``create_graph``), so the penalty trains D.
    """
    alpha = torch.rand(real.size(0), *[1] * (real.dim() - 1), device=real.device)
    between = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(between).float()
    grad, = torch.autograd.grad(scores.sum(), between, create_graph=True)
    return weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


class WGANGP(GANLoss):
    """D (a critic): :func:`wasserstein_d_loss` plus :func:`gradient_penalty`; G: :func:`critic_g_loss`."""

    name = "wgan-gp"

    def __init__(self, weight: float = GP_WEIGHT) -> None:
        self.weight = weight

    def d_loss(self, out_real: torch.Tensor, out_fake: torch.Tensor) -> torch.Tensor:
        return wasserstein_d_loss(out_real, out_fake)

    def g_loss(self, out_fake: torch.Tensor) -> torch.Tensor:
        return critic_g_loss(out_fake)

    def penalty(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return gradient_penalty(critic, real, fake, self.weight)

    def __repr__(self) -> str:
        return f"WGANGP(weight={self.weight:g})"


def make_loss(name: str = "bce", g_loss: str = "non-saturating", logits: bool = True,
              real_label: float = 1.0, reduction: str = "sum") -> GANLoss:
    """The loss object for ``GANTrainer``'s options: ``name`` one of :data:`LOSSES`; ``g_loss``,
    ``real_label`` and ``reduction`` shape the BCE game; ``logits``: whether D returns logits
    (hinge and WGAN-GP need them)."""
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {name!r}")
    if g_loss not in G_LOSSES:
        raise ValueError(f"g_loss must be one of {G_LOSSES}, got {g_loss!r}")
    if name != "bce" and not logits:
        raise ValueError(f"loss={name!r} reads D's raw score, but this discriminator ends in a "
                         f"Sigmoid: build it with logits=True")
    if name == "bce":
        game = MinimaxBCE if g_loss == "minimax" else BCE
        return game(logits=logits, real_label=real_label, reduction=reduction)
    return Hinge() if name == "hinge" else WGANGP()
