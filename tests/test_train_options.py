"""GANTrainer's options: precision, channels-last, Adam, g_loss, d_steps, label smoothing,
time budget and estimate, evaluation, one progress bar, the NaN guard, Ctrl-C during the save."""
from __future__ import annotations

import io
import math
import os
import signal
import time

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gan_tutorial.plumbing import precision as precision_module
from gan_tutorial import train as train_module
from gan_tutorial.models import DCGANDiscriminator, DCGANGenerator, weights_init
from gan_tutorial.plumbing.precision import resolve_precision
from gan_tutorial.plumbing.runtime import seed_everything
from gan_tutorial.train import GANTrainer, TrainingDivergedError

from test_train import SHAPE, loader, tiny_trainer


# ---------------------------------------------------------------- a 1-pixel GAN with known gradients
class LinearG(nn.Module):
    """G(z) = w z: one weight, one pixel."""

    latent_shape = (1,)

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(0.5))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (self.w * z).view(-1, 1, 1, 1)


class LogisticD(nn.Module):
    """D(x) = sigmoid(a x + b)."""

    outputs_logits = False

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.tensor(0.7))
        self.b = nn.Parameter(torch.tensor(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.a * x.view(-1) + self.b)


def one_pixel_trainer(**kwargs) -> GANTrainer:
    return GANTrainer(LinearG(), LogisticD(), device="cpu", lr=0.1, n_fixed=2, **kwargs)


def grads_at_step(trainer: GANTrainer, optimizer: str) -> list[dict[str, float]]:
    """Gradients each time ``optimizer`` steps (captured, then the real step runs)."""
    captured = []
    opt = getattr(trainer, optimizer)
    model = trainer.G if optimizer == "opt_g" else trainer.D
    real_step = opt.step

    def step(*args, **kwargs):
        captured.append({n: p.grad.item() for n, p in model.named_parameters()})
        return real_step(*args, **kwargs)

    opt.step = step
    return captured


def test_minimax_generator_loss_and_gradient():
    real = torch.tensor([[[[0.8]]]])
    results = {}
    for g_loss in ("non-saturating", "minimax"):
        seed_everything(3)
        trainer = one_pixel_trainer(g_loss=g_loss)
        grads = grads_at_step(trainer, "opt_g")
        stats = trainer.train_step(real)
        results[g_loss] = (stats, grads[0]["w"])
    (ns, grad_ns), (mm, grad_mm) = results["non-saturating"], results["minimax"]
    p = ns["d_g_z2"].item()
    assert mm["d_g_z2"].item() == pytest.approx(p)  # D's step is the same in both runs
    assert ns["loss_g"].item() == pytest.approx(-math.log(p), rel=1e-5)  # -log D(G(z))
    assert mm["loss_g"].item() == pytest.approx(math.log(1 - p), rel=1e-5)  # log(1 - D(G(z)))
    # d/dw of -log p is -(1 - p) a z, of log(1 - p) is -p a z: the ratio is p / (1 - p)
    assert grad_mm / grad_ns == pytest.approx(p / (1 - p), rel=1e-4)
    with pytest.raises(ValueError, match="g_loss"):
        one_pixel_trainer(g_loss="wasserstein")


def test_label_smoothing_changes_only_the_real_target():
    real = torch.tensor([[[[0.8]]]])
    seed_everything(5)
    trainer = one_pixel_trainer(real_label=0.9)
    grads = grads_at_step(trainer, "opt_d")
    stats = trainer.train_step(real)
    d_x, d_fake = stats["d_x"].item(), stats["d_g_z1"].item()
    expected = -(0.9 * math.log(d_x) + 0.1 * math.log(1 - d_x)) - math.log(1 - d_fake)
    assert stats["loss_d"].item() == pytest.approx(expected, rel=1e-5)
    # d/db of BCE(p, y) is p - y: the real target is 0.9, the fake one still 0
    assert grads[0]["b"] == pytest.approx((d_x - 0.9) + (d_fake - 0.0), rel=1e-4)
    with pytest.raises(ValueError, match="real_label"):
        one_pixel_trainer(real_label=0.3)


def test_d_steps_updates_d_k_times_with_fresh_noise_per_g_update():
    seed_everything(0)
    trainer = one_pixel_trainer(d_steps=3)
    d_grads = grads_at_step(trainer, "opt_d")
    g_grads = grads_at_step(trainer, "opt_g")
    noise_calls = []
    real_noise = trainer.noise
    trainer.noise = lambda n: noise_calls.append(n) or real_noise(n)
    trainer.train_step(torch.tensor([[[[0.8]]]]))
    assert len(d_grads) == 3 and len(g_grads) == 1
    assert len(noise_calls) == 3  # a fresh fake batch for every D update
    assert len({g["b"] for g in d_grads}) == 3  # each D step saw D as its last step left it
    with pytest.raises(ValueError, match="d_steps"):
        one_pixel_trainer(d_steps=0)


# ---------------------------------------------------------------- precision and speed levers
def test_auto_precision_follows_the_hardware(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", cpu) == "fp32"
    assert resolve_precision("auto", torch.device("mps")) == "fp32"
    assert resolve_precision("bf16", cpu) == "bf16"  # asked for explicitly: allowed (emulated)
    with pytest.raises(ValueError, match="fp16.*CUDA"):
        resolve_precision("fp16", cpu)
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("half", cpu)


def test_cpu_bf16_detection_reads_the_cpu_flags(monkeypatch):
    flags = open("/proc/cpuinfo").read()
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    precision_module.cpu_has_native_bf16.cache_clear()
    assert precision_module.cpu_has_native_bf16() == ("avx512_bf16" in flags or "amx_bf16" in flags)
    precision_module.cpu_has_native_bf16.cache_clear()


@pytest.mark.parametrize("capability, onednn_cap, native", [
    ("AVX512", None, True), ("AVX512", "AVX512_CORE_AMX", True), ("AVX512", "all", True),
    ("AVX2", None, False),  # ATEN_CPU_CAPABILITY=avx2: ATen's bf16 kernels are emulated
    ("AVX512", "AVX2", False), ("AVX512", "AVX512_CORE", False)])  # oneDNN capped below bf16
def test_auto_stays_in_fp32_where_bf16_would_be_emulated(monkeypatch, tmp_path, capability, onednn_cap, native):
    """A CPU with bf16 flags, run with torch capped below them (as for timing an AVX2 laptop)."""
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16\n")
    real_path = precision_module.Path
    monkeypatch.setattr(precision_module, "Path",
                        lambda p: cpuinfo if str(p) == "/proc/cpuinfo" else real_path(p))
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    if onednn_cap is None:
        monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    else:
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", onednn_cap)
    precision_module.cpu_has_native_bf16.cache_clear()
    try:
        assert precision_module.cpu_has_native_bf16() is native
        assert resolve_precision("auto", torch.device("cpu")) == ("bf16" if native else "fp32")
    finally:
        precision_module.cpu_has_native_bf16.cache_clear()


def test_bf16_training_step_keeps_fp32_finite_weights(tmp_path):
    G = DCGANGenerator(latent_dim=8, ngf=4, nc=1, image_size=32).apply(weights_init)
    D = DCGANDiscriminator(ndf=4, nc=1, image_size=32).apply(weights_init)
    trainer = GANTrainer(G, D, device="cpu", precision="bf16")
    assert trainer.precision == "bf16"
    stats = trainer.train_step(torch.rand(4, 1, 32, 32) * 2 - 1)
    assert all(math.isfinite(v.item()) for v in stats.values())
    for model in (trainer.G, trainer.D):
        for p in model.parameters():
            assert p.dtype == torch.float32 and torch.isfinite(p).all()
    assert trainer.sample(n=2).dtype == torch.float32
    saved = torch.load(trainer.save(tmp_path / "bf16.pt"), weights_only=True)
    assert all(t.dtype == torch.float32 for t in saved["generator"].values() if t.is_floating_point())


def test_bf16_keeps_the_discriminators_sigmoid_in_fp32():
    """bf16 rounds sigmoid(8) = 0.99966 to 1.0: BCE would see log(1) = 0 and D stop learning."""
    G = DCGANGenerator(latent_dim=8, ngf=4, nc=1, image_size=32).apply(weights_init)
    D = DCGANDiscriminator(ndf=4, nc=1, image_size=32).apply(weights_init)
    trainer = GANTrainer(G, D, device="cpu", precision="bf16")
    last_conv = [m for m in trainer.D.modules() if isinstance(m, nn.Conv2d)][-1]
    with torch.no_grad():
        last_conv.weight.zero_()
        last_conv.bias = nn.Parameter(torch.full((1,), 8.0))  # every image: logit 8
    real = torch.rand(4, 1, 32, 32) * 2 - 1
    with trainer.amp.autocast():
        out = trainer.D(real.contiguous(memory_format=torch.channels_last))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.view(-1), torch.sigmoid(torch.full((4,), 8.0)))
    stats = trainer.train_step(real)  # D's loss on reals is -log(0.99966), not 0
    assert stats["loss_d"].item() > 3e-4
    fp32 = GANTrainer(DCGANGenerator(latent_dim=8, ngf=4, nc=1, image_size=32),
                      DCGANDiscriminator(ndf=4, nc=1, image_size=32), device="cpu", precision="fp32")
    assert not fp32.D.main[-1]._forward_pre_hooks  # fp32 training is left exactly as it was


class CertainD(nn.Module):
    """A discriminator certain that everything is fake: logit -40 (D(x) = 4e-18)."""

    def __init__(self, logits: bool) -> None:
        super().__init__()
        self.outputs_logits = logits
        self.a = nn.Parameter(torch.tensor(1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logit = self.a * x.view(-1) - 40
        return logit if self.outputs_logits else torch.sigmoid(logit)


def generator_gradient_when_d_is_certain(logits: bool) -> float:
    """|dLoss_G/dw| after one train_step where D's logit for every fake is -40 (G(z) = w z, w = 0)."""
    G = LinearG()
    with torch.no_grad():
        G.w.zero_()  # every fake is the pixel 0: logit exactly -40
    trainer = GANTrainer(G, CertainD(logits), device="cpu", lr=1e-12, n_fixed=2, precision="fp32")
    trainer.train_step(torch.zeros(8, 1, 1, 1))
    return G.w.grad.abs().item()


def test_a_certain_discriminator_still_gives_g_a_gradient_with_logits():
    """BCEWithLogitsLoss: d(-log sigmoid(l))/dl = sigmoid(l) - 1 = -1 at l = -40, so G's
    gradient is of order 1 (|mean z| here) however sure D is."""
    torch.manual_seed(0)
    torch.randn(2, 1)  # the trainer's fixed noise (n_fixed=2), drawn when it is built
    z = torch.randn(8, 1)  # the noise train_step draws for the fakes (G's update reuses them)
    torch.manual_seed(0)
    grad = generator_gradient_when_d_is_certain(logits=True)
    assert grad == pytest.approx(z.mean().abs().item(), rel=1e-4)
    assert grad > 0.1


def test_sigmoid_and_bce_loss_kill_gs_gradient_when_d_is_certain():
    """The stall of lesson 02's Sigmoid run: BCELoss divides by max(p(1 - p), 1e-12), so at
    p = 4e-18 G receives about p / 1e-12 = 4e-6 of the gradient it needs."""
    torch.manual_seed(0)
    assert generator_gradient_when_d_is_certain(logits=False) < 1e-4


def test_every_lesson_trains_a_logits_discriminator():
    from gan_tutorial.lessons import LESSONS, build_models, preset

    for name in LESSONS:
        for setting in ("quick", "class", "full"):
            _, D = build_models(preset(name, setting))
            assert D.outputs_logits, (name, setting)
            assert not any(isinstance(m, nn.Sigmoid) for m in D.modules()), (name, setting)


def test_channels_last_gives_the_same_outputs_as_contiguous():
    seed_everything(0)
    G = DCGANGenerator(latent_dim=8, ngf=4, nc=3, image_size=32).apply(weights_init)
    D = DCGANDiscriminator(ndf=4, nc=3, image_size=32).apply(weights_init)
    z, x = torch.randn(4, 8, 1, 1), torch.rand(4, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        expected = G(z), D(x)
        fast = GANTrainer(G, D, device="cpu")  # moves the models to channels-last
        assert fast.memory_format == torch.channels_last
        assert fast.D.main[0][0].weight.is_contiguous(memory_format=torch.channels_last)
        got = fast.G(z), fast.D(x.contiguous(memory_format=torch.channels_last))
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5)


def test_fully_connected_models_stay_contiguous_and_adam_is_fused():
    trainer = tiny_trainer()
    assert trainer.memory_format == torch.contiguous_format
    assert trainer.opt_g.defaults.get("fused") or trainer.opt_g.defaults.get("foreach")


# ---------------------------------------------------------------- time: budget, estimate, progress bar
class SlowLoader:
    """A loader whose every batch takes ``seconds`` to arrive."""

    def __init__(self, inner: DataLoader, seconds: float) -> None:
        self.inner, self.seconds = inner, seconds

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self):
        for batch in self.inner:
            time.sleep(self.seconds)
            yield batch


def test_max_minutes_stops_cleanly_with_snapshot_and_checkpoint_then_continues(tmp_path, capsys):
    trainer = tiny_trainer()
    data = SlowLoader(loader(n=80, batch=8), seconds=0.05)  # 10 batches, >= 0.5 s per epoch
    history = trainer.fit(data, epochs=2, max_minutes=0.2 / 60, checkpoint=tmp_path / "c.pt",
                          progress=False)
    assert history.stop_reason == "time budget" and not history.interrupted
    assert 1 <= history.iterations < 10 and history.epochs_done == 0
    assert history.snapshot_iterations[-1] == history.iterations
    assert "Time budget of" in capsys.readouterr().out
    saved = tiny_trainer()
    assert saved.load(tmp_path / "c.pt").iterations == history.iterations
    history = trainer.fit(loader(n=80, batch=8), epochs=2, progress=False)
    assert history.stop_reason is None and history.iterations == 20
    assert history.epoch == [0] * 10 + [1] * 10
    with pytest.raises(ValueError, match="max_minutes"):
        trainer.fit(data, epochs=3, max_minutes=0)


def test_estimate_comes_from_measured_steps_and_changes_nothing(capsys):
    seed_everything(0)
    trainer = tiny_trainer()
    before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    data = loader(n=40, batch=8)
    rng_before = torch.get_rng_state()
    real_step = trainer.train_step

    def slow_step(real):
        time.sleep(0.1)
        return real_step(real)

    trainer.train_step = slow_step
    minutes = trainer.estimate_minutes(data, epochs=6, steps=3)
    assert 6 * 5 * 0.1 / 60 <= minutes < 6 * 5 * 2.0 / 60  # 30 steps of >= 0.1 s (shared CPU: loose top)
    assert "Estimated training time" in capsys.readouterr().out
    assert torch.equal(torch.get_rng_state(), rng_before)
    for key, value in trainer.G.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert trainer.opt_g.state_dict()["state"] == {}  # the timed steps were undone


def test_estimate_takes_the_median_step_so_one_slowed_step_counts_little():
    """Another program that takes the CPU for one timed step (here: a 1 s pause in one of five)
    would make the mean step 4 times too long; the median step is a typical one."""
    seed_everything(0)
    trainer = tiny_trainer()
    real_step, pauses = trainer.train_step, iter([0.0, 0.05, 0.05, 1.0, 0.05, 0.05])  # warm-up first

    def step_with_a_pause(real):
        time.sleep(next(pauses))
        return real_step(real)

    trainer.train_step = step_with_a_pause
    minutes = trainer.estimate_minutes(loader(n=40, batch=8), epochs=12, steps=5, verbose=False)
    assert 60 * 0.05 / 60 <= minutes < 60 * 0.15 / 60  # 60 steps of a 0.05 s step, not of the 0.24 s mean


def test_estimate_counts_the_evaluations_fit_runs(capsys):
    """With an evaluator, the estimate adds one timed evaluation per evaluation fit makes due:
    as many as fit calls, from the start and from a resumed run."""
    calls = []

    def slow_evaluator(trainer):
        calls.append(trainer.history.iterations)
        time.sleep(0.2)
        return {"x": 0.0}

    for epochs, every in ((2, 4), (2, 5), (3, 1), (1, 7)):
        seed_everything(0)
        trainer = tiny_trainer()
        data = loader(n=40, batch=8)  # 5 batches an epoch
        calls.clear()
        minutes = trainer.estimate_minutes(data, epochs, steps=2, evaluate=slow_evaluator, eval_every=every)
        assert len(calls) == 2 and trainer.history.metric_iterations == []  # timed, not recorded
        due = train_module.evaluations_due(0, 5 * epochs, every)
        assert due * 0.2 / 60 <= minutes < due * 0.2 / 60 + 5 * epochs * 2.0 / 60
        calls.clear()
        trainer.fit(data, epochs, evaluate=slow_evaluator, eval_every=every, progress=False)
        assert len(calls) == due, (epochs, every)
        calls.clear()
        trainer.fit(data, epochs + 1, evaluate=slow_evaluator, eval_every=every, progress=False)
        assert len(calls) == train_module.evaluations_due(5 * epochs, 5 * (epochs + 1), every)
    assert "evaluations at" in capsys.readouterr().out
    with pytest.raises(ValueError, match="eval_every"):
        trainer.estimate_minutes(data, 9, evaluate=slow_evaluator)


def test_one_progress_bar_per_run(monkeypatch):
    bars = []
    real_tqdm = train_module.tqdm

    def counting_tqdm(*args, **kwargs):
        bar = real_tqdm(*args, **kwargs)
        bars.append(bar)
        return bar

    monkeypatch.setattr(train_module, "tqdm", counting_tqdm)
    trainer = tiny_trainer()
    trainer.fit(loader(), epochs=4, progress=True)
    assert len(bars) == 1 and bars[0].total == 20 and bars[0].n == 20
    assert bars[0].postfix.startswith("epoch=4/4, Loss_D=")


# ---------------------------------------------------------------- evaluation during training
def noisy_evaluator(trainer: GANTrainer) -> dict[str, float]:
    """Uses the global random numbers on purpose: the trainer must shield training from it."""
    return {"mean": trainer.sample(n=8).mean().item(), "draw": torch.rand(1).item()}


def test_evaluation_is_recorded_at_the_requested_iterations_and_saved(tmp_path):
    trainer = tiny_trainer()
    history = trainer.fit(loader(), epochs=3, evaluate=noisy_evaluator, eval_every=4,
                          checkpoint=tmp_path / "c.pt", progress=False)
    assert history.metric_iterations == [0, 4, 8, 12, 15]  # before, every 4, the end
    assert set(history.metrics) == {"mean", "draw"}
    assert all(len(v) == 5 for v in history.metrics.values())
    assert history.eval_seconds > 0 and history.train_seconds > history.eval_seconds
    restored = tiny_trainer()
    assert restored.load(tmp_path / "c.pt").metrics == history.metrics
    with pytest.raises(ValueError, match="eval_every"):
        trainer.fit(loader(), epochs=4, evaluate=noisy_evaluator)


def test_evaluation_does_not_change_training():
    runs = []
    for evaluate in (None, noisy_evaluator):
        seed_everything(11)
        trainer = tiny_trainer()
        history = trainer.fit(loader(), epochs=2, evaluate=evaluate,
                              eval_every=3 if evaluate else None, progress=False)
        runs.append((history.loss_d, history.loss_g, [s.clone() for s in history.snapshots]))
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][2], runs[1][2]))


# ---------------------------------------------------------------- faults: NaN, Ctrl-C during the save
def logits_trainer() -> GANTrainer:
    """Lesson 04's set-up in miniature: a logits discriminator, where NaN trips no BCE check."""
    G = DCGANGenerator(latent_dim=4, ngf=2, nc=1, image_size=32)
    D = DCGANDiscriminator(ndf=2, nc=1, image_size=32, logits=True, first_batch_norm=True)
    return GANTrainer(G, D, device="cpu", n_fixed=4)


@pytest.mark.parametrize("make", [tiny_trainer, logits_trainer], ids=["sigmoid-D", "logits-D"])
def test_a_diverging_run_stops_and_keeps_the_last_finite_checkpoint(tmp_path, make):
    trainer = make()
    shape = (1, 32, 32) if make is logits_trainer else SHAPE
    data = DataLoader(TensorDataset(torch.rand(40, *shape) * 2 - 1, torch.zeros(40)), batch_size=8)
    path = tmp_path / "good.pt"
    trainer.fit(data, epochs=1, checkpoint=path, progress=False)
    good_bytes = path.read_bytes()
    images = torch.rand(40, *shape) * 2 - 1
    images[17] = float("nan")  # a broken image in the third batch
    bad = DataLoader(TensorDataset(images, torch.zeros(40)), batch_size=8)
    with pytest.raises(TrainingDivergedError) as err:
        trainer.fit(bad, epochs=3, checkpoint=path, progress=False)
    message = str(err.value)
    assert "iteration 8 (epoch 2)" in message  # 5 good updates + 2 more, then the NaN batch
    assert "learning rate" in message and str(path) in message
    assert path.read_bytes() == good_bytes
    restored = make()
    restored.load(path)
    assert all(torch.isfinite(p).all() for p in restored.G.parameters())
    assert trainer.history.iterations == 7  # only the finite updates are recorded


def test_ctrl_c_during_the_final_save_is_held_until_the_save_is_done(tmp_path):
    trainer = tiny_trainer()
    real_save = trainer.save

    def save_interrupted_midway(path):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives while the checkpoint is written
        return real_save(path)

    trainer.save = save_interrupted_midway
    history = trainer.fit(loader(), epochs=1, checkpoint=tmp_path / "c.pt", progress=False)
    assert history.interrupted and history.iterations == 5
    assert tiny_trainer().load(tmp_path / "c.pt").iterations == 5
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no stale .tmp


class _SignalMidWrite(io.RawIOBase):
    """A file torch.save writes through, which sends ``sig`` to this process at its 3rd write."""

    def __init__(self, target, sig) -> None:
        self.target, self.sig, self.writes = target, sig, 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.writes += 1
        if self.writes == 3:
            os.kill(os.getpid(), self.sig)
        return self.target.write(data)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_inside_an_epochs_save_waits_for_it_then_stops(tmp_path, monkeypatch, sig):
    """A signal handled inside torch.save's writer surfaced as 'RuntimeError: [enforce fail at
    inline_container.cc:672] . unexpected pos' and the CLI reported an error (seen in CI)."""
    real_save, signalled = torch.save, []

    def save_signalled_midway(obj, f, *args, **kwargs):
        if not signalled:  # the end of epoch 1, inside the loop
            signalled.append(True)
            return real_save(obj, _SignalMidWrite(f, sig), *args, **kwargs)
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save_signalled_midway)
    history = tiny_trainer().fit(loader(), epochs=3, checkpoint=tmp_path / "c.pt", progress=False)
    assert signalled and history.interrupted and history.iterations == 5 and history.epochs_done == 1
    assert history.stop_reason == ("terminated" if sig == signal.SIGTERM else "interrupted")
    assert tiny_trainer().load(tmp_path / "c.pt").iterations == 5
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_a_run_that_used_its_time_budget_ends_with_a_full_bar(monkeypatch):
    bars = []

    class RecordedBar(train_module.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            bars.append(self)

    monkeypatch.setattr(train_module, "tqdm", RecordedBar)
    trainer = tiny_trainer()
    trainer.fit(SlowLoader(loader(n=80, batch=8), seconds=0.05), epochs=2, max_minutes=0.2 / 60,
                progress=True)
    assert trainer.history.stop_reason == "time budget"
    assert bars[0].n == bars[0].total == trainer.history.iterations  # complete, so tqdm shows success
