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
import math
import os
import signal
import statistics
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

from .history import STAT_KEYS, History, to_uint8
from .losses import make_loss
from .plumbing.checkpoint import check_writable, first_non_finite, write_file
from .plumbing.distributed import unwrap
from .plumbing.environment import live_view_wanted, notebook_kernel
from .plumbing.interrupts import Terminated, deferred_interrupt, terminate_as_interrupt
from .plumbing.precision import MixedPrecision, resolve_precision, sigmoid_in_fp32
from .plumbing.runtime import cudnn_autotune, get_device
from .plumbing.trainer_state import load_trainer, save_trainer

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


def moving_average(generator: nn.Module, decay: float) -> AveragedModel:
    """A moving average of ``generator``'s weights and buffers: each update keeps ``decay`` of
    the average and adds ``1 - decay`` of the current weights (the first copies them)."""
    ema = AveragedModel(unwrap(generator), multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    ema.ema_decay = decay
    return ema


def _has_conv(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())


@torch.no_grad()
def draw(generator: nn.Module, noise: torch.Tensor, given: tuple = (), batch_stats: bool = True) -> torch.Tensor:
    """``generator(noise, *given)`` with dropout off, on the CPU, in fp32; its modes are restored.

    With ``batch_stats`` BatchNorm normalises with the batch's own statistics (as in
    training) without reading or updating its running statistics; else plain eval mode.
    """
    was_training = generator.training
    generator.eval()
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    tracking = [m.track_running_stats for m in norms]
    if batch_stats:
        for m in norms:  # training-mode BatchNorm that neither reads nor updates running stats
            m.train()
            m.track_running_stats = False
    try:
        return generator(noise, *given).float().cpu().contiguous()
    finally:
        for m, track in zip(norms, tracking):
            m.track_running_stats = track
        generator.train(was_training)


def _non_finite(images: torch.Tensor, *networks: nn.Module) -> str | None:
    """Where NaN or inf is, among a batch and the networks' weights (None: nowhere)."""
    if images.is_floating_point() and not torch.isfinite(images).all():
        return "the batch holds NaN or inf"
    for net in networks:
        bad = first_non_finite(unwrap(net).state_dict())
        if bad is not None:
            return f"{type(unwrap(net)).__name__}'s weights hold NaN or inf ({bad})"
    return None


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


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
    view: "LiveView | None" = None  # the picture refreshed in the notebook while it trains

    def out_of_time(self) -> bool:
        return self.max_minutes is not None and time.monotonic() > self.started + 60 * self.max_minutes

    def show(self, history: History, force: bool = False) -> None:
        """Refresh the live view, if any; a view that fails is switched off, training goes on."""
        if self.view is None:
            return
        try:
            self.view.update(history, force)
        except Exception as err:  # noqa: BLE001 - a picture must never cost the run
            self.view = None
            warnings.warn(f"the live view stopped ({type(err).__name__}: {err}); training goes on "
                          f"without it", RuntimeWarning, stacklevel=2)

    def count_time(self, history: History) -> None:
        """Add the time trained since the last count to ``history.train_seconds``: each
        checkpoint then holds the time up to it, even if the process is killed after it."""
        now = time.monotonic()
        history.train_seconds += now - (self.counted or self.started)
        self.counted = now


def _live_view(history: History, live: bool | None) -> "LiveView | None":
    """The live view ``fit`` refreshes: on when asked, or (None) when :func:`live_view_wanted`."""
    if not (live_view_wanted() if live is None else live):
        return None
    if not notebook_kernel():
        return None  # a script, the CLI, a terminal: no page to draw in
    from .live import LiveView  # IPython and matplotlib are needed only here

    try:
        return LiveView(history)  # drawn from the history, so a resumed run continues its curves
    except Exception as err:  # noqa: BLE001 - a picture must never stop a run from starting
        warnings.warn(f"no live view ({type(err).__name__}: {err}); training without it", RuntimeWarning,
                      stacklevel=3)
        return None


class TrainingDivergedError(RuntimeError):
    """A loss became NaN or infinite: training stopped without saving the broken weights."""


class StatBuffer:
    """Per-iteration statistics kept on the device and copied over in chunks: one sync each.

    On a GPU, fetching five numbers after every step would stall it; the CPU has no such cost.
    """

    def __init__(self, every: int) -> None:
        self.every = every
        self.rows: list[tuple[int, torch.Tensor]] = []

    def add(self, epoch: int, stats: dict[str, torch.Tensor]) -> None:
        self.rows.append((epoch, torch.stack([stats[k].float() for k in STAT_KEYS])))

    def __len__(self) -> int:
        return len(self.rows)

    def flush(self, history: History) -> dict[str, float] | None:
        """Record the buffered iterations; raise on the first non-finite one. Returns the last."""
        if not self.rows:
            return None
        values = torch.stack([row for _, row in self.rows]).cpu().tolist()
        epochs = [epoch for epoch, _ in self.rows]
        self.rows.clear()
        stats = None
        for epoch, row in zip(epochs, values):
            stats = dict(zip(STAT_KEYS, row))
            bad = [k for k in ("loss_d", "loss_g") if not math.isfinite(stats[k])]
            if bad:
                raise TrainingDivergedError(f"{bad[0]} = {stats[bad[0]]} at iteration "
                                            f"{history.iterations + 1} (epoch {epoch + 1})")
            history.record(epoch, stats)
        return stats


def _diverged(err: TrainingDivergedError, checkpoint: str | os.PathLike | None,
              lr: float) -> TrainingDivergedError:
    """The error fit raises when a loss turned NaN: where, what was kept, what to do."""
    kept = (f"{checkpoint} was not overwritten and holds the last finite weights"
            if checkpoint is not None and Path(checkpoint).is_file() else "nothing was saved")
    return TrainingDivergedError(
        f"Training diverged: {err}. It stopped there and {kept}. Likely causes: a learning "
        f"rate too high for this model (lr = {lr:g}; try a tenth of it) or NaN/inf values in "
        f"the data. Lower lr, then load the checkpoint into a new trainer and continue.")


def _check_fit_arguments(loader: DataLoader, epochs: int, max_minutes: float | None,
                         evaluate: Evaluator | None, eval_every: int | None) -> None:
    if len(loader) == 0:
        raise ValueError("The data loader yields no batches: the dataset is smaller than "
                         "one batch (with drop_last). Use more data or a smaller batch.")
    if type(epochs) is not int or epochs < 0:
        raise ValueError(f"epochs must be a whole number >= 0, got {epochs!r}")
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError(f"max_minutes must be positive, got {max_minutes!r}")
    if evaluate is not None and not eval_every:
        raise ValueError("evaluate needs eval_every: how many iterations between evaluations")


def _bar_text(stats: dict[str, float], epoch: int, epochs: int) -> dict[str, str]:
    return {"epoch": f"{epoch + 1}/{epochs}", "Loss_D": f"{stats['loss_d']:.3f}",
            "Loss_G": f"{stats['loss_g']:.3f}", "D(x)": f"{stats['d_x']:.2f}",
            "D(G(z))": f"{stats['d_g_z1']:.2f}/{stats['d_g_z2']:.2f}"}


class GANTrainer:
    """Trains a generator against a discriminator with Adam: ``train_step`` is one update of
    each, ``fit`` the loop around it.

    Args:
        generator: maps noise of shape ``(n, *generator.latent_shape)`` to images.
        discriminator: one score per image: a probability, or a logit when it has
            ``outputs_logits = True``.
        lr, betas: Adam settings (DCGAN: 2e-4, (0.5, 0.999)); ``lr_d``: D's own learning
            rate (two time-scale update rule), None: ``lr``.
        device: where to train; None picks CUDA, MPS or the CPU.
        n_fixed: fixed noise vectors whose images the progress animation shows.
        loss: "bce" (the lessons' game), "hinge" or "wgan-gp"; ``g_loss`` ("non-saturating"
            or "minimax"), ``real_label`` (0.9: label smoothing) and ``d_loss_reduction``
            ("sum" as the PyTorch DCGAN tutorial, "mean" as d2l) shape the BCE game. See
            :mod:`gan_tutorial.losses`.
        d_steps: D updates per G update (k in Goodfellow et al.), each on fresh fakes.
        precision: "auto", "fp32", "bf16" or "fp16" for the forward passes; weights and
            checkpoints stay fp32 (:mod:`gan_tutorial.plumbing.precision`). In bf16 or fp16
            the discriminator passed in gets a hook that runs its Sigmoid in fp32.
        channels_last: the memory layout of conv models (None: channels-last if any conv).
        augment: applied to every batch D sees, real and fake (e.g. DiffAugment).
        ema_decay: also keep a moving average of G's weights and draw every sample,
            snapshot and evaluation from it; None: off.
        is_main_process: False on every torchrun process but the first: it trains but
            writes and prints nothing. ``resume_hint``: what the stop message advises.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, lr: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999), device: str | torch.device | None = None,
                 n_fixed: int = 64, d_loss_reduction: str = "sum", precision: str = "auto",
                 g_loss: str = "non-saturating", d_steps: int = 1, real_label: float = 1.0,
                 channels_last: bool | None = None,
                 augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 lr_d: float | None = None, loss: str = "bce", ema_decay: float | None = None,
                 is_main_process: bool = True, resume_hint: str = "Call fit() again to continue.") -> None:
        if type(d_steps) is not int or d_steps < 1:
            raise ValueError(f"d_steps must be a whole number >= 1, got {d_steps!r}")
        if ema_decay is not None and not 0 < ema_decay < 1:
            raise ValueError(f"ema_decay must be in (0, 1) (0.999 is usual) or None, got {ema_decay!r}")
        self.loss = make_loss(loss, g_loss, getattr(discriminator, "outputs_logits", False),
                              real_label, d_loss_reduction)
        self.g_loss, self.real_label, self.d_loss_reduction = g_loss, real_label, d_loss_reduction
        self.device = get_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.amp = MixedPrecision(self.device, self.precision)
        if channels_last is None:
            channels_last = self.device.type != "mps" and (_has_conv(generator) or _has_conv(discriminator))
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.G = generator.to(self.device, memory_format=self.memory_format)
        self.D = discriminator.to(self.device, memory_format=self.memory_format)
        if self.precision != "fp32":
            sigmoid_in_fp32(self.D)  # bf16 would round D's surest outputs to exactly 1
        self.opt_g = _adam(self.G.parameters(), lr, betas, self.device)
        self.opt_d = _adam(self.D.parameters(), lr if lr_d is None else lr_d, betas, self.device)
        self.d_steps = d_steps
        self.augment = augment or _no_augmentation
        self.G_ema = None if ema_decay is None else moving_average(self.G, ema_decay)
        self.fixed_noise = self.noise(n_fixed)
        # a conditional GAN (G has num_classes) draws the fixed noise as classes 0, 1, ..., 9, 0, ...
        self.num_classes = getattr(unwrap(generator), "num_classes", None)
        self.fixed_labels = None if self.num_classes is None else self.class_cycle(n_fixed)
        self.history = History()
        self.is_main_process, self.resume_hint = is_main_process, resume_hint

    def options(self) -> dict:
        """Every training option of this trainer, as saved in its checkpoints."""
        group = self.opt_g.param_groups[0]
        return {"lr": group["lr"], "betas": list(group["betas"]), "precision": self.precision,
                "d_loss_reduction": self.d_loss_reduction, "g_loss": self.g_loss,
                "d_steps": self.d_steps, "real_label": self.real_label,
                "augment": None if self.augment is _no_augmentation else repr(self.augment),
                "lr_d": self.opt_d.param_groups[0]["lr"], "loss": self.loss.name,
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

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Update D (``d_steps`` times), then G once; return the numbers worth plotting.

        ``labels``: only for a conditional GAN, whose G and D also take the real images' labels.
        """
        real = real.to(self.device, non_blocking=True, memory_format=self.memory_format)
        given = () if labels is None else (labels.to(self.device),)  # a conditional GAN's labels
        n = real.size(0)

        # (1) Update D: maximise log D(x) + log(1 - D(G(z)))
        for _ in range(self.d_steps):
            self.D.zero_grad(set_to_none=True)
            with self.amp.autocast():  # forward passes in the trainer's precision; losses in fp32
                out_real = self.D(self.augment(real), *given).float()  # augment: none unless asked
                fake = self.G(self.noise(n), *given)
                out_fake = self.D(self.augment(fake.detach()), *given).float()  # detach: leave G alone
            loss_d = (self.loss.d_loss(out_real, out_fake)
                      + self.loss.penalty(lambda x: self.D(self.augment(x), *given), real, fake))
            self.amp.step(loss_d, self.opt_d)  # backward, then Adam's step

        # (2) Update G: maximise log D(G(z)), on the same fakes scored by the updated D
        self.G.zero_grad(set_to_none=True)
        with self.amp.autocast():
            out_fake_after = self.D(self.augment(fake), *given).float()
        loss_g = self.loss.g_loss(out_fake_after)
        self.amp.step(loss_g, self.opt_g)
        self.update_average()  # the moving average of G's weights, when the trainer keeps one

        p = self.loss.probability  # D's outputs as probabilities, for the curves
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(),  # tensors: fit reads them in chunks
                "d_x": p(out_real).detach().mean(), "d_g_z1": p(out_fake).detach().mean(),
                "d_g_z2": p(out_fake_after).detach().mean()}

    def update_average(self) -> None:
        """Fold G's current weights into the moving average samples are drawn from (if kept)."""
        if self.G_ema is not None:
            self.G_ema.update_parameters(unwrap(self.G))

    @torch.no_grad()
    def sample(self, noise: torch.Tensor | None = None, n: int = 64,
               batch_stats: bool = True, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Generator output for ``noise`` (or ``n`` fresh vectors), on the CPU, in fp32, drawn
        by the moving average of G when the trainer keeps one. A conditional GAN draws the
        classes ``labels`` (default: 0, 1, 2, ... in turn). ``batch_stats``: see :func:`draw`
        (plain eval mode gives grey images early on, while BatchNorm's running averages lag).
        """
        noise = self.noise(n) if noise is None else noise.to(self.device)
        given = ()
        if self.num_classes is not None:
            given = (self.class_cycle(len(noise)) if labels is None else labels.to(self.device),)
        # not through DDP: sampling is local to each process
        G = unwrap(self.G) if self.G_ema is None else self.G_ema.module
        return draw(G, noise, given, batch_stats)

    def snapshot(self) -> None:
        """Keep the generator's output on the fixed noise, for the progress animation."""
        self.history.snapshots.append(to_uint8(self.sample(self.fixed_noise, labels=self.fixed_labels)))
        self.history.snapshot_iterations.append(self.history.iterations)

    def evaluate(self, evaluate: Evaluator) -> dict[str, float]:
        """Run ``evaluate(self)`` and record its numbers in the history, at this iteration.
        Training's random numbers are restored after it: evaluating changes nothing in training."""
        start = time.perf_counter()
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            values = evaluate(self)
        self.history.record_metrics(values)
        self.history.eval_seconds += time.perf_counter() - start
        return values

    # ------------------------------------------------------------ how long will it take?
    def remaining(self, loader: DataLoader, epochs: int) -> int:
        """Updates still to do to reach ``epochs`` epochs in total."""
        h = self.history
        if h.epochs_done >= epochs:
            return 0
        return (epochs - h.epochs_done) * len(loader) - h.iterations_in(h.epochs_done)

    def estimate_minutes(self, loader: DataLoader, epochs: int, steps: int = 3,
                         verbose: bool = True, evaluate: Evaluator | None = None,
                         eval_every: int | None = None) -> float:
        """Estimated wall time of ``fit``: see :func:`estimate_minutes`."""
        return estimate_minutes(self, loader, epochs, steps, verbose, evaluate, eval_every)

    # ------------------------------------------------------------ the loop
    def fit(self, loader: DataLoader, epochs: int, snapshot_every: int | None = 500,
            checkpoint: str | os.PathLike | None = None, sample_dir: str | os.PathLike | None = None,
            print_every: int | None = None, progress: bool = True,
            evaluate: Evaluator | None = None, eval_every: int | None = None,
            max_minutes: float | None = None, live: bool | None = None) -> History:
        """Train until ``epochs`` epochs are done in total, then return the history.

        Snapshots the fixed noise before training, every ``snapshot_every`` iterations and
        at the end; calls ``evaluate(trainer)`` (a dict of numbers, kept in
        ``history.metrics``) at the same moments every ``eval_every`` iterations. Saves a
        checkpoint after each epoch and at the end when ``checkpoint`` is a path; writes one
        sample grid per epoch to ``sample_dir``; prints a stats line every ``print_every``
        iterations. Stops cleanly after ``max_minutes``, on Ctrl-C / the stop button, or
        when a loss turns NaN (then the last checkpoint is kept as it was). Calling ``fit``
        again carries on. ``live``: a picture of the run refreshed in the notebook (None: auto).
        """
        run = self._start_run(loader, epochs, snapshot_every, checkpoint, print_every, progress,
                              evaluate, eval_every, max_minutes, live)
        h = self.history
        try:
            with terminate_as_interrupt(), cudnn_autotune(self.device):  # SIGTERM stops like Ctrl-C
                while h.epochs_done < epochs and h.stop_reason is None:
                    epoch = h.epochs_done
                    for i, batch in self._batches_left(loader, epoch):
                        run.buffer.add(epoch, self.step_on(batch, run.buffer, epoch))  # one step
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
            run.count_time(h)
            raise _diverged(err, run.checkpoint, self.opt_g.param_groups[0]["lr"]) from None
        finally:
            run.bar.close()
        self._finish_run(run)
        return h

    # ------------------------------------------------------------ the loop's pieces
    def _start_run(self, loader, epochs, snapshot_every, checkpoint, print_every, progress,
                   evaluate, eval_every, max_minutes, live=None) -> "_Run":
        """Check fit's arguments, then set up the progress bar and the iteration-0 pictures."""
        _check_fit_arguments(loader, epochs, max_minutes, evaluate, eval_every)
        if checkpoint is not None and self.is_main_process:
            check_writable(checkpoint)  # fail now, not after the first epoch
        h = self.history
        h.interrupted, h.stop_reason = False, None
        bar = tqdm(total=h.iterations + self.remaining(loader, epochs), initial=h.iterations,
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
        run.view = _live_view(h, live) if self.is_main_process else None
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
        run.show(self.history)  # redraws the live view when there is a new snapshot or evaluation

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
            run.show(h, force=True)
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

    def step_on(self, batch, buffer: StatBuffer | None = None, epoch: int = 0) -> dict[str, torch.Tensor]:
        """``train_step`` on a loader's batch: images, or (images, labels) pairs whose labels
        only a conditional GAN uses. A step that fails with NaN or inf in the batch or in the
        networks' weights is divergence (TrainingDivergedError naming the iteration)."""
        images = batch[0] if isinstance(batch, (list, tuple)) else batch
        try:
            return self.train_step(*(images,) if self.num_classes is None else (images, batch[1]))
        except RuntimeError:  # e.g. BCELoss refusing a NaN probability
            found = _non_finite(images, self.G, self.D)
            if found is None:
                raise
            if buffer is not None:
                buffer.flush(self.history)
            raise TrainingDivergedError(f"{found} at iteration {self.history.iterations + 1} "
                                        f"(epoch {epoch + 1})") from None

    def _end_of_epoch(self, run: "_Run", epoch: int, sample_dir: str | os.PathLike | None) -> None:
        """Per-epoch files: a sample grid, and a checkpoint (the last one is saved by fit). A stop
        while they are written waits for them (cut inside torch.save it would be a RuntimeError)."""
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
        """Write models, optimisers, fixed noise and history to ``path`` (atomically); refuses
        weights holding NaN or inf (:func:`~gan_tutorial.plumbing.trainer_state.save_trainer`)."""
        return save_trainer(self, path)

    def load(self, path: str | os.PathLike) -> History:
        """Restore everything :meth:`save` wrote, all checked before anything is assigned; the
        next ``fit`` continues from there (:func:`~gan_tutorial.plumbing.trainer_state.load_trainer`)."""
        return load_trainer(self, path)

    def resume_if_possible(self, path: str | os.PathLike) -> bool:
        """Load ``path`` when it exists; return whether it did. A file that exists but cannot be
        loaded raises rather than being skipped: training afresh would overwrite it."""
        if Path(path).exists():
            self.load(path)
            return True
        return False


def evaluations_due(done: int, total: int, eval_every: int) -> int:
    """How many evaluations ``fit`` runs to go from ``done`` to ``total`` iterations: one
    before the first update (if none was made yet), every ``eval_every``, and one at the end."""
    due = (0 if done else 1) + total // eval_every - done // eval_every
    return due + (total % eval_every != 0 and total > done)


def estimate_minutes(trainer: GANTrainer, loader: DataLoader, epochs: int, steps: int = 3,
                     verbose: bool = True, evaluate: Evaluator | None = None,
                     eval_every: int | None = None) -> float:
    """Estimated wall time of ``trainer.fit(loader, epochs)``, from timing ``steps`` real iterations
    (the median step, so that a step slowed by another program hardly counts) and, with
    ``evaluate``, one evaluation, times the evaluations ``eval_every`` makes due.

    The timed steps are undone afterwards (weights, optimisers, gradient scalers and random
    numbers are restored), so the estimate changes nothing about the run that follows.
    """
    _check_fit_arguments(loader, epochs, None, evaluate, eval_every)
    restored = [m for m in (trainer.G, trainer.D, trainer.opt_g, trainer.opt_d, trainer.G_ema)
                if m is not None]
    saved = copy.deepcopy([m.state_dict() for m in restored])
    scalers = copy.deepcopy(trainer.amp.scalers)
    devices = [trainer.device.index or 0] if trainer.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        batches = iter(loader)

        def next_batch():
            nonlocal batches
            try:
                return next(batches)
            except StopIteration:
                batches = iter(loader)
                return next(batches)

        trainer.step_on(next_batch())  # warm-up: allocations, kernel choice; not timed
        _synchronize(trainer.device)
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            trainer.step_on(next_batch())
            _synchronize(trainer.device)
            times.append(time.perf_counter() - start)
        seconds_per_step = statistics.median(times)  # a step slowed by another program counts little
        seconds_per_evaluation = 0.0
        if evaluate is not None:
            evaluate(trainer)  # warm-up: the classifier or feature extractor loads once
            _synchronize(trainer.device)
            start = time.perf_counter()
            evaluate(trainer)
            _synchronize(trainer.device)
            seconds_per_evaluation = time.perf_counter() - start
    for module, state in zip(restored, saved):
        module.load_state_dict(state)
    trainer.amp.scalers = scalers
    remaining = trainer.remaining(loader, epochs)
    evaluations = 0
    if evaluate is not None:
        done = trainer.history.iterations
        evaluations = evaluations_due(done, done + remaining, eval_every)
    minutes = (remaining * seconds_per_step + evaluations * seconds_per_evaluation) / 60
    if verbose:
        scored = (f", and {evaluations} evaluations at {seconds_per_evaluation:.1f} s each"
                  if evaluate is not None else "")
        print(f"Estimated training time: about {_format_minutes(minutes)} for {remaining:,} "
              f"iterations ({epochs} epochs of {len(loader):,}) at {seconds_per_step:.3f} s each"
              f"{scored}, measured over {steps} steps on {trainer.device.type} in {trainer.precision}.")
    return minutes
