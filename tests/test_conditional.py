"""The conditional GAN (lesson 08): G and D take labels, the trainer passes them, the
evaluator and the command line ask for digits."""
import json

import pytest
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gan_tutorial import metrics
from gan_tutorial.lessons.cli import main
from gan_tutorial.lessons import build_models, preset, trainer_kwargs
from gan_tutorial.models import ConditionalDiscriminator, ConditionalGenerator
from gan_tutorial.train import GANTrainer


def small_models():
    torch.manual_seed(0)
    return (ConditionalGenerator(num_classes=10, latent_dim=8, ngf=4, nc=1, image_size=32),
            ConditionalDiscriminator(num_classes=10, ndf=4, nc=1, image_size=32))


def test_the_label_changes_what_g_draws_and_what_d_says():
    G, D = small_models()
    G.eval()
    z = torch.randn(1, 8, 1, 1).repeat(2, 1, 1, 1)  # the same noise, two labels
    images = G(z, torch.tensor([3, 7]))
    assert images.shape == (2, 1, 32, 32) and not torch.allclose(images[0], images[1])
    same = images[:1].repeat(2, 1, 1, 1)
    assert not torch.allclose(*D(same, torch.tensor([3, 7])).unbind())


@pytest.mark.parametrize("labels, message", [
    (torch.tensor([10, 0]), r"class indices 0\.\.9, got values 0\.\.10"),
    (torch.tensor([-1, 0]), r"class indices 0\.\.9"),
    (torch.tensor([1]), r"one label per image, shape \(2,\)"),
])
def test_labels_out_of_range_or_miscounted_are_named(labels, message):
    G, D = small_models()
    with pytest.raises(ValueError, match=message):
        G(torch.randn(2, 8, 1, 1), labels)
    with pytest.raises(ValueError, match=message):
        D(torch.zeros(2, 1, 32, 32), labels)


class LabelSpy(nn.Module):
    """Wraps a conditional D and keeps every batch of labels it is shown."""

    def __init__(self, D: nn.Module) -> None:
        super().__init__()
        self.D, self.outputs_logits, self.seen = D, True, []

    def forward(self, x, labels):
        self.seen.append(labels.clone())
        return self.D(x, labels)


def test_fit_passes_each_batch_s_labels_to_g_and_d():
    G, D = small_models()
    spy = LabelSpy(D)
    trainer = GANTrainer(G, spy, device="cpu", precision="fp32", n_fixed=20)
    images, labels = torch.rand(8, 1, 32, 32) * 2 - 1, torch.tensor([5, 5, 2, 2, 9, 9, 0, 0])
    loader = DataLoader(TensorDataset(images, labels), batch_size=4)
    trainer.fit(loader, epochs=1, progress=False, snapshot_every=None)
    assert len(spy.seen) == 2 * 3  # per iteration: D on reals, on fakes, and again for G's step
    assert all(torch.equal(seen, labels[:4]) for seen in spy.seen[:3])
    assert all(torch.equal(seen, labels[4:]) for seen in spy.seen[3:])
    assert torch.equal(trainer.fixed_labels, torch.arange(20) % 10)  # snapshots cycle the digits


def test_sample_draws_the_labels_asked_for():
    G, D = small_models()
    trainer = GANTrainer(G, D, device="cpu", precision="fp32")
    noise = torch.randn(1, 8, 1, 1).repeat(10, 1, 1, 1)
    # running BatchNorm statistics: each image depends on its own noise and label only
    cycled = trainer.sample(noise, batch_stats=False)  # default labels: 0, 1, ..., 9
    sevens = trainer.sample(noise, labels=torch.full((10,), 7), batch_stats=False)
    assert torch.allclose(cycled[7], sevens[0], atol=1e-6)
    assert not torch.allclose(cycled[3], sevens[0])


def stub_classify_by_brightness(images: torch.Tensor) -> torch.Tensor:
    """Stand-in for the MNIST classifier: reads the digit from the mean pixel, (k - 4.5) / 5."""
    digit = (images.mean(dim=(1, 2, 3)) * 5 + 4.5).round().clamp(0, 9).long()
    return nn.functional.one_hot(digit, 10).double()


class DrawsTheLabel(nn.Module):
    """A conditional 'generator' whose image is the label's brightness, plus a little noise."""

    num_classes, latent_shape = 10, (2, 1, 1)

    def __init__(self, obey: bool = True) -> None:
        super().__init__()
        self.obey, self.scale = obey, nn.Parameter(torch.ones(()))

    def forward(self, z, labels):
        wanted = labels if self.obey else torch.full_like(labels, 4)
        level = (wanted.float() - 4.5) / 5
        return (level[:, None, None, None] + 0.01 * z[:, :1]).expand(-1, 1, 28, 28) * self.scale


@pytest.mark.parametrize("obey, accuracy", [(True, 1.0), (False, 0.1)])
def test_the_evaluator_scores_the_digit_asked_for(monkeypatch, obey, accuracy):
    monkeypatch.setattr(metrics, "classify_digits", stub_classify_by_brightness)
    real = torch.rand(40, 1, 28, 28) * 2 - 1
    trainer = GANTrainer(DrawsTheLabel(obey), nn.Linear(1, 1), device="cpu", precision="fp32",
                         channels_last=False)
    scores = metrics.mnist_evaluator(real, n=100, batch_size=30)(trainer)
    assert scores["label_accuracy"] == pytest.approx(accuracy)
    assert scores["digits_covered"] == (10 if obey else 1)


def test_per_digit_frechet_compares_each_digit_with_its_own_real_images():
    torch.manual_seed(0)
    real = torch.rand(60, 1, 28, 28) * 2 - 1
    real_labels = torch.arange(60) % 3
    asked = torch.arange(60) % 3
    same = metrics.per_digit_frechet(real, asked, real, real_labels)
    assert sorted(same) == [0, 1, 2] and all(v == pytest.approx(0, abs=1e-2) for v in same.values())
    swapped = metrics.per_digit_frechet(real, (asked + 1) % 3, real, real_labels)
    assert all(v > 1 for v in swapped.values())


def test_sample_command_draws_the_asked_digit(tmp_path, capsys):
    config = preset("08", "quick")
    G, D = build_models(config)
    trainer = GANTrainer(G, D, device="cpu", **{**trainer_kwargs(config), "precision": "fp32"})
    trainer.save(tmp_path / "checkpoint.pt")
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    assert main(["sample", str(tmp_path), "--digit", "3", "-n", "4", "-o", str(tmp_path / "threes.png")]) == 0
    assert Image.open(tmp_path / "threes.png").size[0] > 32
    assert main(["sample", str(tmp_path), "--digit", "10", "-o", str(tmp_path / "x.png")]) == 2
    assert "this run knows classes 0 to 9" in capsys.readouterr().err
    plain = preset("07", "quick")
    G, D = build_models(plain)
    GANTrainer(G, D, device="cpu", **trainer_kwargs(plain)).save(tmp_path / "plain" / "checkpoint.pt")
    (tmp_path / "plain" / "config.json").write_text(json.dumps(plain.to_dict()))
    assert main(["sample", str(tmp_path / "plain"), "--digit", "3", "-o", str(tmp_path / "x.png")]) == 2
    assert "cannot be told what to draw; train lesson 08" in capsys.readouterr().err
