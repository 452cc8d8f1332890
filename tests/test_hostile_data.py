"""Hostile inputs of issue 28: data the package must not delete, files that must not hang it,
and damaged files and settings whose errors must name the culprit and the fix.

Principle: nothing is deleted that the package did not create and cannot prove it created.
Every test builds its own tiny files in ``tmp_path``; nothing reads or writes the data root.
"""
from __future__ import annotations

import json
import os
import threading
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_tutorial.plumbing import image_cache
from gan_tutorial.data import DatasetNotFoundError, load_image_folder, load_pokemon
from gan_tutorial.history import STAT_KEYS
from gan_tutorial.plumbing.image_cache import CachedImageFolder, cache_folder
from gan_tutorial.lessons import preset
from gan_tutorial.lessons.saved_runs import load_run, write_tiles


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Image caches go to this test's folder, not the user's."""
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "cache"))


def _sprite(path: Path, colour: tuple[int, int, int, int]) -> None:
    """A tiny RGBA sprite (re-saving it as RGB, as an editor may, changes its size)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGBA", (6, 6), colour).save(path)


def _pokemon_zip(tmp_path: Path) -> Path:
    """A hand-made pokemon.zip in ``tmp_path``: 3 classes of 2 sprites, as the d2l copy lays them out."""
    made = tmp_path / "made"
    with zipfile.ZipFile(tmp_path / "pokemon.zip", "w") as archive:
        for c in range(1, 4):
            for i, name in enumerate(("black-white.png", "red-blue.png")):
                _sprite(made / f"{c}" / name, (40 * c, 20 * i, 90, 200))
                archive.write(made / f"{c}" / name, f"pokemon/{c}/{name}")
    return tmp_path / "pokemon.zip"


def _unpack(archive: Path) -> Path:
    with zipfile.ZipFile(archive) as z:
        z.extractall(archive.parent)
    return archive.parent / "pokemon"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- 1: a user's pokemon/ is theirs
def _add_and_edit(folder: Path) -> None:
    """A folder of the user's own beside the sprites, and one sprite re-saved as RGB."""
    _sprite(folder / "zz_mine" / "x.png", (1, 2, 3, 255))
    edited = folder / "1" / "black-white.png"
    size = edited.stat().st_size
    Image.open(edited).convert("RGB").save(edited)
    assert edited.stat().st_size != size


def _delete_one(folder: Path) -> None:
    """A sprite deleted, as the unreadable-image error advises."""
    (folder / "2" / "red-blue.png").unlink()


@pytest.mark.parametrize("change", [_add_and_edit, _delete_one], ids=["added-and-edited", "deleted"])
def test_an_existing_pokemon_folder_is_used_as_it_is(tmp_path, capsys, change):
    folder = _unpack(_pokemon_zip(tmp_path))
    change(folder)
    before = _files(folder)
    sprites = load_pokemon(tmp_path, image_size=4, download=False)
    assert _files(folder) == before  # nothing deleted, added or overwritten
    assert len(sprites) == len(before)
    out = capsys.readouterr().out
    assert "unpacking" not in out and "incomplete (an interrupted unpack?)" not in out
    if change is _delete_one:  # fewer files than the zip: one line says how to get them back
        note = [line for line in out.splitlines() if str(folder) in line]
        assert len(note) == 1 and "delete" in note[0].lower() and "again" in note[0]


# ---------------------------------------------------------------- 2: the cache folder is shared
def test_cache_clean_up_leaves_files_it_did_not_write(tmp_path):
    folder = tmp_path / "data" / "pokemon"
    for c in ("a", "b"):
        _sprite(folder / c / "0.png", (200, 10, 10, 255))
    cache = tmp_path / "cache"
    cache.mkdir()
    mine = {"pokemon-notes.json": "// notes\n", "pokemon-notes.npy": "x\n",
            # valid JSON naming this folder, with a file list the build would call stale
            "pokemon-settings.json": json.dumps({"folder": str(folder), "files": [["gone.png", 1, 2]]}),
            "pokemon-settings.npy": "mine\n"}
    first = CachedImageFolder(folder, image_size=4, progress=False)
    look_alike = first.cache_path.stem[:-16]  # the cache's own name up to its key: pokemon-<id>-4px-2-
    mine.update({f"{look_alike}0123456789abcdef.json": "// not JSON\n",
                 f"{look_alike}0123456789abcdef.npy": "x\n",
                 f"{look_alike}fedcba9876543210.json": json.dumps({"folder": str(folder),
                                                                   "files": [["gone.png", 1, 2]]}),
                 f"{look_alike}fedcba9876543210.npy": "no format key: not the package's\n"})
    for name, text in mine.items():
        (cache / name).write_text(text)
    first.images
    os.utime(folder / "a" / "0.png", ns=(1, 1))  # changed: the first cache is now stale
    second = CachedImageFolder(folder, image_size=4, progress=False)
    second.images
    assert not first.cache_path.exists() and not first.manifest_path.exists()  # its own: removed
    assert second.cache_path.exists()
    assert {name: (cache / name).read_text() for name in mine if (cache / name).exists()} == mine


# ---------------------------------------------------------------- 3: a FIFO among the images
def test_a_fifo_named_png_is_skipped_with_a_warning_instead_of_hanging(tmp_path):
    folder = tmp_path / "images"
    _sprite(folder / "a" / "0.png", (0, 0, 255, 255))
    _sprite(folder / "a" / "1.png", (0, 255, 0, 255))
    fifo = folder / "a" / "pipe.png"
    os.mkfifo(fifo)
    done = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = load_image_folder(folder, image_size=4, progress=False)
        builder = threading.Thread(target=lambda: done.append(dataset.images.shape), daemon=True)
        builder.start()
        builder.join(timeout=30)
        if builder.is_alive():  # the bug: open() waits for a writer; free it, then fail
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            builder.join(timeout=30)
            pytest.fail(f"building the cache hung on the FIFO {fifo}")
    assert done == [(2, 3, 4, 4)]
    named = [str(w.message) for w in caught if f"skipping {fifo}:" in str(w.message)]
    assert len(named) == 1 and "not a regular file" in named[0]


# ---------------------------------------------------------------- 4: a broken pokemon.zip
def _text(archive: Path) -> None:
    archive.write_text("<html>404 Not Found</html>\n")


def _cut_short(archive: Path) -> None:
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])


@pytest.mark.parametrize("damage", [_text, _cut_short], ids=["text", "truncated"])
def test_a_broken_pokemon_zip_is_named_with_the_fix(tmp_path, damage):
    archive = _pokemon_zip(tmp_path)
    damage(archive)
    with pytest.raises(DatasetNotFoundError) as err:
        load_pokemon(tmp_path, image_size=4, download=False)
    message = str(err.value)
    assert str(archive) in message and "delete" in message.lower() and "by hand" in message
    assert archive.exists()  # not the package's to delete
    assert not (tmp_path / "pokemon").exists() and not list(tmp_path.glob(".pokemon-partial-*"))


def test_a_broken_pokemon_zip_beside_a_good_folder_does_not_stop_the_folder(tmp_path, capsys):
    archive = _pokemon_zip(tmp_path)
    folder = _unpack(archive)
    _text(archive)
    assert len(load_pokemon(tmp_path, image_size=4, download=False)) == 6
    assert str(archive) in capsys.readouterr().out


# ---------------------------------------------------------------- 5: where the cache goes
def test_the_cache_message_names_the_cache_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(image_cache.CACHE_ENV)
    folder = tmp_path / "data" / "pokemon"
    _sprite(folder / "a" / "0.png", (9, 9, 9, 255))
    where, why = cache_folder(folder)
    assert where == tmp_path / "data" / ".cache" / "gan_tutorial" and str(where) in why
    CachedImageFolder(folder, image_size=4, progress=True).images
    assert f"({why})" in capsys.readouterr().out
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "chosen"))
    where, why = cache_folder(folder)
    assert where == tmp_path / "chosen" and str(where) in why and image_cache.CACHE_ENV in why


# ---------------------------------------------------------------- 6: damaged saved runs
TILE = [1, 4, 4]


def _saved_run(folder: Path) -> Path:
    """A hand-made saved run: 4 iterations, one snapshot, one extra image set."""
    folder.mkdir(parents=True)
    np.savez_compressed(folder / "history.npz",
                        **{key: np.arange(4, dtype=np.float32) for key in STAT_KEYS})
    tiles = torch.arange(4 * 16, dtype=torch.uint8).reshape(4, *TILE)
    write_tiles(tiles, folder / "snapshot_000004.png", nrow=2)
    write_tiles(tiles, folder / "fakes.png", nrow=2)
    write_tiles(tiles, folder.parent / "outside.png", nrow=2)  # a file a run must not reach
    entry = {"count": 4, "shape": TILE}
    info = {"name": folder.name, "config": preset("01", "quick").to_dict(), "iterations": 4,
            "history_block": 1, "snapshots": {"4": {"file": "snapshot_000004.png", **entry}},
            "extra_images": {"fakes": {"file": "fakes.png", **entry}}}
    (folder / "run.json").write_text(json.dumps(info))
    return folder


def _edit_info(folder: Path, change) -> None:
    info = json.loads((folder / "run.json").read_text())
    change(info)
    (folder / "run.json").write_text(json.dumps(info))


def _outside(info, where, file):
    info[where][next(iter(info[where]))]["file"] = file


# name -> (damage, read "snapshot" (load_run) or "fakes" (run.images), words the error must hold)
DAMAGED_RUNS = {
    "run.json-not-json": (lambda f: (f / "run.json").write_text("{'iterations': 4"),
                          "snapshot", ["run.json", "not valid JSON"]),
    "no-iterations": (lambda f: _edit_info(f, lambda i: i.pop("iterations")),
                      "snapshot", ["run.json", "iterations"]),
    "no-config": (lambda f: _edit_info(f, lambda i: i.pop("config")), "snapshot", ["run.json", "config"]),
    "history_block-0": (lambda f: _edit_info(f, lambda i: i.update(history_block=0)),
                        "snapshot", ["run.json", "history_block must be a whole number >= 1, got 0"]),
    "history-not-npz": (lambda f: (f / "history.npz").write_text("not numbers"), "snapshot", ["history.npz"]),
    "snapshot-missing": (lambda f: (f / "snapshot_000004.png").unlink(), "snapshot", ["snapshot_000004.png"]),
    "snapshot-truncated": (lambda f: _cut_short(f / "snapshot_000004.png"), "snapshot", ["snapshot_000004.png"]),
    "snapshot-outside": (lambda f: _edit_info(f, lambda i: _outside(i, "snapshots", "../outside.png")),
                         "snapshot", ["run.json", "'../outside.png'", "inside"]),
    "snapshot-absolute": (lambda f: _edit_info(f, lambda i: _outside(i, "snapshots",
                                                                     str(f.parent / "outside.png"))),
                          "snapshot", ["run.json", "outside.png'", "inside"]),
    "fakes-missing": (lambda f: (f / "fakes.png").unlink(), "fakes", ["fakes.png"]),
    "fakes-truncated": (lambda f: _cut_short(f / "fakes.png"), "fakes", ["fakes.png"]),
    "fakes-outside": (lambda f: _edit_info(f, lambda i: _outside(i, "extra_images", "../outside.png")),
                      "fakes", ["run.json", "'../outside.png'", "inside"]),
}


@pytest.mark.parametrize("case", DAMAGED_RUNS)
def test_a_damaged_saved_run_names_its_file(tmp_path, case):
    folder = _saved_run(tmp_path / "runs" / "tiny")
    assert load_run(folder).images("fakes").shape == (4, *TILE)  # intact, it loads
    damage, read, words = DAMAGED_RUNS[case]
    damage(folder)
    with pytest.raises(ValueError) as err:
        run = load_run(folder)
        if read == "fakes":
            run.images("fakes")
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message
    assert str(folder) in message  # the run's folder, so the file can be found
    assert "save_run" in message or "again" in message  # and the fix


# ---------------------------------------------------------------- 7: settings torch would refuse
@pytest.mark.parametrize("lesson", ["01", "04"])
@pytest.mark.parametrize("size", [0, -8, "32", 32.0, True])
def test_an_image_size_torch_cannot_use_is_named(lesson, size):
    config = preset(lesson, "quick")
    bad = replace(config, data_kwargs={**config.data_kwargs, "image_size": size})
    assert [p for p in bad.problems() if "image_size" in p] == [
        f"data_kwargs.image_size must be a whole number >= 1, got {size!r}"]
    with pytest.raises(ValueError, match="data_kwargs.image_size"):
        config.updated(data_kwargs=bad.data_kwargs)


def test_an_image_folder_image_size_is_checked_too(tmp_path):
    config = replace(preset("04", "quick"), dataset="image_folder",
                     data_kwargs={"path": str(tmp_path), "image_size": 0})
    assert "data_kwargs.image_size must be a whole number >= 1, got 0" in config.problems()
    assert not replace(config, data_kwargs={"path": str(tmp_path), "image_size": 16}).problems()


def test_n_fixed_is_capped():
    from gan_tutorial.lessons import MAX_SAMPLES

    config = preset("01", "quick")
    assert not replace(config, n_fixed=MAX_SAMPLES).problems()
    assert replace(config, n_fixed=100_000).problems() == [
        f"n_fixed must be at most {MAX_SAMPLES:,} (fixed noise vectors drawn into one snapshot "
        f"grid at every snapshot), got 100,000"]
