"""The live views (issue 31): the 2-D game's steps and controls, the playground's buttons, the
training view's refresh schedule and its off switch."""
from __future__ import annotations

import copy

import pytest
import torch

from gan_tutorial.live import LiveView, RefreshSchedule
from gan_tutorial.playground import Playground
from gan_tutorial.plumbing.environment import live_view_wanted
from gan_tutorial.points import PointGAN, PointRecipe


def weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_a_d_step_changes_d_only_and_a_g_step_g_only():
    gan = PointGAN(points="two_gaussians", seed=3)
    g0, d0 = weights(gan.G), weights(gan.D)
    gan.step_d()
    assert same(weights(gan.G), g0) and not same(weights(gan.D), d0)
    d1 = weights(gan.D)
    gan.step_g()
    assert not same(weights(gan.G), g0) and same(weights(gan.D), d1)
    assert all(p.grad is None for p in gan.D.parameters()), "G's step must leave no gradient in D"


def test_a_full_step_is_k_d_updates_then_one_g_update():
    gan = PointGAN(d_steps=3, seed=1)
    calls = []
    gan.step_d = lambda: calls.append("D") or 0.0
    gan.step_g = lambda: calls.append("G") or 0.0
    gan.step()
    assert calls == ["D", "D", "D", "G"] and gan.steps == 1 and gan.history.step == [1]


def test_new_settings_apply_while_running_and_keep_the_weights():
    gan = PointGAN(seed=0)
    gan.train(5, measure_every=5)
    before = weights(gan.G)
    gan.set(lr_d=3e-4, lr_g=2e-3, loss="hinge", d_steps=2)
    assert same(weights(gan.G), before) and gan.steps == 5
    assert gan.opt_d.param_groups[0]["lr"] == 3e-4 and gan.opt_g.param_groups[0]["lr"] == 2e-3
    assert type(gan.loss).__name__ == "Hinge" and gan.recipe.d_steps == 2
    gan.set(optimizer="sgd")
    assert isinstance(gan.opt_g, torch.optim.SGD) and gan.opt_g.param_groups[0]["lr"] == 2e-3
    with pytest.raises(ValueError, match="use reset"):
        gan.set(points="spiral")
    with pytest.raises(ValueError, match="loss must be one of"):
        gan.set(loss="wasserstein")


def test_the_same_seed_trains_the_same_run():
    a, b = PointGAN(seed=4), PointGAN(seed=4)
    a.train(20, measure_every=10)
    b.train(20, measure_every=10)
    assert same(weights(a.G), weights(b.G)) and a.history.js == b.history.js


def test_arrows_point_where_the_next_g_step_moves_the_fakes():
    """With plain SGD, G's update moves the fakes along the arrows (to first order)."""
    gan = PointGAN(points="gaussian", optimizer="sgd", lr_g=1e-3, seed=2)
    noise = torch.randn(200, 2, generator=torch.Generator().manual_seed(7))
    fake = gan.G(noise).detach()
    arrows = gan.arrows(fake)
    gan.opt_g.zero_grad()
    gan.loss.g_loss(gan.D(gan.G(noise))).backward()
    gan.opt_g.step()
    moved = gan.G(noise).detach() - fake
    cosine = torch.nn.functional.cosine_similarity(moved.mean(0), arrows.mean(0), dim=0)
    assert cosine > 0.9


def test_frame_measures_what_the_lesson_draws():
    gan = PointGAN(points="ring", seed=0)
    frame = gan.frame(n=300, steps=21)
    assert frame.d_map.shape == frame.d_star_map.shape == (21, 21)
    assert 0 <= float(frame.d_map.min()) and float(frame.d_map.max()) <= 1
    assert frame.noise_lines.shape == (18, 50, 2) and frame.arrows.shape == (300, 2)
    assert 0 <= frame.js <= 0.6932 and frame.modes_covered is not None
    assert PointGAN(points="gaussian").frame(n=50, steps=11).modes_covered is None


def test_bad_recipes_are_named():
    for field, value in (("lr_d", 0), ("d_steps", 0), ("optimizer", "rmsprop"), ("batch_size", 2.5)):
        with pytest.raises(ValueError, match=field if field != "optimizer" else "optimizer"):
            PointRecipe(**{field: value}).check()


# ------------------------------------------------------------------ the playground widget
def test_playground_buttons_step_d_only_g_only_and_reset():
    play = Playground(points="two_gaussians", seed=0)
    first = bytes(play.picture.value)
    assert first.startswith(b"\x89PNG")
    fake_before, g_before, d_before = play.gan.frame(50, 11).fake, weights(play.gan.G), weights(play.gan.D)
    play.buttons["d_only"].click()
    assert same(weights(play.gan.G), g_before) and not same(weights(play.gan.D), d_before)
    assert torch.equal(play.gan.frame(50, 11).fake, fake_before) and bytes(play.picture.value) != first
    play.buttons["g_only"].click()
    assert not same(weights(play.gan.G), g_before)
    play.buttons["step"].click()
    assert play.gan.steps == 1 and "step 1" in play.status.value
    play.controls["lr_g"].value = 1e-2
    assert play.gan.opt_g.param_groups[0]["lr"] == pytest.approx(1e-2)
    play.controls["loss"].value = "minimax"
    assert type(play.gan.loss).__name__ == "MinimaxBCE"
    play.points.value = "ring"
    play.buttons["reset"].click()
    assert play.gan.steps == 0 and play.gan.recipe.points == "ring"


def test_playground_runs_and_pauses():
    play = Playground(points="gaussian", steps_per_frame=5)
    play.run.value = True
    import time
    start = time.monotonic()
    while play.gan.steps < 10 and time.monotonic() - start < 60:
        time.sleep(0.05)
    play.pause()
    steps = play.gan.steps
    assert steps >= 10 and not play.thread.is_alive() and play.run.description == "Run"
    time.sleep(0.2)
    assert play.gan.steps == steps


# ------------------------------------------------------------------ the training view
class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_schedule_draws_at_most_its_share_of_the_time():
    clock = Clock()
    schedule = RefreshSchedule(budget=0.05, min_interval_s=1.0, clock=clock)
    assert schedule.due()  # the first picture at once
    schedule.record(0.5)  # drawing took 0.5 s
    clock.now = 1.5
    assert not schedule.due()  # 0.5 s of 1.5 s is over 5%
    clock.now = 10.0
    assert schedule.due()  # 0.5 of 10 s is 5%
    schedule.record(0.0)
    clock.now = 10.5
    assert not schedule.due()  # under min_interval_s since the last one


def test_the_schedule_keeps_drawing_under_budget_over_a_long_run():
    clock = Clock()
    schedule = RefreshSchedule(budget=0.03, min_interval_s=2.0, clock=clock)
    for _ in range(10_000):  # a step every 0.1 s, a picture costing 0.4 s when due
        clock.now += 0.1
        if schedule.due():
            clock.now += 0.4
            schedule.record(0.4)
    assert schedule.spent <= 0.03 * clock.now + 0.4 and schedule.drawn >= 20


class Handle:
    def __init__(self) -> None:
        self.updates = 0

    def update(self, obj) -> None:
        assert obj.data.startswith(b"\x89PNG")
        self.updates += 1


def test_live_view_redraws_only_for_something_new(monkeypatch):
    import IPython.display

    handle = Handle()
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: handle)
    clock = Clock()
    view = LiveView(schedule=RefreshSchedule(budget=1.0, min_interval_s=0.0, clock=clock))
    from gan_tutorial.history import History

    h = History()
    h.loss_d, h.loss_g, h.d_x, h.d_g_z1, h.d_g_z2 = [1.0, 0.9], [2.0, 1.8], [0.6, 0.7], [0.4, 0.3], [0.35, 0.3]
    h.snapshot_iterations, h.snapshots = [0], [torch.zeros(4, 1, 8, 8, dtype=torch.uint8)]
    assert view.update(h) and handle.updates == 1
    assert not view.update(h) and handle.updates == 1  # nothing new
    h.snapshot_iterations.append(2)
    h.snapshots.append(torch.full((4, 1, 8, 8), 255, dtype=torch.uint8))
    assert view.update(h) and handle.updates == 2


@pytest.mark.parametrize("env, expected", [({"GAN_TUTORIAL_LIVE": "0"}, False), ({"GAN_TUTORIAL_LIVE": "1"}, True),
                                           ({"GAN_TUTORIAL_QUICK": "1"}, False), ({"CI": "true"}, False),
                                           ({}, False)])  # no notebook kernel in pytest
def test_the_live_switch(monkeypatch, env, expected):
    for name in ("GAN_TUTORIAL_LIVE", "GAN_TUTORIAL_QUICK", "CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert live_view_wanted() is expected


def test_live_is_on_in_a_notebook_kernel_outside_quick_mode_and_ci(monkeypatch):
    import IPython

    class ZMQInteractiveShell:  # what ipykernel runs a notebook in
        pass

    for name in ("GAN_TUTORIAL_LIVE", "GAN_TUTORIAL_QUICK", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(IPython, "get_ipython", lambda: ZMQInteractiveShell())
    assert live_view_wanted()
    monkeypatch.setenv("GAN_TUTORIAL_QUICK", "1")
    assert not live_view_wanted()


def test_fit_refreshes_the_view_while_it_trains_and_continues_on_resume(monkeypatch, tmp_path):
    import IPython.display
    from torch.utils.data import DataLoader, TensorDataset

    from gan_tutorial import FCDiscriminator, FCGenerator, GANTrainer

    handles = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: handles.append(Handle()) or handles[-1])
    monkeypatch.setattr("gan_tutorial.train.notebook_kernel", lambda: True)  # as in a notebook's kernel
    monkeypatch.setattr("gan_tutorial.live.MIN_INTERVAL_S", 0.0)
    monkeypatch.setattr("gan_tutorial.live.BUDGET", 1.0)
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.rand(64, 1, 28, 28) * 2 - 1), batch_size=8)
    trainer = GANTrainer(FCGenerator(), FCDiscriminator(), device="cpu")
    trainer.fit(loader, 1, snapshot_every=2, progress=False, live=True)
    assert len(handles) == 1 and handles[0].updates >= 4  # start, snapshots at 2, 4, 6, end
    trainer.fit(loader, 2, snapshot_every=2, progress=False, live=True)  # carries on: a new view
    assert len(handles) == 2 and handles[1].updates >= 4
    trainer.fit(loader, 3, snapshot_every=2, progress=False, live=False)
    assert len(handles) == 2


def test_typed_points_train_and_an_unknown_set_is_named():
    letter_l = torch.tensor([[0.0, y / 4] for y in range(9)] + [[x / 4, 0.0] for x in range(1, 5)])
    gan = PointGAN(points=letter_l, seed=0)
    gan.train(20, measure_every=10)
    assert gan.history.modes_covered == [-1, -1, -1] and gan.frame(50, 11).modes_covered is None
    with pytest.raises(ValueError, match="choose one of gaussian"):
        PointGAN(points="moons")


def test_an_interrupted_fit_still_draws_its_last_picture(monkeypatch):
    import IPython.display
    from torch.utils.data import DataLoader, TensorDataset

    from gan_tutorial import FCDiscriminator, FCGenerator, GANTrainer

    handle = Handle()
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: handle)
    monkeypatch.setattr("gan_tutorial.train.notebook_kernel", lambda: True)
    loader = DataLoader(TensorDataset(torch.rand(64, 1, 28, 28) * 2 - 1), batch_size=8)
    trainer = GANTrainer(FCGenerator(), FCDiscriminator(), device="cpu")
    step, calls = trainer.train_step, []

    def interrupted_on_the_fourth(*args):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return step(*args)

    monkeypatch.setattr(trainer, "train_step", interrupted_on_the_fourth)
    history = trainer.fit(loader, 1, snapshot_every=100, progress=False, live=True)
    assert history.interrupted and history.iterations == 3
    assert handle.updates >= 1  # the picture at the stop: snapshot of iteration 3, drawn at once


def test_live_outside_a_notebook_draws_nothing_and_prints_nothing(capsys):
    from torch.utils.data import DataLoader, TensorDataset

    from gan_tutorial import FCDiscriminator, FCGenerator, GANTrainer

    loader = DataLoader(TensorDataset(torch.rand(16, 1, 28, 28) * 2 - 1), batch_size=8)
    GANTrainer(FCGenerator(), FCDiscriminator(), device="cpu").fit(loader, 1, progress=False, live=True)
    assert "Image object" not in capsys.readouterr().out


def test_a_failing_live_view_is_switched_off_and_the_checkpoint_is_still_saved(monkeypatch, tmp_path):
    from torch.utils.data import DataLoader, TensorDataset

    from gan_tutorial import FCDiscriminator, FCGenerator, GANTrainer

    class Broken:
        def __init__(self, history):
            pass

        def update(self, history, force=False):
            raise OSError("the display went away")

    monkeypatch.setattr("gan_tutorial.train.notebook_kernel", lambda: True)
    monkeypatch.setattr("gan_tutorial.live.LiveView", Broken)
    loader = DataLoader(TensorDataset(torch.rand(32, 1, 28, 28) * 2 - 1), batch_size=8)
    trainer = GANTrainer(FCGenerator(), FCDiscriminator(), device="cpu")
    with pytest.warns(RuntimeWarning, match="the live view stopped .*display went away"):
        history = trainer.fit(loader, 1, snapshot_every=1, progress=False, live=True,
                              checkpoint=tmp_path / "run.pt")
    assert history.iterations == 4 and (tmp_path / "run.pt").is_file()


def test_an_error_in_the_running_playground_is_shown_and_stops_it():
    play = Playground(points="gaussian", steps_per_frame=2)

    def boom():
        raise FloatingPointError("loss is inf")

    play.gan.step = boom
    play.run.value = True
    play.thread.join(timeout=30)
    assert not play.run.value and play.run.description == "Run"
    assert "Stopped" in play.status.value and "loss is inf" in play.status.value


def test_playground_keeps_typed_points_across_reset():
    letter_v = torch.tensor([[-1.0, 1.0], [-0.5, 0.0], [0.0, -1.0], [0.5, 0.0], [1.0, 1.0]])
    play = Playground(points=letter_v, seed=0)
    assert play.points.value == "your points" and "5 typed points" in play.status.value
    play.buttons["step"].click()
    play.buttons["reset"].click()
    assert torch.equal(play.gan.recipe.points, letter_v) and play.gan.steps == 0


def test_a_live_view_that_cannot_start_does_not_stop_the_run(monkeypatch):
    from torch.utils.data import DataLoader, TensorDataset

    from gan_tutorial import FCDiscriminator, FCGenerator, GANTrainer

    def cannot(history):
        raise RuntimeError("no display backend")

    monkeypatch.setattr("gan_tutorial.train.notebook_kernel", lambda: True)
    monkeypatch.setattr("gan_tutorial.live.LiveView", cannot)
    loader = DataLoader(TensorDataset(torch.rand(16, 1, 28, 28) * 2 - 1), batch_size=8)
    with pytest.warns(RuntimeWarning, match="no live view .*no display backend"):
        history = GANTrainer(FCGenerator(), FCDiscriminator(), device="cpu").fit(loader, 1, progress=False, live=True)
    assert history.iterations == 2
