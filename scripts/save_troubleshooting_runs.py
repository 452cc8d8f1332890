"""Write the saved runs of lesson 06 (notebooks/saved_runs/) from real training runs' folders.

    GAN_TUTORIAL_DATA=/work/shared/data python scripts/save_troubleshooting_runs.py [--out DIR]

Each source is a folder that ``python -m gan_tutorial train ... --out FOLDER`` wrote (or a
notebook-era run with a checkpoint and config.json); the commands that made the runs are in
RUNS below. The script keeps the curves, the evaluations, a few snapshots and the numbers it
measures from the whole checkpoint (grid contrast over all 64 fixed-noise fakes, snapshot
changes, the digit histogram of the run's own 1,000 evaluation fakes), never the weights.
The source folders live on the machine the runs were made on; the saved runs are what ships.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch


from gan_tutorial.plumbing.checkpoint import load_checkpoint  # noqa: E402
from gan_tutorial.exercises.diagnosis import grid_contrast, late_means, snapshot_change  # noqa: E402
from gan_tutorial.history import History, to_uint8  # noqa: E402
from gan_tutorial.lessons.saved_runs import SAVED_RUNS, save_run, shrink, unlabel  # noqa: E402

SWEEPS = Path("/root/sweeps")
MADE = Path("/tmp/ts/runs")  # the short runs made for this lesson (commands in RUNS)
MYSTERY = Path("/work/mystery/runs")  # the unlabelled runs' sources (commands in MYSTERIES)

# name -> where it comes from, what it is, what to keep
RUNS = {
    "l02_sigmoid_stall": dict(
        source=MADE / "l02_sigmoid_seed0",
        what="Lesson 02's class setting with a Sigmoid at the end of D and BCELoss, one epoch "
             "(made for this lesson: python -m gan_tutorial train l02_sigmoid.json --seed 0 "
             "--precision auto, l02_sigmoid.json = {\"lesson\": \"02\", \"setting\": \"class\", "
             "\"discriminator_kwargs\": {..., \"logits\": false}, \"epochs\": 1})",
        snapshots={300: (4, None)}, grid_at=[300]),
    "l02_sigmoid_seed1": dict(
        source=MADE / "l02_sigmoid_seed1",
        what="The same Sigmoid + BCELoss run with seed 1 (made for this lesson, same command with --seed 1)",
        snapshots={300: (4, None)}, grid_at=[300]),
    "l02_logits": dict(
        source=SWEEPS / "lesson02_class/auto_seed0",
        what="Lesson 02's class setting of 2026-12-03 (1,200 updates of 64; D returns logits, "
             "BCEWithLogitsLoss), seed 0",
        snapshots={300: (9, None), 1200: (9, None)}, grid_at=[300, 1200]),
    "l01_no_dropout": dict(
        source=SWEEPS / "lesson01_class/auto_seed0",
        what="Lesson 01's class setting before dropout was added to D, seed 0",
        snapshots={36000: (16, None)}, fakes=100),
    "l01_dropout": dict(
        source=Path("/root/sweeps2/lesson01_class/auto_seed0"),
        what="Lesson 01's class setting as it is (dropout 0.3 in D's hidden layers), seed 0",
        snapshots={36000: (16, None)}, fakes=100),
    "l04_high_lr": dict(
        source=SWEEPS / "lesson04_recipes/d2l_same_budget",
        what="Lesson 04 with the d2l book's learning rate and batch (lr 0.005, batch 256) on the class "
             "setting's budget of 72,000 sprites seen; DiffAugment on, as config.json records (its "
             "recipe file asked for augment null, which the command line ignored)",
        snapshots={282: (4, 32)}, strip=8),
    "l04_diffaugment": dict(
        source=SWEEPS / "lesson04_class/auto_seed0",
        what="Lesson 04's earlier class setting (d2l's widths 64, lr 2e-4, batch 64, DiffAugment, 1,125 updates), seed 0",
        snapshots={700: (4, None), 1125: (4, 32)}, grid_at=[700, 1125], strip=8),
    "l04_no_augment": dict(
        source=Path("/root/explore/runs/l04_small_lr"),
        what="Lesson 04 at lr 2e-4, batch 64, all 1,639 sprites, no augmentation (an exploratory "
             "run made before DiffAugment was added; stopped during epoch 32)",
        snapshots={700: (4, None)}, grid_at=[700], real_reference=True,
        facts={"precision": "bf16", "precision_note": "not recorded: the trainer's default 'auto', "
               "which is bf16 on this CPU (AVX512-BF16)", "threads": None,
               "time_note": "about 10 minutes for its first 700 iterations by its files' times "
                            "(config.json 18:48, the epoch-28 sample 18:58)"}),
    "l02_32_transposed": dict(
        source=MADE / "l02_32_dcgan_600_seed0",
        what="32x32 DCGAN on 6,400 digits (lesson 02's exercise setting): DCGANGenerator(ngf=32), "
             "DCGANDiscriminator(ndf=32, logits), 6 epochs (made for this lesson)",
        snapshots={200: (9, None), 600: (9, None)}, grid_at=[200, 600]),
    "l02_32_upsample": dict(
        source=MADE / "l02_32_upsample_600_seed0",
        what="The same with UpsampleGenerator (nearest upsampling + 3x3 convolutions) in place of "
             "the transposed convolutions; same D, data, seed and updates (made for this lesson)",
        snapshots={200: (9, None), 600: (9, None)}, grid_at=[200, 600]),
}

# The unlabelled runs of the lesson's exercises: what each was, and the command that made it
# (each config file names its lesson's class setting and the fields it changes), for the
# teacher; the saved run keeps only what a user of a run sees (saved_runs.PUBLIC_FIELDS).
# mystery_a (lesson 01's class setting with real labels 0.9, seed 0, from /root/sweeps) and
# mystery_b (the 32x32 exercise setting of lesson 02 with the minimax G loss, seed 0, from
# /tmp/ts/runs) were exported before from sources that are gone; `--unlabel` rewrites them.
MYSTERIES = {
    "mystery_c": dict(
        source=MYSTERY / "m07_healthy_s3",
        what='lesson 07\'s baseline, class setting: {"lesson": "07", "setting": "class"}, --seed 3',
        snapshots={1500: (36, None)}, fakes=100),
    "mystery_d": dict(
        source=MYSTERY / "m04_noaug_s1",
        what='lesson 04 without DiffAugment and without a moving average, 700 updates: {"lesson": "04", '
             '"setting": "class", "augment": null, "ema_decay": null, "epochs": 14, "snapshot_every": 50, '
             '"eval_every": 50}, --seed 1',
        snapshots={700: (9, None)}),
    "mystery_e": dict(
        source=MYSTERY / "m07_highlr_s3",
        what='lesson 07\'s baseline at lr 0.005 and batch 256: {"lesson": "07", "setting": "class", "lr": '
             '0.005, "batch_size": 256, "epochs": 20, "snapshot_every": 25, "eval_every": 25}, --seed 3',
        snapshots=None, fakes=100),
    "mystery_f": dict(
        source=MYSTERY / "m03_minimax_s2",
        what='lesson 03 with the minimax G loss, 2 epochs: {"lesson": "03", "setting": "class", "g_loss": '
             '"minimax", "epochs": 2, "snapshot_every": 25, "eval_every": 25}, --seed 2',
        snapshots={374: (4, None)}),
}


def evaluation_fakes(source: Path, n: int = 1000) -> torch.Tensor:
    """The ``n`` fakes the run's last evaluation scored (same noise and seed as mnist_evaluator)."""
    from gan_tutorial.lessons import RunConfig, build_models, trainer_kwargs
    from gan_tutorial.train import GANTrainer

    config = RunConfig.from_dict(json.loads((source / "config.json").read_text()))
    G, D = build_models(config)
    trainer = GANTrainer(G, D, device=torch.device("cpu"), **trainer_kwargs(config))
    trainer.load(source / "checkpoint.pt")
    noise = torch.randn(n, *trainer.latent_shape, generator=torch.Generator().manual_seed(config.seed))
    return to_uint8(torch.cat([trainer.sample(chunk) for chunk in noise.split(250)]))


def export(name: str, spec: dict, out: Path) -> None:
    source = spec["source"]
    state = load_checkpoint(source / "checkpoint.pt", map_location="cpu")["history"]
    snaps = dict(zip(state["snapshot_iterations"], state["snapshots"]))
    history = History(**{k: state[k] for k in ("loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2")})
    measured = {"late_means_last_100": {k: round(v, 4) for k, v in late_means(history).items()}}
    for it in spec.get("grid_at", []):
        measured.setdefault("grid_contrast", {})[str(it)] = round(grid_contrast(snaps[it]), 3)
    if spec.get("grid_at"):
        measured["grid_contrast_how"] = "grid_contrast over all fixed-noise fakes of the snapshot"
    if spec.get("real_reference"):
        from gan_tutorial.data import load_pokemon, spread_images

        sprites = spread_images(load_pokemon(image_size=64), 64)
        measured["real_sprites_grid_contrast"] = round(grid_contrast(sprites), 3)
    extra = {}
    if spec.get("strip"):
        last = state["snapshot_iterations"][-spec["strip"]:]
        changes = snapshot_change([snaps[it] for it in state["snapshot_iterations"]])
        measured["snapshot_change"] = {"iterations": state["snapshot_iterations"][1:],
                                       "values": [round(c, 4) for c in changes]}
        strip = torch.stack([shrink(snaps[it][:1], 32) for it in last], dim=1).flatten(0, 1)
        extra["strip"] = (strip, len(last))
        measured["strip_iterations"] = last
    if spec.get("fakes"):
        from gan_tutorial.metrics import classify_digits, digit_distribution

        fakes = evaluation_fakes(source)
        measured["evaluation_fakes_digits"] = {
            k: round(v, 4) for k, v in digit_distribution(classify_digits(fakes)).items()}
        measured["evaluation_fakes_digit_counts"] = torch.bincount(
            classify_digits(fakes).argmax(1), minlength=10).tolist()
        extra["fakes"] = (fakes[:spec["fakes"]], 10)
    folder = out / name
    if folder.exists():
        shutil.rmtree(folder)
    save_run(source, folder, what=spec["what"], snapshots=spec["snapshots"], extra_images=extra,
             measured=measured, facts=spec.get("facts"))
    if name in MYSTERIES:
        unlabel(folder, name)
    size = sum(p.stat().st_size for p in folder.iterdir())
    print(f"{name}: {len(state['loss_d'])} iterations from {source}, {size / 1024:.0f} KB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAVED_RUNS)
    parser.add_argument("--unlabel", nargs="*", default=[], metavar="NAME",
                        help="rewrite these saved runs in --out as unlabelled mystery runs, keeping their name")
    parser.add_argument("names", nargs="*",
                        help=f"runs to write (default: all): {', '.join([*RUNS, *MYSTERIES])}")
    args = parser.parse_args()
    for name in args.unlabel:
        unlabel(args.out / name, name)
        print(f"{name}: unlabelled", flush=True)
    if args.unlabel and not args.names:
        return
    for name in args.names or [*RUNS, *MYSTERIES]:
        export(name, {**RUNS, **MYSTERIES}[name], args.out)


if __name__ == "__main__":
    main()
