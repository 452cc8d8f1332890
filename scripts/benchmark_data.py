"""Measure how fast the data side delivers batches: before (per-image) and after (batched/cached).

    python scripts/benchmark_data.py              # everything, about two minutes on 2 cores
    python scripts/benchmark_data.py --only mnist

Figures printed (it asserts nothing):
- MNIST 28px and 64px: digits/s of the per-image DataLoader path (``dataset[i]`` +
  collate, what ``make_loader`` did before) and of ``make_loader``'s batched path.
- CelebA (and Pokémon): images/s of ImageFolder + ``image_transform`` with worker processes,
  the one-off cost of building the decoded cache, opening it again, and images/s served
  from it.
- MNIST checksum verification: first time, and remembered.
Real data from the data root (``GAN_TUTORIAL_DATA``); caches go to a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets

from gan_tutorial.plumbing import image_cache, mnist_files
from gan_tutorial.data import (data_root, image_transform, load_celeba, load_image_folder,
                               load_mnist, make_loader)


class PerImage(Dataset):
    """The dataset without ``__getitems__``: one ``dataset[i]`` per image, then collate."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int):
        return self.dataset[i]


def rate(loader, max_batches: int | None = None) -> float:
    """Images per second over one pass (or ``max_batches``), after the first batch."""
    it = iter(loader)
    next(it)  # worker start-up and cache opening are not counted
    n, start = 0, time.perf_counter()
    for i, (images, _) in enumerate(it):
        n += len(images)
        if max_batches and i + 1 >= max_batches:
            break
    return n / (time.perf_counter() - start)


def best_of(rounds: int, measure) -> float:
    return max(measure() for _ in range(rounds))


def mnist(rounds: int) -> None:
    for size, split in ((28, "train"), (64, "all")):
        digits = load_mnist(split=split, image_size=size)
        before = best_of(rounds, lambda: rate(DataLoader(PerImage(digits), 100, shuffle=True,
                                                         drop_last=True)))
        after = best_of(rounds, lambda: rate(make_loader(digits, 100)))
        print(f"MNIST {size}px, {len(digits):,} digits, batch 100: per-image {before:>10,.0f} digits/s"
              f" | batched {after:>10,.0f} digits/s | {after / before:5.1f}x")


def folder(name: str, path, rounds: int, batch: int) -> None:
    files = datasets.ImageFolder(str(path), transform=image_transform(64))
    workers = min(4, max(1, (os.cpu_count() or 2) // 2))  # make_loader's choice for files
    for w in sorted({workers, os.cpu_count() or 2}):
        before = best_of(1, lambda: rate(DataLoader(files, batch, shuffle=True, drop_last=True,
                                                     num_workers=w)))
        print(f"{name}: ImageFolder + transform, {w} worker(s): {before:>8,.0f} images/s")
    with tempfile.TemporaryDirectory() as cache:
        os.environ[image_cache.CACHE_ENV] = cache
        start = time.perf_counter()
        load_image_folder(path, 64, progress=False).images
        built = time.perf_counter() - start
        start = time.perf_counter()
        cached = load_image_folder(path, 64, progress=False)
        cached.images
        opened = time.perf_counter() - start
        after = best_of(rounds, lambda: rate(make_loader(cached, batch)))
        print(f"{name}: cache of {len(cached):,} images built in {built:.1f} s "
              f"({len(cached) / built:,.0f} images/s), opened again (scan + checksum) in "
              f"{opened:.2f} s; served {after:>10,.0f} images/s (batch {batch})")
        del os.environ[image_cache.CACHE_ENV]


def verification() -> None:
    raw = data_root() / "MNIST" / "raw"
    for split in ("train", "test", "all"):
        mnist_files._verified.clear()
        with tempfile.TemporaryDirectory() as cache:
            os.environ[image_cache.CACHE_ENV] = cache
            start = time.perf_counter()
            mnist_files.check_mnist_files(raw, split, download=False)
            first = time.perf_counter() - start
            mnist_files._verified.clear()  # a new process: verdicts read back from disk
            start = time.perf_counter()
            mnist_files.check_mnist_files(raw, split, download=False)
            again = time.perf_counter() - start
            del os.environ[image_cache.CACHE_ENV]
        print(f"MNIST md5 check, split {split!r}: first {first * 1000:.0f} ms, "
              f"remembered {again * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["mnist", "celeba", "pokemon", "verify"], nargs="*")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    only = set(args.only or ["mnist", "celeba", "pokemon", "verify"])
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} CPUs, data root {data_root()}")
    if "mnist" in only:
        mnist(args.rounds)
    if "celeba" in only:
        folder("CelebA 64px", load_celeba().root, args.rounds, 128)
    if "pokemon" in only:
        folder("Pokemon 64px", data_root() / "pokemon", args.rounds, 256)
    if "verify" in only:
        verification()


if __name__ == "__main__":
    main()
