"""Train lesson 01's GAN and write the README's pictures (docs/).

    python scripts/make_readme_figures.py --epochs 30

Runs on a CPU in about half a minute per epoch; a GPU is faster. Writes
docs/fc_gan_real_vs_fake.png, docs/fc_gan_progress.gif and docs/fc_gan_training.png.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from gan_tutorial import (FCDiscriminator, FCGenerator, GANTrainer, first_images,  # noqa: E402
                          get_device, load_mnist, make_loader, plot_training,
                          save_progress_gif, seed_everything, show_real_vs_fake)

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--checkpoint", default="runs/readme_fc_gan.pt")
    args = parser.parse_args()

    seed_everything(args.seed)
    device = get_device()
    dataset = load_mnist(split="train")
    trainer = GANTrainer(FCGenerator(), FCDiscriminator(), lr=2e-4, betas=(0.5, 0.999),
                         device=device, n_fixed=64)
    trainer.resume_if_possible(args.checkpoint)
    history = trainer.fit(make_loader(dataset, 100, device=device), args.epochs,
                          snapshot_every=600, checkpoint=args.checkpoint)
    DOCS.mkdir(exist_ok=True)
    show_real_vs_fake(first_images(dataset, 64), trainer.sample(trainer.fixed_noise), size=4
                      ).savefig(DOCS / "fc_gan_real_vs_fake.png", dpi=80, bbox_inches="tight")
    plot_training(history, smooth=50).savefig(DOCS / "fc_gan_training.png", dpi=70,
                                              bbox_inches="tight")
    save_progress_gif(history, DOCS / "fc_gan_progress.gif", fps=4, max_frames=30, size=3.5)
    print(f"{history.epochs_done} epochs, {history.iterations} iterations; "
          f"last D(x) {history.d_x[-1]:.3f}, D(G(z)) {history.d_g_z1[-1]:.3f}; figures in {DOCS}")


if __name__ == "__main__":
    main()
