"""Does bf16 autocast or channels-last change what a trained DCGAN computes, row by row?

    python scripts/precision_probe.py RUN_FOLDER/checkpoint.pt --lesson 03 --batch 128

Loads a trained G and D, draws one batch of noise, and computes G's images, D's gradient with
respect to those images, and G's weight gradients (the non-saturating loss through D) four
ways: fp32 or bf16 autocast, contiguous or channels-last. Everything is compared with fp32
contiguous. Printed per way: the mean and largest image error, how much worse the worst image
row is than the median row (a kernel that miscomputes some rows, which would draw horizontal
streaks, shows up as a large ratio), and the relative error of the gradients. It asserts
nothing; it is a probe for lesson 03's streak investigation (docs/results.md).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F


from gan_tutorial import GANTrainer  # noqa: E402
from gan_tutorial.lessons import build_models, preset  # noqa: E402


def compute(G, D, z, bf16: bool, channels_last: bool) -> dict[str, torch.Tensor]:
    """Images, dD/dimage and G's weight gradients for one way of computing."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    G, D = G.to(memory_format=fmt), D.to(memory_format=fmt)
    G.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        images = G(z.contiguous(memory_format=fmt))
    images.retain_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = D(images)
    loss = F.binary_cross_entropy_with_logits(logits.float(), torch.ones_like(logits.float()))
    loss.backward()
    grads = torch.cat([p.grad.flatten() for p in G.parameters()])
    return {"images": images.detach().float(), "image_grad": images.grad.float(), "g_grad": grads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--lesson", default="03")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    trainer = GANTrainer(*build_models(preset(args.lesson, "full")), device="cpu")
    trainer.load(args.checkpoint)  # refuses, naming the mismatch, a checkpoint of other models
    G, D = trainer.G.train(), trainer.D.train()  # as in training: BatchNorm on batch statistics
    z = torch.randn(args.batch, *G.latent_shape, generator=torch.Generator().manual_seed(0))
    ref = compute(G, D, z, bf16=False, channels_last=False)
    print(f"{args.checkpoint}: batch {args.batch}, errors against fp32 contiguous")
    for bf16 in (False, True):
        for channels_last in (False, True):
            out = compute(G, D, z, bf16, channels_last)
            err = (out["images"] - ref["images"]).abs()
            rows = err.mean(dim=(0, 1, 3))
            grad_err = ((out["image_grad"] - ref["image_grad"]).abs().mean()
                        / ref["image_grad"].abs().mean())
            g_err = (out["g_grad"] - ref["g_grad"]).norm() / ref["g_grad"].norm()
            ratio = f"{rows.max() / rows.median():.2f}" if rows.median() > 0 else "-"
            print(f"  {'bf16' if bf16 else 'fp32'} {'channels-last' if channels_last else 'contiguous':13}"
                  f" image error mean {err.mean():.4f} max {err.max():.3f}, worst row / median row"
                  f" {ratio}; dD/dimage relative error {grad_err:.3f}; G's gradient relative error"
                  f" {g_err:.3f}")


if __name__ == "__main__":
    main()
