r"""Hostile-but-fair inputs of issue 8 that no other unit test covered.

These cases used to live in scripts/hostile_inputs.py, a harness that nothing ran. Each of
its 48 cases is now covered by a test, listed below (the three device values and the two
quick-mode values share a row). A case counts as covered by an existing test only when that test
feeds the same input (model sizes may be scaled down where the code path is the same) and
asserts everything the case asserted: the error type, the message naming the culprit (and
the fix, where the case checked it), and state left unchanged. Where a test fell short, the
missing part is tested here ("here" below).

  item  case (what a user tries)
        covering test (in tests/; "here": this file)
  ----  ------------------------------------------------------------------
  1     save() after D's weights went NaN, over a good checkpoint
          test_checkpoint.py::test_non_finite_weights_are_never_saved
  2     load() a checkpoint of a G with another ngf (64 saved, 32 here)
          test_checkpoint.py::test_other_generator_architecture_names_network_and_shapes
  2     load() a checkpoint with the same G but another D
          test_checkpoint.py::test_failed_load_leaves_the_trainer_exactly_as_before
          here: test_an_incompatible_checkpoint_names_the_file_the_part_and_the_fix[other-discriminator] (the fix)
  2     load() a checkpoint whose Adam moments have the wrong shape
          test_checkpoint.py::test_incompatible_optimizer_state_is_refused_before_anything_changes
          here: test_an_incompatible_checkpoint_names_the_file_the_part_and_the_fix[wrong-adam-moments] (file, fix)
  6     DCGANGenerator(latent_dim=0)
          test_models.py::test_sizes_that_are_not_positive_integers_are_refused_at_construction[DCGANGenerator-latent_dim0]
  6     DCGANDiscriminator(ndf=-64)
          here: test_a_size_that_is_not_positive_is_named[DCGANDiscriminator-ndf]
  6     DCGANGenerator(nc=0)
          test_models.py::test_sizes_that_are_not_positive_integers_are_refused_at_construction[DCGANGenerator-nc]
  6     FCGenerator(latent_dim=0)
          test_models.py::test_sizes_that_are_not_positive_integers_are_refused_at_construction[FCGenerator-latent_dim]
  6     FCGenerator(hidden=(256, 0))
          test_models.py::test_sizes_that_are_not_positive_integers_are_refused_at_construction[FCGenerator-hidden\\[1\\]]
  6     FCDiscriminator(image_shape=(1, 0, 28))
          here: test_a_size_that_is_not_positive_is_named[FCDiscriminator-image_shape]
  6     64px DCGAN discriminator fed 128px images
          test_models.py::test_discriminator_names_expected_and_given_shape[dcgan-larger]
  6     64px DCGAN discriminator fed 32px images
          test_models.py::test_discriminator_names_expected_and_given_shape[dcgan-smaller]
  6     colour discriminator fed a real MNIST batch (1 channel, 28px)
          here: test_real_images_not_resized_for_the_discriminator_are_refused[MNIST]
  6     64px discriminator fed a real Pokémon sprite, not resized
          here: test_real_images_not_resized_for_the_discriminator_are_refused[pokemon]
  6     FC discriminator (28px) fed 32px images
          test_models.py::test_discriminator_names_expected_and_given_shape[fc]
  6     ConvDiscriminator (32px) fed 64px images
          test_models.py::test_discriminator_names_expected_and_given_shape[conv]
  7     GAN_TUTORIAL_DEVICE=tpu, =CPU, =meta
          test_config_runtime.py::test_device_variable_refuses_non_devices[tpu], [CPU], [meta]
  7     GAN_TUTORIAL_QUICK=2, =maybe
          test_config_runtime.py::test_quick_mode_refuses_values_that_mean_nothing[2], [maybe]
  7     GAN_TUTORIAL_QUICK= (empty) when the test suite starts
          test_config_runtime.py::test_empty_quick_value_does_not_defeat_the_test_suite_default
  10    load() a zero-byte checkpoint
          test_checkpoint.py::test_bad_checkpoint_files_raise_one_clear_error[zero_bytes]
  10    load() a checkpoint truncated to half its size
          test_checkpoint.py::test_bad_checkpoint_files_raise_one_clear_error[truncated]
  10    load() a text file named run.pt
          test_checkpoint.py::test_bad_checkpoint_files_raise_one_clear_error[text_file]
  10    load() a plain tensor saved with torch.save
          test_checkpoint.py::test_bad_checkpoint_files_raise_one_clear_error[plain_tensor]
  10    load() a generator's bare state_dict
          test_checkpoint.py::test_bad_checkpoint_files_raise_one_clear_error[bare_state_dict]
          here: test_an_incompatible_checkpoint_names_the_file_the_part_and_the_fix[bare-state-dict] (the fix)
  10    load() a checkpoint missing 'opt_d' and 'history'
          test_checkpoint.py::test_bad_checkpoint_files_raise_one_clear_error[missing_keys]
  10    load() a checkpoint from a newer format version
          test_checkpoint.py::test_bad_checkpoint_files_raise_one_clear_error[newer_format]
  10    load() a pickle of a dict holding Python objects
          here: test_an_incompatible_checkpoint_names_the_file_the_part_and_the_fix[dict-of-objects]
          (test_checkpoint.py's [arbitrary_object] pickles a bare object, not a dict holding one)
  10    load() a checkpoint saved before format versions existed
          test_checkpoint.py::test_old_checkpoints_without_format_version_still_load
  11    Ctrl-C while save() is writing
          test_checkpoint.py::test_interrupted_save_keeps_the_old_checkpoint_and_no_tmp
  11    a stale run.pt.tmp from a save killed with kill -9
          test_checkpoint.py::test_check_writable_clears_stale_tmp_files_but_not_a_live_writers
  12    check_writable(): checkpoint path inside a file
          test_checkpoint.py::test_check_writable_refuses_a_path_inside_a_file
          also here: test_a_bad_checkpoint_path_is_named_before_anything_runs[check_writable-inside-a-file]
  12    check_writable(): checkpoint path is a folder
          here: test_a_bad_checkpoint_path_is_named_before_anything_runs[check_writable-a-folder]
  12    check_writable(): read-only folder
          test_checkpoint.py::test_check_writable_refuses_a_read_only_folder
  12    fit(checkpoint=path inside a file) fails before the first batch
          here: test_a_bad_checkpoint_path_is_named_before_anything_runs[fit-inside-a-file] (and [fit-a-folder])
  1     fit() on data with a NaN image, logits D, over a good checkpoint
          test_train_options.py::test_a_diverging_run_stops_and_keeps_the_last_finite_checkpoint[logits-D]
  11    Ctrl-C mid-epoch, then fit() again
          test_train.py::test_interrupt_keeps_what_was_learned_and_can_continue
          here: test_a_run_interrupted_mid_epoch_continues_from_its_checkpoint (with the checkpoint; no .tmp)
  11    Ctrl-C during fit()'s final save
          test_train_options.py::test_ctrl_c_during_the_final_save_is_held_until_the_save_is_done
  3     a Pokémon unpack killed after 3 of 10 classes
          test_data_hardening.py::test_incomplete_pokemon_folder_is_used_as_it_is_and_the_way_back_is_named
  4     a truncated MNIST .gz
          test_data_hardening.py::test_damaged_mnist_file_without_a_good_copy_is_named[t10k-images-idx3-ubyte.gz-truncated]
  4     an extracted MNIST file with a zeroed header, its .gz intact
          here: test_a_damaged_extracted_mnist_file_is_rebuilt_offline_from_its_gz[zeroed-header]
  4     an extracted MNIST file with same-size damage, its .gz intact
          here: test_a_damaged_extracted_mnist_file_is_rebuilt_offline_from_its_gz[same-size]
          (test_data_hardening.py::test_damaged_extracted_file_is_replaced_from_the_archive_and_kept
           does this with download=True)
  5     an image folder with a truncated JPEG and a zero-byte PNG
          test_data_hardening.py::test_find_unreadable_images_lists_them and
          test_data_hardening.py::test_cache_build_names_every_unreadable_image
  8     the Pokémon download with no network
          test_data_hardening.py::test_offline_pokemon_download_says_what_to_do
  9     GAN_TUTORIAL_DATA naming a file
          test_data_hardening.py::test_data_root_that_is_a_file_is_refused
  13    the test suite without CelebA; under CI=true
          test_missing_data.py::test_without_celeba_the_suite_passes_and_says_why_lesson_03_is_skipped and
          test_missing_data.py::test_without_celeba_ci_fails_at_once_with_the_message (both slow)

Real files are read from the data root (the fixtures skip, with how to get them, when a
dataset is missing) and copied into ``tmp_path`` before anything damages them.
"""
from __future__ import annotations

import gzip
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.transforms.functional import to_tensor

from gan_tutorial.plumbing import image_cache, mnist_files
from gan_tutorial.plumbing.checkpoint import CheckpointError, check_writable, save_checkpoint
from gan_tutorial.data import load_mnist
from gan_tutorial.models import DCGANDiscriminator, FCDiscriminator
from gan_tutorial.plumbing.runtime import seed_everything

from test_checkpoint import assert_same, dcgan_trainer, everything, fc_trainer, trained
from test_train import SHAPE, InterruptingLoader, loader, tiny_trainer

ARCHITECTURE_FIX = "The architecture must match the one that saved the checkpoint"


# ---------------------------------------------------------------- checkpoints load() refuses
def other_discriminator(tmp_path: Path):
    """Saved with ndf=8, loaded into a trainer with the same G but ndf=4."""
    seed_everything(1)
    path = trained(dcgan_trainer(ndf=8)).save(tmp_path / "c.pt")
    seed_everything(2)
    return path, trained(dcgan_trainer(ndf=4)), [
        "discriminator: main.0.0.weight has shape (8, 1, 4, 4) in the checkpoint but "
        "(4, 1, 4, 4) in this model", ARCHITECTURE_FIX]


def wrong_adam_moments(tmp_path: Path):
    state = torch.load(trained(fc_trainer()).save(tmp_path / "c.pt"), weights_only=True)
    state["opt_d"]["state"][0]["exp_avg"] = torch.zeros(3, 3)
    save_checkpoint(tmp_path / "c.pt", state)
    trainer = trained(fc_trainer())
    first = tuple(next(trainer.D.parameters()).shape)
    return tmp_path / "c.pt", trainer, [
        f"discriminator optimizer (opt_d): exp_avg of parameter 0 has shape (3, 3) in the "
        f"checkpoint but the parameter has {first}", ARCHITECTURE_FIX]


def bare_state_dict(tmp_path: Path):
    torch.save(fc_trainer().G.state_dict(), tmp_path / "c.pt")
    return tmp_path / "c.pt", trained(fc_trainer()), [
        "lacks the keys", "It looks like a single model's state_dict: load that with "
        "model.load_state_dict(torch.load(path, weights_only=True))"]


def dict_of_objects(tmp_path: Path):
    (tmp_path / "c.pt").write_bytes(pickle.dumps({"model": Path("x")}, protocol=2))
    return tmp_path / "c.pt", trained(fc_trainer()), [
        "holds Python objects other than tensors"]


REFUSED = [other_discriminator, wrong_adam_moments, bare_state_dict, dict_of_objects]


@pytest.mark.parametrize("make", REFUSED, ids=[f.__name__.replace("_", "-") for f in REFUSED])
def test_an_incompatible_checkpoint_names_the_file_the_part_and_the_fix(tmp_path, make):
    path, trainer, expected = make(tmp_path)
    before = everything(trainer)
    with pytest.raises(CheckpointError) as info:
        trainer.load(path)
    message = str(info.value)
    for text in (f"Checkpoint {path}: ", *expected):
        assert text in message
    assert_same(before, everything(trainer))


# ---------------------------------------------------------------- models: sizes and real images
@pytest.mark.parametrize("build, message", [
    (lambda: DCGANDiscriminator(ndf=-64), "DCGANDiscriminator: ndf must be a positive integer, got -64"),
    (lambda: FCDiscriminator(image_shape=(1, 0, 28)),
     "FCDiscriminator: image_shape[1] must be a positive integer, got 0"),
], ids=["DCGANDiscriminator-ndf", "FCDiscriminator-image_shape"])
def test_a_size_that_is_not_positive_is_named(build, message):
    with pytest.raises(ValueError) as info:
        build()
    assert str(info.value) == message


def mnist_digits(root: Path) -> torch.Tensor:
    """The first 4 test digits, read from the .gz as a user might, scaled to [-1, 1]."""
    with gzip.open(root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz") as f:
        pixels = np.frombuffer(f.read(16 + 4 * 784), dtype=np.uint8, offset=16)
    return torch.from_numpy(pixels.copy()).float().div(127.5).sub(1).view(4, 1, 28, 28)


def pokemon_sprite(root: Path) -> torch.Tensor:
    """One sprite at the size of its file, as the package reads it, scaled to [-1, 1]."""
    sprite = sorted((root / "pokemon").rglob("*.png"))[0]
    return to_tensor(image_cache.read_image(sprite)).unsqueeze(0) * 2 - 1


@pytest.mark.parametrize("fixture, read", [("mnist_data", mnist_digits),
                                           ("pokemon_data", pokemon_sprite)],
                         ids=["MNIST", "pokemon"])
def test_real_images_not_resized_for_the_discriminator_are_refused(request, fixture, read):
    images = read(request.getfixturevalue(fixture))
    _, channels, height, width = images.shape
    assert (channels, height, width) != (3, 64, 64)  # else the case tests nothing
    with pytest.raises(ValueError) as info:
        DCGANDiscriminator()(images)
    assert str(info.value) == ("DCGANDiscriminator expects images of shape (n, 3, 64, 64), "
                               f"got (n, {channels}, {height}, {width})")


# ---------------------------------------------------------------- bad checkpoint paths
class CountingLoader:
    """Two tiny batches; counts how many were served."""

    def __init__(self) -> None:
        self.served = 0

    def __len__(self) -> int:
        return 2

    def __iter__(self):
        for _ in range(2):
            self.served += 1
            yield torch.rand(4, *SHAPE) * 2 - 1


def inside_a_file(tmp_path: Path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file")
    return blocker / "run.pt", NotADirectoryError, [
        f"Cannot write checkpoint {blocker / 'run.pt'}: {blocker} is a file, not a folder"]


def a_folder(tmp_path: Path):
    folder = tmp_path / "runs"
    folder.mkdir()
    return folder, IsADirectoryError, [
        f"Checkpoint path {folder} is a folder. Give a file name inside it, "
        f"e.g. {folder / 'checkpoint.pt'}"]


@pytest.mark.parametrize("make", [inside_a_file, a_folder], ids=["inside-a-file", "a-folder"])
@pytest.mark.parametrize("caller", ["check_writable", "fit"])
def test_a_bad_checkpoint_path_is_named_before_anything_runs(tmp_path, make, caller):
    path, error, expected = make(tmp_path)
    batches = CountingLoader()
    calls = {"check_writable": lambda: check_writable(path),
             "fit": lambda: tiny_trainer().fit(batches, epochs=1, checkpoint=path, progress=False)}
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(error) as info:
        calls[caller]()
    for text in expected:
        assert text in str(info.value)
    assert batches.served == 0  # found before the first batch, not after an epoch
    assert sorted(tmp_path.rglob("*")) == before  # and nothing was written


# ---------------------------------------------------------------- Ctrl-C, then continue
@pytest.mark.parametrize("continue_with", ["same-trainer", "fresh-trainer"])
def test_a_run_interrupted_mid_epoch_continues_from_its_checkpoint(tmp_path, capsys, continue_with):
    path = tmp_path / "c.pt"
    trainer = tiny_trainer()
    first = trainer.fit(InterruptingLoader(loader(), stop_after=3), epochs=2, checkpoint=path,
                        progress=False)
    assert first.interrupted and first.iterations == 3
    assert "Interrupted after 3 iterations" in capsys.readouterr().out
    if continue_with == "fresh-trainer":  # Ctrl-C, then run the notebook cell again
        trainer = tiny_trainer()
        assert trainer.resume_if_possible(path)
    history = trainer.fit(loader(), epochs=2, checkpoint=path, progress=False)
    # the interrupted epoch was finished, not run again: 5 batches per epoch, counted once
    assert history.iterations == 10 and history.epoch == [0] * 5 + [1] * 5
    assert tiny_trainer().load(path).iterations == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]  # no .tmp left behind


# ---------------------------------------------------------------- damaged MNIST, intact .gz, offline
def zero_header(content: bytearray) -> bytes:
    content[:16] = bytes(16)
    return bytes(content)


def same_size_damage(content: bytearray) -> bytes:
    content[5000:5100] = bytes(255 - b for b in content[5000:5100])
    return bytes(content)


@pytest.mark.parametrize("damage", [zero_header, same_size_damage], ids=["zeroed-header", "same-size"])
def test_a_damaged_extracted_mnist_file_is_rebuilt_offline_from_its_gz(mnist_data, tmp_path, monkeypatch,
                                                                       capsys, damage):
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(mnist_files, "_verified", {})
    monkeypatch.setattr(mnist_files, "_download",
                        lambda raw, name: pytest.fail(f"download=False, yet {name} was downloaded"))
    source, raw = mnist_data / "MNIST" / "raw", tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        for suffix in ("", ".gz"):
            shutil.copy(source / (name + suffix), raw)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"")  # torchvision wants them to exist before reading the test split
    images = raw / "t10k-images-idx3-ubyte"
    damaged = damage(bytearray(images.read_bytes()))
    images.write_bytes(damaged)
    digits = load_mnist(tmp_path, split="test", download=False)
    assert len(digits) == 10_000
    assert images.read_bytes() == (source / images.name).read_bytes()  # the good copy is back
    assert (raw / f"{images.name}.bad").read_bytes() == damaged  # and the damaged one kept
    assert f"replaced it by a good copy (decompressed from {images.name}.gz" in capsys.readouterr().out
