"""DiffAugment: the same kind of random, differentiable change for every image D sees."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_tutorial.augment import DiffAugment, cutout, flip, translation
from gan_tutorial.train import GANTrainer


def test_every_policy_keeps_the_shape_and_lets_gradients_through():
    images = (torch.rand(4, 3, 16, 16) * 2 - 1).requires_grad_()
    out = DiffAugment("color,translation,cutout")(images)
    assert out.shape == images.shape
    out.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0  # G learns through it


def test_each_call_draws_fresh_random_numbers_per_image():
    images = torch.ones(2, 3, 8, 8)
    augment = DiffAugment("color")
    torch.manual_seed(0)
    a = augment(images)
    b = augment(images)
    assert not torch.equal(a, b)
    assert not torch.equal(a[0], a[1])  # the two images got different changes


def test_translation_moves_content_and_fills_with_zeros():
    image = torch.zeros(1, 1, 8, 8)
    image[0, 0, 4, 4] = 1.0
    torch.manual_seed(3)
    moved = [translation(image) for _ in range(20)]
    assert all(m.sum() in (0.0, 1.0) for m in moved)  # shifted (or out of frame), never copied
    assert any(not torch.equal(m, image) for m in moved)
    full = torch.ones(1, 1, 8, 8)
    assert any(translation(full).min() == 0 for _ in range(20))  # the border comes in as 0


def test_cutout_blanks_a_square_of_half_the_side_or_less():
    torch.manual_seed(0)
    out = cutout(torch.ones(8, 3, 16, 16))
    blanked = (out[:, 0] == 0).flatten(1).sum(1)
    assert ((blanked > 0) & (blanked <= 8 * 8)).all()
    assert (out[:, 0] == out[:, 1]).all()  # the same square in every channel


def test_flip_mirrors_about_half_the_images_and_leaves_the_rest():
    torch.manual_seed(0)
    images = torch.randn(200, 3, 4, 4)
    out = flip(images)
    mirrored = torch.tensor([torch.equal(o, i.flip(-1)) for o, i in zip(out, images)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, images)])
    assert (mirrored ^ kept).all()  # each image exactly mirrored or exactly kept
    assert 70 <= int(mirrored.sum()) <= 130
    assert DiffAugment("flip").steps == [flip]


def test_a_policy_with_unknown_names_is_refused():
    with pytest.raises(ValueError, match="rotate"):
        DiffAugment("color,rotate")
    with pytest.raises(ValueError):
        DiffAugment("")
    assert repr(DiffAugment(" color , cutout ")) == "DiffAugment('color,cutout')"


def test_the_trainer_augments_real_and_fake_images_in_both_updates():
    seen = []

    def record(images):
        seen.append(images.requires_grad)
        return images

    G = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Unflatten(1, (1, 4, 4)))
    G.latent_shape = (4,)
    D = nn.Sequential(nn.Flatten(), nn.Linear(16, 1), nn.Flatten(0))
    D.outputs_logits = True
    trainer = GANTrainer(G, D, device="cpu", precision="fp32", n_fixed=2, augment=record)
    trainer.train_step(torch.rand(3, 1, 4, 4))
    assert seen == [False, False, True]  # real, detached fake (D's step), fake with G's graph
