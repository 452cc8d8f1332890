"""Has a trained discriminator memorised its training images? Score them against their mirror images.

    python scripts/memorization_probe.py RUN_FOLDER [RUN_FOLDER ...] [--n 1024]

A mirrored face is as real as the face itself, but D never saw it in training (unless the run
augmented with "flip", which makes this probe meaningless). A D that learned what faces look
like scores both alike; a D that memorised the training faces scores the originals higher. For each run folder
(its ``config.json`` and ``checkpoint.pt``, as ``python -m gan_tutorial train`` writes them)
this prints, over ``n`` training images: D's mean logit on the originals and on their mirror
images, the mean gap, and the share of images whose original scores higher (about 50% for a D
that has not memorised). D runs as in training (BatchNorm on batch statistics), each batch half
originals and half mirror images of other images, so both see the same batch statistics; in
fp32 whatever precision the run trained in.
It asserts nothing; it is a probe for lesson 03's streak investigation (docs/results.md).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

import torch


from gan_tutorial import GANTrainer  # noqa: E402
from gan_tutorial.data import spread_images  # noqa: E402
from gan_tutorial.lessons import RunConfig, build_models, load_dataset, trainer_kwargs  # noqa: E402


@torch.no_grad()
def mirror_gap(D: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor,
               batch: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """D's logits on ``images`` and on their mirror images, each batch half of each."""
    half = batch // 2
    original, mirrored = torch.empty(len(images)), torch.empty(len(images))
    for start in range(0, len(images) - batch + 1, batch):
        a, b = images[start:start + half], images[start + half:start + batch]
        first = D(torch.cat([a, b.flip(-1)])).flatten()   # originals of a, mirrors of b
        second = D(torch.cat([a.flip(-1), b])).flatten()  # mirrors of a, originals of b
        original[start:start + half], mirrored[start + half:start + batch] = first[:half], first[half:]
        mirrored[start:start + half], original[start + half:start + batch] = second[:half], second[half:]
    used = (len(images) // batch) * batch
    return original[:used], mirrored[:used]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--n", type=int, default=1024, help="training images scored (default 1024)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("run | passes over the data | augment | D logit: originals, mirrors, gap | originals higher")
    for run in args.runs:
        config = RunConfig.from_dict(json.loads((run / "config.json").read_text()))
        trainer = GANTrainer(*build_models(config), **trainer_kwargs(config), device="cpu")
        history = trainer.load(run / "checkpoint.pt")
        images = spread_images(load_dataset(config), args.n)  # spread over the run's training data
        original, mirrored = mirror_gap(trainer.D.train(), images)
        gap = original - mirrored
        print(f"{run.name} | {history.epochs_done} | {config.augment} | {original.mean():.2f}, "
              f"{mirrored.mean():.2f}, {gap.mean():+.2f} | {(gap > 0).float().mean():.0%}")


if __name__ == "__main__":
    main()
