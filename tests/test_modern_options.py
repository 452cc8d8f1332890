"""The trainer's options beyond DCGAN (issue 18): hinge and WGAN-GP losses, spectral norm,
two learning rates, a moving-average generator. Each changes what it should and nothing else."""
import copy

import pytest
import torch
from torch import nn

from gan_tutorial.lessons import RunConfig, preset, trainer_kwargs
from gan_tutorial.losses import critic_g_loss, gradient_penalty, hinge_d_loss, wasserstein_d_loss
from gan_tutorial.models import DCGANDiscriminator, FCDiscriminator, FCGenerator
from gan_tutorial.train import GANTrainer


def small_trainer(**options) -> GANTrainer:
    torch.manual_seed(0)
    return GANTrainer(FCGenerator(latent_dim=4, hidden=(16,), image_shape=(1, 4, 4)),
                      FCDiscriminator(hidden=(16,), image_shape=(1, 4, 4), logits=True),
                      device="cpu", precision="fp32", n_fixed=4, **options)


def batch(n: int = 8) -> torch.Tensor:
    return torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(1)) * 2 - 1


def test_hinge_and_wasserstein_losses_on_known_scores():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    # max(0, 1 - 2) = 0, max(0, 1 - 0.5) = 0.5 -> 0.25;  max(0, 1 - 2) = 0, max(0, 1 + 0) = 1 -> 0.5
    assert hinge_d_loss(real, fake).item() == pytest.approx(0.75)
    assert hinge_d_loss(torch.tensor([5.0]), torch.tensor([-5.0])).item() == 0  # beyond the margin: no push
    assert wasserstein_d_loss(real, fake).item() == pytest.approx(-1.0 - 1.25)
    assert critic_g_loss(torch.tensor([1.0, 3.0])).item() == pytest.approx(-2.0)


def test_gradient_penalty_matches_finite_differences():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    real, fake = torch.randn(3, 1, 2, 3, dtype=torch.float64), torch.randn(3, 1, 2, 3, dtype=torch.float64)
    torch.manual_seed(7)
    penalty = gradient_penalty(lambda x: critic(x).view(-1), real, fake, weight=10.0)
    torch.manual_seed(7)  # the same interpolation points, drawn again
    alpha = torch.rand(3, 1, 1, 1).double()
    points = alpha * real + (1 - alpha) * fake
    eps, norms = 1e-6, []
    for x in points:
        grad = torch.zeros(x.numel(), dtype=torch.float64)
        for i in range(x.numel()):
            step = torch.zeros(x.numel(), dtype=torch.float64)
            step[i] = eps
            up, down = x.flatten() + step, x.flatten() - step
            grad[i] = (critic(up.view(1, *x.shape)) - critic(down.view(1, *x.shape))).item() / (2 * eps)
        norms.append(grad.norm())
    expected = 10.0 * torch.stack([(n - 1) ** 2 for n in norms]).mean()
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-6)
    penalty.backward()  # part of the graph: the penalty trains the critic
    weights = [critic[1].weight, critic[3].weight]  # (a bias does not change the slope)
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in weights)


def test_a_linear_critic_with_unit_slope_pays_no_penalty():
    critic = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8, 0.0, 0.0]]))  # |w| = 1 everywhere
    penalty = gradient_penalty(lambda x: critic(x).view(-1), torch.randn(5, 4), torch.randn(5, 4))
    assert penalty.item() == pytest.approx(0.0, abs=1e-10)


def _largest_singular_value(conv: nn.Conv2d) -> float:
    return torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2).item()


def test_spectral_norm_bounds_the_discriminator():
    torch.manual_seed(0)
    D = DCGANDiscriminator(ndf=8, nc=1, image_size=32, logits=True, spectral_norm=True)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    for _ in range(30):  # power iteration: one step per training-mode forward pass
        D(torch.randn(2, 1, 32, 32))
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(_largest_singular_value(c) == pytest.approx(1.0, rel=0.05) for c in convs)
    # Lipschitz probe: each stride-2 conv (k = 4) stretches by at most 2, the last one and
    # LeakyReLU by at most 1: |D(x) - D(y)| <= 2^3 |x - y| for 32px
    D.eval()
    x, y = torch.randn(64, 1, 32, 32), torch.randn(64, 1, 32, 32)
    with torch.no_grad():
        ratio = (D(x) - D(y)).abs() / (x - y).flatten(1).norm(dim=1)
    assert ratio.max().item() <= 8
    # the score does not depend on the weights' scale, only their direction
    with torch.no_grad():
        before = D(x)
        for c in convs:
            c.parametrizations.weight.original.mul_(100)
        assert torch.allclose(D(x), before, rtol=1e-4, atol=1e-5)


def test_without_spectral_norm_the_scale_of_the_weights_is_the_scale_of_the_score():
    torch.manual_seed(0)
    D = DCGANDiscriminator(ndf=8, nc=1, image_size=32, logits=True).eval()
    x = torch.randn(4, 1, 32, 32)
    with torch.no_grad():
        before = D(x)
        D.main[-1].weight.mul_(100)
        assert not torch.allclose(D(x), before)


def test_two_learning_rates():
    trainer = small_trainer(lr=1e-4, lr_d=4e-4)
    assert trainer.opt_g.param_groups[0]["lr"] == 1e-4 and trainer.opt_d.param_groups[0]["lr"] == 4e-4
    assert trainer.options()["lr"] == 1e-4 and trainer.options()["lr_d"] == 4e-4
    assert small_trainer(lr=1e-4).opt_d.param_groups[0]["lr"] == 1e-4  # None: D shares G's


@pytest.mark.parametrize("loss", ["hinge", "wgan-gp"])
def test_a_step_with_another_loss_minimises_that_loss(loss):
    trainer = small_trainer(loss=loss)
    G, D = copy.deepcopy(trainer.G), copy.deepcopy(trainer.D)
    real = batch()
    torch.manual_seed(3)
    stats = trainer.train_step(real)
    torch.manual_seed(3)  # the same noise and interpolation points, through the copies
    fake = G(torch.randn(8, 4))
    expected = (hinge_d_loss if loss == "hinge" else wasserstein_d_loss)(D(real), D(fake))
    if loss == "wgan-gp":
        expected = expected + gradient_penalty(D, real, fake)
    assert stats["loss_d"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert not torch.equal(next(trainer.D.parameters()), next(D.parameters()))


def test_losses_on_raw_scores_refuse_a_sigmoid_discriminator():
    with pytest.raises(ValueError, match=r"loss='hinge' reads D's raw score.*logits=True"):
        GANTrainer(FCGenerator(latent_dim=4, hidden=(8,), image_shape=(1, 4, 4)),
                   FCDiscriminator(hidden=(8,), image_shape=(1, 4, 4)), device="cpu", loss="hinge")
    with pytest.raises(ValueError, match="loss must be one of"):
        small_trainer(loss="wasserstein")
    with pytest.raises(ValueError, match=r"ema_decay must be in \(0, 1\)"):
        small_trainer(ema_decay=1.0)


def test_the_moving_average_generator_averages_the_weights_it_saw():
    decay = 0.9
    trainer = small_trainer(ema_decay=decay)
    seen = []
    for _ in range(4):
        trainer.train_step(batch())
        seen.append([p.detach().clone() for p in trainer.G.parameters()])
    expected = seen[0]  # the first update copies G
    for weights in seen[1:]:
        expected = [decay * e + (1 - decay) * w for e, w in zip(expected, weights)]
    averaged = list(trainer.G_ema.module.parameters())
    assert all(torch.allclose(a, e, atol=1e-6) for a, e in zip(averaged, expected))
    assert not all(torch.allclose(a, w) for a, w in zip(averaged, seen[-1]))
    # samples (and so snapshots and evaluations) come from the average
    noise = torch.randn(3, 4)
    with torch.no_grad():
        assert torch.allclose(trainer.sample(noise), trainer.G_ema.module.eval()(noise))
    assert not torch.allclose(trainer.sample(noise), small_trainer().G.eval()(noise))


def test_a_checkpoint_keeps_the_moving_average_and_resumes_it(tmp_path):
    path = tmp_path / "ema.pt"
    trainer = small_trainer(ema_decay=0.5)
    for _ in range(3):
        trainer.train_step(batch())
    trainer.save(path)
    resumed = small_trainer(ema_decay=0.5)
    resumed.load(path)
    for a, b in zip(resumed.G_ema.state_dict().values(), trainer.G_ema.state_dict().values()):
        assert torch.equal(a, b)
    torch.manual_seed(5)
    trainer.train_step(batch())
    torch.manual_seed(5)
    resumed.train_step(batch())
    for a, b in zip(resumed.G_ema.module.parameters(), trainer.G_ema.module.parameters()):
        assert torch.allclose(a, b)
    # a run saved without an average: the average starts from the loaded generator
    plain = tmp_path / "plain.pt"
    small_trainer().save(plain)
    later = small_trainer(ema_decay=0.5)
    with pytest.warns(UserWarning, match="ema_decay None -> 0.5"):
        later.load(plain)
    for a, b in zip(later.G_ema.module.parameters(), later.G.parameters()):
        assert torch.equal(a, b)


def test_the_run_config_records_and_checks_the_new_options():
    config = preset("02", "quick").override(lr_d=4e-4, loss="hinge", ema_decay=0.999)
    kwargs = trainer_kwargs(config)
    assert (kwargs["lr_d"], kwargs["loss"], kwargs["ema_decay"]) == (4e-4, "hinge", 0.999)
    assert RunConfig.from_dict(config.to_dict()) == config
    bad = preset("02", "quick").to_dict() | {"loss": "hinge", "ema_decay": 1.5, "lr_d": -1}
    bad["discriminator_kwargs"] = {**bad["discriminator_kwargs"], "logits": False}
    with pytest.raises(ValueError) as info:
        RunConfig.from_dict(bad)
    message = str(info.value)
    assert "lr_d must be a positive finite number, got -1" in message
    assert "ema_decay must be a number in (0, 1) or null, got 1.5" in message
    assert "loss 'hinge' reads D's raw score: set discriminator_kwargs logits to true" in message


def test_the_memory_layout_is_a_run_option_that_reaches_the_trainer_and_its_checkpoint(tmp_path):
    """Lesson 03's controlled runs train contiguous against channels-last from config files:
    the layout must reach the trainer and be recorded, and a wrong value must be refused."""
    from gan_tutorial.lessons import build_models

    for layout, expected in ((None, torch.channels_last), (False, torch.contiguous_format)):
        config = preset("03", "quick").override(channels_last=layout, precision="fp32")
        G, D = build_models(config)
        trainer = GANTrainer(G, D, device="cpu", **trainer_kwargs(config))
        assert trainer.memory_format == expected
        trainer.save(tmp_path / "c.pt")
        saved = torch.load(tmp_path / "c.pt", weights_only=True)["options"]
        assert saved["channels_last"] is (expected == torch.channels_last)
        assert RunConfig.from_dict(config.to_dict()).channels_last is layout
    with pytest.raises(ValueError, match="channels_last must be true or false or null, got 'no'"):
        RunConfig.from_dict(preset("03", "quick").to_dict() | {"channels_last": "no"})
