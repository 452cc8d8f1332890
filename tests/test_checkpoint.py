"""Checkpoints under hostile input and faults (issue 8, items 1, 2, 10, 11, 12).

Every bad file is made in a temporary folder; the trainer (or the file already on disk)
must come out exactly as it went in.
"""
import errno
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

import gan_tutorial.plumbing.checkpoint as checkpoint_module
from gan_tutorial.plumbing.checkpoint import (FORMAT_VERSION, CheckpointError, NonFiniteStateError,
                                     check_writable, load_checkpoint, save_checkpoint,
                                     state_is_finite, tmp_path_for)
from gan_tutorial.models import DCGANDiscriminator, DCGANGenerator, FCDiscriminator, FCGenerator
from gan_tutorial.plumbing.runtime import seed_everything
from gan_tutorial.train import GANTrainer

SHAPE = (1, 8, 8)


def fc_trainer(hidden: int = 16) -> GANTrainer:
    G = FCGenerator(latent_dim=4, hidden=(hidden,), image_shape=SHAPE)
    D = FCDiscriminator(image_shape=SHAPE, hidden=(hidden,))
    return GANTrainer(G, D, device="cpu", n_fixed=6)


def dcgan_trainer(ngf: int = 8, ndf: int = 8) -> GANTrainer:
    G = DCGANGenerator(latent_dim=16, ngf=ngf, nc=1, image_size=32)
    D = DCGANDiscriminator(ndf=ndf, nc=1, image_size=32)
    return GANTrainer(G, D, device="cpu", n_fixed=4)


def trained(trainer: GANTrainer, steps: int = 2) -> GANTrainer:
    """Give the trainer optimiser state and history, so 'unchanged' means something."""
    shape = (4, *SHAPE) if isinstance(trainer.G, FCGenerator) else (4, 1, 32, 32)
    for _ in range(steps):
        trainer.history.record(0, trainer.train_step(torch.rand(shape) * 2 - 1))
    return trainer


def everything(trainer: GANTrainer) -> dict:
    """Deep copy of all trainer state that load() may touch."""
    def tensors(obj):
        if isinstance(obj, torch.Tensor):
            return obj.detach().clone()
        if isinstance(obj, dict):
            return {k: tensors(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(tensors(v) for v in obj)
        return obj
    return tensors({"G": trainer.G.state_dict(), "D": trainer.D.state_dict(),
                    "opt_g": trainer.opt_g.state_dict(), "opt_d": trainer.opt_d.state_dict(),
                    "fixed_noise": trainer.fixed_noise, "history": trainer.history.state_dict()})


def assert_same(a, b, where="state"):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


# ---------------------------------------------------------------- writing
def test_save_is_versioned_and_leaves_no_tmp(tmp_path):
    path = fc_trainer().save(tmp_path / "c.pt")
    raw = torch.load(path, weights_only=True)
    assert raw["format_version"] == FORMAT_VERSION
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]


def saved_once(tmp_path: Path):
    """A trained trainer, the checkpoint it wrote to tmp_path/c.pt, and that file's bytes."""
    path = tmp_path / "c.pt"
    trainer = trained(fc_trainer())
    trainer.save(path)
    return trainer, path, path.read_bytes()


def test_interrupted_save_keeps_the_old_checkpoint_and_no_tmp(tmp_path, monkeypatch):
    trainer, path, before = saved_once(tmp_path)
    real_save = torch.save

    def save_then_ctrl_c(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)
        raise KeyboardInterrupt  # Ctrl-C after bytes were written, before the rename

    monkeypatch.setattr(torch, "save", save_then_ctrl_c)
    trained(trainer)
    with pytest.raises(KeyboardInterrupt):
        trainer.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]
    monkeypatch.undo()
    fc_trainer().load(path)


def test_check_writable_clears_stale_tmp_files_but_not_a_live_writers(tmp_path):
    path = tmp_path / "runs" / "c.pt"
    path.parent.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [path.with_name("c.pt.tmp"), path.with_name(f"c.pt.{dead.pid}-0badc0de.tmp")]
    live = tmp_path_for(path)  # this process is alive: its save may be under way
    for tmp in (*stale, live):
        tmp.write_bytes(b"half a checkpoint")
    assert check_writable(path) == path
    assert sorted(p.name for p in path.parent.iterdir()) == [live.name]
    assert not path.exists()  # checking writes nothing that stays


def test_two_saves_never_share_a_temporary_file(tmp_path):
    """A second run starting up used to delete the first one's c.pt.tmp mid-save."""
    path = tmp_path / "c.pt"
    assert tmp_path_for(path) != tmp_path_for(path)
    assert tmp_path_for(path).name.startswith(f"c.pt.{os.getpid()}-")


def test_check_writable_refuses_a_path_inside_a_file(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match=r"notes\.txt is a file, not a folder"):
        check_writable(blocker / "sub" / "c.pt")
    with pytest.raises(NotADirectoryError, match=r"notes\.txt is a file"):
        fc_trainer().save(blocker / "c.pt")
    assert blocker.read_text() == "not a folder"


def test_check_writable_refuses_a_folder_as_the_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder. Give a file name inside it"):
        check_writable(tmp_path)


def test_check_writable_refuses_a_read_only_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:  # root ignores permission bits: make the write fail as it would
        def refuse(file, mode="r", *args, **kwargs):
            if "w" in mode and Path(file).parent == folder:
                raise PermissionError(errno.EACCES, "Permission denied", str(file))
            return open(file, mode, *args, **kwargs)
        monkeypatch.setattr(checkpoint_module, "open", refuse, raising=False)
    try:
        with pytest.raises(PermissionError, match=r"folder .*ro is not writable"):
            check_writable(folder / "c.pt")
    finally:
        folder.chmod(0o755)


# ---------------------------------------------------------------- NaN guard
def test_non_finite_weights_are_never_saved(tmp_path):
    path = tmp_path / "c.pt"
    trainer = trained(fc_trainer())
    trainer.save(path)
    before = path.read_bytes()
    with torch.no_grad():
        trainer.D.main[1].weight[0, 0] = float("nan")
    with pytest.raises(NonFiniteStateError, match=r"discriminator's weights hold NaN or inf "
                                                  r"\(main\.1\.weight\)"):
        trainer.save(path)
    with torch.no_grad():
        trainer.D.main[1].weight[0, 0] = 0.0
        trainer.G.main[0].bias[0] = float("inf")
    with pytest.raises(CheckpointError, match="generator's weights"):
        trainer.save(path)
    assert path.read_bytes() == before
    restored = fc_trainer()
    restored.load(path)
    assert state_is_finite(restored.G.state_dict()) and state_is_finite(restored.D.state_dict())


def test_state_is_finite():
    state = {"w": torch.ones(3), "steps": torch.tensor(5), "b": torch.zeros(2)}
    assert state_is_finite(state)
    assert state_is_finite({})
    state["b"][1] = float("-inf")
    assert not state_is_finite(state)
    assert not state_is_finite({"w": torch.tensor([float("nan")], dtype=torch.bfloat16)})


# ---------------------------------------------------------------- reading bad files
def good_checkpoint(tmp_path) -> Path:
    return trained(fc_trainer()).save(tmp_path / "good.pt")


def zero_bytes(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"")


def truncated(tmp_path):
    data = good_checkpoint(tmp_path).read_bytes()
    (tmp_path / "bad.pt").write_bytes(data[: len(data) // 2])


def text_file(tmp_path):
    (tmp_path / "bad.pt").write_text("learning rate 2e-4, batch 128\n" * 20)


def plain_tensor(tmp_path):
    torch.save(torch.zeros(4, 4), tmp_path / "bad.pt")


def bare_state_dict(tmp_path):
    torch.save(fc_trainer().G.state_dict(), tmp_path / "bad.pt")


def missing_keys(tmp_path):
    state = torch.load(good_checkpoint(tmp_path), weights_only=True)
    del state["opt_d"], state["history"]
    torch.save(state, tmp_path / "bad.pt")


def newer_format(tmp_path):
    state = torch.load(good_checkpoint(tmp_path), weights_only=True)
    state["format_version"] = FORMAT_VERSION + 1
    torch.save(state, tmp_path / "bad.pt")


def arbitrary_object(tmp_path):
    (tmp_path / "bad.pt").write_bytes(pickle.dumps(Path("x"), protocol=2))


def folder(tmp_path):
    (tmp_path / "bad.pt").mkdir()


BAD_FILES = [
    (zero_bytes, r"is empty \(0 bytes\)"),
    (truncated, r"is damaged or truncated \([\d,]+ bytes\)"),
    (text_file, r"is not a PyTorch checkpoint \(it starts with b'lear'\)"),
    (plain_tensor, r"holds a single tensor of shape \(4, 4\), not a gan_tutorial checkpoint"),
    (bare_state_dict, r"lacks the keys .*It looks like a single model's state_dict"),
    (missing_keys, r"lacks the keys \['opt_d', 'history'\]"),
    (newer_format, rf"written by a newer gan_tutorial \(checkpoint format {FORMAT_VERSION + 1}"),
    (arbitrary_object, r"holds Python objects other than tensors"),
    (folder, r"is a folder, not a checkpoint file"),
]


@pytest.mark.parametrize("make_bad,message", BAD_FILES, ids=[f.__name__ for f, _ in BAD_FILES])
def test_bad_checkpoint_files_raise_one_clear_error(tmp_path, make_bad, message):
    make_bad(tmp_path)
    bad = tmp_path / "bad.pt"
    trainer = trained(fc_trainer())
    before = everything(trainer)
    with pytest.raises(CheckpointError, match=message) as info:
        trainer.load(bad)
    assert str(bad) in str(info.value) and info.value.path == bad
    assert isinstance(info.value, ValueError)
    assert_same(before, everything(trainer))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError):  # an unusable file is not silently trained over
        fc_trainer().resume_if_possible(bad)


def test_old_checkpoints_without_format_version_still_load(tmp_path):
    trainer = trained(fc_trainer())
    state = torch.load(trainer.save(tmp_path / "c.pt"), weights_only=True)
    del state["format_version"]
    torch.save(state, tmp_path / "old.pt")  # exactly what save() wrote before versions
    restored = fc_trainer()
    restored.load(tmp_path / "old.pt")
    assert_same(everything(trainer), everything(restored))


# ---------------------------------------------------------------- another architecture
def test_other_generator_architecture_names_network_and_shapes(tmp_path):
    path = trained(dcgan_trainer(ngf=8)).save(tmp_path / "c.pt")
    trainer = trained(dcgan_trainer(ngf=4))
    before = everything(trainer)
    with pytest.raises(CheckpointError) as info:
        trainer.load(path)
    message = str(info.value)
    assert ("generator: main.0.0.weight has shape (16, 32, 4, 4) in the checkpoint but "
            "(16, 16, 4, 4) in this model") in message
    assert "discriminator:" not in message  # D matches: only G is blamed
    assert "architecture must match the one that saved the checkpoint" in message
    assert_same(before, everything(trainer))


def test_failed_load_leaves_the_trainer_exactly_as_before(tmp_path):
    # Same generator, other discriminator: the old load() had already replaced G here.
    seed_everything(1)
    path = trained(dcgan_trainer(ndf=8)).save(tmp_path / "c.pt")
    seed_everything(2)
    trainer = trained(dcgan_trainer(ndf=4))
    before = everything(trainer)
    with pytest.raises(CheckpointError, match=r"discriminator: main\.0\.0\.weight has shape "
                                              r"\(8, 1, 4, 4\) in the checkpoint but \(4, 1, 4, 4\)"):
        trainer.load(path)
    assert_same(before, everything(trainer))


def test_incompatible_optimizer_state_is_refused_before_anything_changes(tmp_path):
    state = torch.load(trained(fc_trainer()).save(tmp_path / "c.pt"), weights_only=True)
    state["opt_d"]["state"][0]["exp_avg"] = torch.zeros(3, 3)  # torch itself would accept this
    save_checkpoint(tmp_path / "bad_opt.pt", state)
    trainer = trained(fc_trainer())
    before = everything(trainer)
    with pytest.raises(CheckpointError, match=r"discriminator optimizer \(opt_d\): exp_avg of "
                                              r"parameter 0 has shape \(3, 3\)"):
        trainer.load(tmp_path / "bad_opt.pt")
    assert_same(before, everything(trainer))


def test_wrong_fixed_noise_or_history_is_refused(tmp_path):
    state = torch.load(trained(fc_trainer()).save(tmp_path / "c.pt"), weights_only=True)
    state["fixed_noise"] = torch.zeros(6, 7)
    state["history"]["no_such_field"] = 1
    save_checkpoint(tmp_path / "bad.pt", state)
    trainer = trained(fc_trainer())
    before = everything(trainer)
    with pytest.raises(CheckpointError, match=r"fixed_noise: expected shape \(n, 4\)[\s\S]*history"):
        trainer.load(tmp_path / "bad.pt")
    assert_same(before, everything(trainer))


def test_load_keeps_this_machines_optimizer_implementation(tmp_path):
    path = trained(fc_trainer()).save(tmp_path / "c.pt")
    state = torch.load(path, weights_only=True)
    state["opt_g"]["param_groups"][0]["foreach"] = True
    save_checkpoint(path, state)
    trainer = fc_trainer()
    trainer.opt_g.param_groups[0]["foreach"] = False
    trainer.load(path)
    assert trainer.opt_g.param_groups[0]["foreach"] is False
    trained(trainer, steps=1)  # and it still steps


def test_a_full_disk_keeps_the_previous_checkpoint_and_says_so_in_one_sentence(tmp_path, monkeypatch):
    """torch.save on a full disk: 'RuntimeError: [enforce fail at inline_container.cc:672] ...
    unexpected pos', with Errno 28 buried in a 30-line traceback."""
    trainer, path, before = saved_once(tmp_path)
    real_save = torch.save

    def save_on_a_full_disk(obj, f, *args, **kwargs):
        f.write(b"\0" * 100)
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as err:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0") from err

    monkeypatch.setattr(torch, "save", save_on_a_full_disk)
    with pytest.raises(OSError) as info:
        trained(trainer).save(path)
    message = str(info.value)
    assert info.value.errno == errno.ENOSPC and "\n" not in message
    assert f"No space left to write {path}" in message and "MB needed" in message and "MB free" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]
    monkeypatch.setattr(torch, "save", real_save)


def test_the_checkpoint_records_every_training_option_and_a_resume_says_what_changed(tmp_path):
    from gan_tutorial.augment import DiffAugment

    path = tmp_path / "c.pt"
    first = GANTrainer(FCGenerator(latent_dim=8, hidden=(16,)), FCDiscriminator(hidden=(16,), logits=True),
                       device="cpu", precision="fp32", g_loss="minimax", d_steps=2, real_label=0.9,
                       augment=DiffAugment("translation"), lr_d=1e-4, ema_decay=0.99)
    first.save(path)
    saved = torch.load(path, weights_only=True)["options"]
    assert saved == {"lr": 2e-4, "betas": [0.5, 0.999], "precision": "fp32", "d_loss_reduction": "sum",
                     "g_loss": "minimax", "d_steps": 2, "real_label": 0.9,
                     "augment": "DiffAugment('translation')", "lr_d": 1e-4, "loss": "bce",
                     "ema_decay": 0.99, "channels_last": False}
    same = GANTrainer(FCGenerator(latent_dim=8, hidden=(16,)), FCDiscriminator(hidden=(16,), logits=True),
                      device="cpu", precision="fp32", g_loss="minimax", d_steps=2, real_label=0.9,
                      augment=DiffAugment("translation"), lr_d=1e-4, ema_decay=0.99)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same.load(path)  # nothing changed: no warning
    other = GANTrainer(FCGenerator(latent_dim=8, hidden=(16,)), FCDiscriminator(hidden=(16,), logits=True),
                       device="cpu", precision="fp32", d_steps=2, real_label=0.9)
    with pytest.warns(UserWarning, match=r"g_loss 'minimax' -> 'non-saturating'; augment "
                                         r"\"DiffAugment\('translation'\)\" -> None; "
                                         r"lr_d 0.0001 -> 0.0002; ema_decay 0.99 -> None"):
        other.load(path)
