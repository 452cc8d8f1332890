"""Hostile-but-fair data: damaged files, interrupted unpacking, no network (issue 8)."""
import errno
import gzip
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from PIL import Image

from gan_tutorial import data
from gan_tutorial.plumbing import image_cache, mnist_files
from gan_tutorial.data import (CorruptDatasetError, DatasetNotFoundError, UnreadableImageError,
                               data_root, find_unreadable_images, load_image_folder, load_mnist,
                               load_pokemon, make_loader)


@pytest.fixture(autouse=True)
def private_caches(tmp_path, monkeypatch):
    """Caches and remembered checksums go to this test's folder, not the user's."""
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(mnist_files, "_verified", {})


# --- item 3: an interrupted Pokémon unpack -----------------------------------------------

def _pokemon_zip(real_data: Path, path: Path, classes: int = 10) -> None:
    sprites = sorted((real_data / "pokemon" / "1").glob("*.png"))[:2]
    with zipfile.ZipFile(path, "w") as archive:
        for c in range(classes):
            for sprite in sprites:
                archive.write(sprite, f"pokemon/{c:03d}/{sprite.name}")


def test_incomplete_pokemon_folder_is_used_as_it_is_and_the_way_back_is_named(real_data, tmp_path, capsys):
    # Issue 28: the folder may hold the learner's own files or edits, and this version unpacks
    # atomically, so an existing pokemon/ is never replaced; a note says how to restore it.
    _pokemon_zip(real_data, tmp_path / "pokemon.zip")
    with zipfile.ZipFile(tmp_path / "pokemon.zip") as archive:  # an unpack killed after 3 classes
        archive.extractall(tmp_path, [m for m in archive.namelist() if m < "pokemon/003"])
    assert len(list((tmp_path / "pokemon").iterdir())) == 3
    sprites = load_pokemon(tmp_path, image_size=16, download=False)
    assert len(sprites.classes) == 3 and len(sprites) == 6
    folder = tmp_path / "pokemon"
    assert (f"14 file(s) of {tmp_path / 'pokemon.zip'} are missing from {folder}"
            in capsys.readouterr().out)
    truncated = next((folder / "002").iterdir())
    truncated.write_bytes(truncated.read_bytes()[:100])  # a file cut short counts too
    with pytest.raises(UnreadableImageError, match=re.escape(str(truncated))):
        load_pokemon(tmp_path, image_size=16, download=False).images  # the cache build reads it
    assert truncated.stat().st_size == 100  # left as it is
    assert f"delete {folder} and load again" in capsys.readouterr().out
    shutil.rmtree(folder)  # what the note advises
    assert len(load_pokemon(tmp_path, image_size=16, download=False)) == 20


def test_interrupted_unpack_leaves_no_pokemon_folder(real_data, tmp_path, monkeypatch):
    _pokemon_zip(real_data, tmp_path / "pokemon.zip")

    def killed_midway(archive, target):
        with zipfile.ZipFile(archive) as z:
            z.extractall(target, z.namelist()[:5])
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "extract_archive", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        data.extract_pokemon(tmp_path / "pokemon.zip", tmp_path)
    assert not (tmp_path / "pokemon").exists()
    assert not list(tmp_path.glob(".pokemon-partial-*"))
    monkeypatch.undo()
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "cache"))
    assert len(load_pokemon(tmp_path, image_size=16, download=False).classes) == 10


# --- item 4: damaged MNIST files ---------------------------------------------------------

@pytest.fixture()
def mnist_copy(real_data, tmp_path):
    """MNIST's test split (.gz and extracted files) copied into a writable folder.

    torchvision also wants the two extracted training files to exist before it reads
    the test split; empty stand-ins do (no links: nothing may write into ../shared).
    """
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        for suffix in ("", ".gz"):
            shutil.copy(real_data / "MNIST" / "raw" / (name + suffix), raw)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"")
    return raw


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _zero_header(path: Path) -> None:
    content = bytearray(path.read_bytes())
    content[:16] = bytes(16)
    path.write_bytes(bytes(content))


def _same_size_damage(path: Path) -> None:
    content = bytearray(path.read_bytes())
    content[5000:5100] = bytes(255 - b for b in content[5000:5100])
    path.write_bytes(bytes(content))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


DAMAGE = {"truncated": _truncate, "zeroed header": _zero_header, "same size": _same_size_damage}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("name", ["t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"])
def test_damaged_mnist_file_without_a_good_copy_is_named(mnist_copy, damage, name):
    DAMAGE[damage](mnist_copy / name)
    if not name.endswith(".gz"):  # no intact .gz either: nothing to rebuild it from
        (mnist_copy / f"{name}.gz").unlink()
    before = _snapshot(mnist_copy)
    with pytest.raises(CorruptDatasetError) as info:
        load_mnist(mnist_copy.parent.parent, split="test", download=False)
    message = str(info.value)
    assert str(mnist_copy / name) in message and "Nothing was deleted" in message
    assert f"expected {mnist_files._expected(name)[1]:,} bytes" in message
    assert _snapshot(mnist_copy) == before  # without a verified copy nothing changes


def test_damaged_extracted_file_is_replaced_from_the_archive_and_kept(mnist_copy, real_data, capsys):
    path = mnist_copy / "t10k-images-idx3-ubyte"
    _same_size_damage(path)
    damaged = path.read_bytes()
    digits = load_mnist(mnist_copy.parent.parent, split="test", download=True)  # no network needed
    assert "replaced it by a good copy (decompressed from" in capsys.readouterr().out
    reference = load_mnist(real_data, split="test", download=False)
    assert torch.equal(digits.images, reference.images)
    assert (mnist_copy / "t10k-images-idx3-ubyte.bad").read_bytes() == damaged  # kept, not deleted


def test_swapped_mnist_files_offline_are_named_and_nothing_is_deleted(real_data, tmp_path, monkeypatch):
    """The train and test image files exchanged, no .gz, no network (issue 15, case 1): both
    files are the only copies of their digits, so neither may be deleted."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    source = real_data / "MNIST" / "raw"
    shutil.copy(source / "t10k-images-idx3-ubyte", raw / "train-images-idx3-ubyte")
    shutil.copy(source / "train-images-idx3-ubyte", raw / "t10k-images-idx3-ubyte")
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copy(source / name, raw / name)
    monkeypatch.setattr(mnist_files, "_download", lambda raw, name: None)  # offline
    before = _snapshot(raw)
    for split in ("train", "all", "test"):
        with pytest.raises(CorruptDatasetError) as info:
            load_mnist(tmp_path, split=split, download=True)
        message = str(info.value)
        assert "Nothing was deleted" in message and "downloading failed" in message
        assert "swapped" in message and ("intact copy of t10k-images-idx3-ubyte" in message
                                         or "intact copy of train-images-idx3-ubyte" in message)
        assert _snapshot(raw) == before


def test_a_download_replaces_a_damaged_file_only_after_its_checksum(mnist_copy, real_data, monkeypatch, capsys):
    for suffix in ("", ".gz"):
        _truncate(mnist_copy / f"t10k-labels-idx1-ubyte{suffix}")
    fetched = []

    def fake_download(raw, name, content):
        folder = raw / f".download-{os.getpid()}"
        folder.mkdir()
        (folder / name).write_bytes(content)
        fetched.append(name)
        return folder / name

    good = (real_data / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    monkeypatch.setattr(mnist_files, "_download", lambda raw, name: fake_download(raw, name, good[:100]))
    before = _snapshot(mnist_copy)
    with pytest.raises(CorruptDatasetError, match="did not match either"):
        load_mnist(mnist_copy.parent.parent, split="test", download=True)
    assert _snapshot(mnist_copy) == before  # a bad download changes nothing
    monkeypatch.setattr(mnist_files, "_download", lambda raw, name: fake_download(raw, name, good))
    digits = load_mnist(mnist_copy.parent.parent, split="test", download=True)
    assert torch.equal(digits.labels, load_mnist(real_data, split="test", download=False).labels)
    assert {"t10k-labels-idx1-ubyte.gz.bad", "t10k-labels-idx1-ubyte.bad"} <= set(_snapshot(mnist_copy))
    assert not list(mnist_copy.glob(".download-*")) and not list(mnist_copy.glob(".*.tmp"))


def test_gz_files_alone_are_enough_offline(mnist_copy, real_data):
    for extracted in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (mnist_copy / extracted).unlink()
    digits = load_mnist(mnist_copy.parent.parent, split="test", download=False)
    assert torch.equal(digits.labels, load_mnist(real_data, split="test", download=False).labels)


def test_mnist_verdicts_are_remembered(mnist_copy, monkeypatch):
    load_mnist(mnist_copy.parent.parent, split="test", download=False)
    monkeypatch.setattr(mnist_files, "_md5", lambda path: pytest.fail(f"hashed {path} again"))
    load_mnist(mnist_copy.parent.parent, split="test", download=False)
    monkeypatch.setattr(mnist_files, "_verified", {})  # a new process reads them from disk
    load_mnist(mnist_copy.parent.parent, split="test", download=False)


# --- item 5: unreadable images -----------------------------------------------------------

@pytest.fixture()
def broken_folder(real_data, tmp_path):
    folder = tmp_path / "faces"
    (folder / "ok").mkdir(parents=True)
    for path in sorted((real_data / "celeba" / "img_align_celeba").glob("*.jpg"))[:4]:
        shutil.copy(path, folder / "ok" / path.name)
    truncated = folder / "ok" / "truncated.jpg"
    truncated.write_bytes((folder / "ok" / path.name).read_bytes()[:3000])
    (folder / "ok" / "empty.png").write_bytes(b"")
    return folder


def test_find_unreadable_images_lists_them(broken_folder):
    bad = find_unreadable_images(broken_folder, progress=False)
    assert sorted(p.name for p, _ in bad) == ["empty.png", "truncated.jpg"]
    assert all(reason for _, reason in bad)


def test_cache_build_names_every_unreadable_image(broken_folder):
    faces = load_image_folder(broken_folder, image_size=16)
    with pytest.raises(UnreadableImageError) as info:
        make_loader(faces, 2)
    message = str(info.value)
    assert "2 image(s)" in message
    assert str(broken_folder / "ok" / "truncated.jpg") in message
    assert str(broken_folder / "ok" / "empty.png") in message
    assert not list(faces.cache_path.parent.glob("*.npy"))  # no half-made cache is kept


@pytest.mark.parametrize("workers", [0, 1])
def test_uncached_loading_names_the_file_mid_epoch(broken_folder, workers):
    faces = load_image_folder(broken_folder, image_size=16, cache=False)
    with pytest.raises(UnreadableImageError, match=r"(empty\.png|truncated\.jpg)"):
        for _ in make_loader(faces, 2, num_workers=workers, shuffle=False):
            pass


def test_verify_refuses_a_folder_with_unreadable_images(broken_folder):
    with pytest.raises(UnreadableImageError, match=r"(?s)2 image.*empty\.png.*truncated\.jpg"):
        load_image_folder(broken_folder, image_size=16, verify=True, cache=False)


# --- item 8: Pokémon download without network -------------------------------------------

def test_offline_pokemon_download_says_what_to_do(monkeypatch, tmp_path):
    def offline(url, root, filename):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data, "download_url", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        load_pokemon(tmp_path, download=True)
    message = str(info.value)
    for expected in ("name resolution", data.POKEMON_URL, str(tmp_path / "pokemon.zip"),
                     "GAN_TUTORIAL_DATA"):
        assert expected in message
    assert not (tmp_path / "pokemon").exists()


# --- item 9: a data root that is a file --------------------------------------------------

def test_data_root_that_is_a_file_is_refused(monkeypatch, tmp_path):
    a_file = tmp_path / "data.zip"
    a_file.write_bytes(b"not a folder")
    monkeypatch.setenv("GAN_TUTORIAL_DATA", str(a_file))
    with pytest.raises(NotADirectoryError, match=r"GAN_TUTORIAL_DATA=.*data\.zip names a file.*folder"):
        load_mnist()
    with pytest.raises(NotADirectoryError, match=r"GAN_TUTORIAL_DATA.* must name a folder"):
        load_pokemon()
    monkeypatch.delenv("GAN_TUTORIAL_DATA")
    with pytest.raises(NotADirectoryError, match=r"root=.*data\.zip.*root argument must name a folder"):
        data_root(a_file)


# --- issue 15, item 2: every image mode gives the pixels a viewer shows ------------------------
def _saved(tmp_path: Path, image: Image.Image, name: str) -> Path:
    path = tmp_path / name
    image.save(path)
    return path


def test_16_bit_greyscale_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 64, 32768, 65535]], dtype=np.uint16)
    path = _saved(tmp_path, Image.fromarray(values), "grey16.png")
    assert Image.open(path).mode.startswith("I")  # Pillow opens it as 16-bit
    rgb = np.asarray(image_cache.read_image(path))
    assert rgb[0, :, 0].tolist() == [0, 64, 128, 255]  # clipping made 32768 white (255)
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    gradient = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (4, 1))
    path = _saved(tmp_path, Image.fromarray(gradient), "gradient16.png")
    assert abs(np.asarray(image_cache.read_image(path)).mean() - 127.5) < 0.6  # was 251


def test_float_images_are_scaled_and_meaningless_values_refused(tmp_path):
    unit = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    assert np.asarray(image_cache.to_rgb(unit))[0, :, 0].tolist() == [0, 128, 255]
    wide = Image.fromarray(np.array([[-3.0, 2.0e6]], dtype=np.float32))
    with pytest.raises(UnreadableImageError, match=r"odd\.tif.*-3 to 2e\+06"):
        image_cache.to_rgb(wide, "odd.tif")


def test_transparency_is_shown_on_white_and_other_modes_convert(tmp_path):
    rgba = Image.new("RGBA", (2, 1), (255, 0, 0, 255))
    rgba.putpixel((1, 0), (0, 0, 255, 0))  # fully transparent
    path = _saved(tmp_path, rgba, "sprite.png")
    assert np.asarray(image_cache.read_image(path)).tolist() == [[[255, 0, 0], [255, 255, 255]]]
    palette = Image.new("P", (2, 1))
    palette.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    palette.putpixel((1, 0), 1)
    palette.info["transparency"] = 0
    path = tmp_path / "palette.png"
    palette.save(path, transparency=0)
    assert np.asarray(image_cache.read_image(path)).tolist() == [[[255, 255, 255], [0, 200, 0]]]
    la = Image.new("LA", (1, 1), (100, 255))
    assert np.asarray(image_cache.to_rgb(la)).tolist() == [[[100, 100, 100]]]
    cmyk = Image.new("CMYK", (1, 1), (0, 0, 0, 0))
    assert np.asarray(image_cache.to_rgb(cmyk)).tolist() == [[[255, 255, 255]]]


def test_a_decompression_bomb_names_its_file(tmp_path, monkeypatch):
    path = _saved(tmp_path, Image.new("RGB", (64, 64)), "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 64 x 64 > 2 x 100: a "bomb"
    with pytest.raises(UnreadableImageError, match=r"bomb\.png"):
        image_cache.read_image(path)


# --- issue 15, item 6: data walks terminate ------------------------------------------------------
def _sprites(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", (8, 8), (i * 20, 100, 200)).save(folder / f"{i}.png")


@pytest.mark.parametrize("cache", [True, False])
def test_symlink_loops_are_walked_once(tmp_path, monkeypatch, cache):
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "cache"))
    root = tmp_path / "sprites"
    _sprites(root / "a", 3)
    _sprites(root / "b", 2)
    (root / "a" / "loop").symlink_to(root)  # a -> sprites -> a -> ... (used to read 3 as many)
    (root / "b" / "back").symlink_to(root / "b")  # a second loop, into itself (used to hang)
    (root / "b" / "twin.png").symlink_to(root / "b" / "0.png")  # the same file twice
    dataset = load_image_folder(root, image_size=8, cache=cache, progress=False)
    assert len(dataset) == 5
    assert len(find_unreadable_images(root, progress=False)) == 0


def test_a_dangling_link_is_named_and_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "cache"))
    root = tmp_path / "sprites"
    _sprites(root / "a", 2)
    (root / "a" / "gone.png").symlink_to(tmp_path / "deleted.png")
    with pytest.warns(UserWarning, match=r"gone\.png: it is a link to .*deleted\.png, which does not exist"):
        dataset = load_image_folder(root, image_size=8, progress=False)
    assert len(dataset) == 2


# --- issue 15, item 3: full disk, killed builds, truncated caches --------------------------------
def _cache_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_full_disk_while_building_the_cache_is_one_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "cache"))
    _sprites(tmp_path / "sprites" / "a", 3)

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(OSError) as info:
        load_image_folder(tmp_path / "sprites", image_size=8, progress=False).images
    assert info.value.errno == errno.ENOSPC
    assert "No space left to write" in str(info.value) and "MB free on the disk of" in str(info.value)
    assert _cache_files(tmp_path / "cache") == []  # no half-written .tmp left filling the disk


def test_half_built_caches_of_dead_processes_are_removed_and_live_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "cache"))
    _sprites(tmp_path / "sprites" / "a", 3)
    first = load_image_folder(tmp_path / "sprites", image_size=8, progress=False)
    first.images
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stem = first._stem
    killed = tmp_path / "cache" / f"{stem}.{dead.pid}.abc123.npy.tmp"
    running = tmp_path / "cache" / f"{stem}.{os.getpid()}.def456.npy.tmp"
    for tmp in (killed, running):
        tmp.write_bytes(b"\0" * 1000)
    (tmp_path / "sprites" / "a" / "0.png").unlink()  # a change: the cache is built again
    load_image_folder(tmp_path / "sprites", image_size=8, progress=False).images
    assert not killed.exists() and running.exists()


def test_a_truncated_cache_is_found_before_it_is_memory_mapped(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "cache"))
    _sprites(tmp_path / "sprites" / "a", 3)
    cached = load_image_folder(tmp_path / "sprites", image_size=8, progress=False)
    good = cached.images.clone()
    with open(cached.cache_path, "r+b") as f:
        f.truncate(200)
    reloaded = load_image_folder(tmp_path / "sprites", image_size=8, progress=False)
    assert torch.equal(reloaded.images, good)
    assert "truncated: 200 bytes" in capsys.readouterr().out


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_worker_dies_with_its_parent():
    """kill -9 during a cache build left decoding workers running for minutes."""
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys, time\n"
         "child = subprocess.Popen([sys.executable, '-c', 'from gan_tutorial.plumbing.processes import "
         "die_with_parent; die_with_parent(); import time; print(1, flush=True); time.sleep(120)'], "
         "stdout=subprocess.PIPE, text=True)\n"
         "child.stdout.readline(); print(child.pid, flush=True); time.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(child)
