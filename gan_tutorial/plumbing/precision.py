"""Mixed precision: which number format to train in, and the autocast context for it.

Weights, optimiser state and checkpoints always stay float32; only the forward pass (and
so the backward pass) runs in a lower precision where the hardware does that fast:

* CUDA: bf16 where the GPU supports it, else fp16 with a gradient scaler (``GradScaler``).
* CPU: bf16 on processors with native bf16 (AVX512-BF16 or AMX) that torch may use; elsewhere
  (or with ``ATEN_CPU_CAPABILITY``/``ONEDNN_MAX_CPU_ISA`` capping it below) bf16 is emulated
  and many times slower than fp32, so "auto" stays in fp32.
* Apple MPS and anything else: fp32.

A discriminator that ends in ``nn.Sigmoid`` (the DCGAN tutorial's, with ``BCELoss``) keeps
that last step in fp32 (:func:`sigmoid_in_fp32`): bf16 rounds any probability above 0.998 to
exactly 1, and BCE then sees ``log(1) = 0``: no gradient, and training can stall for good.
"""
from __future__ import annotations

import contextlib
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from .environment import onednn_isa_cap

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


# oneDNN's instruction sets with bf16 in hardware (ONEDNN_MAX_CPU_ISA values; "ALL": no cap)
ONEDNN_BF16_ISAS = ("AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16",
                    "AVX10_1_512", "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16", "AVX10_2_512",
                    "AVX10_2_512_AMX_2", "ALL")


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bf16 in hardware (AVX512-BF16 or AMX-BF16 flags) and torch
    may use it: ATen's kernels run at AVX-512 (not capped by ``ATEN_CPU_CAPABILITY``) and oneDNN
    is not capped below bf16 (``ONEDNN_MAX_CPU_ISA``). Where either is capped, bf16 is emulated."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: only Apple silicon has fast bf16 there, and it uses MPS
        return False
    if "avx512_bf16" not in flags and "amx_bf16" not in flags:
        return False
    if torch.backends.cpu.get_cpu_capability() != "AVX512":
        return False
    cap = onednn_isa_cap()
    return cap is None or cap in ONEDNN_BF16_ISAS


def resolve_precision(precision: str, device: torch.device) -> str:
    """Turn "auto" into what ``device`` runs fastest; check an explicit choice is possible."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        if device.type == "cpu" and cpu_has_native_bf16():
            return "bf16"
        return "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(f"precision 'fp16' needs a CUDA GPU (device is {device.type}); "
                         f"use 'bf16' or 'fp32' instead")
    return precision


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The context that runs forward passes in ``precision`` (a no-op for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[precision])


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """A gradient scaler, active only for fp16 (whose small range lets gradients underflow)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")


class MixedPrecision:
    """The training step's precision hook: forward passes under :func:`autocast`, and each
    update as backward + optimizer step through that optimizer's own :func:`grad_scaler`
    (active only in fp16)."""

    def __init__(self, device: torch.device, precision: str) -> None:
        self.device, self.precision = device, precision
        self.scalers: dict[int, torch.amp.GradScaler] = {}

    def autocast(self) -> contextlib.AbstractContextManager:
        return autocast(self.device, self.precision)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """``loss.backward()`` then ``optimizer.step()``, the gradients scaled in fp16."""
        scaler = self.scalers.setdefault(id(optimizer), grad_scaler(self.device, self.precision))
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


def _to_fp32(module: nn.Module, args: tuple) -> tuple:
    return tuple(a.float() if torch.is_tensor(a) and a.is_floating_point() else a for a in args)


def sigmoid_in_fp32(model: nn.Module) -> list[torch.utils.hooks.RemovableHandle]:
    """Make every ``nn.Sigmoid`` in ``model`` compute in fp32, also under autocast.

    Autocast runs a sigmoid in its input's precision. In bf16 (8 bits of mantissa) a
    discriminator 99.9% sure of a real image outputs exactly 1.0, so ``BCELoss`` gives
    ``-log(1) = 0`` and no gradient: measured on lesson 02, D(x) stuck at 1.0000 and Loss_D at
    0.0000 from iteration 250 on. A forward pre-hook casts the sigmoid's input to fp32.
    """
    return [m.register_forward_pre_hook(_to_fp32) for m in model.modules() if isinstance(m, nn.Sigmoid)]
