"""FID for the colour lessons: the torchmetrics path with a small extractor, and the offline fallback."""
import pytest
import torch
from torch import nn

from gan_tutorial.metrics import fid
from gan_tutorial.metrics.fid import (InceptionUnavailableError, fid_available, fid_evaluator, image_fid,
                              image_quality, inception_weights_path)
from gan_tutorial.metrics import diversity_ratio
from gan_tutorial.train import GANTrainer


def small_extractor() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()).eval()


def smooth_images(n: int, seed: int) -> torch.Tensor:
    """Colour images with large blobs, a stand-in for faces/sprites."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=generator) * 2 - 1
    return nn.functional.interpolate(coarse, size=32, mode="bilinear", align_corners=False)


@pytest.fixture
def no_inception(monkeypatch, tmp_path):
    """A torch hub cache without Inception's weights, as on a machine that never had internet."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert not fid_available()


def test_fid_with_a_small_extractor_orders_real_and_noise():
    feature = small_extractor()
    real, other_real = smooth_images(300, 0), smooth_images(300, 1)
    noise = torch.rand(300, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 2 - 1
    floor = image_fid(other_real, real, feature=feature)
    assert image_fid(real, real, feature=feature) == pytest.approx(0.0, abs=1e-3 * floor)
    assert 0 < floor < image_fid(noise, real, feature=feature)


def test_uint8_images_measure_like_floats():
    from gan_tutorial.train import to_uint8

    feature = small_extractor()
    real, fake = smooth_images(200, 0), smooth_images(200, 1)
    assert image_fid(to_uint8(fake), to_uint8(real), feature=feature) == pytest.approx(
        image_fid(fake, real, feature=feature), rel=0.05)


class BlobGenerator(nn.Module):
    latent_shape = (3, 4, 4)

    def __init__(self) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = (self.gain * z).tanh()
        return nn.functional.interpolate(z, size=32, mode="bilinear", align_corners=False)


def blob_trainer() -> GANTrainer:
    D = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 1), nn.Sigmoid(), nn.Flatten(0))
    return GANTrainer(BlobGenerator(), D, device="cpu", n_fixed=4)


def test_fid_evaluator_with_extractor_keeps_global_rng():
    evaluate = fid_evaluator(smooth_images(200, 0), n=100, feature=small_extractor())
    trainer = blob_trainer()
    state = torch.get_rng_state()
    first = evaluate(trainer)
    assert torch.equal(state, torch.get_rng_state())
    assert set(first) == {"fid"} and first["fid"] > 0
    assert evaluate(blob_trainer()) == first  # same noise every time


def test_missing_inception_weights_say_how_to_get_them(no_inception, tmp_path):
    real, fake = smooth_images(20, 0), smooth_images(20, 1)
    with pytest.raises(InceptionUnavailableError) as error:
        image_fid(fake, real)
    message = str(error.value)
    assert str(inception_weights_path()) in message and str(tmp_path) in message
    assert "download_inception_weights" in message and "TORCH_HOME" in message


def test_quality_falls_back_to_diversity_ratio_offline(no_inception):
    real, fake = smooth_images(20, 0), smooth_images(20, 1)
    with pytest.warns(UserWarning, match="Inception's weights"):
        assert image_quality(fake, real) == {"diversity_ratio": pytest.approx(diversity_ratio(fake, real))}
    with pytest.warns(UserWarning, match="Inception's weights"):
        evaluate = fid_evaluator(real, n=20)
    assert set(evaluate(blob_trainer())) == {"diversity_ratio"}
    with pytest.raises(InceptionUnavailableError):
        fid_evaluator(real, n=20, fallback=False)


def test_missing_torch_fidelity_says_what_to_install(monkeypatch):
    monkeypatch.setattr(fid.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InceptionUnavailableError, match="pip install torch-fidelity"):
        image_fid(smooth_images(4, 0), smooth_images(4, 1))


def test_cached_weights_are_detected(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path = inception_weights_path()
    assert path.parent.parent.parent == tmp_path
    path.parent.mkdir(parents=True)
    path.write_bytes(b"stand-in")
    assert fid_available()
