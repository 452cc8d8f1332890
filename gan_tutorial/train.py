"""The GAN training loop: one canonical step, bookkeeping, checkpoints, interrupts.

    trainer = GANTrainer(G, D, lr=2e-4, betas=(0.5, 0.999))
    history = trainer.fit(loader, epochs=5, checkpoint="runs/dcgan.pt")

``fit`` trains until ``epochs`` epochs are done *in total*, so running the same cell
again after an interrupt (or after ``resume``) carries on where training stopped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision.utils import save_image
from tqdm.auto import tqdm

from .checkpoint import (NonFiniteStateError, first_non_finite, load_checkpoint,
                         optimizer_mismatches, raise_if_incompatible, save_checkpoint,
                         state_dict_mismatches)
from .runtime import get_device

REAL_LABEL = 1.0
FAKE_LABEL = 0.0


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] -> uint8 pixels in [0, 255] (denormalise with (x + 1) / 2)."""
    return ((images.detach().float().cpu() + 1) / 2).clamp(0, 1).mul(255).round().to(torch.uint8)


@dataclass
class History:
    """Everything recorded while training, one entry per iteration (``snapshots`` aside).

    ``d_g_z1`` is D(G(z)) while D is updated (before its step), ``d_g_z2`` the same
    batch scored again by the updated D while G is updated (after D's step).
    """

    loss_d: list[float] = field(default_factory=list)
    loss_g: list[float] = field(default_factory=list)
    d_x: list[float] = field(default_factory=list)
    d_g_z1: list[float] = field(default_factory=list)
    d_g_z2: list[float] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    snapshot_iterations: list[int] = field(default_factory=list)
    snapshots: list[torch.Tensor] = field(default_factory=list)  # uint8, fixed noise
    epochs_done: int = 0
    interrupted: bool = False

    @property
    def iterations(self) -> int:
        return len(self.loss_d)

    def record(self, epoch: int, stats: dict[str, float]) -> None:
        """Append one iteration's statistics."""
        self.epoch.append(epoch)
        for key in ("loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2"):
            getattr(self, key).append(stats[key])

    def epoch_means(self, key: str) -> list[float]:
        """Mean of one recorded series (e.g. "loss_d") over each epoch."""
        series = getattr(self, key)
        sums: dict[int, list[float]] = {}
        for e, value in zip(self.epoch, series):
            sums.setdefault(e, []).append(value)
        return [sum(v) / len(v) for _, v in sorted(sums.items())]

    def state_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_state_dict(cls, state: dict) -> "History":
        return cls(**state)


class GANTrainer:
    """Trains a generator against a discriminator with BCE and Adam.

    Args:
        generator: maps noise of shape ``(n, *generator.latent_shape)`` to images.
        discriminator: maps images to one score per image; probabilities, or logits
            when it has ``outputs_logits = True`` (then ``BCEWithLogitsLoss`` is used).
        lr, betas: Adam settings for both networks (DCGAN: 2e-4, (0.5, 0.999)).
        device: where to train; picked automatically (CUDA, MPS, CPU) when None.
        n_fixed: how many fixed noise vectors to snapshot for the progress animation.
        d_loss_reduction: "sum" adds D's real and fake losses (PyTorch DCGAN tutorial),
            "mean" averages them (d2l); the gradient direction is the same.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, lr: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999), device: str | torch.device | None = None,
                 n_fixed: int = 64, d_loss_reduction: str = "sum") -> None:
        if d_loss_reduction not in ("sum", "mean"):
            raise ValueError(f"d_loss_reduction must be 'sum' or 'mean', got {d_loss_reduction!r}")
        self.device = get_device(device)
        self.G = generator.to(self.device)
        self.D = discriminator.to(self.device)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=betas)
        logits = getattr(discriminator, "outputs_logits", False)
        self.criterion = nn.BCEWithLogitsLoss() if logits else nn.BCELoss()
        self.to_prob = torch.sigmoid if logits else (lambda t: t)
        self.d_loss_reduction = d_loss_reduction
        self.fixed_noise = self.noise(n_fixed)
        self.history = History()
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input sizes: let cuDNN pick kernels

    def noise(self, n: int) -> torch.Tensor:
        """``n`` latent vectors z ~ N(0, I) shaped for the generator."""
        return torch.randn(n, *self.G.latent_shape, device=self.device)

    def train_step(self, real: torch.Tensor) -> dict[str, float]:
        """One iteration: update D once, then G once. Returns the numbers worth plotting."""
        real = real.to(self.device, non_blocking=True)
        n = real.size(0)
        ones = torch.full((n,), REAL_LABEL, device=self.device)
        zeros = torch.full((n,), FAKE_LABEL, device=self.device)

        # (1) Update D: maximise log D(x) + log(1 - D(G(z))).
        #     BCE with label 1 keeps only the -log D(x) term, label 0 only -log(1 - D(G(z))).
        self.D.zero_grad(set_to_none=True)
        out_real = self.D(real)
        loss_real = self.criterion(out_real, ones)
        fake = self.G(self.noise(n))
        out_fake = self.D(fake.detach())  # detach: this step must not touch G
        loss_fake = self.criterion(out_fake, zeros)
        loss_d = loss_real + loss_fake
        if self.d_loss_reduction == "mean":
            loss_d = loss_d / 2
        loss_d.backward()
        self.opt_d.step()

        # (2) Update G: maximise log D(G(z)) (the non-saturating loss), i.e. BCE against
        #     label 1 on the same fakes, scored by the freshly updated D.
        self.G.zero_grad(set_to_none=True)
        out_fake_after = self.D(fake)
        loss_g = self.criterion(out_fake_after, ones)
        loss_g.backward()
        self.opt_g.step()

        return {
            "loss_d": loss_d.item(),
            "loss_g": loss_g.item(),
            "d_x": self.to_prob(out_real).mean().item(),
            "d_g_z1": self.to_prob(out_fake).mean().item(),
            "d_g_z2": self.to_prob(out_fake_after).mean().item(),
        }

    @torch.no_grad()
    def sample(self, noise: torch.Tensor | None = None, n: int = 64,
               batch_stats: bool = True) -> torch.Tensor:
        """Generator output for ``noise`` (or ``n`` fresh vectors), on the CPU.

        Dropout is off. With ``batch_stats`` (default) BatchNorm normalises with the sample
        batch's own statistics, as in training and as the PyTorch DCGAN tutorial samples;
        the running statistics are left untouched. Early in training those running
        averages lag far behind, and ``batch_stats=False`` (plain eval mode) gives grey
        images until they catch up.
        """
        noise = self.noise(n) if noise is None else noise.to(self.device)
        was_training = self.G.training
        self.G.eval()
        norms = [m for m in self.G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        tracking = [m.track_running_stats for m in norms]
        if batch_stats:
            for m in norms:  # training-mode BatchNorm that neither reads nor updates running stats
                m.train()
                m.track_running_stats = False
        try:
            return self.G(noise).cpu()
        finally:
            for m, track in zip(norms, tracking):
                m.track_running_stats = track
            self.G.train(was_training)

    def snapshot(self) -> None:
        """Keep the generator's output on the fixed noise, for the progress animation."""
        self.history.snapshots.append(to_uint8(self.sample(self.fixed_noise)))
        self.history.snapshot_iterations.append(self.history.iterations)

    def fit(self, loader: DataLoader, epochs: int, snapshot_every: int | None = 500,
            checkpoint: str | os.PathLike | None = None, sample_dir: str | os.PathLike | None = None,
            print_every: int | None = None, progress: bool = True) -> History:
        """Train until ``epochs`` epochs are done in total, then return the history.

        Snapshots the fixed noise every ``snapshot_every`` iterations and at the end.
        Saves a checkpoint after each epoch (and on interrupt) when ``checkpoint`` is a path;
        writes one sample grid per epoch to ``sample_dir``; prints a stats line every
        ``print_every`` iterations. Interrupting (Ctrl-C / the stop button) stops cleanly:
        the models keep what they learned and calling ``fit`` again carries on.
        """
        if len(loader) == 0:
            raise ValueError("The data loader yields no batches: the dataset is smaller than "
                             "one batch (with drop_last). Use more data or a smaller batch.")
        self.history.interrupted = False
        self.G.train()
        self.D.train()
        start = self.history.epochs_done
        try:
            for epoch in range(start, epochs):
                self._run_epoch(loader, epoch, epochs, snapshot_every, print_every, progress)
                self.history.epochs_done = epoch + 1
                if sample_dir is not None:
                    Path(sample_dir).mkdir(parents=True, exist_ok=True)
                    save_image(self.sample(self.fixed_noise), Path(sample_dir) / f"epoch_{epoch + 1:03d}.png",
                               nrow=8, normalize=True, value_range=(-1, 1))
                if checkpoint is not None and epoch + 1 < epochs:
                    self.save(checkpoint)  # the last one is saved below, with the final snapshot
        except KeyboardInterrupt:
            self.history.interrupted = True
            tqdm.write(f"Interrupted after {self.history.iterations} iterations; the models keep "
                       f"what they learned. Call fit() again to continue.")
        if not self.history.snapshot_iterations or \
                self.history.snapshot_iterations[-1] != self.history.iterations:
            self.snapshot()
        if checkpoint is not None:
            self.save(checkpoint)
            if self.history.interrupted:
                tqdm.write(f"Checkpoint saved to {checkpoint}.")
        return self.history

    def _run_epoch(self, loader: DataLoader, epoch: int, epochs: int, snapshot_every: int | None,
                   print_every: int | None, progress: bool) -> None:
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=True)
        for i, batch in enumerate(bar):
            real = batch[0] if isinstance(batch, (list, tuple)) else batch
            stats = self.train_step(real)
            self.history.record(epoch, stats)
            it = self.history.iterations
            bar.set_postfix(Loss_D=f"{stats['loss_d']:.3f}", Loss_G=f"{stats['loss_g']:.3f}",
                            D_x=f"{stats['d_x']:.2f}", D_G_z=f"{stats['d_g_z1']:.2f}/{stats['d_g_z2']:.2f}",
                            refresh=False)
            if print_every and (i % print_every == 0 or i == len(loader) - 1):
                tqdm.write(f"[{epoch + 1}/{epochs}][{i}/{len(loader)}] Loss_D: {stats['loss_d']:.4f} "
                           f"Loss_G: {stats['loss_g']:.4f} D(x): {stats['d_x']:.4f} "
                           f"D(G(z)): {stats['d_g_z1']:.4f} / {stats['d_g_z2']:.4f}")
            if snapshot_every and (it - 1) % snapshot_every == 0:
                self.snapshot()

    # ------------------------------------------------------------ checkpoints
    def save(self, path: str | os.PathLike) -> Path:
        """Write models, optimisers, fixed noise and history to ``path`` (atomically).

        Raises :class:`~gan_tutorial.checkpoint.NonFiniteStateError` (and writes nothing)
        when a network's weights hold NaN or inf, so a diverged run never replaces a good
        checkpoint.
        """
        path = Path(path)
        for name, net in (("generator", self.G), ("discriminator", self.D)):
            bad = first_non_finite(net.state_dict())
            if bad is not None:
                raise NonFiniteStateError(
                    path, f"refusing to write it: the {name}'s weights hold NaN or inf ({bad}), "
                          f"so training has diverged after {self.history.iterations} iterations. "
                          f"The file already there (if any) is kept. Lower the learning rate or "
                          f"check the data for NaN/inf, then resume from the last good checkpoint.")
        state = {
            "generator": self.G.state_dict(),
            "discriminator": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "fixed_noise": self.fixed_noise.cpu(),
            "history": self.history.state_dict(),
        }
        return save_checkpoint(path, state)  # tmp file + os.replace: a crash keeps the old one

    def load(self, path: str | os.PathLike) -> History:
        """Restore everything :meth:`save` wrote; the next ``fit`` continues from there.

        Everything is checked before anything is assigned: a file that is damaged, not a
        checkpoint, or saved by another architecture raises
        :class:`~gan_tutorial.checkpoint.CheckpointError` and leaves the trainer unchanged.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No checkpoint at {path}. Train with fit(..., checkpoint="
                                    f"{str(path)!r}) first to create one.")
        state = load_checkpoint(path, map_location=self.device)
        problems = (state_dict_mismatches("generator", self.G, state["generator"])
                    + state_dict_mismatches("discriminator", self.D, state["discriminator"]))
        if not problems:  # optimiser shapes follow the networks': check them only when those fit
            problems = (optimizer_mismatches("generator optimizer (opt_g)", self.opt_g, state["opt_g"])
                        + optimizer_mismatches("discriminator optimizer (opt_d)", self.opt_d,
                                               state["opt_d"]))
        noise = state["fixed_noise"]
        latent = tuple(self.G.latent_shape)
        if not isinstance(noise, torch.Tensor) or tuple(noise.shape[1:]) != latent:
            found = tuple(noise.shape) if isinstance(noise, torch.Tensor) else type(noise).__name__
            problems.append(f"fixed_noise: expected shape (n, {', '.join(map(str, latent))}), "
                            f"found {found}")
        try:
            history = History.from_state_dict(state["history"])
        except (TypeError, ValueError) as err:
            problems.append(f"history: cannot be restored ({err})")
        raise_if_incompatible(path, problems)

        # All checked: assign. Keep this machine's optimiser implementation (foreach, fused,
        # capturable), which describes how to step here, not what was learned.
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        for opt, key in ((self.opt_g, "opt_g"), (self.opt_d, "opt_d")):
            saved = dict(state[key])
            saved["param_groups"] = [
                {**group, **{k: mine[k] for k in ("foreach", "fused", "capturable",
                                                  "differentiable") if k in mine}}
                for group, mine in zip(saved["param_groups"], opt.param_groups)]
            opt.load_state_dict(saved)
        self.fixed_noise = noise.to(self.device)
        self.history = history
        return self.history

    def resume_if_possible(self, path: str | os.PathLike) -> bool:
        """Load ``path`` when it exists; return whether a checkpoint was loaded.

        A file that exists but cannot be loaded raises rather than being skipped: training
        afresh would overwrite it at the first save.
        """
        if Path(path).exists():
            self.load(path)
            return True
        return False
