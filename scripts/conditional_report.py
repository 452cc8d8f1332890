"""What a finished conditional run (lesson 08) draws, digit by digit, as a Markdown table.

    python scripts/conditional_report.py runs/08_full_seed0 [--out docs/results/lesson08_full_digits.md]

Asks the run's generator for every digit 100 times (1,000 fakes, all ten digits mixed in every
batch, as lesson 08 section 8 does), and reports per digit: the share the shipped classifier
reads as the digit asked for, the Fréchet distance of those 100 fakes against the real test
digits of that class, and the same distance for 100 real training digits of the class (the
floor a sample of 100 allows). Everything comes from the run's checkpoint. The arguments (a
conditional run's folder, an --out that is not a folder nor one of the run's files) are checked
before any sampling.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch


import script_args  # noqa: E402
from gan_tutorial.plumbing.checkpoint import write_text  # noqa: E402
from gan_tutorial.data import load_mnist  # noqa: E402
from gan_tutorial.lessons import RunConfig, build_models, trainer_kwargs  # noqa: E402
from gan_tutorial.metrics import classify_digits, label_accuracy, per_digit_frechet  # noqa: E402
from gan_tutorial.train import GANTrainer  # noqa: E402


def report(run: Path, root: str | None = None) -> str:
    """The per-digit table of the conditional run in folder ``run`` (MNIST from ``root``, or
    the data root)."""
    config = RunConfig.from_dict(json.loads((run / "config.json").read_text()))
    if "num_classes" not in config.generator_kwargs:
        raise SystemExit(f"{run} is not a conditional run (its generator is {config.generator})")
    trainer = GANTrainer(*build_models(config), device="cpu", **trainer_kwargs(config))
    trainer.load(run / "checkpoint.pt")
    asked = trainer.class_cycle(1000).cpu()  # every digit 100 times, mixed in every batch
    noise = torch.randn(1000, *trainer.latent_shape, generator=torch.Generator().manual_seed(1))
    fakes = torch.cat([trainer.sample(z, labels=y) for z, y in zip(noise.split(250), asked.split(250))])
    probabilities = classify_digits(fakes)
    read = probabilities.argmax(1)
    test, train = load_mnist(root, split="test"), load_mnist(root, split="train")
    per_class = torch.cat([(train.labels == d).nonzero()[:100, 0] for d in range(10)])
    fake_distance = per_digit_frechet(fakes, asked, test.images, test.labels)
    floor = per_digit_frechet(train.images[per_class], train.labels[per_class], test.images, test.labels)
    total = label_accuracy(probabilities, asked)
    lines = [f"Run `{run.name}` ({config.lesson}, {config.setting}, seed {config.seed}): "
             f"{total:.1%} of 1,000 fakes (100 per digit) read as the digit asked for.", "",
             "| digit | drawn as asked | Fréchet distance of its 100 fakes | floor (100 real digits) |",
             "|---|---|---|---|"]
    for d in range(10):
        lines.append(f"| {d} | {(read[asked == d] == d).float().mean():.0%} | "
                     f"{fake_distance[d]:.0f} | {floor[d]:.0f} |")
    return "\n".join(lines) + "\n"


@script_args.one_line_on_full_disk
def main() -> None:
    parser = script_args.Parser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=script_args.existing_folder)
    parser.add_argument("--out", type=script_args.output_file, help="also write the table here")
    args = parser.parse_args()
    inputs = [args.run / "config.json", args.run / "checkpoint.pt"]
    for path in inputs:
        if not path.is_file():
            parser.error(f"{args.run} has no {path.name}: give the folder of a finished run of "
                         f"`python -m gan_tutorial train 08`")
    try:
        config = RunConfig.from_dict(json.loads(inputs[0].read_text()))
    except (ValueError, TypeError, KeyError) as err:
        parser.error(f"{inputs[0]} cannot be read ({str(err).splitlines()[0]}); give the folder of a "
                     f"finished run")
    if "num_classes" not in config.generator_kwargs:
        parser.error(f"{args.run} is not a conditional run (its generator is {config.generator}): give "
                     f"a run of lesson 08")
    if args.out and script_args.overwritten([args.out], inputs):
        parser.error(f"--out {args.out} would overwrite the run's own {args.out.name}: write the table "
                     f"elsewhere")
    text = report(args.run)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_text(args.out, text)


if __name__ == "__main__":
    main()
