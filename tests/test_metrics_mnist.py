"""The shipped MNIST classifier and the offline quality metrics built on it."""
import pickle

import pytest
import torch
from torchvision.transforms.functional import gaussian_blur

from gan_tutorial.data import load_mnist
from gan_tutorial.metrics import (MNISTFrechetDistance, classify_digits, digit_distribution, mnist_evaluator,
                                  mnist_frechet_distance, mnist_frechet_reference, mnist_quality,
                                  mnist_reference_digits, predicted_digits)
from gan_tutorial.metrics.mnist_classifier import WEIGHTS_PATH, WEIGHTS_SHA256, load_mnist_classifier, sha256_of
from gan_tutorial.models import FCDiscriminator, FCGenerator
from gan_tutorial.train import GANTrainer


@pytest.fixture(scope="module")
def mnist_test(mnist_data):
    return load_mnist(mnist_data, split="test")


@pytest.fixture(scope="module")
def digits(mnist_data):
    """Two disjoint random samples of 1,000 real test digits in [-1, 1]."""
    real, other_real = mnist_reference_digits(1000, seed=0, root=mnist_data)
    assert not {bytes(x.numpy()) for x in real} & {bytes(x.numpy()) for x in other_real}  # disjoint
    return real.float() / 127.5 - 1, other_real.float() / 127.5 - 1


def test_shipped_weights_match_recorded_checksum():
    assert sha256_of(WEIGHTS_PATH) == WEIGHTS_SHA256
    assert WEIGHTS_PATH.stat().st_size < 2_000_000  # small enough to ship


def test_classifier_reaches_99_percent_on_mnist_test(mnist_test):
    predictions = predicted_digits(mnist_test.images)
    accuracy = (predictions == mnist_test.labels).double().mean().item()
    assert accuracy >= 0.99, f"test accuracy {accuracy:.4f}"


def test_lesson_02_sized_digits_are_resized_inside_the_metric(mnist_data):
    test64 = load_mnist(mnist_data, image_size=64, split="test")
    assert test64.images.shape[-1] == 64
    accuracy = (predicted_digits(test64.images[:1000]) == test64.labels[:1000]).double().mean().item()
    assert accuracy >= 0.98, f"accuracy on 64x64 digits {accuracy:.4f}"


def test_corrupt_weights_are_refused_with_the_file_named(tmp_path):
    copy = tmp_path / "mnist_lenet.pt"
    data = bytearray(WEIGHTS_PATH.read_bytes())
    data[-10] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="mnist_lenet.pt has SHA-256"):
        load_mnist_classifier(copy)
    with pytest.raises(FileNotFoundError, match="train_mnist_classifier.py"):
        load_mnist_classifier(tmp_path / "absent.pt")


class _NotATensor:
    pass


def test_weights_are_loaded_without_unpickling_code(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"conv1.weight": _NotATensor()}, path)
    with pytest.raises(pickle.UnpicklingError):
        load_mnist_classifier(path, expected_sha256=None)


@pytest.fixture(scope="module")
def floor(digits):
    """The real-data floor: Fréchet distance between two disjoint real samples."""
    return mnist_frechet_distance(digits[1], digits[0])


def test_frechet_distance_orders_real_blurred_noise(digits, floor):
    """Real-data floor < blurred < noisy < pure noise (the ceiling), growing with the corruption."""
    real_a, real_b = digits
    to_real_a = MNISTFrechetDistance(real_a)
    assert to_real_a(real_b) == pytest.approx(floor, rel=1e-4)
    blurred = [to_real_a(gaussian_blur(real_b, 9, sigma)) for sigma in (0.5, 1.0, 1.5)]
    generator = torch.Generator().manual_seed(0)
    noisy = [to_real_a((real_b + s * torch.randn(real_b.shape, generator=generator)).clamp(-1, 1))
             for s in (0.2, 0.4, 0.8)]
    noise = to_real_a(torch.rand(real_b.shape, generator=generator) * 2 - 1)
    assert floor < blurred[0] < blurred[1] < blurred[2] < noise
    assert floor < noisy[0] < noisy[1] < noisy[2] < noise
    assert to_real_a(real_a) == pytest.approx(0.0, abs=1e-2 * floor)
    assert mnist_frechet_reference(real_a, real_b) == {"real vs real": pytest.approx(floor, rel=1e-4),
                                                       "noise": pytest.approx(noise, rel=0.05)}


def test_real_digits_cover_all_ten_confidently(digits):
    stats = digit_distribution(classify_digits(digits[0]))
    assert stats["digits_covered"] == 10
    assert stats["top_digit_share"] < 0.15
    assert stats["digit_kl_uniform"] < 0.02 and stats["digit_entropy"] > 3.3
    assert stats["confident_share"] > 0.95


def test_collapsed_generator_covers_one_digit(mnist_test, floor):
    one = mnist_test.images[(mnist_test.labels == 1).nonzero()[0]]  # a single real "1"
    stats = mnist_quality(one.repeat(500, 1, 1, 1), mnist_test.images[:1000])
    assert stats["digits_covered"] == 1 and stats["top_digit_share"] == 1.0
    assert stats["digit_entropy"] == 0.0
    assert stats["digit_kl_uniform"] == pytest.approx(torch.log2(torch.tensor(10.0)).item())
    assert stats["frechet_distance"] > 10 * floor


def test_digit_distribution_counts_shares():
    probabilities = torch.eye(10)[torch.tensor([3, 3, 3, 7])] * 0.95 + 0.005
    probabilities[3] = torch.full((10,), 0.1)  # one unsure image, argmax 0
    stats = digit_distribution(probabilities)
    assert stats["digits_covered"] == 2 and stats["top_digit_share"] == 0.75
    assert stats["confident_share"] == 0.75
    assert stats["digit_entropy"] == pytest.approx(-(0.75 * torch.log2(torch.tensor(0.75)) +
                                                     0.25 * torch.log2(torch.tensor(0.25))).item())


def _lesson_like_trainer() -> GANTrainer:
    torch.manual_seed(0)
    G = FCGenerator(latent_dim=8, hidden=(32,), image_shape=(1, 28, 28))
    D = FCDiscriminator(image_shape=(1, 28, 28), hidden=(32,))
    return GANTrainer(G, D, device="cpu", n_fixed=4)


def test_evaluator_leaves_global_rng_and_training_unchanged(digits):
    evaluate = mnist_evaluator(digits[0][:500], n=200, seed=1)
    batches = [digits[1][i * 16:(i + 1) * 16] for i in range(3)]

    def train(with_evaluation: bool) -> list[torch.Tensor]:
        trainer = _lesson_like_trainer()
        for batch in batches:
            trainer.train_step(batch)
            if with_evaluation:
                state = torch.get_rng_state()
                evaluate(trainer)
                assert torch.equal(state, torch.get_rng_state())
        return [p.detach().clone() for p in trainer.G.parameters()]

    for plain, evaluated in zip(train(False), train(True)):
        assert torch.equal(plain, evaluated)


def test_evaluator_scores_the_same_noise_each_time(digits, floor):
    trainer = _lesson_like_trainer()
    evaluate = mnist_evaluator(digits[0][:500], n=200, seed=1)
    first, second = evaluate(trainer), evaluate(trainer)
    assert first == second
    assert set(first) == {"frechet_distance", "digits_covered", "top_digit_share", "digit_entropy",
                          "digit_kl_uniform", "confident_share"}
    assert all(isinstance(v, float) for v in first.values())
    assert first["frechet_distance"] > 10 * floor  # an untrained generator draws blobs


def test_evaluator_needs_two_samples(digits):
    with pytest.raises(ValueError, match="n must be at least 2"):
        mnist_evaluator(digits[0], n=1)


def test_evaluator_scores_lesson_02_sized_generators(digits):
    from gan_tutorial.models import DCGANDiscriminator, DCGANGenerator

    torch.manual_seed(0)
    trainer = GANTrainer(DCGANGenerator(latent_dim=8, ngf=4, nc=1, image_size=64),
                         DCGANDiscriminator(ndf=4, nc=1, image_size=64), device="cpu", n_fixed=4)
    norms = [m for m in trainer.G.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    running_mean = [m.running_mean.clone() for m in norms]
    assert norms
    stats = mnist_evaluator(digits[0][:500], n=100, batch_size=50)(trainer)
    assert 0 < stats["frechet_distance"] < float("inf") and 1 <= stats["digits_covered"] <= 10
    assert all(torch.equal(m.running_mean, before) for m, before in zip(norms, running_mean))  # sampling left BatchNorm alone
