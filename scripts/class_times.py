"""How long each lesson's class setting trains on this machine, measured, not guessed.

    python scripts/class_times.py                 # every lesson, default precision
    python scripts/class_times.py 02 --precision fp32 --steps 20

For each lesson it builds the class setting's models, data and trainer exactly as
``python -m gan_tutorial train LESSON --setting class`` does, times ``--steps`` real training
steps (``GANTrainer.estimate_minutes``: the steps are undone) and one quality evaluation, and
prints the setting's work (updates, images) and the minutes it takes at that rate. Run it on a
quiet machine: other jobs on the same cores slow every step. The arguments are checked before
the first lesson is timed.
"""
from __future__ import annotations

import time

import torch


import script_args  # noqa: E402
from gan_tutorial.data import make_loader  # noqa: E402
from gan_tutorial.lessons import (LESSONS, build_models, load_dataset, make_evaluator, preset,  # noqa: E402
                                  trainer_kwargs)
from gan_tutorial.plumbing.runtime import seed_everything  # noqa: E402
from gan_tutorial.train import GANTrainer  # noqa: E402


def class_minutes(lesson: str, precision: str | None, steps: int) -> dict:
    """The class setting's work and its measured training and evaluation time."""
    config = preset(lesson, "class")
    if precision:
        config = config.override(precision=precision)
    seed_everything(config.seed)
    G, D = build_models(config)
    trainer = GANTrainer(G, D, **trainer_kwargs(config))
    loader = make_loader(load_dataset(config), config.batch_size, device=trainer.device)
    updates = config.epochs * len(loader)
    train_minutes = trainer.estimate_minutes(loader, config.epochs, steps=steps, verbose=False)
    evaluate = make_evaluator(config)
    evaluate(trainer)  # warm-up: the classifier or feature extractor loads once
    start = time.perf_counter()
    evaluate(trainer)
    evaluations = updates // config.evaluation_interval(len(loader)) + 2
    eval_minutes = evaluations * (time.perf_counter() - start) / 60
    return {"lesson": lesson, "updates": updates, "images": updates * config.batch_size,
            "precision": trainer.precision, "train": train_minutes, "eval": eval_minutes,
            "seconds_per_step": 60 * train_minutes / updates}


def main() -> None:
    from gan_tutorial.plumbing.precision import PRECISIONS

    parser = script_args.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", type=script_args.lesson, default=sorted(LESSONS))
    parser.add_argument("--precision", choices=PRECISIONS, help="override the preset's precision (auto)")
    parser.add_argument("--steps", type=script_args.positive_int, default=20,
                        help="training steps to time per lesson")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| lesson | updates | images | precision | s/step | training | evaluations | class run |")
    print("|---|---|---|---|---|---|---|---|")
    for lesson in args.lessons:
        r = class_minutes(lesson, args.precision, args.steps)
        print(f"| {r['lesson']} | {r['updates']:,} | {r['images']:,} | {r['precision']} | "
              f"{r['seconds_per_step']:.3f} | {r['train']:.1f} min | {r['eval']:.1f} min | "
              f"{r['train'] + r['eval']:.1f} min |", flush=True)


if __name__ == "__main__":
    main()
