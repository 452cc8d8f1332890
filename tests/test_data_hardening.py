"""Hostile-but-fair data: damaged files, interrupted unpacking, no network (issue 8)."""
import gzip
import shutil
import zipfile
from pathlib import Path
from urllib.error import URLError

import pytest
import torch

from gan_tutorial import data, image_cache, mnist_files
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


def test_incomplete_pokemon_folder_is_unpacked_again(real_data, tmp_path, capsys):
    _pokemon_zip(real_data, tmp_path / "pokemon.zip")
    with zipfile.ZipFile(tmp_path / "pokemon.zip") as archive:  # an unpack killed after 3 classes
        archive.extractall(tmp_path, [m for m in archive.namelist() if m < "pokemon/003"])
    assert len(list((tmp_path / "pokemon").iterdir())) == 3
    sprites = load_pokemon(tmp_path, image_size=16, download=False)
    assert len(sprites.classes) == 10 and len(sprites) == 20
    assert "incomplete" in capsys.readouterr().out
    truncated = next((tmp_path / "pokemon" / "004").iterdir())
    truncated.write_bytes(truncated.read_bytes()[:100])  # a file cut short counts too
    assert len(load_pokemon(tmp_path, image_size=16, download=False)) == 20
    assert truncated.stat().st_size > 100


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


DAMAGE = {"truncated": _truncate, "zeroed header": _zero_header, "same size": _same_size_damage}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("name", ["t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"])
def test_damaged_mnist_file_is_named(mnist_copy, damage, name):
    DAMAGE[damage](mnist_copy / name)
    with pytest.raises(CorruptDatasetError) as info:
        load_mnist(mnist_copy.parent.parent, split="test", download=False)
    message = str(info.value)
    assert str(mnist_copy / name) in message and "Delete it" in message
    assert (mnist_copy / name).exists()  # without download=True nothing is deleted


def test_damaged_extracted_file_is_replaced_from_the_archive(mnist_copy, real_data, capsys):
    _same_size_damage(mnist_copy / "t10k-images-idx3-ubyte")
    digits = load_mnist(mnist_copy.parent.parent, split="test", download=True)  # no network needed
    assert "Deleted the corrupt MNIST file" in capsys.readouterr().out
    reference = load_mnist(real_data, split="test", download=False)
    assert torch.equal(digits.images, reference.images)


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
