import pytest
import torch
from torch import nn

from gan_tutorial import models
from gan_tutorial.models import (ConditionalGenerator, ConvDiscriminator, DBlock, DCGANDiscriminator,
                                 DCGANGenerator, FCDiscriminator, FCGenerator, GBlock,
                                 UpsampleGenerator, count_parameters, weights_init)


def test_fc_generator_and_discriminator_shapes():
    G, D = FCGenerator(latent_dim=64), FCDiscriminator()
    fake = G(torch.randn(5, *G.latent_shape))
    assert fake.shape == (5, 1, 28, 28)
    assert fake.min() >= -1 and fake.max() <= 1
    out = D(fake)
    assert out.shape == (5,)
    assert ((out > 0) & (out < 1)).all()


def test_fc_default_layers_follow_the_curriculum():
    G, D = FCGenerator(), FCDiscriminator()
    assert [m.out_features for m in G.main if isinstance(m, nn.Linear)] == [256, 256, 784]
    assert [m.out_features for m in D.main if isinstance(m, nn.Linear)] == [256, 256, 1]
    assert isinstance(G.main[-1], nn.Tanh) and isinstance(D.main[-1], nn.Sigmoid)


def test_fc_classroom_variant_has_dropout_and_leaky_relu():
    G = FCGenerator(hidden=(32, 64, 128), activation="leaky_relu", dropout=0.3)
    D = FCDiscriminator(hidden=(128, 64, 32), dropout=0.3)
    for net in (G, D):
        assert any(isinstance(m, nn.Dropout) and m.p == 0.3 for m in net.modules())
        assert any(isinstance(m, nn.LeakyReLU) for m in net.modules())
    assert G(torch.randn(3, 64)).shape == (3, 1, 28, 28)
    with pytest.raises(ValueError, match="activation"):
        FCGenerator(activation="gelu")


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("nc", [1, 3])
def test_dcgan_sizes_and_channels(size, nc):
    G = DCGANGenerator(latent_dim=16, ngf=8, nc=nc, image_size=size)
    D = DCGANDiscriminator(ndf=8, nc=nc, image_size=size)
    fake = G(torch.randn(2, *G.latent_shape))
    assert G.latent_shape == (16, 1, 1)
    assert fake.shape == (2, nc, size, size)
    assert D(fake).shape == (2,)


def test_dcgan_64_matches_the_reference_layout():
    G = DCGANGenerator(latent_dim=100, ngf=64, nc=3)
    convs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == \
        [(100, 512), (512, 256), (256, 128), (128, 64), (64, 3)]
    assert all(c.bias is None for c in convs)
    assert [c.stride for c in convs] == [(1, 1)] + [(2, 2)] * 4
    D = DCGANDiscriminator(ndf=64, nc=3)
    first_block = D.main[0]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in first_block.modules())
    assert isinstance(D.main[-1], nn.Sigmoid)


@pytest.mark.parametrize("bad", [0, 16, 48, 100, 256, "64", 64.0, True])
def test_unsupported_image_size_is_refused_clearly(bad):
    with pytest.raises(ValueError, match=r"image_size must be one of \(32, 64, 128\)"):
        DCGANGenerator(image_size=bad)
    with pytest.raises(ValueError, match="image_size"):
        DCGANDiscriminator(image_size=bad)


def test_block_shape_arithmetic():
    assert GBlock(3, 20)(torch.zeros(2, 3, 16, 16)).shape == (2, 20, 32, 32)
    assert GBlock(100, 8, 4, 1, 0)(torch.zeros(2, 100, 1, 1)).shape == (2, 8, 4, 4)
    assert DBlock(3, 20)(torch.zeros(2, 3, 16, 16)).shape == (2, 20, 8, 8)
    assert not hasattr(models, "G_block") and not hasattr(models, "D_block")  # one name: GBlock, DBlock
    assert not any(isinstance(m, nn.BatchNorm2d) for m in DBlock(3, 4, batch_norm=False).modules())


def test_logit_discriminator_returns_raw_scores():
    D = DCGANDiscriminator(ndf=8, nc=3, logits=True, first_batch_norm=True)
    assert D.outputs_logits
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())
    assert isinstance(D.main[0][1], nn.BatchNorm2d)
    D.apply(weights_init)
    probabilities = DCGANDiscriminator(ndf=8, nc=3, logits=False, first_batch_norm=True)
    probabilities.load_state_dict(D.state_dict())  # same weights, with the Sigmoid
    x = torch.randn(4, 3, 64, 64)
    torch.testing.assert_close(torch.sigmoid(D(x)), probabilities(x))  # D's scores are the logits


def test_upsample_generator_and_conv_discriminator():
    G, D = UpsampleGenerator(latent_dim=10, nc=1), ConvDiscriminator(nc=1)
    fake = G(torch.randn(3, 10))
    assert fake.shape == (3, 1, 32, 32)
    assert D(fake).shape == (3,)
    assert any(isinstance(m, nn.Upsample) for m in G.modules())
    assert sum(isinstance(m, nn.Dropout2d) for m in D.modules()) == 4
    with pytest.raises(ValueError):
        UpsampleGenerator(image_size=30)
    with pytest.raises(ValueError):
        ConvDiscriminator(image_size=40)


def test_weights_init_statistics():
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=100, ngf=64, nc=3)
    G.apply(weights_init)
    conv = G.main[1][0].weight
    assert abs(conv.mean().item()) < 1e-3
    assert conv.std().item() == pytest.approx(0.02, rel=0.05)
    bn = G.main[1][1]
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01)
    assert bn.weight.std().item() == pytest.approx(0.02, rel=0.2)
    assert torch.count_nonzero(bn.bias) == 0


def test_count_parameters():
    assert count_parameters(nn.Linear(10, 3)) == 33


# ---------------------------------------------------------------- hostile arguments (issue 8, item 6)
BAD_ARGUMENTS = [
    (DCGANGenerator, {"latent_dim": 0}, "latent_dim"),
    (DCGANGenerator, {"ngf": -8}, "ngf"),
    (DCGANGenerator, {"nc": 0}, "nc"),
    (DCGANGenerator, {"latent_dim": 100.0}, "latent_dim"),
    (DCGANGenerator, {"latent_dim": True}, "latent_dim"),
    (DCGANDiscriminator, {"ndf": 0}, "ndf"),
    (DCGANDiscriminator, {"nc": -3}, "nc"),
    (FCGenerator, {"latent_dim": 0}, "latent_dim"),
    (FCGenerator, {"hidden": (256, 0)}, r"hidden\[1\]"),
    (FCGenerator, {"hidden": ()}, "hidden"),
    (FCGenerator, {"image_shape": (1, 0, 28)}, r"image_shape\[1\]"),
    (FCDiscriminator, {"hidden": (-256,)}, r"hidden\[0\]"),
    (FCDiscriminator, {"image_shape": (1, 28, "28")}, r"image_shape\[2\]"),
    (UpsampleGenerator, {"latent_dim": 0}, "latent_dim"),
    (ConditionalGenerator, {"latent_dim": 0}, "latent_dim"),
    (ConditionalGenerator, {"latent_dim": 2.5}, "latent_dim"),
    (UpsampleGenerator, {"nc": 0}, "nc"),
    (ConvDiscriminator, {"nc": 0}, "nc"),
    (GBlock, {"in_channels": 0, "out_channels": 8}, "in_channels"),
    (DBlock, {"in_channels": 3, "out_channels": -1}, "out_channels"),
]


@pytest.mark.parametrize("cls,kwargs,name", BAD_ARGUMENTS,
                         ids=[f"{c.__name__}-{n}" for c, _, n in BAD_ARGUMENTS])
def test_sizes_that_are_not_positive_integers_are_refused_at_construction(cls, kwargs, name):
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: {name} must be a (non-empty sequence "
                                         rf"of )?positive integer"):
        cls(**kwargs)


@pytest.mark.parametrize("D,images,expected", [
    (DCGANDiscriminator(ndf=8, nc=3, image_size=64), torch.zeros(2, 3, 32, 32),
     "DCGANDiscriminator expects images of shape (n, 3, 64, 64), got (n, 3, 32, 32)"),
    (DCGANDiscriminator(ndf=8, nc=3, image_size=64), torch.zeros(2, 3, 128, 128),
     "DCGANDiscriminator expects images of shape (n, 3, 64, 64), got (n, 3, 128, 128)"),
    (DCGANDiscriminator(ndf=8, nc=3, image_size=64), torch.zeros(2, 1, 64, 64),
     "DCGANDiscriminator expects images of shape (n, 3, 64, 64), got (n, 1, 64, 64)"),
    (DCGANDiscriminator(ndf=8, nc=3, image_size=64), torch.zeros(3, 64, 64),
     "DCGANDiscriminator expects images of shape (n, 3, 64, 64), got a tensor of shape (3, 64, 64)"),
    (FCDiscriminator(), torch.zeros(2, 1, 32, 32),
     "FCDiscriminator expects images of shape (n, 1, 28, 28) or (n, 784), got (n, 1, 32, 32)"),
    (ConvDiscriminator(nc=1, image_size=32), torch.zeros(2, 1, 64, 64),
     "ConvDiscriminator expects images of shape (n, 1, 32, 32), got (n, 1, 64, 64)"),
], ids=["dcgan-smaller", "dcgan-larger", "dcgan-channels", "dcgan-unbatched", "fc", "conv"])
def test_discriminator_names_expected_and_given_shape(D, images, expected):
    with pytest.raises(ValueError) as info:
        D(images)
    assert str(info.value) == expected


def test_generators_name_the_noise_shape_they_expect():
    with pytest.raises(ValueError, match=r"DCGANGenerator expects noise of shape \(n, 16, 1, 1\), "
                                         r"got a tensor of shape \(2, 16\): make it with "
                                         r"torch\.randn\(n, \*G\.latent_shape\)"):
        DCGANGenerator(latent_dim=16, ngf=8)(torch.zeros(2, 16))
    with pytest.raises(ValueError, match=r"FCGenerator expects noise of shape \(n, 64\), got \(n, 100\)"):
        FCGenerator()(torch.zeros(2, 100))
    with pytest.raises(ValueError, match=r"UpsampleGenerator expects noise of shape \(n, 10\)"):
        UpsampleGenerator(latent_dim=10)(torch.zeros(2, 10, 1, 1))


def test_fc_discriminator_still_takes_flat_images():
    assert FCDiscriminator()(torch.zeros(3, 784)).shape == (3,)
