"""Train the small MNIST classifier behind the offline quality metrics and ship its weights.

    nice python scripts/train_mnist_classifier.py            # about 4 minutes on one quiet core

Seeded and deterministic on one machine (one thread, deterministic algorithms); other
CPUs or torch versions may differ in the last bits, so a retrained file has a new
SHA-256. Trains on MNIST train (60,000 digits in [-1, 1], random shifts of up to 2
pixels), reports accuracy on MNIST test (10,000), writes
``gan_tutorial/metrics/weights/mnist_lenet.pt`` and prints its SHA-256 and size. After
retraining, copy the printed file hash into ``WEIGHTS_SHA256`` in
``gan_tutorial/metrics/mnist_classifier.py``. ``torch.save`` stores a random serialization id,
so the file's hash changes at every save; the printed "weights SHA-256" (of the
tensors alone) is the one that repeats when the run is repeated.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import time

import torch
from torch.nn import functional as F

from gan_tutorial.data import load_mnist
from gan_tutorial.metrics.mnist_classifier import WEIGHTS_PATH, MNISTClassifier, sha256_of


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 digits -> float in [-1, 1], as the lessons' data."""
    return images.float() / 127.5 - 1


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift every image by its own integer offset in [-max_shift, max_shift] (background -1)."""
    n, _, h, w = images.shape
    padded = F.pad(images, [max_shift] * 4, value=-1.0)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None].expand(n, 1, h, w + 2 * max_shift)
    picked = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :].expand(n, 1, h, w)
    return picked.gather(3, cols)


def weights_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the tensors alone: torch.save adds a random id, so the file's hash changes each save."""
    digest = hashlib.sha256()
    for name, tensor in state.items():
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


@torch.no_grad()
def accuracy(model: MNISTClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    correct = sum((model(to_float(images[i:i + 1000])).argmax(1) == labels[i:i + 1000]).sum().item()
                  for i in range(0, len(images), 1000))
    return correct / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(WEIGHTS_PATH))
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    train, test = load_mnist(split="train"), load_mnist(split="test")
    model = MNISTClassifier()
    steps_per_epoch = len(train.images) // args.batch_size
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr,
                                                   total_steps=args.epochs * steps_per_epoch)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train.images), generator=generator)
        for step in range(steps_per_epoch):
            index = order[step * args.batch_size:(step + 1) * args.batch_size]
            x = random_shift(to_float(train.images[index]), 2, generator)
            loss = F.cross_entropy(model(x), train.labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"epoch {epoch + 1}/{args.epochs}: last loss {loss.item():.4f}, "
              f"test accuracy {accuracy(model, test.images, test.labels):.4f}, "
              f"{time.perf_counter() - start:.0f} s", flush=True)

    test_accuracy = accuracy(model, test.images, test.labels)
    torch.save(model.state_dict(), args.out)
    print(f"MNIST test accuracy: {test_accuracy:.4f}")
    print(f"saved {args.out} ({os.path.getsize(args.out):,} bytes)")
    print(f"file SHA-256: {sha256_of(args.out)}  (goes into WEIGHTS_SHA256)")
    print(f"weights SHA-256: {weights_digest(model.state_dict())}  (same on every rerun on this machine)")
    print(f"training time: {time.perf_counter() - start:.0f} s on {args.threads} thread(s)")
    if test_accuracy < 0.99:
        raise SystemExit(f"accuracy {test_accuracy:.4f} is below 0.99: do not ship these weights")


if __name__ == "__main__":
    main()
