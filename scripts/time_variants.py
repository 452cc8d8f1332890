"""Seconds per G update of every lesson-07 variant (and lesson 08), measured side by side.

    python scripts/time_variants.py --threads 1 --rounds 5 --steps 10 --out runs/variant_times.json

The variants' class runs were trained at different times under different load, so their own
minutes cannot be compared. Here every variant trains in one process, in interleaved rounds
(``--steps`` updates of each variant per round, the order rotating every round), on batches of
the lesson's size in the default precision, so whatever else the machine does slows all alike.
It prints seconds per G update (median over rounds) and the ratio to the baseline "07", and
writes them as JSON for ``scripts/compare_variants.py --times``, which turns each run's
updates into minutes on this machine. It asserts nothing. The arguments are checked before
anything is timed, and the JSON is written whole or not at all.
"""
from __future__ import annotations

import json
import statistics
import time

import torch


import script_args  # noqa: E402
from compare_variants import VARIANTS  # noqa: E402  (scripts/compare_variants.py, beside this file)
from gan_tutorial import GANTrainer  # noqa: E402
from gan_tutorial.plumbing.checkpoint import write_text  # noqa: E402
from gan_tutorial.lessons import LESSONS, build_models, preset, trainer_kwargs  # noqa: E402


def trainer_and_batch(variant: str) -> tuple[GANTrainer, torch.Tensor, torch.Tensor | None]:
    """The variant's class-setting trainer and one batch of its shape (random pixels in [-1, 1]:
    the time of a step does not depend on what the images show)."""
    config = preset(variant, "class")
    trainer = GANTrainer(*build_models(config), device="cpu", **trainer_kwargs(config))
    side = config.data_kwargs["image_size"]
    real = torch.rand(config.batch_size, 1, side, side) * 2 - 1
    labels = torch.randint(0, 10, (config.batch_size,)) if variant == "08" else None
    return trainer, real, labels


@script_args.one_line_on_full_disk
def main() -> None:
    parser = script_args.Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS)
    parser.add_argument("--threads", type=script_args.positive_int, default=torch.get_num_threads())
    parser.add_argument("--rounds", type=script_args.positive_int, default=5)
    parser.add_argument("--steps", type=script_args.positive_int, default=10,
                        help="updates of each variant per round")
    parser.add_argument("--out", type=script_args.output_file,
                        help="write the seconds per update here (JSON)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    setups = {v: trainer_and_batch(v) for v in args.variants}
    for trainer, real, labels in setups.values():  # warm-up: first steps allocate and tune
        for _ in range(2):
            trainer.train_step(real, labels)
    times: dict[str, list[float]] = {v: [] for v in args.variants}
    for r in range(args.rounds):
        order = args.variants[r % len(args.variants):] + args.variants[:r % len(args.variants)]
        for variant in order:
            trainer, real, labels = setups[variant]
            start = time.perf_counter()
            for _ in range(args.steps):
                trainer.train_step(real, labels)
            times[variant].append((time.perf_counter() - start) / args.steps)
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    seconds = {v: statistics.median(t) for v, t in times.items()}
    base = seconds.get("07")
    precision = next(iter(setups.values()))[0].precision
    print(f"\nseconds per G update, {args.threads} thread(s), {precision}, median of {args.rounds} "
          f"rounds of {args.steps}:")
    for variant, s in seconds.items():
        ratio = f"  {s / base:.2f}x the baseline" if base else ""
        print(f"  {variant:12} {s:.3f} s{ratio}   ({LESSONS[variant].title})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_text(args.out, json.dumps({"threads": args.threads, "precision": precision,
                                         "rounds": args.rounds, "steps": args.steps,
                                         "seconds_per_update": seconds}, indent=2))
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
