"""Training under torchrun: 2 CPU processes with the gloo backend, DDP, rank 0 writing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from gan_tutorial import GANTrainer
from gan_tutorial.lessons import build_models, preset

REPO = Path(__file__).resolve().parent.parent


def _require_gloo() -> None:
    if dist.is_available() and dist.is_gloo_available():
        return
    message = ("this torch build has no torch.distributed/gloo; install a standard PyTorch wheel "
               "to run the torchrun tests")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def torchrun(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc-per-node 2 ARGS`` (one thread per process, like torchrun's default)."""
    _require_gloo()
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               *args]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"torchrun failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


class Tiny(nn.Module):
    latent_shape = (4,)

    def __init__(self, n_in: int, n_out: int, final: nn.Module) -> None:
        super().__init__()
        self.main = nn.Sequential(nn.Linear(n_in, n_out), final)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(len(x), -1).squeeze(-1)


def tiny_trainer() -> GANTrainer:
    return GANTrainer(Tiny(4, 6, nn.Tanh()), Tiny(6, 1, nn.Sigmoid()), device="cpu", n_fixed=4)


class RecordingSampler(RandomSampler):
    def __init__(self, data) -> None:
        super().__init__(data)
        self.epochs: list[int] = []

    def set_epoch(self, epoch: int) -> None:
        self.epochs.append(epoch)


def test_fit_reseeds_the_sampler_every_epoch_and_after_resume(tmp_path):
    data = TensorDataset(torch.randn(8, 6))
    sampler = RecordingSampler(data)
    loader = DataLoader(data, batch_size=4, sampler=sampler, drop_last=True)
    trainer = tiny_trainer()
    trainer.fit(loader, 2, snapshot_every=None, checkpoint=tmp_path / "c.pt", progress=False)
    resumed = tiny_trainer()
    resumed.load(tmp_path / "c.pt")
    resumed.fit(loader, 3, snapshot_every=None, progress=False)
    assert sampler.epochs == [0, 1, 2]


def test_other_ranks_train_but_write_nothing(tmp_path, capsys):
    trainer = tiny_trainer()
    trainer.is_main_process = False
    loader = DataLoader(TensorDataset(torch.randn(8, 6)), batch_size=4)
    history = trainer.fit(loader, 2, checkpoint=tmp_path / "c.pt", sample_dir=tmp_path / "s",
                          print_every=1)
    assert history.iterations == 4
    assert list(tmp_path.iterdir()) == []
    captured = capsys.readouterr()
    assert "Loss_D" not in captured.out + captured.err


WORKER = textwrap.dedent("""
    import json, sys, torch
    from torch import nn
    from torch.utils.data import TensorDataset
    from gan_tutorial.plumbing import distributed

    context = distributed.setup("cpu")
    torch.manual_seed(context.rank)  # different weights per rank before wrapping
    model = nn.Linear(3, 2).to(context.device)
    wrapped = distributed.wrap(model, context)  # DDP broadcasts rank 0's weights
    same_after_wrap = distributed.replicas_identical(wrapped)
    if context.rank == 1:
        with torch.no_grad():
            model.weight[0, 0] += 1e-6
    detects_difference = not distributed.replicas_identical(wrapped)
    loader = distributed.make_loader(TensorDataset(torch.arange(40.)), 4, context, seed=0)
    shares = []
    for epoch in (0, 1):
        loader.sampler.set_epoch(epoch)
        shares.append([int(x) for (batch,) in loader for x in batch])
    json.dump({"backend": context.backend, "world_size": context.world_size,
               "same_after_wrap": same_after_wrap, "detects_difference": detects_difference,
               "shares": shares}, open(f"{sys.argv[1]}/rank{context.rank}.json", "w"))
    distributed.cleanup()
""")


def test_ddp_helpers_under_torchrun(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    torchrun(str(script), str(tmp_path), cwd=tmp_path)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for rank in ranks:
        assert rank["backend"] == "gloo" and rank["world_size"] == 2
        assert rank["same_after_wrap"] and rank["detects_difference"]
    for epoch in (0, 1):
        a, b = ranks[0]["shares"][epoch], ranks[1]["shares"][epoch]
        assert len(a) == len(b) == 20 and not set(a) & set(b)  # disjoint halves of 40 items
    assert ranks[0]["shares"][0] != ranks[0]["shares"][1]  # set_epoch reshuffles


def test_cli_under_torchrun_trains_identical_replicas_and_resumes(tmp_path, mnist_data):
    out = tmp_path / "run"
    args = ["-m", "gan_tutorial", "train", "01", "--setting", "quick", "--limit", "400",
            "--device", "cpu", "--print-every", "1", "--out", str(out)]
    first = torchrun(*args, "--epochs", "1", "--eval-every", "1", cwd=tmp_path)
    assert first.stdout.count("done:") == 1  # rank 0 alone reports
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["global_batch_size"] == 200
    assert summary["replicas_identical"] is True
    assert "frechet_distance" in summary["metrics"]  # the evaluator works on DDP-wrapped models
    assert summary["iterations"] == 2  # 400 items / (2 processes x 100) per epoch
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".pt") == ["checkpoint.pt"]

    single = GANTrainer(*build_models(preset("01")), device="cpu")
    assert single.load(out / "checkpoint.pt").iterations == 2  # loads in one process, no DDP prefix

    second = torchrun(*args, "--epochs", "3", cwd=tmp_path)
    assert "resuming at epoch 1" in second.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs_done"] == 3 and summary["iterations"] == 6
    assert summary["replicas_identical"] is True
    resumed = GANTrainer(*build_models(preset("01")), device="cpu")
    resumed.load(out / "checkpoint.pt")
    assert not torch.equal(resumed.G.main[0].weight, single.G.main[0].weight)  # it trained on
