"""Batched in-memory loading and the decoded image-folder cache (speed work, issue 7)."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets

from gan_tutorial.plumbing import image_cache
from gan_tutorial.data import (image_transform, limit_dataset, load_celeba, load_image_folder,
                               load_mnist, make_loader)
from gan_tutorial.plumbing.image_cache import CachedImageFolder
from gan_tutorial.plumbing.in_memory import InMemoryImages


class PerImage(Dataset):
    """Hides ``__getitems__``: the DataLoader then calls ``dataset[i]`` once per image."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        return self.dataset[i]


def _batches(loader, seed):
    torch.manual_seed(seed)
    return list(loader)


def _assert_same_batches(fast, slow):
    assert len(fast) == len(slow) > 1
    for (images_a, labels_a), (images_b, labels_b) in zip(fast, slow):
        assert images_a.dtype == images_b.dtype == torch.float32
        assert labels_a.dtype == labels_b.dtype == torch.int64
        assert torch.equal(images_a, images_b) and torch.equal(labels_a, labels_b)


@pytest.mark.parametrize("limit", [None, 70])
@pytest.mark.parametrize("drop_last", [True, False])
def test_batched_loader_yields_the_per_image_batches(monkeypatch, limit, drop_last):
    generator = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (100, 1, 6, 6), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (100,), generator=generator)
    dataset = limit_dataset(InMemoryImages(images, labels), limit)
    slow = _batches(DataLoader(PerImage(dataset), 16, shuffle=True, drop_last=drop_last), seed=3)

    def no_per_image_access(self, index):
        raise AssertionError("the batched loader called __getitem__")

    monkeypatch.setattr(InMemoryImages, "__getitem__", no_per_image_access)
    fast = _batches(make_loader(dataset, 16, drop_last=drop_last), seed=3)
    _assert_same_batches(fast, slow)
    assert len(fast[-1][0]) == (16 if drop_last else len(dataset) % 16)


def test_batched_loader_matches_on_real_digits(real_data):
    digits = limit_dataset(load_mnist(real_data, split="test", download=False), 2000)
    fast = _batches(make_loader(digits, 100), seed=0)
    slow = _batches(DataLoader(PerImage(digits), 100, shuffle=True, drop_last=True), seed=0)
    _assert_same_batches(fast, slow)
    assert _batches(make_loader(digits, 100), seed=1)[0][1].tolist() != fast[0][1].tolist()


def test_other_collate_functions_still_see_single_items():
    dataset = InMemoryImages(torch.arange(8, dtype=torch.uint8).view(8, 1, 1, 1), torch.arange(8))
    batch = dataset.__getitems__([5, 2])
    assert len(batch) == 2 and batch[1][1] == 2
    torch.testing.assert_close(batch[0][0], torch.tensor([[[5 / 127.5 - 1]]]))
    images, labels = next(iter(DataLoader(dataset, 4)))  # PyTorch's default collate
    assert images.shape == (4, 1, 1, 1) and labels.tolist() == [0, 1, 2, 3]


# --- the image-folder cache --------------------------------------------------------------

def _copy_images(shared: Path, target: Path) -> Path:
    """A small ImageFolder from real files: faces (JPEG) and two Pokémon classes (PNG)."""
    faces = sorted((shared / "celeba" / "img_align_celeba").glob("*.jpg"))[:5]
    for path in faces:
        (target / "faces").mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / "faces" / path.name)
    for cls in ("1", "2"):
        (target / f"pokemon_{cls}").mkdir(parents=True)
        for path in sorted((shared / "pokemon" / cls).glob("*.png"))[:2]:
            shutil.copy(path, target / f"pokemon_{cls}" / path.name)
    return target


@pytest.fixture()
def folder(real_data, tmp_path, monkeypatch):
    monkeypatch.delenv(image_cache.CACHE_ENV, raising=False)
    return _copy_images(real_data, tmp_path / "root" / "mine")


def _reference(path: Path, size: int):
    return datasets.ImageFolder(str(path), transform=image_transform(size))


def _assert_matches_transform_path(cached, path, size):
    reference = _reference(path, size)
    assert cached.classes == reference.classes and len(cached) == len(reference)
    assert cached.targets == reference.targets
    assert [p for p, _ in cached.samples] == [p for p, _ in reference.samples]
    for i in range(len(reference)):
        (a, label_a), (b, label_b) = cached[i], reference[i]
        assert label_a == label_b and a.shape == b.shape == (3, size, size)
        assert (a - b).abs().max() < 1e-6  # the same uint8 pixels, scaled by another formula


def test_cache_gives_the_pixels_of_image_transform(folder):
    cached = load_image_folder(folder, image_size=24)
    assert isinstance(cached, CachedImageFolder)
    _assert_matches_transform_path(cached, folder, 24)
    assert cached.cache_path.parent == folder.parent / ".cache" / "gan_tutorial"
    assert cached.cache_path.is_file() and cached.manifest_path.is_file()
    limited = load_image_folder(folder, image_size=24, limit=3)
    reference = limit_dataset(_reference(folder, 24), 3)
    assert [limited[i][1] for i in range(3)] == [reference[i][1] for i in range(3)]
    assert all(torch.allclose(limited[i][0], reference[i][0], atol=1e-6) for i in range(3))


def test_building_the_cache_leaves_the_global_rng_alone(folder):
    """A run trains the same whether its cache was built first or already there."""
    torch.manual_seed(0)  # 2 decoding workers, as a folder of 256 images or more gets
    CachedImageFolder(folder, image_size=20, progress=False, workers=2).images  # builds the cache
    after_build = torch.rand(3)
    torch.manual_seed(0)
    CachedImageFolder(folder, image_size=20, progress=False, workers=2).images  # reuses it
    after_reuse = torch.rand(3)
    torch.manual_seed(0)
    assert torch.equal(after_build, torch.rand(3)) and torch.equal(after_reuse, after_build)


def test_cache_is_reused_then_rebuilt_when_files_change(folder, monkeypatch, capsys):
    first = load_image_folder(folder, image_size=16, progress=True)
    first.images
    assert "caching mine 16px" in capsys.readouterr().err  # the build shows a progress bar
    built = []
    monkeypatch.setattr(CachedImageFolder, "_build",
                        lambda self, real=CachedImageFolder._build: (built.append(1), real(self)))
    again = load_image_folder(folder, image_size=16)
    assert again.cache_path == first.cache_path
    torch.testing.assert_close(again.images, first.images)
    assert built == []  # opened, not decoded again

    shutil.copy(next((folder / "faces").iterdir()), folder / "pokemon_2" / "added.jpg")
    added = load_image_folder(folder, image_size=16)
    assert len(added) == len(first) + 1 and added.cache_path != first.cache_path
    _assert_matches_transform_path(added, folder, 16)
    assert built == [1]
    assert not first.cache_path.exists()  # the stale cache was deleted

    (folder / "faces" / sorted(p.name for p in (folder / "faces").iterdir())[0]).unlink()
    removed = load_image_folder(folder, image_size=16)
    assert len(removed) == len(first)
    _assert_matches_transform_path(removed, folder, 16)
    assert built == [1, 1]


@pytest.mark.parametrize("damage", ["truncate", "flip_bytes", "zero_manifest", "no_manifest"])
def test_damaged_cache_is_detected_and_rebuilt(folder, damage, capsys):
    cached = load_image_folder(folder, image_size=16)
    good = cached.images.clone()
    path = cached.cache_path
    if damage == "truncate":
        with open(path, "r+b") as f:
            f.truncate(path.stat().st_size - 100)
    elif damage == "flip_bytes":  # same size, pixels changed
        data = bytearray(path.read_bytes())
        data[-50:] = bytes(255 - b for b in data[-50:])
        path.write_bytes(bytes(data))
    elif damage == "zero_manifest":
        cached.manifest_path.write_bytes(b"")
    else:
        cached.manifest_path.unlink()
    reloaded = load_image_folder(folder, image_size=16)
    assert torch.equal(reloaded.images, good)
    if damage != "no_manifest":  # no manifest: an unfinished build, rebuilt without comment
        assert f"{path} is damaged" in capsys.readouterr().out
    assert load_image_folder(folder, image_size=16)._open() is not None


def test_read_only_data_root_falls_back_to_the_user_cache(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = folder.parent
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    for path in [root, *root.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)
    try:
        cached = load_image_folder(folder, image_size=16)
        _assert_matches_transform_path(cached, folder, 16)
        assert cached.cache_path.parent == tmp_path / "xdg" / "gan_tutorial"
        assert "read-only" in cached.cache_reason and image_cache.CACHE_ENV in cached.cache_reason
        assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing written
    finally:
        for path in [root, *root.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
    monkeypatch.setenv(image_cache.CACHE_ENV, str(tmp_path / "chosen"))
    assert load_image_folder(folder, image_size=16).cache_path.parent == tmp_path / "chosen"


def test_a_read_only_copy_of_real_faces_is_cached_elsewhere(celeba_data, tmp_path, monkeypatch):
    """A read-only data root (CI's shared copy, a mounted folder) is never written to.

    The test makes its own read-only copy: the real data root may well be writable (a
    learner's data/), and then caching next to it is right."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(image_cache.CACHE_ENV, raising=False)
    faces = celeba_data / "celeba" / "img_align_celeba"
    root = tmp_path / "root"
    (root / "celeba" / "img_align_celeba").mkdir(parents=True)
    for path in sorted(faces.glob("*.jpg"))[:6]:
        shutil.copy(path, root / "celeba" / "img_align_celeba" / path.name)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        before = sorted(p.relative_to(root) for p in root.rglob("*"))
        cached = load_celeba(root, image_size=16)
        cached.images
        assert len(cached) == 6
        assert cached.cache_path.parent == tmp_path / "xdg" / "gan_tutorial"
        assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    finally:
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    writable = load_celeba(root, image_size=16)  # the same copy, now writable: cached beside it
    assert writable.cache_path.is_relative_to(root)


def test_cache_keeps_uint8_memory_map(folder):
    cached = load_image_folder(folder, image_size=16)
    assert cached.images.dtype == torch.uint8
    array = np.load(cached.cache_path, mmap_mode="r")
    assert array.shape == (len(cached), 3, 16, 16)
    assert np.array_equal(array, cached.images.numpy())


def test_loader_workers_die_with_their_parent(folder):
    from gan_tutorial.plumbing.processes import die_with_parent

    loader = make_loader(load_image_folder(folder, image_size=16, cache=False), batch_size=2, num_workers=1)
    assert loader.worker_init_fn is die_with_parent
    assert make_loader(load_image_folder(folder, image_size=16), batch_size=2).num_workers == 0
