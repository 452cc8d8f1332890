"""A GAN on 2-D points (lesson 00): two small MLPs, steps of D and G apart, and what to draw.

On the plane every quantity of the theory can be computed and drawn: D's output over the
plane, the best discriminator D* for the current G, the generator's image of a noise grid,
the gradient G receives on each fake, and the Jensen-Shannon divergence between the real
and the generated points. :class:`PointGAN` holds the two networks and their optimisers,
steps D only, G only or both (k D-updates, then one of G), takes new settings while it
runs, and :meth:`PointGAN.frame` measures everything the lesson's pictures show.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
from torch import nn

from .data import RING_STD, ring_modes, toy_points
from .losses import GANLoss, make_loss
from .models import mlp_layers
from .metrics.points import best_discriminator, js_divergence, kde_density, mode_coverage, plane_grid

POINT_LOSSES = ("non-saturating", "minimax", "hinge", "wgan-gp")
OPTIMIZERS = ("adam", "sgd")
LIMIT = 3.0  # the plane drawn: [-3, 3]^2
BANDWIDTH = 0.1  # of the density estimates behind D* and Jensen-Shannon


class PointGenerator(nn.Module):
    """G: noise z in R^latent_dim -> a point in R^2, through ``depth`` hidden ReLU layers."""

    def __init__(self, latent_dim: int = 2, hidden: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(*mlp_layers([latent_dim] + [hidden] * depth, nn.ReLU(), 0.0), nn.Linear(hidden, 2))
        self.latent_shape = (latent_dim,)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class PointDiscriminator(nn.Module):
    """D: a point in R^2 -> one logit (real > 0 > fake), through ``depth`` hidden ReLU layers."""

    outputs_logits = True

    def __init__(self, hidden: int = 128, depth: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(*mlp_layers([2] + [hidden] * depth, nn.ReLU(), 0.0), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def point_loss(name: str) -> GANLoss:
    """The loss object of a 2-D game: "non-saturating" or "minimax" BCE (D's two terms
    averaged), "hinge" or "wgan-gp"; the same objects the image lessons' step calls."""
    if name not in POINT_LOSSES:
        raise ValueError(f"loss must be one of {', '.join(POINT_LOSSES)}, got {name!r}")
    if name in ("hinge", "wgan-gp"):
        return make_loss(name)
    return make_loss("bce", g_loss=name, reduction="mean")


@dataclass
class PointRecipe:
    """Everything a 2-D run is made of; every field can be changed while it runs except
    ``points``, ``hidden``, ``latent_dim`` and ``seed``, which need :meth:`PointGAN.reset`."""

    points: str | torch.Tensor = "ring"  # a named set, or points typed as a tensor (m, 2)
    loss: str = "non-saturating"
    optimizer: str = "adam"
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    d_steps: int = 1
    batch_size: int = 256
    latent_dim: int = 2
    hidden: int = 128
    seed: int = 0

    def check(self) -> "PointRecipe":
        """This recipe, or ValueError naming the field that cannot be used and why."""
        toy_points(self.points, 1, seed=0)  # names the choices for an unknown data set
        point_loss(self.loss)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        for name in ("lr_d", "lr_g"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        for name in ("d_steps", "batch_size", "latent_dim", "hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.latent_dim < 2:
            raise ValueError(f"latent_dim must be at least 2 (the noise grid G bends is 2-D), got {self.latent_dim}")
        return self


@dataclass
class Frame:
    """What the lesson draws at one moment (all on the plane [-LIMIT, LIMIT]^2)."""

    step: int
    real: torch.Tensor  # (n, 2)
    fake: torch.Tensor  # (n, 2)
    arrows: torch.Tensor  # (n, 2): minus G's loss gradient at each fake (the signal G receives)
    grid_axis: torch.Tensor  # (m,): the heatmaps' x and y coordinates
    d_map: torch.Tensor  # (m, m): D's probability "real" on the plane
    d_star_map: torch.Tensor  # (m, m): the best D for the current G, from density estimates
    noise_lines: torch.Tensor  # (lines, points, 2): G's image of a grid of noise lines
    js: float  # Jensen-Shannon divergence of the density estimates (0 .. ln 2)
    modes_covered: int | None  # the ring's modes holding >= 1% of the fakes (ring only)


@dataclass
class PointHistory:
    """Per update of G: the two losses; per measured frame: step, Jensen-Shannon, modes."""

    step: list[int] = field(default_factory=list)
    loss_d: list[float] = field(default_factory=list)
    loss_g: list[float] = field(default_factory=list)
    frame_step: list[int] = field(default_factory=list)
    js: list[float] = field(default_factory=list)
    modes_covered: list[int] = field(default_factory=list)
    d_mean: list[float] = field(default_factory=list)  # mean D over the real points


class PointGAN:
    """G and D on 2-D points, trained by the steps the lesson writes on its page."""

    def __init__(self, recipe: PointRecipe | None = None, **changes) -> None:
        self.recipe = replace(recipe or PointRecipe(), **changes).check()
        self.reset()

    # ---------------------------------------------------------------- state
    def reset(self, **changes) -> None:
        """Fresh networks, optimisers and history from the recipe (with ``changes``)."""
        self.recipe = replace(self.recipe, **changes).check()
        r = self.recipe
        torch.manual_seed(r.seed)
        self.G, self.D = PointGenerator(r.latent_dim, r.hidden), PointDiscriminator(r.hidden)
        self.loss = point_loss(r.loss)
        self.opt_g, self.opt_d = self._optimizer(self.G, r.lr_g), self._optimizer(self.D, r.lr_d)
        self.data = torch.Generator().manual_seed(r.seed + 1)
        self.noise_gen = torch.Generator().manual_seed(r.seed + 2)
        self.history = PointHistory()
        self.steps = 0  # updates of G (a full step counts one; a D-only step none)

    def _optimizer(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        if self.recipe.optimizer == "adam":
            return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.5, 0.999))
        return torch.optim.SGD(model.parameters(), lr=lr)

    def set(self, **changes) -> None:
        """Change learning rates, optimiser, loss or k while training goes on (weights kept)."""
        fixed = {"points", "hidden", "latent_dim", "seed"} & changes.keys()
        if fixed:
            raise ValueError(f"{', '.join(sorted(fixed))} change the networks or data: use reset(...)")
        old = self.recipe
        self.recipe = replace(old, **changes).check()
        if self.recipe.optimizer != old.optimizer:  # a new optimiser starts with no moments
            self.opt_g, self.opt_d = self._optimizer(self.G, self.recipe.lr_g), self._optimizer(self.D, self.recipe.lr_d)
        for opt, lr in ((self.opt_g, self.recipe.lr_g), (self.opt_d, self.recipe.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr
        self.loss = point_loss(self.recipe.loss)

    def real(self, n: int | None = None) -> torch.Tensor:
        """A fresh batch of real points (the data is endless: every batch is new)."""
        seed = int(torch.randint(2 ** 31, (1,), generator=self.data))
        return toy_points(self.recipe.points, n or self.recipe.batch_size, seed=seed)

    def noise(self, n: int | None = None) -> torch.Tensor:
        """A fresh batch of noise z for G (``n`` vectors, else a batch)."""
        return torch.randn(n or self.recipe.batch_size, self.recipe.latent_dim, generator=self.noise_gen)

    # ---------------------------------------------------------------- the steps (as on the page)
    def step_d(self) -> float:
        """One update of D on a fresh real batch and a fresh fake batch; G unchanged."""
        real, fake = self.real(), self.G(self.noise()).detach()
        self.opt_d.zero_grad()
        loss_d = self.loss.d_loss(self.D(real), self.D(fake)) + self.loss.penalty(self.D, real, fake)
        loss_d.backward()
        self.opt_d.step()
        return loss_d.item()

    def step_g(self) -> float:
        """One update of G on fresh noise; D unchanged (its gradients are cleared, not used)."""
        self.opt_g.zero_grad()
        loss_g = self.loss.g_loss(self.D(self.G(self.noise())))
        loss_g.backward()
        self.opt_g.step()
        self.D.zero_grad(set_to_none=True)
        return loss_g.item()

    def step(self) -> tuple[float, float]:
        """A full training step: k = ``d_steps`` updates of D, then one of G. Recorded."""
        for _ in range(self.recipe.d_steps):
            loss_d = self.step_d()
        loss_g = self.step_g()
        self.steps += 1
        h = self.history
        h.step.append(self.steps)
        h.loss_d.append(loss_d)
        h.loss_g.append(loss_g)
        return loss_d, loss_g

    def train(self, steps: int, measure_every: int = 100) -> PointHistory:
        """``steps`` full steps, measuring (Jensen-Shannon, modes, D on the reals) every
        ``measure_every`` and at the end."""
        if isinstance(measure_every, bool) or not isinstance(measure_every, int) or measure_every < 1:
            raise ValueError(f"measure_every must be a positive whole number of steps, got {measure_every!r}")
        if not self.history.frame_step:
            self.measure()
        for _ in range(steps):
            self.step()
            if self.steps % measure_every == 0:
                self.measure()
        if self.history.frame_step[-1] != self.steps:
            self.measure()
        return self.history

    # ---------------------------------------------------------------- what is drawn
    @torch.no_grad()
    def d_probability(self, points: torch.Tensor) -> torch.Tensor:
        """D's output on ``points`` as the probability "real" (the hinge's score through a sigmoid)."""
        return torch.sigmoid(self.D(points))

    def arrows(self, fake: torch.Tensor) -> torch.Tensor:
        """Minus the gradient of G's loss with respect to each fake point (per point: scaled by
        the batch size): the direction in which G's loss falls fastest there, the signal G's
        update receives through that fake. With plain SGD G's update moves the fakes along
        these arrows to first order; Adam rescales each weight's step, so only roughly."""
        fake = fake.detach().requires_grad_(True)
        loss = self.loss.g_loss(self.D(fake))
        grad, = torch.autograd.grad(loss, fake)
        self.D.zero_grad(set_to_none=True)
        return -grad * len(fake)

    def measure(self, n: int = 1000) -> Frame:
        """Draw ``n`` reals and fakes, compute every picture's numbers, record JS and modes."""
        frame = self.frame(n)
        h = self.history
        h.frame_step.append(frame.step)
        h.js.append(frame.js)
        h.modes_covered.append(-1 if frame.modes_covered is None else frame.modes_covered)
        h.d_mean.append(float(self.d_probability(frame.real).mean()))
        return frame

    def frame(self, n: int = 1000, steps: int = 61) -> Frame:
        """Everything the lesson draws for the current G and D (does not record anything)."""
        real = toy_points(self.recipe.points, n, seed=12345)  # the same reals in every frame
        with torch.no_grad():
            fake = self.G(torch.randn(n, self.recipe.latent_dim, generator=torch.Generator().manual_seed(0)))
        grid = plane_grid(LIMIT, steps)
        p_data, p_g = kde_density(real, grid, BANDWIDTH), kde_density(fake, grid, BANDWIDTH)
        modes = None
        if self.recipe.points == "ring":
            modes = int(mode_coverage(fake, ring_modes(), RING_STD)["modes_covered"])
        return Frame(step=self.steps, real=real, fake=fake, arrows=self.arrows(fake),
                     grid_axis=torch.linspace(-LIMIT, LIMIT, steps),
                     d_map=self.d_probability(grid).reshape(steps, steps),
                     d_star_map=best_discriminator(p_data, p_g).float().reshape(steps, steps),
                     noise_lines=self.noise_lines(), js=js_divergence(p_data, p_g), modes_covered=modes)

    @torch.no_grad()
    def noise_lines(self, lines: int = 9, points: int = 50, limit: float = 2.0) -> torch.Tensor:
        """G's image of a square grid of noise: ``lines`` horizontal then ``lines`` vertical
        lines in the first two noise coordinates (others 0), each ``points`` long."""
        ticks, along = torch.linspace(-limit, limit, lines), torch.linspace(-limit, limit, points)
        z = torch.zeros(2 * lines, points, self.recipe.latent_dim)
        z[:lines, :, 0], z[:lines, :, 1] = along, ticks[:, None]
        z[lines:, :, 0], z[lines:, :, 1] = ticks[:, None], along
        return self.G(z.reshape(-1, self.recipe.latent_dim)).reshape(2 * lines, points, 2)
