"""What the quality metrics cost on this machine: per 1,000 images, and per evaluation in training.

    nice python scripts/benchmark_metrics.py [--threads N] [--repeats 3]

Prints seconds per 1,000 images for the MNIST metrics (28×28 and lesson 02's 64×64
digits), the cost of one ``mnist_evaluator`` call on lesson 02's DCGAN generator
(latent_dim 100, ngf 64, 64×64) against one training iteration (batch 100), and so how many
training iterations each evaluation costs. Figures are the best of ``--repeats``
runs; other work on the machine slows them down.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from gan_tutorial.data import load_mnist
from gan_tutorial.metrics.fid import inception_unavailable_reason
from gan_tutorial.metrics import classify_digits, mnist_evaluator, mnist_frechet_distance, mnist_quality
from gan_tutorial.models import DCGANDiscriminator, DCGANGenerator, weights_init
from gan_tutorial.train import GANTrainer


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n", type=int, default=1000, help="images per metric call")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), best of {args.repeats}")

    n = args.n
    test28 = load_mnist(split="test")
    real = test28.images[:n].float() / 127.5 - 1
    fake = test28.images[n:2 * n].float() / 127.5 - 1
    fake64 = load_mnist(split="test", image_size=64).images[n:2 * n].float() / 127.5 - 1
    per_1000 = 1000 / n

    classify_digits(real[:10])  # load the classifier once
    rows = [
        ("classifier only (probabilities), 28x28", lambda: classify_digits(fake)),
        ("Fréchet distance, 28x28 fakes vs 28x28 real", lambda: mnist_frechet_distance(fake, real)),
        ("mnist_quality, 28x28 fakes", lambda: mnist_quality(fake, real)),
        ("mnist_quality, 64x64 fakes (resized inside)", lambda: mnist_quality(fake64, real)),
    ]
    print(f"\nMNIST metrics, seconds per 1,000 fake images (real set of {n}, features recomputed each call):")
    for name, fn in rows:
        print(f"  {name:<48} {best_seconds(fn, args.repeats) * per_1000:6.3f} s")

    torch.manual_seed(0)
    G, D = DCGANGenerator(latent_dim=100, ngf=64, nc=1), DCGANDiscriminator(ndf=64, nc=1)
    G.apply(weights_init)
    D.apply(weights_init)
    trainer = GANTrainer(G, D, device="cpu")
    batch = fake64[:100]
    trainer.train_step(batch)  # warm-up
    step = best_seconds(lambda: trainer.train_step(batch), args.repeats)
    setup = best_seconds(lambda: mnist_evaluator(real, n=n), args.repeats)
    print(f"\nLesson 02 (DCGAN 64x64, batch 100): one training iteration {step:.3f} s")
    print(f"  mnist_evaluator setup (real features, once per run): {setup:.3f} s")
    for n_eval in (250, 500, 1000):
        evaluate = mnist_evaluator(real, n=n_eval)
        evaluate(trainer)  # warm-up, draws the noise
        sample = best_seconds(lambda: torch.cat([trainer.sample(z) for z in torch.randn(n_eval, 100, 1, 1).split(250)]),
                              args.repeats)
        seconds = best_seconds(lambda: evaluate(trainer), args.repeats)
        print(f"  evaluate with n={n_eval:<5} {seconds:6.2f} s per call (sampling G alone {sample:5.2f} s) "
              f"= {seconds / step:5.1f} training iterations; every 500 iterations adds "
              f"{100 * seconds / (500 * step):.1f}%")

    reason = inception_unavailable_reason()
    print("\nInception FID:", "available" if reason is None else f"not available here. {reason}")


if __name__ == "__main__":
    main()
