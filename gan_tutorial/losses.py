"""The losses beyond BCE that modern GANs train with, one small function each.

The lessons' default is the BCE game of Goodfellow et al. (2014), written out in
``GANTrainer.train_step``. ``GANTrainer(loss=...)`` swaps it for one of these; all of them
read D's raw score (a logit, ``outputs_logits = True``), never a probability.

* ``"hinge"`` (Lim & Ye 2017; SN-GAN, BigGAN): D pushes real scores above +1 and fake scores
  below -1 and stops caring beyond, G raises the fakes' score.
* ``"wgan-gp"`` (Gulrajani et al. 2017): D is a critic estimating the Wasserstein distance,
  mean score of reals minus mean score of fakes, kept 1-Lipschitz by a gradient penalty.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

LOSSES = ("bce", "hinge", "wgan-gp")
GP_WEIGHT = 10.0  # lambda of Gulrajani et al.


def hinge_d_loss(score_real: torch.Tensor, score_fake: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1 - score_real).mean() + F.relu(1 + score_fake).mean()


def wasserstein_d_loss(score_real: torch.Tensor, score_fake: torch.Tensor) -> torch.Tensor:
    """E[D(G(z))] - E[D(x)]: minimising it maximises the critic's estimate of the distance."""
    return score_fake.mean() - score_real.mean()


def critic_g_loss(score_fake: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]: G raises the score of its fakes (the same for hinge and WGAN)."""
    return -score_fake.mean()


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


D_LOSSES = {"hinge": hinge_d_loss, "wgan-gp": wasserstein_d_loss}
