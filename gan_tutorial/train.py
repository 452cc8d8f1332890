"""The GAN training loop: one canonical step, bookkeeping, checkpoints, interrupts.

    trainer = GANTrainer(G, D, lr=2e-4, betas=(0.5, 0.999))
    trainer.estimate_minutes(loader, epochs=5)          # times a few real steps, then undoes them
    history = trainer.fit(loader, epochs=5, checkpoint="runs/dcgan.pt")

``fit`` trains until ``epochs`` epochs are done *in total*, so running the same cell
again after an interrupt, a time budget (``max_minutes``) or ``load`` carries on where
training stopped, in the middle of an epoch if that is where it stopped.
"""
from __future__ import annotations

import copy
import os
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader
from torchvision.utils import save_image
from tqdm.auto import tqdm

from .plumbing.checkpoint import (NonFiniteStateError, check_writable, first_non_finite, load_checkpoint,
                                  optimizer_mismatches, raise_if_incompatible, save_checkpoint,
                                  state_dict_mismatches, write_file)
from .plumbing.distributed import unwrap
from .history import History, StatBuffer, TrainingDivergedError, to_uint8  # noqa: F401 (re-exported)
from .plumbing.interrupts import Terminated, deferred_interrupt, terminate_as_interrupt
from .losses import D_LOSSES, LOSSES, critic_g_loss, gradient_penalty
from .plumbing.precision import autocast, grad_scaler, resolve_precision, sigmoid_in_fp32
from .plumbing.runtime import get_device

REAL_LABEL = 1.0
FAKE_LABEL = 0.0
G_LOSSES = ("non-saturating", "minimax")

Evaluator = Callable[["GANTrainer"], dict[str, float]]


def _adam(params, lr: float, betas: tuple[float, float], device: torch.device) -> torch.optim.Adam:
    """Adam with the fused kernel (one call for all parameters) where this PyTorch has it."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):  # device or version without fused Adam
        return torch.optim.Adam(params, lr=lr, betas=betas, foreach=device.type != "cpu")


def _no_augmentation(images: torch.Tensor) -> torch.Tensor:
    return images


def _ema_of(generator: nn.Module, decay: float) -> AveragedModel:
    """A moving average of ``generator``'s weights and buffers: each update keeps ``decay`` of
    the average and adds ``1 - decay`` of the current weights (the first copies them)."""
    ema = AveragedModel(unwrap(generator), multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    ema.ema_decay = decay
    return ema


def _has_conv(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _format_minutes(minutes: float) -> str:
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    if minutes < 60:
        return f"{minutes:.0f} min"
    return f"{int(minutes // 60)} h {minutes % 60:.0f} min"


@dataclass
class _Run:
    """What one call of ``fit`` needs between its pieces: its schedules, bar and buffer."""

    loader_length: int
    epochs: int
    snapshot_every: int | None
    print_every: int | None
    evaluate: Evaluator | None
    eval_every: int | None
    max_minutes: float | None
    checkpoint: str | os.PathLike | None
    bar: tqdm
    buffer: StatBuffer
    started: float = field(default_factory=time.monotonic)
    stats: dict[str, float] | None = None  # the last recorded iteration
    counted: float | None = None  # up to when history.train_seconds holds this run's time

    def out_of_time(self) -> bool:
        return self.max_minutes is not None and time.monotonic() > self.started + 60 * self.max_minutes

    def count_time(self, history: History) -> None:
        """Add the time trained since the last count to ``history.train_seconds``: each
        checkpoint then holds the time up to it, even if the process is killed after it."""
        now = time.monotonic()
        history.train_seconds += now - (self.counted or self.started)
        self.counted = now


def _bar_text(stats: dict[str, float], epoch: int, epochs: int) -> dict[str, str]:
    return {"epoch": f"{epoch + 1}/{epochs}", "Loss_D": f"{stats['loss_d']:.3f}",
            "Loss_G": f"{stats['loss_g']:.3f}", "D(x)": f"{stats['d_x']:.2f}",
            "D(G(z))": f"{stats['d_g_z1']:.2f}/{stats['d_g_z2']:.2f}"}


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
        precision: "auto" (default: bf16 on GPUs and on CPUs with native bf16, fp16 on
            older GPUs, else fp32), "fp32", "bf16" or "fp16" (CUDA only). Weights and
            checkpoints stay fp32; see :mod:`gan_tutorial.plumbing.precision`.
        g_loss: "non-saturating" (default): G maximises log D(G(z)); "minimax": G minimises
            log(1 - D(G(z))), the loss of the original minimax game, which saturates early.
        d_steps: discriminator updates per generator update (k in Goodfellow et al.); each
            uses the same real batch with fresh noise.
        real_label: D's target for real images; 0.9 is one-sided label smoothing (fakes
            keep 0, and G still aims for 1).
        channels_last: store convolutional models and batches channels-last (faster
            convolutions on CPUs and GPUs); None picks it for models with convolutions.
        augment: applied to every batch D sees, real and fake, in both updates (e.g.
            :class:`~gan_tutorial.augment.DiffAugment` for small datasets); None: none.
        lr_d: D's learning rate when it differs from G's (two time-scale update rule,
            Heusel et al. 2017); None: ``lr``.
        loss: "bce" (default, the game above), "hinge" or "wgan-gp" (see
            :mod:`gan_tutorial.losses`); the last two need a discriminator returning logits.
        ema_decay: keep an exponential moving average of G's weights with this decay (e.g.
            0.999) and draw every sample, snapshot and evaluation from it; None: off.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, lr: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999), device: str | torch.device | None = None,
                 n_fixed: int = 64, d_loss_reduction: str = "sum", precision: str = "auto",
                 g_loss: str = "non-saturating", d_steps: int = 1, real_label: float = REAL_LABEL,
                 channels_last: bool | None = None,
                 augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 lr_d: float | None = None, loss: str = "bce", ema_decay: float | None = None) -> None:
        if d_loss_reduction not in ("sum", "mean"):
            raise ValueError(f"d_loss_reduction must be 'sum' or 'mean', got {d_loss_reduction!r}")
        if g_loss not in G_LOSSES:
            raise ValueError(f"g_loss must be one of {G_LOSSES}, got {g_loss!r}")
        if type(d_steps) is not int or d_steps < 1:
            raise ValueError(f"d_steps must be a whole number >= 1, got {d_steps!r}")
        if not 0.5 < real_label <= 1.0:
            raise ValueError(f"real_label must be in (0.5, 1] (0.9 is the usual smoothing), got {real_label}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        logits = getattr(discriminator, "outputs_logits", False)
        if loss != "bce" and not logits:
            raise ValueError(f"loss={loss!r} reads D's raw score, but this discriminator ends in a "
                             f"Sigmoid: build it with logits=True")
        if ema_decay is not None and not 0 < ema_decay < 1:
            raise ValueError(f"ema_decay must be in (0, 1) (0.999 is usual) or None, got {ema_decay!r}")
        self.device = get_device(device)
        self.precision = resolve_precision(precision, self.device)
        if channels_last is None:
            channels_last = self.device.type != "mps" and (_has_conv(generator) or _has_conv(discriminator))
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.G = generator.to(self.device, memory_format=self.memory_format)
        self.D = discriminator.to(self.device, memory_format=self.memory_format)
        if self.precision != "fp32":
            sigmoid_in_fp32(self.D)  # bf16 would round D's surest outputs to exactly 1
        self.opt_g = _adam(self.G.parameters(), lr, betas, self.device)
        self.opt_d = _adam(self.D.parameters(), lr if lr_d is None else lr_d, betas, self.device)
        self.scaler_g = grad_scaler(self.device, self.precision)
        self.scaler_d = grad_scaler(self.device, self.precision)
        self.criterion = nn.BCEWithLogitsLoss() if logits else nn.BCELoss()
        self.to_prob = torch.sigmoid if logits else (lambda t: t)
        self.d_loss_reduction, self.g_loss, self.d_steps = d_loss_reduction, g_loss, d_steps
        self.real_label = real_label
        self.augment = augment or _no_augmentation
        self.loss = loss
        self.G_ema = None if ema_decay is None else _ema_of(self.G, ema_decay)
        self.fixed_noise = self.noise(n_fixed)
        # A conditional GAN (G has num_classes) is told which class to draw: the fixed noise
        # cycles through the classes, 0, 1, ..., 9, 0, 1, ...
        self.num_classes = getattr(unwrap(generator), "num_classes", None)
        self.fixed_labels = None if self.num_classes is None else self.class_cycle(n_fixed)
        self.history = History()
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input sizes: let cuDNN pick kernels
        # Distributed training (gan_tutorial.plumbing.distributed) wraps G and D in DDP and sets this
        # to False on every rank but 0: those ranks train but write and print nothing.
        self.is_main_process = True
        self.resume_hint = "Call fit() again to continue."  # the command line says its own

    def options(self) -> dict:
        """Every training option of this trainer, as saved in its checkpoints."""
        group = self.opt_g.param_groups[0]
        return {"lr": group["lr"], "betas": list(group["betas"]), "precision": self.precision,
                "d_loss_reduction": self.d_loss_reduction, "g_loss": self.g_loss,
                "d_steps": self.d_steps, "real_label": self.real_label,
                "augment": None if self.augment is _no_augmentation else repr(self.augment),
                "lr_d": self.opt_d.param_groups[0]["lr"], "loss": self.loss,
                "ema_decay": None if self.G_ema is None else self.G_ema.ema_decay,
                "channels_last": self.memory_format == torch.channels_last}

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """The shape of one noise vector z (the generator's ``latent_shape``)."""
        return tuple(unwrap(self.G).latent_shape)

    def noise(self, n: int) -> torch.Tensor:
        """``n`` latent vectors z ~ N(0, I) shaped for the generator."""
        return torch.randn(n, *self.latent_shape, device=self.device)

    def class_cycle(self, n: int) -> torch.Tensor:
        """Labels 0, 1, ..., num_classes - 1, 0, 1, ... (``n`` of them) for a conditional GAN."""
        return torch.arange(n, device=self.device) % self.num_classes

    def autocast(self):
        """Forward passes inside this context run in the trainer's precision."""
        return autocast(self.device, self.precision)

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """One iteration: update D (``d_steps`` times), then G once. Returns the numbers worth plotting.

        ``labels``: only for a conditional GAN, whose G and D also take the real images' labels.
        """
        real = real.to(self.device, non_blocking=True, memory_format=self.memory_format)
        given = () if labels is None else (labels.to(self.device),)  # conditional GANs only
        n = real.size(0)
        real_labels = torch.full((n,), self.real_label, device=self.device)  # 1, or 0.9 if smoothed
        ones = torch.full((n,), REAL_LABEL, device=self.device)
        zeros = torch.full((n,), FAKE_LABEL, device=self.device)

        # (1) Update D: maximise log D(x) + log(1 - D(G(z))).
        #     BCE with label 1 keeps only the -log D(x) term, label 0 only -log(1 - D(G(z))).
        for _ in range(self.d_steps):
            self.D.zero_grad(set_to_none=True)
            with self.autocast():  # forward passes in the chosen precision; losses in fp32
                out_real = self.D(self.augment(real), *given).float()  # augment: none unless asked
                fake = self.G(self.noise(n), *given)
                out_fake = self.D(self.augment(fake.detach()), *given).float()  # detach: D's step must not touch G
            if self.loss == "bce":
                loss_d = self.criterion(out_real, real_labels) + self.criterion(out_fake, zeros)
                if self.d_loss_reduction == "mean":
                    loss_d = loss_d / 2
            else:  # hinge or Wasserstein on D's raw scores (gan_tutorial.losses)
                loss_d = D_LOSSES[self.loss](out_real, out_fake)
                if self.loss == "wgan-gp":
                    loss_d = loss_d + gradient_penalty(lambda x: self.D(self.augment(x), *given), real, fake)
            self.scaler_d.scale(loss_d).backward()
            self.scaler_d.step(self.opt_d)
            self.scaler_d.update()

        # (2) Update G on the same fakes, scored by the freshly updated D. Non-saturating:
        #     maximise log D(G(z)), i.e. BCE against label 1. Minimax: minimise log(1 - D(G(z))).
        self.G.zero_grad(set_to_none=True)
        with self.autocast():
            out_fake_after = self.D(self.augment(fake), *given).float()
        if self.loss != "bce":
            loss_g = critic_g_loss(out_fake_after)  # hinge and WGAN: raise the fakes' score
        elif self.g_loss == "minimax":
            loss_g = -self.criterion(out_fake_after, zeros)
        else:
            loss_g = self.criterion(out_fake_after, ones)
        self.scaler_g.scale(loss_g).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        if self.G_ema is not None:
            self.G_ema.update_parameters(unwrap(self.G))  # the moving average samples are drawn from

        return {  # tensors, not floats: reading them would make a GPU wait (fit reads in chunks)
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "d_x": self.to_prob(out_real).detach().mean(),
            "d_g_z1": self.to_prob(out_fake).detach().mean(),
            "d_g_z2": self.to_prob(out_fake_after).detach().mean(),
        }

    @torch.no_grad()
    def sample(self, noise: torch.Tensor | None = None, n: int = 64,
               batch_stats: bool = True, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Generator output for ``noise`` (or ``n`` fresh vectors), on the CPU, in fp32.

        A conditional GAN draws the classes ``labels`` (default: 0, 1, 2, ... in turn).

        Dropout is off. With ``batch_stats`` (default) BatchNorm normalises with the sample
        batch's own statistics, as in training and as the PyTorch DCGAN tutorial samples;
        the running statistics are left untouched. Early in training those running
        averages lag far behind, and ``batch_stats=False`` (plain eval mode) gives grey
        images until they catch up. With ``ema_decay`` set, the moving-average generator draws.
        """
        noise = self.noise(n) if noise is None else noise.to(self.device)
        given = ()
        if self.num_classes is not None:
            given = (self.class_cycle(len(noise)) if labels is None else labels.to(self.device),)
        # not through DDP: sampling is local to each process
        G = unwrap(self.G) if self.G_ema is None else self.G_ema.module
        was_training = G.training
        G.eval()
        norms = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        tracking = [m.track_running_stats for m in norms]
        if batch_stats:
            for m in norms:  # training-mode BatchNorm that neither reads nor updates running stats
                m.train()
                m.track_running_stats = False
        try:
            return G(noise, *given).float().cpu().contiguous()
        finally:
            for m, track in zip(norms, tracking):
                m.track_running_stats = track
            G.train(was_training)

    def snapshot(self) -> None:
        """Keep the generator's output on the fixed noise, for the progress animation."""
        self.history.snapshots.append(to_uint8(self.sample(self.fixed_noise, labels=self.fixed_labels)))
        self.history.snapshot_iterations.append(self.history.iterations)

    def evaluate(self, evaluate: Evaluator) -> dict[str, float]:
        """Run ``evaluate(self)`` and record its numbers in the history, at this iteration.

        Training's random numbers are saved and restored around it, so evaluating (or not)
        never changes what training does.
        """
        start = time.perf_counter()
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            values = evaluate(self)
        self.history.record_metrics(values)
        self.history.eval_seconds += time.perf_counter() - start
        return values

    # ------------------------------------------------------------ how long will it take?
    def _remaining(self, loader: DataLoader, epochs: int) -> int:
        """Updates still to do to reach ``epochs`` epochs in total."""
        h = self.history
        if h.epochs_done >= epochs:
            return 0
        return (epochs - h.epochs_done) * len(loader) - h.iterations_in(h.epochs_done)

    def estimate_minutes(self, loader: DataLoader, epochs: int, steps: int = 3,
                         verbose: bool = True) -> float:
        """Estimated wall time of ``fit(loader, epochs)``, from timing ``steps`` real iterations.

        The timed steps are undone afterwards (weights, optimisers and random numbers are
        restored), so the estimate changes nothing about the run that follows.
        """
        restored = [m for m in (self.G, self.D, self.opt_g, self.opt_d, self.scaler_g, self.scaler_d,
                                self.G_ema) if m is not None]
        saved = copy.deepcopy([m.state_dict() for m in restored])
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            batches = iter(loader)

            def next_batch():
                nonlocal batches
                try:
                    return next(batches)
                except StopIteration:
                    batches = iter(loader)
                    return next(batches)

            self._step_on(next_batch())  # warm-up: allocations, kernel choice; not timed
            _synchronize(self.device)
            start = time.perf_counter()
            for _ in range(steps):
                stats = self._step_on(next_batch())
            stats["loss_d"].item()  # waits for the GPU
            seconds_per_step = (time.perf_counter() - start) / steps
        for module, state in zip(restored, saved):
            module.load_state_dict(state)
        remaining = self._remaining(loader, epochs)
        minutes = remaining * seconds_per_step / 60
        if verbose:
            print(f"Estimated training time: about {_format_minutes(minutes)} for {remaining:,} "
                  f"iterations ({epochs} epochs of {len(loader):,}) at {seconds_per_step:.3f} s each, "
                  f"measured over {steps} steps on {self.device.type} in {self.precision}.")
        return minutes

    # ------------------------------------------------------------ the loop
    def fit(self, loader: DataLoader, epochs: int, snapshot_every: int | None = 500,
            checkpoint: str | os.PathLike | None = None, sample_dir: str | os.PathLike | None = None,
            print_every: int | None = None, progress: bool = True,
            evaluate: Evaluator | None = None, eval_every: int | None = None,
            max_minutes: float | None = None) -> History:
        """Train until ``epochs`` epochs are done in total, then return the history.

        Snapshots the fixed noise before training, every ``snapshot_every`` iterations and
        at the end; calls ``evaluate(trainer)`` (a dict of numbers, kept in
        ``history.metrics``) at the same moments every ``eval_every`` iterations. Saves a
        checkpoint after each epoch and at the end when ``checkpoint`` is a path; writes one
        sample grid per epoch to ``sample_dir``; prints a stats line every ``print_every``
        iterations. Stops cleanly after ``max_minutes``, on Ctrl-C / the stop button, or
        when a loss turns NaN (then the last checkpoint is kept as it was). Calling ``fit``
        again carries on.
        """
        run = self._start_run(loader, epochs, snapshot_every, checkpoint, print_every, progress,
                              evaluate, eval_every, max_minutes)
        h = self.history
        try:
            with terminate_as_interrupt():  # SIGTERM (kill, a scheduler) stops like Ctrl-C
                while h.epochs_done < epochs and h.stop_reason is None:
                    epoch = h.epochs_done
                    for i, batch in self._batches_left(loader, epoch):
                        run.buffer.add(epoch, self._checked_step(batch, run.buffer, epoch))  # one step
                        run.bar.update(1)
                        self._after_step(run, epoch, i)  # log, snapshot, evaluate when due
                        if run.out_of_time():
                            h.stop_reason = "time budget"
                            run.bar.total = run.bar.n  # the run ends as asked: a full bar
                            break
                    run.buffer.flush(h)
                    if h.stop_reason is None:
                        h.epochs_done = epoch + 1
                        self._end_of_epoch(run, epoch, sample_dir)
        except KeyboardInterrupt as stop:  # Ctrl-C, the stop button, or SIGTERM
            h.interrupted = True
            h.stop_reason = "terminated" if isinstance(stop, Terminated) else "interrupted"
        except TrainingDivergedError as err:
            raise self._diverged(err, run) from None
        finally:
            run.bar.close()
        self._finish_run(run)
        return h

    # ------------------------------------------------------------ the loop's pieces
    def _start_run(self, loader, epochs, snapshot_every, checkpoint, print_every, progress,
                   evaluate, eval_every, max_minutes) -> "_Run":
        """Check fit's arguments, then set up the progress bar and the iteration-0 pictures."""
        if len(loader) == 0:
            raise ValueError("The data loader yields no batches: the dataset is smaller than "
                             "one batch (with drop_last). Use more data or a smaller batch.")
        if type(epochs) is not int or epochs < 0:
            raise ValueError(f"epochs must be a whole number >= 0, got {epochs!r}")
        if max_minutes is not None and not max_minutes > 0:
            raise ValueError(f"max_minutes must be positive, got {max_minutes!r}")
        if evaluate is not None and not eval_every:
            raise ValueError("evaluate needs eval_every: how many iterations between evaluations")
        if checkpoint is not None and self.is_main_process:
            check_writable(checkpoint)  # fail now, not after the first epoch
        h = self.history
        h.interrupted, h.stop_reason = False, None
        bar = tqdm(total=h.iterations + self._remaining(loader, epochs), initial=h.iterations,
                   desc="training", unit="it", dynamic_ncols=True,
                   disable=not (progress and self.is_main_process))
        run = _Run(loader_length=len(loader), epochs=epochs, snapshot_every=snapshot_every,
                   print_every=print_every, evaluate=evaluate, eval_every=eval_every,
                   max_minutes=max_minutes, checkpoint=checkpoint, bar=bar,
                   buffer=StatBuffer(every=20 if self.device.type == "cuda" else 1))
        if not h.snapshot_iterations:
            self.snapshot()  # iteration 0: what the untrained generator draws
        if evaluate is not None and not h.metric_iterations:
            self.evaluate(evaluate)
        self.G.train()
        self.D.train()
        return run

    def _batches_left(self, loader: DataLoader, epoch: int):
        """(index in the epoch, batch) for the batches of ``epoch`` not trained yet (a resumed
        run may stop mid-epoch)."""
        if hasattr(getattr(loader, "sampler", None), "set_epoch"):
            loader.sampler.set_epoch(epoch)  # a DistributedSampler reshuffles per epoch
        done = self.history.iterations_in(epoch)
        return enumerate(islice(loader, max(0, len(loader) - done)), done)

    def _after_step(self, run: "_Run", epoch: int, i: int) -> None:
        """The schedules: statistics to the bar, a printed line, a snapshot, an evaluation."""
        it = self.history.iterations + len(run.buffer)
        due_print = run.print_every and (i % run.print_every == 0 or i == run.loader_length - 1)
        due_snapshot = run.snapshot_every and it % run.snapshot_every == 0
        due_eval = run.evaluate is not None and it % run.eval_every == 0
        if len(run.buffer) >= run.buffer.every or due_print or due_snapshot or due_eval:
            run.stats = run.buffer.flush(self.history)
            run.bar.set_postfix(_bar_text(run.stats, epoch, run.epochs), refresh=False)
        if due_print and self.is_main_process:
            s = run.stats
            tqdm.write(f"[{epoch + 1}/{run.epochs}][{i}/{run.loader_length}] Loss_D: {s['loss_d']:.4f} "
                       f"Loss_G: {s['loss_g']:.4f} D(x): {s['d_x']:.4f} "
                       f"D(G(z)): {s['d_g_z1']:.4f} / {s['d_g_z2']:.4f}")
        if due_snapshot:
            self.snapshot()
        if due_eval:
            self.evaluate(run.evaluate)

    def _diverged(self, err: TrainingDivergedError, run: "_Run") -> TrainingDivergedError:
        """The error fit raises when a loss turned NaN: where, what was kept, what to do."""
        run.count_time(self.history)
        checkpoint = run.checkpoint
        kept = (f"{checkpoint} was not overwritten and holds the last finite weights"
                if checkpoint is not None and Path(checkpoint).is_file() else "nothing was saved")
        return TrainingDivergedError(
            f"Training diverged: {err}. It stopped there and {kept}. Likely causes: a learning "
            f"rate too high for this model (lr = {self.opt_g.param_groups[0]['lr']:g}; try a "
            f"tenth of it) or NaN/inf values in the data. Lower lr, then load the checkpoint "
            f"into a new trainer and continue.")

    def _finish_run(self, run: "_Run") -> None:
        """Record what is left, take the last snapshot and evaluation, save, say why it stopped."""
        h = self.history
        run.buffer.flush(h)  # the updates done before an interrupt are part of the history
        with deferred_interrupt() as interrupted_again:  # a second Ctrl-C must not cut the save
            if h.snapshot_iterations[-1] != h.iterations:
                self.snapshot()
            if run.evaluate is not None and h.metric_iterations[-1] != h.iterations:
                self.evaluate(run.evaluate)
            run.count_time(h)
            if run.checkpoint is not None and self.is_main_process:
                self.save(run.checkpoint)
        if interrupted_again:
            h.interrupted = True
            h.stop_reason = "terminated" if signal.SIGTERM in interrupted_again else "interrupted"
        if h.stop_reason and self.is_main_process:
            why = {"interrupted": "Interrupted", "terminated": "Stopped by SIGTERM",
                   "time budget": f"Time budget of {_format_minutes(run.max_minutes or 0)} used up"}
            saved = f" and are saved in {run.checkpoint}" if run.checkpoint else ""
            tqdm.write(f"{why[h.stop_reason]} after {h.iterations} iterations ({h.epochs_done} of "
                       f"{run.epochs} epochs complete); the models keep what they learned{saved}. "
                       f"{self.resume_hint}")

    def _checked_step(self, batch, buffer: StatBuffer, epoch: int) -> dict[str, torch.Tensor]:
        """``train_step`` on a loader's batch; a probability that is NaN counts as divergence."""
        try:
            return self._step_on(batch)
        except RuntimeError as err:
            if "between 0 and 1" not in str(err):  # BCELoss refuses a NaN probability
                raise
            buffer.flush(self.history)
            raise TrainingDivergedError(f"D's output is NaN at iteration {self.history.iterations + 1} "
                                        f"(epoch {epoch + 1})") from None

    def _step_on(self, batch) -> dict[str, torch.Tensor]:
        """``train_step`` on a loader's batch: images, or (images, labels) pairs whose labels
        only a conditional GAN uses."""
        images = batch[0] if isinstance(batch, (list, tuple)) else batch
        if self.num_classes is None:
            return self.train_step(images)
        return self.train_step(images, batch[1])

    def _end_of_epoch(self, run: "_Run", epoch: int, sample_dir: str | os.PathLike | None) -> None:
        """Per-epoch files: a sample grid, and a checkpoint (the last one is saved by fit).

        Ctrl-C or SIGTERM while they are written is held until they are complete, then stops
        the run: cut inside ``torch.save`` it would surface as a RuntimeError ("unexpected pos").
        """
        if not self.is_main_process:
            return
        with deferred_interrupt() as interrupted:
            if sample_dir is not None:
                Path(sample_dir).mkdir(parents=True, exist_ok=True)
                grid = self.sample(self.fixed_noise, labels=self.fixed_labels)
                write_file(Path(sample_dir) / f"epoch_{epoch + 1:03d}.png",
                           lambda tmp: save_image(grid, tmp, nrow=8, normalize=True, value_range=(-1, 1)))
            if run.checkpoint is not None and epoch + 1 < run.epochs:
                run.count_time(self.history)
                self.save(run.checkpoint)
        if interrupted:
            raise Terminated() if signal.SIGTERM in interrupted else KeyboardInterrupt()


    # ------------------------------------------------------------ checkpoints
    def save(self, path: str | os.PathLike) -> Path:
        """Write models, optimisers, fixed noise and history to ``path`` (atomically).

        Raises :class:`~gan_tutorial.plumbing.checkpoint.NonFiniteStateError` (and writes nothing)
        when a network's weights hold NaN or inf, so a diverged run never replaces a good
        checkpoint.
        """
        path = Path(path)
        G, D = unwrap(self.G), unwrap(self.D)
        for name, net in (("generator", G), ("discriminator", D)):
            bad = first_non_finite(net.state_dict())
            if bad is not None:
                raise NonFiniteStateError(
                    path, f"refusing to write it: the {name}'s weights hold NaN or inf ({bad}), "
                          f"so training has diverged after {self.history.iterations} iterations. "
                          f"The file already there (if any) is kept. Lower the learning rate or "
                          f"check the data for NaN/inf, then resume from the last good checkpoint.")
        state = {
            "generator": G.state_dict(),
            "discriminator": D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "fixed_noise": self.fixed_noise.cpu(),
            "history": self.history.state_dict(),
            "options": self.options(),  # how it was trained: a resume says what differs
        }
        if self.G_ema is not None:
            state["generator_ema"] = self.G_ema.state_dict()
        return save_checkpoint(path, state)  # tmp file + os.replace: a crash keeps the old one

    def load(self, path: str | os.PathLike) -> History:
        """Restore everything :meth:`save` wrote; the next ``fit`` continues from there.

        Everything is checked before anything is assigned: a file that is damaged, not a
        checkpoint, or saved by another architecture raises
        :class:`~gan_tutorial.plumbing.checkpoint.CheckpointError` and leaves the trainer unchanged.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No checkpoint at {path}. Train with fit(..., checkpoint="
                                    f"{str(path)!r}) first to create one.")
        state = load_checkpoint(path, map_location=self.device)
        G, D = unwrap(self.G), unwrap(self.D)
        problems = (state_dict_mismatches("generator", G, state["generator"])
                    + state_dict_mismatches("discriminator", D, state["discriminator"]))
        if not problems:  # optimiser shapes follow the networks': check them only when those fit
            problems = (optimizer_mismatches("generator optimizer (opt_g)", self.opt_g, state["opt_g"])
                        + optimizer_mismatches("discriminator optimizer (opt_d)", self.opt_d,
                                               state["opt_d"]))
        noise = state["fixed_noise"]
        latent = tuple(G.latent_shape)
        if not isinstance(noise, torch.Tensor) or tuple(noise.shape[1:]) != latent:
            found = tuple(noise.shape) if isinstance(noise, torch.Tensor) else type(noise).__name__
            problems.append(f"fixed_noise: expected shape (n, {', '.join(map(str, latent))}), "
                            f"found {found}")
        ema_state = state.get("generator_ema") if self.G_ema is not None else None
        if ema_state is not None:
            problems += state_dict_mismatches("generator_ema", self.G_ema, ema_state)
        try:
            history = History.from_state_dict(state["history"])
        except (TypeError, ValueError) as err:
            problems.append(f"history: cannot be restored ({err})")
        raise_if_incompatible(path, problems)

        # All checked: assign. Keep this trainer's learning rates and betas (a changed one is
        # named below) and this machine's optimiser implementation (foreach, fused,
        # capturable), which describes how to step here, not what was learned.
        G.load_state_dict(state["generator"])
        D.load_state_dict(state["discriminator"])
        for opt, key in ((self.opt_g, "opt_g"), (self.opt_d, "opt_d")):
            saved = dict(state[key])
            saved["param_groups"] = [
                {**group, **{k: mine[k] for k in ("lr", "betas", "foreach", "fused", "capturable",
                                                  "differentiable") if k in mine}}
                for group, mine in zip(saved["param_groups"], opt.param_groups)]
            opt.load_state_dict(saved)
        if self.G_ema is not None:  # a run saved without an average starts one from its G
            if ema_state is not None:
                self.G_ema.load_state_dict(ema_state)
            else:
                self.G_ema = _ema_of(G, self.G_ema.ema_decay)
        self.fixed_noise = noise.to(self.device)
        self.history = history
        self._warn_about_changed_options(path, state.get("options") or {})
        return self.history

    def _warn_about_changed_options(self, path: Path, saved: dict) -> None:
        """Say which options of the checkpoint's run this trainer changes (they are used)."""
        mine = self.options()
        changed = [f"{key} {saved[key]!r} -> {mine[key]!r}" for key in mine
                   if key in saved and saved[key] != mine[key]]
        if changed:
            warnings.warn(f"{path} was trained with other options; continuing with this trainer's: "
                          f"{'; '.join(changed)}. Build the trainer with the checkpoint's values to "
                          f"continue the run exactly as it was.", stacklevel=3)

    def resume_if_possible(self, path: str | os.PathLike) -> bool:
        """Load ``path`` when it exists; return whether a checkpoint was loaded.

        A file that exists but cannot be loaded raises rather than being skipped: training
        afresh would overwrite it at the first save.
        """
        if Path(path).exists():
            self.load(path)
            return True
        return False
