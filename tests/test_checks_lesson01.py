"""Lesson 01's graded checks: a fooling answer fails, every differently written right answer passes.

``check_d_loss`` calls the learner's function on batches of its own; ``check_train_step`` runs
``GANTrainer.train_step`` from the learner's start on the learner's batches and noise and
compares the weights, and names the usual mistakes by running them.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_tutorial import FCDiscriminator, FCGenerator, GANTrainer
from gan_tutorial.exercises.checks import CheckError, check_d_loss, check_train_step, train_step_exercise

F = nn.functional


def assert_passes(check, *args, capsys) -> str:
    check(*args)
    out = capsys.readouterr().out
    assert out.startswith("Correct!"), out
    return out


# ------------------------------------------------------------------ D's loss as a function
# What the page holds when the exercise is reached: a batch's probabilities and its loss.
PAGE_D_REAL = torch.tensor([0.6, 0.7, 0.55], requires_grad=True)
PAGE_D_FAKE = torch.tensor([0.4, 0.3, 0.45], requires_grad=True)
PAGE_LOSS_D = -(torch.log(PAGE_D_REAL).mean() + torch.log(1 - PAGE_D_FAKE).mean())

D_LOSS_RIGHT = {
    "torch.log": lambda r, f: -(torch.log(r).mean() + torch.log(1 - f).mean()),
    "log1p, halves apart": lambda r, f: -torch.log(r).mean() - torch.log1p(-f).mean(),
    "nn.BCELoss": lambda r, f: nn.BCELoss()(r, torch.ones_like(r)) + nn.BCELoss()(f, torch.zeros_like(f)),
    "F.binary_cross_entropy": lambda r, f: (F.binary_cross_entropy(r, torch.ones_like(r))
                                            + F.binary_cross_entropy(f, torch.zeros_like(f))),
    "one BCE over both batches, times 2": lambda r, f: 2 * nn.BCELoss()(
        torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])),
    "detached inputs": lambda r, f: -(r.detach().log().mean() + (1 - f.detach()).log().mean()),
    "a Python number": lambda r, f: -(torch.log(r).mean() + torch.log(1 - f).mean()).item(),
    "float64": lambda r, f: -(r.double().log().mean() + (1 - f.double()).log().mean()),
}


@pytest.mark.parametrize("spelling", D_LOSS_RIGHT)
def test_d_loss_function_accepts_every_right_answer(spelling, capsys):
    assert_passes(check_d_loss, D_LOSS_RIGHT[spelling], capsys=capsys)


@pytest.mark.parametrize("answer, message", [
    (PAGE_LOSS_D, "expected a function"),  # my_d_loss = loss_d: the variable on the page
    (lambda r, f: PAGE_LOSS_D, r"my_d_loss\(d_real=\[.*\] = "),  # the page's value whatever the input
    (lambda r, f: -(torch.log(PAGE_D_REAL).mean() + torch.log(1 - PAGE_D_FAKE).mean()),
     "expected"),  # the right formula, on the page's inputs instead of its own
    (lambda r, f: torch.log(r).mean() + torch.log(1 - f).mean(), "sign is flipped"),
    (lambda r, f: -torch.log(r).mean(), "only the real half"),
    (lambda r, f: -torch.log(1 - f).mean(), "only the fake half"),
    (lambda r, f: -(torch.log(r).mean() + torch.log(f).mean()), "fakes are labelled 1"),
    (lambda r, f: -(torch.log(1 - r).mean() + torch.log(f).mean()), "labels are swapped"),
    (lambda r, f: -(torch.log(r).mean() + torch.log(1 - f).mean()) / 2, "averaged the two halves"),
    (lambda r, f: -(torch.log(r) + torch.log(1 - f)).sum(), "8 times too large"),
    (lambda r, f: -(torch.log(r) + torch.log(1 - f)), r"shape \(8,\).*\.mean\(\)"),
    (lambda r: -torch.log(r).mean(), "raised TypeError"),
])
def test_d_loss_function_refuses_fooling_and_wrong_answers(answer, message):
    with pytest.raises(CheckError, match=message):
        check_d_loss(answer)


def test_d_loss_function_refuses_a_right_value_with_a_wrong_gradient():
    def frozen(r, f):  # the right number, but the gradient of 0 * input
        value = -(torch.log(r).mean() + torch.log(1 - f).mean())
        return value.detach() + 0 * (r.sum() + f.sum())

    with pytest.raises(CheckError, match="gradient with respect to d_real"):
        check_d_loss(frozen)


def test_d_loss_function_is_called_on_its_own_inputs():
    with pytest.raises(TypeError, match="pass the function alone"):
        check_d_loss(D_LOSS_RIGHT["torch.log"], PAGE_D_REAL, PAGE_D_FAKE)


# ------------------------------------------------------------------ a training step of your own
@pytest.fixture(scope="module")
def nets() -> tuple[nn.Module, nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    G = FCGenerator(latent_dim=8, hidden=(32,), image_shape=(1, 6, 6))
    D = FCDiscriminator(image_shape=(1, 6, 6), hidden=(32,), dropout=0.3, logits=True)
    images = torch.rand(60, 1, 6, 6) * 2 - 1
    return G, D, images


bce = nn.BCEWithLogitsLoss()


def d_update(ex, real, fake, style: str = "two passes", fake_label: float = 0.0) -> None:
    """One right D update (in one of several spellings) on ``fake``, detached."""
    if style == "one pass":  # real and fake in one batch: a different but right spelling
        out = ex.D(torch.cat([real, fake.detach()]))
        labels = torch.cat([torch.ones(len(real)), torch.full((len(fake),), fake_label)])
        loss = 2 * bce(out, labels)
    elif style == "softplus":
        loss = F.softplus(-ex.D(real)).mean() + F.softplus(ex.D(fake.detach())).mean()
    else:
        out_real, out_fake = ex.D(real), ex.D(fake.detach())
        loss = bce(out_real, torch.ones_like(out_real)) + bce(out_fake, torch.full_like(out_fake, fake_label))
        if style == "mean":  # GANTrainer(d_loss_reduction="mean"): Adam does not mind the scale
            loss = loss / 2
    loss.backward()
    ex.opt_d.step()


def g_update(ex, fake, target: float = 1.0, zero: bool = True) -> None:
    if zero:
        ex.opt_g.zero_grad()
    out = ex.D(fake)
    bce(out, torch.full_like(out, target)).backward()
    ex.opt_g.step()


def right_loop(ex, style: str = "two passes", fresh_g_noise: bool = False) -> None:
    for real in ex.batches():
        for _ in range(ex.d_steps):
            ex.D.zero_grad(set_to_none=style != "softplus")
            fake = ex.G(ex.noise(real.size(0)))
            d_update(ex, real, fake, style)
        if fresh_g_noise:  # Goodfellow et al.'s Algorithm 1 samples new noise for G
            fake = ex.G(ex.noise(real.size(0)))
        g_update(ex, fake)


@pytest.mark.parametrize("style, fresh", [("two passes", False), ("one pass", False), ("softplus", False),
                                          ("mean", False), ("two passes", True)])
def test_train_step_accepts_every_right_loop(nets, style, fresh, capsys):
    ex = train_step_exercise(*nets, batch_size=20, d_steps=2)
    right_loop(ex, style, fresh)
    out = assert_passes(check_train_step, ex, capsys=capsys)
    assert ("Algorithm 1" in out) == fresh


def test_train_step_accepts_the_lessons_networks_with_one_d_step(capsys):
    G, D = FCGenerator(), FCDiscriminator(dropout=0.3, logits=True)
    ex = train_step_exercise(G, D, torch.rand(100, 1, 28, 28) * 2 - 1, batch_size=50, d_steps=1)
    right_loop(ex)
    assert_passes(check_train_step, ex, capsys=capsys)


def test_the_written_out_reference_is_the_trainers_step(nets):
    from gan_tutorial.exercises.checks import _same, _scripted_run, _trainer_run

    ex = train_step_exercise(*nets, batch_size=20, d_steps=2)
    (G_script, D_script), (G_trainer, D_trainer) = _scripted_run(ex), _trainer_run(ex)
    assert _same(G_script, G_trainer, ex.lr) and _same(D_script, D_trainer, ex.lr)
    assert not _same(G_script, ex.G0, ex.lr)  # and both trained


def loop_without_detach(ex) -> None:
    """The fakes reach D's loss undetached; G's gradients are zeroed before its own step, so the
    weights come out right, but D's backward pass ran through G."""
    for real in ex.batches():
        for _ in range(ex.d_steps):
            ex.D.zero_grad()
            fake = ex.G(ex.noise(real.size(0)))
            out_real, out_fake = ex.D(real), ex.D(fake)
            (bce(out_real, torch.ones_like(out_real)) + bce(out_fake, torch.zeros_like(out_fake))
             ).backward(retain_graph=True)
            ex.opt_d.step()
        g_update(ex, fake)


def loop_with(zero_d: str = "each", zero_g: bool = True, fake_label: float = 0.0, g_target: float = 1.0,
              d_steps: int | None = None, g_first: bool = False, minimax: bool = False):
    def loop(ex) -> None:
        for real in ex.batches():
            if g_first:
                g_update(ex, ex.G(ex.noise(real.size(0))), g_target, zero_g)
            if zero_d == "once":
                ex.D.zero_grad()
            for _ in range(ex.d_steps if d_steps is None else d_steps):
                if zero_d == "each":
                    ex.D.zero_grad()
                fake = ex.G(ex.noise(real.size(0)))
                d_update(ex, real, fake, fake_label=fake_label)
            if g_first:
                continue
            if minimax:
                ex.G.zero_grad()
                (-F.softplus(ex.D(fake)).mean()).backward()  # log(1 - D(G(z)))
                ex.opt_g.step()
            else:
                g_update(ex, fake, g_target, zero_g)
    return loop


def loop_trainer_on_the_copies(ex) -> None:
    """GANTrainer trains the exercise's networks with optimisers of its own."""
    trainer = GANTrainer(ex.G, ex.D, lr=ex.lr, betas=ex.betas, device="cpu", precision="fp32",
                         d_steps=ex.d_steps)
    for real in ex.batches():
        trainer.train_step(real)


def loop_zeroing_between_backward_and_step(ex) -> None:
    for real in ex.batches():
        for _ in range(ex.d_steps):
            fake = ex.G(ex.noise(real.size(0)))
            out_real, out_fake = ex.D(real), ex.D(fake.detach())
            (bce(out_real, torch.ones_like(out_real)) + bce(out_fake, torch.zeros_like(out_fake))).backward()
            ex.D.zero_grad()
            ex.opt_d.step()
        g_update(ex, fake)


def loop_g_on_detached_fakes(ex) -> None:
    for real in ex.batches():
        for _ in range(ex.d_steps):
            ex.D.zero_grad()
            fake = ex.G(ex.noise(real.size(0)))
            d_update(ex, real, fake)
        g_update(ex, fake.detach())


def loop_own_noise(ex) -> None:
    for real in ex.batches():
        for _ in range(ex.d_steps):
            ex.D.zero_grad()
            fake = ex.G(torch.randn(real.size(0), *ex.G.latent_shape))
            d_update(ex, real, fake)
        g_update(ex, fake)


def loop_same_fakes_for_both_d_updates(ex) -> None:
    for real in ex.batches():
        fake = ex.G(ex.noise(real.size(0)))
        for _ in range(ex.d_steps):
            ex.D.zero_grad()
            d_update(ex, real, fake)
        g_update(ex, fake)


def loop_stopping_early(ex) -> None:
    for real in ex.batches():
        for _ in range(ex.d_steps):
            ex.D.zero_grad()
            fake = ex.G(ex.noise(real.size(0)))
            d_update(ex, real, fake)
        g_update(ex, fake)
        break


@pytest.mark.parametrize("loop, message", [
    (loop_without_detach, r"G's parameters received gradients before D's optimiser stepped.*detach"),
    (loop_with(zero_d="never"), "D's gradients are never zeroed"),
    (loop_with(zero_d="once"), "zeroed once per iteration, not before each of its 2 updates"),
    (loop_with(zero_g=False), "G's gradients are never zeroed"),
    (loop_with(fake_label=1.0), "in D's loss the fakes are labelled 1"),
    (loop_with(g_target=0.0), "G's loss labels the fakes 0"),
    (loop_with(minimax=True), "minimax loss"),
    (loop_with(g_first=True), "G is updated before D"),
    (loop_with(d_steps=1), "D's optimiser stepped 1 times, expected 2"),
    (loop_trainer_on_the_copies, "D's optimiser stepped 0 times"),
    (loop_zeroing_between_backward_and_step, "D's weights did not change"),
    (loop_g_on_detached_fakes, "G's weights did not change"),
    (loop_own_noise, "drew no noise from the exercise"),
    (loop_same_fakes_for_both_d_updates, "drew noise 1 times for 2 D updates"),
    (loop_stopping_early, "ran 1 iterations, expected 3"),
    (lambda ex: None, "ran 0 iterations"),
])
def test_train_step_names_the_mistake(nets, loop, message):
    ex = train_step_exercise(*nets, batch_size=20, d_steps=2)
    loop(ex)
    with pytest.raises(CheckError, match=message):
        check_train_step(ex)


def test_without_detach_and_without_retain_graph_pytorch_itself_stops_the_loop(nets):
    ex = train_step_exercise(*nets, batch_size=20, d_steps=1)
    real = next(ex.batches())
    fake = ex.G(ex.noise(real.size(0)))
    out_real, out_fake = ex.D(real), ex.D(fake)
    (bce(out_real, torch.ones_like(out_real)) + bce(out_fake, torch.zeros_like(out_fake))).backward()
    ex.opt_d.step()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        g_update(ex, fake)


def test_the_exercise_refuses_noise_it_cannot_match(nets):
    ex = train_step_exercise(*nets, batch_size=20, d_steps=1)
    with pytest.raises(RuntimeError, match="inside the loop"):
        ex.noise(20)
    next(ex.batches())
    with pytest.raises(ValueError, match=r"noise\(real.size\(0\)\) = noise\(20\)"):
        ex.noise(64)
    ex.noise(20), ex.noise(20)
    with pytest.raises(RuntimeError, match="called 3 times in one iteration"):
        ex.noise(20)


def test_the_batches_are_handed_out_once(nets):
    ex = train_step_exercise(*nets, batch_size=20, d_steps=1)
    right_loop(ex)
    with pytest.raises(RuntimeError, match="run the whole cell again"):
        right_loop(ex)  # the loop alone run again, on networks that trained already


def test_check_train_step_wants_the_exercise_object():
    with pytest.raises(CheckError, match="train_step_exercise"):
        check_train_step(object())


# ------------------------------------------------------------------ exercise 01.2: Algorithm 1, a new real batch per D update
def algorithm_1(nets):
    """The lesson's exercise: 2 D updates per iteration, each on its own real batch (60 images: 3 pairs of 10)."""
    return train_step_exercise(*nets, batch_size=10, d_steps=2, new_real_each_d_step=True)


def right_algorithm_1_loop(ex, style: str = "two passes", fresh_g_noise: bool = False) -> None:
    for reals in ex.batches():
        for real in reals:
            ex.D.zero_grad()
            fake = ex.G(ex.noise(real.size(0)))
            d_update(ex, real, fake, style)
        if fresh_g_noise:
            fake = ex.G(ex.noise(reals[0].size(0)))
        g_update(ex, fake)


@pytest.mark.parametrize("style, fresh", [("two passes", False), ("one pass", False), ("softplus", False),
                                          ("two passes", True)])
def test_algorithm_1_accepts_every_right_loop(nets, style, fresh, capsys):
    ex = algorithm_1(nets)
    right_algorithm_1_loop(ex, style, fresh)
    out = assert_passes(check_train_step, ex, capsys=capsys)
    assert "a new real batch for each D update" in out and ("fresh noise" in out) == fresh


def test_algorithm_1_hands_out_a_pair_of_different_batches_per_iteration(nets):
    ex = algorithm_1(nets)
    pairs = list(ex.batches())
    assert len(pairs) == 3 and all(len(p) == 2 for p in pairs)
    assert not torch.equal(pairs[0][0], pairs[0][1])


def loop_same_real_batch_twice(ex) -> None:
    """GANTrainer's d_steps: both D updates on the iteration's first real batch."""
    for reals in ex.batches():
        for _ in reals:
            ex.D.zero_grad()
            fake = ex.G(ex.noise(reals[0].size(0)))
            d_update(ex, reals[0], fake)
        g_update(ex, fake)


def loop_trainer_step_with_the_learners_optimisers(ex) -> None:
    """GANTrainer(d_steps=2).train_step handed the exercise's networks and optimisers."""
    trainer = GANTrainer(ex.G, ex.D, lr=ex.lr, betas=ex.betas, device="cpu", precision="fp32", d_steps=2)
    trainer.opt_g, trainer.opt_d = ex.opt_g, ex.opt_d
    trainer.noise = lambda n: ex.noise(n)
    for reals in ex.batches():
        trainer.train_step(reals[0])


@pytest.mark.parametrize("loop, message", [
    (loop_same_real_batch_twice, "every D update used the iteration's first real batch"),
    (loop_trainer_step_with_the_learners_optimisers, "every D update used the iteration's first real batch"),
])
def test_algorithm_1_refuses_the_trainers_way(nets, loop, message):
    ex = algorithm_1(nets)
    loop(ex)
    with pytest.raises(CheckError, match=message):
        check_train_step(ex)


def test_the_lessons_answer_to_01_2_is_not_the_trainers_step(nets):
    from gan_tutorial.exercises.checks import _same, _scripted_run, _trainer_run

    ex = algorithm_1(nets)
    (_, D_paper), (_, D_trainer) = _scripted_run(ex), _trainer_run(ex)
    assert not _same(D_paper, D_trainer, ex.lr)
