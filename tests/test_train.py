import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from gan_tutorial.models import DCGANDiscriminator, DCGANGenerator, FCDiscriminator, FCGenerator
from gan_tutorial.plumbing.runtime import seed_everything
from gan_tutorial.train import GANTrainer, History, to_uint8

SHAPE = (1, 8, 8)


def tiny_trainer(**kwargs) -> GANTrainer:
    G = FCGenerator(latent_dim=4, hidden=(16,), image_shape=SHAPE)
    D = FCDiscriminator(image_shape=SHAPE, hidden=(16,))
    return GANTrainer(G, D, device="cpu", n_fixed=6, **kwargs)


def loader(n=40, batch=8, value=None) -> DataLoader:
    images = torch.full((n, *SHAPE), value) if value is not None else torch.rand(n, *SHAPE) * 2 - 1
    return DataLoader(TensorDataset(images, torch.zeros(n)), batch_size=batch, drop_last=True)


class InterruptingLoader:
    """Yields ``stop_after`` batches, then raises KeyboardInterrupt as Ctrl-C would."""

    def __init__(self, inner: DataLoader, stop_after: int):
        self.inner, self.stop_after = inner, stop_after

    def __len__(self):
        return len(self.inner)

    def __iter__(self):
        for i, batch in enumerate(self.inner):
            if i == self.stop_after:
                raise KeyboardInterrupt
            yield batch


def test_train_step_reports_losses_and_probabilities():
    stats = tiny_trainer().train_step(torch.rand(8, *SHAPE))
    assert set(stats) == {"loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2"}
    assert stats["loss_d"] > 0 and stats["loss_g"] > 0
    for key in ("d_x", "d_g_z1", "d_g_z2"):
        assert 0 < stats[key] < 1


def test_d_step_changes_only_d_and_g_step_changes_only_g(monkeypatch):
    trainer = tiny_trainer()
    g_before = [p.clone() for p in trainer.G.parameters()]
    d_before = [p.clone() for p in trainer.D.parameters()]
    calls = []
    monkeypatch.setattr(trainer.opt_g, "step", lambda: calls.append("g"))
    trainer.train_step(torch.rand(8, *SHAPE))
    assert calls == ["g"]  # G's optimiser stepped once (and did nothing here)
    assert all(torch.equal(a, b) for a, b in zip(g_before, trainer.G.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, trainer.D.parameters()))


def test_history_bookkeeping_and_snapshots():
    trainer = tiny_trainer()
    history = trainer.fit(loader(n=40, batch=8), epochs=3, snapshot_every=4, progress=False)
    assert history.iterations == 15  # 5 batches x 3 epochs
    assert history.epoch == [0] * 5 + [1] * 5 + [2] * 5
    assert all(len(getattr(history, k)) == 15 for k in ("loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2"))
    assert history.snapshot_iterations == [0, 4, 8, 12, 15]  # untrained, every 4, the end
    assert all(s.shape == (6, *SHAPE) and s.dtype == torch.uint8 for s in history.snapshots)
    assert history.epochs_done == 3 and not history.interrupted
    assert len(history.epoch_means("loss_d")) == 3
    first_epoch = sum(history.loss_d[:5]) / 5
    assert history.epoch_means("loss_d")[0] == pytest.approx(first_epoch)


def test_fit_counts_epochs_in_total():
    trainer = tiny_trainer()
    trainer.fit(loader(), epochs=2, progress=False)
    trainer.fit(loader(), epochs=2, progress=False)  # already done: nothing more
    assert trainer.history.iterations == 10
    trainer.fit(loader(), epochs=3, progress=False)
    assert trainer.history.iterations == 15 and trainer.history.epochs_done == 3


def test_mean_reduction_halves_the_discriminator_loss():
    batch = torch.rand(8, *SHAPE)
    seed_everything(1)
    summed = tiny_trainer().train_step(batch)
    seed_everything(1)
    averaged = tiny_trainer(d_loss_reduction="mean").train_step(batch)
    assert averaged["loss_d"].item() == pytest.approx(summed["loss_d"].item() / 2, rel=1e-5)
    with pytest.raises(ValueError, match="d_loss_reduction"):
        tiny_trainer(d_loss_reduction="max")


def test_same_seed_same_run():
    runs = []
    for _ in range(2):
        seed_everything(7)
        trainer = tiny_trainer()
        runs.append(trainer.fit(loader(), epochs=1, progress=False).loss_g)
    assert runs[0] == runs[1]


def test_checkpoint_round_trip(tmp_path):
    seed_everything(0)
    trainer = tiny_trainer()
    trainer.fit(loader(), epochs=2, checkpoint=tmp_path / "ckpt.pt", progress=False)
    restored = tiny_trainer()
    history = restored.load(tmp_path / "ckpt.pt")
    assert history.loss_d == trainer.history.loss_d
    assert history.snapshot_iterations == trainer.history.snapshot_iterations
    assert torch.equal(restored.fixed_noise, trainer.fixed_noise)
    for a, b in zip(trainer.G.state_dict().values(), restored.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(trainer.D.state_dict().values(), restored.D.state_dict().values()):
        assert torch.equal(a, b)
    assert restored.opt_d.state_dict()["state"][0]["step"] == 10
    restored.fit(loader(), epochs=3, progress=False)
    assert restored.history.iterations == 15


def test_resume_if_possible(tmp_path):
    trainer = tiny_trainer()
    assert not trainer.resume_if_possible(tmp_path / "none.pt")
    trainer.fit(loader(), epochs=1, checkpoint=tmp_path / "c.pt", progress=False)
    other = tiny_trainer()
    assert other.resume_if_possible(tmp_path / "c.pt")
    assert other.history.epochs_done == 1


def test_loading_a_missing_checkpoint_explains(tmp_path):
    with pytest.raises(FileNotFoundError, match="No checkpoint at"):
        tiny_trainer().load(tmp_path / "nope.pt")


def test_interrupt_keeps_what_was_learned_and_can_continue(tmp_path, capsys):
    trainer = tiny_trainer()
    before = [p.clone() for p in trainer.G.parameters()]
    history = trainer.fit(InterruptingLoader(loader(), stop_after=3), epochs=2,
                          checkpoint=tmp_path / "c.pt", progress=False)
    assert history.interrupted
    assert history.iterations == 3
    assert history.snapshot_iterations[-1] == 3  # a last snapshot of the interrupted state
    assert not all(torch.equal(a, b) for a, b in zip(before, trainer.G.parameters()))
    assert "Interrupted after 3 iterations" in capsys.readouterr().out
    saved = tiny_trainer()
    assert saved.load(tmp_path / "c.pt").iterations == 3
    history = trainer.fit(loader(), epochs=2, progress=False)
    assert not history.interrupted and history.epochs_done == 2
    # the interrupted epoch was finished, not run again: each epoch counts its 5 updates once
    assert history.iterations == 10 and history.epoch == [0] * 5 + [1] * 5


def test_sample_dir_gets_one_grid_per_epoch(tmp_path):
    tiny_trainer().fit(loader(), epochs=2, sample_dir=tmp_path / "s", progress=False)
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["epoch_001.png", "epoch_002.png"]


def test_empty_loader_is_refused():
    with pytest.raises(ValueError, match="no batches"):
        tiny_trainer().fit(loader(n=4, batch=8), epochs=1, progress=False)


def test_logit_discriminator_records_probabilities():
    G = DCGANGenerator(latent_dim=8, ngf=4, nc=1, image_size=32)
    D = DCGANDiscriminator(ndf=4, nc=1, image_size=32, logits=True)
    trainer = GANTrainer(G, D, device="cpu")
    assert isinstance(trainer.loss.criterion, torch.nn.BCEWithLogitsLoss)
    stats = trainer.train_step(torch.rand(4, 1, 32, 32) * 2 - 1)
    assert all(0 < stats[k] < 1 for k in ("d_x", "d_g_z1", "d_g_z2"))


def test_print_every_writes_stats_lines(capsys):
    tiny_trainer().fit(loader(), epochs=1, print_every=2, progress=False)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("[1/1]")]
    assert [l.split("]")[1] for l in lines] == ["[0/5", "[2/5", "[4/5"]
    assert all("Loss_D:" in l and "D(G(z)):" in l for l in lines)


def test_the_generator_learns_the_data():
    """On data that is one constant grey image, G's output must move towards that grey."""
    seed_everything(0)
    trainer = tiny_trainer(lr=1e-3)
    target = 0.6
    start = (trainer.sample(n=64).mean() - target).abs().item()
    trainer.fit(loader(n=64, batch=16, value=target), epochs=60, progress=False)
    end = (trainer.sample(n=64).mean() - target).abs().item()
    assert start > 0.5
    assert end < 0.2


def test_to_uint8_denormalises():
    assert to_uint8(torch.tensor([-1.0, 0.0, 1.0, 3.0])).tolist() == [0, 128, 255, 255]


def test_history_state_dict_round_trip():
    history = History()
    history.record(0, {"loss_d": 1.0, "loss_g": 2.0, "d_x": 0.9, "d_g_z1": 0.1, "d_g_z2": 0.2})
    assert History.from_state_dict(history.state_dict()) == history


def test_sampling_uses_batch_statistics_without_touching_running_ones():
    G = DCGANGenerator(latent_dim=8, ngf=4, nc=1, image_size=32)
    trainer = GANTrainer(G, DCGANDiscriminator(ndf=4, nc=1, image_size=32), device="cpu")
    before = {k: v.clone() for k, v in G.state_dict().items()}
    with_batch = trainer.sample(n=16)
    assert G.training  # restored
    for key, value in G.state_dict().items():
        assert torch.equal(value, before[key]), key
    # fresh running stats (mean 0, var 1) do not normalise the real activations: outputs
    # saturate towards a few values, while batch statistics keep them varied
    eval_mode = trainer.sample(trainer.fixed_noise[:16], batch_stats=False)
    assert with_batch.std() > eval_mode.std()


def test_sampling_turns_dropout_off():
    G = FCGenerator(latent_dim=4, hidden=(16,), image_shape=SHAPE, dropout=0.9)
    trainer = GANTrainer(G, FCDiscriminator(image_shape=SHAPE), device="cpu")
    z = trainer.noise(4)
    assert torch.equal(trainer.sample(z), trainer.sample(z))
