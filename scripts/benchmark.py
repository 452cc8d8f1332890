"""Measure training speed of each lesson's setup on this machine.

    python scripts/benchmark.py                   # every lesson, picked device
    python scripts/benchmark.py --device cpu --steps 5 --lessons 01 02

For each lesson it times the data pipeline (images per second out of the DataLoader,
real data under the data root) and the GAN training step (iterations and images per
second, after warm-up). It prints figures; it asserts nothing.
"""
from __future__ import annotations

import argparse
import time

import torch

from gan_tutorial import (DCGANDiscriminator, DCGANGenerator, FCDiscriminator, FCGenerator,
                          GANTrainer, get_device, load_celeba, load_mnist, load_pokemon,
                          make_loader)

LESSONS = {
    "01": ("FC GAN, MNIST 28px", lambda: load_mnist(split="train"), 100,
           lambda: (FCGenerator(), FCDiscriminator()), {}),
    "02": ("DCGAN, MNIST 64px", lambda: load_mnist(split="all", image_size=64), 100,
           lambda: (DCGANGenerator(nc=1), DCGANDiscriminator(nc=1)), {}),
    "03": ("DCGAN, CelebA 64px", lambda: load_celeba(), 128,
           lambda: (DCGANGenerator(nc=3), DCGANDiscriminator(nc=3)), {}),
    "04": ("DCGAN, Pokemon 64px", lambda: load_pokemon(download=False), 256,
           lambda: (DCGANGenerator(nc=3), DCGANDiscriminator(nc=3, logits=True,
                                                              first_batch_norm=True)),
           {"lr": 0.005, "d_loss_reduction": "mean"}),
}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_loader(loader, batches: int) -> float:
    """Images per second delivered by the loader over ``batches`` batches."""
    it = iter(loader)
    next(it)  # workers start up
    start, n = time.perf_counter(), 0
    for _ in range(batches):
        n += next(it)[0].size(0)
    return n / (time.perf_counter() - start)


def time_steps(trainer: GANTrainer, batch: torch.Tensor, steps: int) -> float:
    """Seconds per training step, after two warm-up steps."""
    for _ in range(2):
        trainer.train_step(batch)
    sync(trainer.device)
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(batch)
    sync(trainer.device)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=None, help="override every batch size")
    parser.add_argument("--lessons", nargs="*", default=list(LESSONS))
    args = parser.parse_args()
    device = get_device(args.device)
    print(f"device: {device}, torch {torch.__version__}, threads: {torch.get_num_threads()}")
    print(f"{'lesson':<24}{'batch':>6}{'loader img/s':>14}{'step s':>9}{'it/s':>8}{'img/s':>9}")
    for key in args.lessons:
        name, load, batch_size, build, options = LESSONS[key]
        batch_size = args.batch or batch_size
        loader = make_loader(load(), batch_size, device=device)
        loader_rate = time_loader(loader, batches=min(10, len(loader) - 1))
        G, D = build()
        trainer = GANTrainer(G, D, device=device, **options)
        batch = next(iter(loader))[0]
        seconds = time_steps(trainer, batch, args.steps)
        print(f"{key + ' ' + name:<24}{batch_size:>6}{loader_rate:>14,.0f}{seconds:>9.3f}"
              f"{1 / seconds:>8.2f}{batch_size / seconds:>9,.0f}")


if __name__ == "__main__":
    main()
