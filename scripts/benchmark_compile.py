"""Does ``torch.compile`` speed up the lessons' training step? Eager vs compiled, side by side.

    python scripts/benchmark_compile.py                  # lessons 01 and 02, 3 rounds of 20 s
    python scripts/benchmark_compile.py --lessons 01 --rounds 5 --seconds 30

Both sides are ``GANTrainer`` as the lessons use it (same models, batch size, data, precision
and thread count) in one process; the compiled side wraps G and D in ``torch.compile`` before
handing them to the trainer. Rounds alternate (eager, compiled, compiled, eager, ...), so a
busy machine slows both alike. It prints the one-off compile time (the first steps) and the
steady images per second of each side. Lessons 03 and 04 run lesson 02's network with three
channels, so 02 stands for them. It asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gan_tutorial import GANTrainer, make_loader
from gan_tutorial.lessons import build_models, load_dataset, preset, trainer_kwargs


def steps_for(trainer: GANTrainer, loader, seconds: float) -> int:
    """Run ``train_step`` on the loader's batches for ``seconds`` (at least one step); return images seen."""
    images, start = 0, time.perf_counter()
    while images == 0 or time.perf_counter() - start < seconds:
        for batch in loader:
            stats = trainer.train_step(batch[0] if isinstance(batch, (list, tuple)) else batch)
            float(stats["loss_d"])  # what fit's statistics buffer reads on a CPU
            images += loader.batch_size
            if time.perf_counter() - start >= seconds:
                break
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", default=["01", "02"], choices=["01", "02", "03", "04"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--mode", default=None, help="torch.compile mode (default: torch's)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, "
          f"{args.rounds} interleaved rounds of {args.seconds:.0f} s per side, mode={args.mode}\n")
    print(f"{'lesson':<8}{'batch':>6}{'eager img/s':>13}{'compiled img/s':>16}{'ratio':>7}"
          f"{'first 3 steps':>15}")
    for key in args.lessons:
        config = preset(key, "full")
        loader = make_loader(load_dataset(config), config.batch_size, device="cpu")
        torch.manual_seed(0)
        eager = GANTrainer(*build_models(config), device="cpu", **trainer_kwargs(config))
        torch.manual_seed(0)
        G, D = build_models(config)
        compiled = GANTrainer(torch.compile(G, mode=args.mode), torch.compile(D, mode=args.mode),
                              device="cpu", **trainer_kwargs(config))
        start = time.perf_counter()
        for _ in range(3):  # the first steps compile the forward and backward graphs
            steps_for(compiled, loader, 0.0)
        compile_seconds = time.perf_counter() - start
        steps_for(compiled, loader, 2.0)  # warm-up, both sides alike
        steps_for(eager, loader, 2.0)
        rates: dict[str, list[float]] = {"eager": [], "compiled": []}
        for r in range(args.rounds):
            for side in (("eager", "compiled") if r % 2 == 0 else ("compiled", "eager")):
                trainer = eager if side == "eager" else compiled
                start = time.perf_counter()
                images = steps_for(trainer, loader, args.seconds)
                rates[side].append(images / (time.perf_counter() - start))
        e, c = statistics.median(rates["eager"]), statistics.median(rates["compiled"])
        print(f"{key:<8}{config.batch_size:>6}{e:>13,.0f}{c:>16,.0f}{c / e:>6.2f}x"
              f"{compile_seconds:>13.1f} s", flush=True)


if __name__ == "__main__":
    main()
