"""Training speed, side by side: the plain PyTorch-tutorial loop vs GANTrainer, per lesson.

    python scripts/benchmark.py                        # every lesson, 3 rounds of 20 s each side
    python scripts/benchmark.py --lessons 01 02 --rounds 5 --seconds 30 --threads 2

For each lesson both sides train the same models (same sizes, batch size, data and thread
count) in one process, in interleaved rounds (reference, project, project, reference, ...),
so a busy machine slows both alike:

* reference: the PyTorch DCGAN tutorial's loop, written out below: a torchvision dataset
  with per-image transforms, a DataLoader with 2 workers, the D-then-G step in fp32 with
  ``.item()`` calls for the statistics.
* project: what the lessons run: the package's loaders (MNIST in memory, image folders
  decoded once into a cache) and ``GANTrainer.fit`` with its default precision.

It prints images per second for each side, their ratio and the precision used; the
estimated full-run time comes from the project's rate. It asserts nothing.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.utils.data import ConcatDataset, DataLoader
from torchvision import datasets, transforms

from gan_tutorial import (DCGANDiscriminator, DCGANGenerator, FCDiscriminator, FCGenerator,
                          GANTrainer, data_root, load_celeba, load_mnist, load_pokemon,
                          make_loader, weights_init)


@dataclass
class Lesson:
    name: str
    batch: int
    full_images: int  # images a full run trains on (epochs x dataset size)
    reference_data: Callable[[], torch.utils.data.Dataset]
    project_data: Callable[[], torch.utils.data.Dataset]
    build: Callable[[], tuple[nn.Module, nn.Module]]
    trainer_kwargs: dict


def _mnist_reference(size: int, splits: tuple[bool, ...]) -> torch.utils.data.Dataset:
    tf = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size),
                             transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    parts = [datasets.MNIST(data_root(), train=train, download=False, transform=tf) for train in splits]
    return parts[0] if len(parts) == 1 else ConcatDataset(parts)


def _folder_reference(sub: str) -> torch.utils.data.Dataset:
    tf = transforms.Compose([transforms.Resize(64), transforms.CenterCrop(64), transforms.ToTensor(),
                             transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
    return datasets.ImageFolder(str(data_root() / sub), transform=tf)


def _dcgan(nc: int, **d_kwargs) -> tuple[nn.Module, nn.Module]:
    return (DCGANGenerator(nc=nc).apply(weights_init),
            DCGANDiscriminator(nc=nc, **d_kwargs).apply(weights_init))


LESSONS = {
    "01": Lesson("FC GAN, MNIST 28px", 100, 50 * 60_000,
                 lambda: _mnist_reference(28, (True,)), lambda: load_mnist(split="train"),
                 lambda: (FCGenerator(), FCDiscriminator()), {}),
    "02": Lesson("DCGAN, MNIST 64px", 100, 5 * 70_000,
                 lambda: _mnist_reference(64, (True, False)),
                 lambda: load_mnist(split="all", image_size=64),
                 lambda: _dcgan(1), {}),
    "03": Lesson("DCGAN, CelebA 64px", 128, 50 * 6_000,
                 lambda: _folder_reference("celeba"), lambda: load_celeba(),
                 lambda: _dcgan(3), {}),
    "04": Lesson("DCGAN, Pokémon 64px", 256, 50 * 1_639,
                 lambda: _folder_reference("pokemon"), lambda: load_pokemon(download=False),
                 lambda: _dcgan(3, logits=True, first_batch_norm=True),
                 {"lr": 0.005, "d_loss_reduction": "mean"}),
}


def reference_round(netG: nn.Module, netD: nn.Module, optimizerG, optimizerD, batches,
                    seconds: float, logits: bool) -> int:
    """The PyTorch DCGAN tutorial's training loop, run for ``seconds``; returns images seen."""
    criterion = nn.BCEWithLogitsLoss() if logits else nn.BCELoss()
    real_label, fake_label = 1.0, 0.0
    latent_shape = netG.latent_shape
    images, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        data = next(batches)
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = data[0]
        b_size = real_cpu.size(0)
        label = torch.full((b_size,), real_label, dtype=torch.float)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(b_size, *latent_shape)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        # (2) Update G network: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        _ = (errD.item(), errG.item(), D_x, D_G_z1, D_G_z2)  # the tutorial logs these
        images += b_size
    return images


def project_round(trainer: GANTrainer, loader: DataLoader, seconds: float) -> int:
    """``GANTrainer.fit`` as the lessons call it, stopped by its own time budget."""
    before = trainer.history.iterations
    with contextlib.redirect_stdout(io.StringIO()):  # fit's "time budget used up" note
        trainer.fit(loader, epochs=trainer.history.epochs_done + 1000, snapshot_every=None,
                    progress=False, max_minutes=seconds / 60)
    return (trainer.history.iterations - before) * loader.batch_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", default=list(LESSONS), choices=list(LESSONS))
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per side (default 3)")
    parser.add_argument("--seconds", type=float, default=20, help="length of one round (default 20)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--precision", default="auto", help="the project's precision (default auto)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, "
          f"{args.rounds} interleaved rounds of {args.seconds:.0f} s per side\n")
    print(f"{'lesson':<24}{'batch':>6}{'reference img/s':>17}{'project img/s':>15}{'ratio':>7}"
          f"{'precision':>11}{'full run (project)':>20}")
    for key in args.lessons:
        lesson = LESSONS[key]
        torch.manual_seed(0)
        G_ref, D_ref = lesson.build()
        opt_g = torch.optim.Adam(G_ref.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(D_ref.parameters(), lr=2e-4, betas=(0.5, 0.999))
        ref_loader = DataLoader(lesson.reference_data(), batch_size=lesson.batch, shuffle=True,
                                num_workers=2, drop_last=True, persistent_workers=True)
        ref_batches = (batch for _ in itertools.count() for batch in ref_loader)
        G, D = lesson.build()
        trainer = GANTrainer(G, D, device="cpu", precision=args.precision, **lesson.trainer_kwargs)
        loader = make_loader(lesson.project_data(), lesson.batch, device=trainer.device)
        logits = getattr(D_ref, "outputs_logits", False)
        reference_round(G_ref, D_ref, opt_g, opt_d, ref_batches, 2.0, logits)  # warm-up both
        project_round(trainer, loader, 2.0)
        rates = {"reference": [], "project": []}
        for r in range(args.rounds):
            order = ("reference", "project") if r % 2 == 0 else ("project", "reference")
            for side in order:
                start = time.perf_counter()
                if side == "reference":
                    images = reference_round(G_ref, D_ref, opt_g, opt_d, ref_batches, args.seconds, logits)
                else:
                    images = project_round(trainer, loader, args.seconds)
                rates[side].append(images / (time.perf_counter() - start))
        ref, proj = statistics.median(rates["reference"]), statistics.median(rates["project"])
        hours = lesson.full_images / proj / 3600
        full = f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h"
        print(f"{key + ' ' + lesson.name:<24}{lesson.batch:>6}{ref:>17,.0f}{proj:>15,.0f}"
              f"{proj / ref:>6.2f}x{trainer.precision:>11}{full:>20}", flush=True)


if __name__ == "__main__":
    main()
