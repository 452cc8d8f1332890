"""Datasets for the lessons: MNIST, CelebA faces and Pokémon sprites.

All loaders find data under one *data root*: the ``root`` argument, else the
``GAN_TUTORIAL_DATA`` environment variable, else ``data/`` in the repository.
Layout under the root::

    MNIST/raw/...                    torchvision's MNIST files (downloaded automatically)
    celeba/img_align_celeba/*.jpg    CelebA aligned faces (manual download, see below)
    pokemon/<class>/*.png            Pokémon sprites in class folders (downloaded automatically)

Images come out as tensors scaled to [-1, 1], matching the generators' Tanh output.
In-memory datasets (MNIST, and image folders through their decoded cache, see
``image_cache``) are served by ``make_loader`` one whole batch per index.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path
from urllib.error import URLError

import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Sampler, Subset, TensorDataset
from torchvision import datasets, transforms
from torchvision.datasets.folder import find_classes
from torchvision.datasets.utils import download_url, extract_archive

from .plumbing.environment import DATA_ENV, data_root_setting, quick_mode
from .plumbing.dataset_errors import CorruptDatasetError, DatasetNotFoundError
from .plumbing.hashing import file_hash
from .plumbing.image_cache import (CachedImageFolder, UnreadableImageError, find_unreadable_images,
                                   image_samples, read_image)
from .plumbing.in_memory import InMemoryImages, collate_batch
from .plumbing.mnist_files import check_mnist_files
from .plumbing.processes import die_with_parent

CELEBA_PAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
CELEBA_GDRIVE_ID = "0B7EVK8r0v71pZjFTYXZWM3FlRnM"  # img_align_celeba.zip, as torchvision uses
CELEBA_ZIP_MD5 = "00d2c5bc6d35e252742224ab0c1e8fcb"
POKEMON_URL = "http://d2l-data.s3-accelerate.amazonaws.com/pokemon.zip"  # the d2l book's copy
POKEMON_ZIP_SHA1 = "c065c0e2593b8b161a2d7873e42418bf6a21106c"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the data root: argument, else ``$GAN_TUTORIAL_DATA``, else ``<repo>/data``.

    When the package is installed rather than run from a checkout, the last fallback
    is ``~/gan_tutorial_data``. A root that exists but is a file is refused with a
    message naming where it came from.
    """
    if root is not None:
        return _must_be_folder(Path(root).expanduser(), f"root={str(root)!r}", "the root argument")
    chosen = data_root_setting()
    if chosen is not None:
        return _must_be_folder(chosen, f"{DATA_ENV}={str(chosen)}", DATA_ENV)
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").is_file():  # a checkout of this repository
        return _must_be_folder(repo / "data", str(repo / "data"), "the default data folder")
    return _must_be_folder(Path.home() / "gan_tutorial_data", "~/gan_tutorial_data",
                           "the default data folder")  # installed from a wheel


def _must_be_folder(path: Path, shown: str, what: str) -> Path:
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(
            f"{shown} names a file, but {what} must name a folder: the folder that holds (or "
            f"will hold) MNIST/, celeba/ and pokemon/. Point {what} at that folder, or move "
            f"the file {path} away."
        )
    return path


def image_transform(image_size: int, channels: int = 3) -> transforms.Compose:
    """Resize (shorter side) + center crop to a square, then scale pixels to [-1, 1].

    ``Normalize(0.5, 0.5)`` maps ToTensor's [0, 1] to [-1, 1], the range of Tanh.
    """
    return transforms.Compose([
        transforms.Resize(image_size),
        transforms.CenterCrop(image_size),
        transforms.ToTensor(),
        transforms.Normalize([0.5] * channels, [0.5] * channels),
    ])


def limit_dataset(dataset: Dataset, limit: int | None) -> Dataset:
    """Keep ``limit`` items spread evenly over the dataset (all of it when ``limit`` is None).

    Evenly spaced rather than the first ones, so a small subset still covers every
    class of a dataset stored class by class.
    """
    if limit is None or limit >= len(dataset):
        return dataset
    return Subset(dataset, spread_indices(len(dataset), limit))


def spread_indices(n: int, limit: int) -> list[int]:
    """``limit`` indices spread evenly over ``range(n)``, first and last included."""
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    return torch.linspace(0, n - 1, min(limit, n)).long().tolist()


def _mnist_in_memory(parts: list[datasets.MNIST], image_size: int,
                     limit: int | None = None) -> InMemoryImages:
    """Resize the digits at once: bilinear, antialiased, on uint8.

    PyTorch's uint8 path gives the very pixels of ``transforms.Resize`` on PIL images
    (checked in the tests), about 4x faster than resizing floats. With ``limit`` only the
    digits ``limit_dataset`` would keep are resized (quick runs need not resize 70,000).
    """
    images = torch.cat([p.data for p in parts]).unsqueeze(1)
    labels = torch.cat([p.targets for p in parts])
    if limit is not None and limit < len(images):
        keep = torch.tensor(spread_indices(len(images), limit))
        images, labels = images[keep], labels[keep]
    if image_size != images.shape[-1]:
        images = torch.nn.functional.interpolate(images, size=(image_size, image_size),
                                                 mode="bilinear", antialias=True)
    return InMemoryImages(images, labels)


def load_mnist(root: str | os.PathLike | None = None, image_size: int = 28,
               split: str = "train", download: bool = True,
               limit: int | None = None, in_memory: bool = True) -> Dataset:
    """MNIST digits as 1-channel tensors in [-1, 1].

    ``split`` is "train" (60,000), "test" (10,000) or "all" (70,000). Downloads with
    checksums and a progress bar when the files are missing and ``download`` is True.
    With ``in_memory`` (default) all digits are resized once and kept as one tensor,
    which trains several times faster than the per-image torchvision pipeline
    (``in_memory=False``) and gives the same [-1, 1] scaling.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    root = data_root(root)
    tf = image_transform(image_size, channels=1)
    check_mnist_files(root / "MNIST" / "raw", split, download)
    try:
        parts = [datasets.MNIST(root, train=(s == "train"), download=download, transform=tf)
                 for s in (["train", "test"] if split == "all" else [split])]
    except (RuntimeError, URLError, OSError) as err:
        if isinstance(err, DatasetNotFoundError):
            raise
        raise DatasetNotFoundError(
            f"MNIST was not found in {root / 'MNIST' / 'raw'}. Run with download=True and an "
            f"internet connection, or copy the four MNIST .gz files "
            f"(http://yann.lecun.com/exdb/mnist/) there, or point {DATA_ENV} at a folder "
            f"that holds MNIST/raw/."
        ) from err
    if in_memory:
        return _mnist_in_memory(parts, image_size, limit)  # the same digits limit_dataset keeps
    dataset = parts[0] if len(parts) == 1 else ConcatDataset(parts)
    return limit_dataset(dataset, limit)


def load_image_folder(path: str | os.PathLike, image_size: int = 64,
                      limit: int | None = None, cache: bool = True, verify: bool = False,
                      progress: bool | None = None) -> Dataset:
    """Any folder of RGB images, ImageFolder style: ``path/<class>/*.jpg|png``, scaled to [-1, 1].

    Classes do not matter to a GAN; one sub-folder holding every image is enough.
    With ``cache`` (default) the images are decoded, resized and center-cropped once
    into a memory-mapped uint8 array (``image_cache.CachedImageFolder``: same pixels as
    ``image_transform``, same ``classes`` and labels as ImageFolder), which later runs
    reuse; ``cache=False`` decodes every image on every access with ImageFolder.
    ``verify=True`` first decodes every image and raises ``UnreadableImageError`` listing
    the unreadable ones. ``progress`` shows bars for building the cache and verifying
    (default: on, except in quick mode).
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        raise DatasetNotFoundError(f"No folder at {path}.")
    if not any(_count_images(sub) for sub in path.iterdir() if sub.is_dir()):
        raise DatasetNotFoundError(
            f"No images in sub-folders of {path}. ImageFolder expects path/<any name>/<image>: "
            f"move the images into a sub-folder, e.g. {path / 'images'}."
        )
    if progress is None:
        progress = not quick_mode()
    if verify:
        bad = find_unreadable_images(path, progress=progress)
        if bad:
            listed = "\n  ".join(f"{p}: {why}" for p, why in bad[:20])
            raise UnreadableImageError(f"{len(bad)} image(s) under {path} cannot be read:\n  "
                                       f"{listed}\nDelete or replace them, then load again.")
    if cache:  # limit: the same images as limit_dataset picks
        select = None if limit is None else lambda n: spread_indices(n, limit)
        return CachedImageFolder(path, image_size, select=select, progress=progress)
    return limit_dataset(_LoopSafeImageFolder(str(path), transform=image_transform(image_size),
                                              loader=read_image, allow_empty=True), limit)


class _LoopSafeImageFolder(datasets.ImageFolder):
    """ImageFolder whose file walk visits each real folder and file once (see walk_images)."""

    def find_classes(self, directory):
        return find_classes(directory)

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
        return image_samples(directory)[1]


def _count_images(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _celeba_missing_message(folder: Path) -> str:
    return (
        f"CelebA faces were not found in {folder}.\n"
        f"CelebA is distributed by its authors for non-commercial research and is large "
        f"(1.4 GB), so it is downloaded by hand:\n"
        f"  1. Open {CELEBA_PAGE} and download 'Align&Cropped Images' -> img_align_celeba.zip\n"
        f"  2. Unzip it so that {folder / '000001.jpg'} exists\n"
        f"     (any folder of face images named img_align_celeba works).\n"
        f"  3. Or keep the data elsewhere and set {DATA_ENV}=/path/to/root, where the root "
        f"holds celeba/img_align_celeba/.\n"
        f"load_celeba(download=True) tries the Google Drive copy torchvision uses; it is "
        f"often over its download quota."
    )


def download_celeba(root: Path) -> None:
    """Fetch img_align_celeba.zip from Google Drive (md5-checked) and unpack it."""
    from torchvision.datasets.utils import download_file_from_google_drive

    target = root / "celeba"
    target.mkdir(parents=True, exist_ok=True)
    download_file_from_google_drive(CELEBA_GDRIVE_ID, str(target), "img_align_celeba.zip",
                                    CELEBA_ZIP_MD5)
    extract_archive(str(target / "img_align_celeba.zip"), str(target))


def load_celeba(root: str | os.PathLike | None = None, image_size: int = 64,
                download: bool = False, limit: int | None = None, cache: bool = True,
                verify: bool = False) -> Dataset:
    """CelebA aligned faces, ImageFolder style: Resize + CenterCrop to ``image_size``, [-1, 1].

    Looks for ``<root>/celeba/img_align_celeba/*.jpg``; raises ``DatasetNotFoundError``
    with download instructions when it is missing. ``cache`` and ``verify``: see
    ``load_image_folder``.
    """
    root = data_root(root)
    folder = root / "celeba" / "img_align_celeba"
    if _count_images(folder) == 0 and download:
        try:
            download_celeba(root)
        except Exception as err:  # network, quota, missing gdown: explain instead
            raise DatasetNotFoundError(_celeba_missing_message(folder)
                                       + f"\n(The automatic download failed: {err})") from err
    if _count_images(folder) == 0:
        raise DatasetNotFoundError(_celeba_missing_message(folder))
    return load_image_folder(folder.parent, image_size, limit, cache=cache, verify=verify)


def sha1_of(path: Path) -> str:
    """SHA-1 hex digest of a file (the d2l archive's published checksum)."""
    return file_hash(path, "sha1")


def _pokemon_offline_message(folder: Path, err: Exception) -> str:
    return (
        f"Pokémon sprites could not be downloaded from {POKEMON_URL} ({err}).\n"
        f"  1. Check the internet connection (a proxy may need HTTPS_PROXY) and run again, or\n"
        f"  2. download pokemon.zip on another machine, copy it to {folder.parent / 'pokemon.zip'} "
        f"and run again (it is checked and unpacked), or unpack it so that {folder}/<name>/*.png "
        f"exist, or\n"
        f"  3. set {DATA_ENV}=/path/to/root, where the root holds pokemon/."
    )


def download_pokemon(root: Path) -> None:
    """Fetch the d2l book's pokemon.zip (progress bar, SHA-1 checked) and unpack it."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        download_url(POKEMON_URL, str(root), "pokemon.zip")
    except (URLError, OSError) as err:  # offline, DNS, proxy, refused, timed out
        raise DatasetNotFoundError(_pokemon_offline_message(root / "pokemon", err)) from err
    archive = root / "pokemon.zip"
    if sha1_of(archive) != POKEMON_ZIP_SHA1:
        archive.unlink()
        raise DatasetNotFoundError(
            f"pokemon.zip from {POKEMON_URL} failed its SHA-1 check and was deleted; "
            f"try again, or unpack a copy by hand into {root / 'pokemon'}."
        )
    extract_pokemon(archive, root)


def extract_pokemon(archive: Path, root: Path) -> None:
    """Unpack ``pokemon.zip`` into ``root/pokemon`` all at once or not at all.

    The archive is unpacked into a temporary folder next to the target, which is moved
    into place only when complete; an interrupted run leaves no half-filled ``pokemon/``.
    An existing ``pokemon/`` is never replaced (it may hold the learner's own files).
    """
    target = root / "pokemon"
    if target.exists():
        raise FileExistsError(f"{target} already exists and is never replaced; to unpack "
                              f"{archive} again, delete or move that folder first.")
    for stale in root.glob(".pokemon-partial-*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    partial = Path(tempfile.mkdtemp(prefix=".pokemon-partial-", dir=root))
    try:
        try:
            extract_archive(str(archive), str(partial))
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:
            raise _broken_pokemon_zip(archive, err) from err
        unpacked = partial / "pokemon"
        if not unpacked.is_dir():
            raise DatasetNotFoundError(f"{archive} holds no pokemon/ folder; delete it and "
                                       f"download it again.")
        os.replace(unpacked, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _broken_pokemon_zip(archive: Path, err: Exception) -> CorruptDatasetError:
    return CorruptDatasetError(
        f"{archive} is not a readable zip archive ({err}). Delete it and load again to download "
        f"it afresh, or unpack a good copy by hand so that {archive.parent / 'pokemon'}/<name>/*.png exist.")


def pokemon_missing_files(folder: Path, archive: Path) -> list[str]:
    """Files of ``archive`` that ``folder`` lacks or holds with another size (deleted or edited);
    CorruptDatasetError naming the archive when it is no zip."""
    try:
        with zipfile.ZipFile(archive) as z:
            members = [m for m in z.infolist() if not m.is_dir() and m.filename.startswith("pokemon/")]
    except zipfile.BadZipFile as err:
        raise _broken_pokemon_zip(archive, err) from err
    missing = []
    for m in members:
        path = folder.parent / m.filename
        if not path.is_file() or path.stat().st_size != m.file_size:
            missing.append(m.filename)
    return missing


def _pokemon_differs_note(folder: Path, archive: Path) -> str | None:
    """One line when ``folder`` lacks files of ``archive`` or holds them changed, else None.

    The folder is used as it is either way: it may hold the learner's own edits.
    """
    try:
        changed = len(pokemon_missing_files(folder, archive))
    except CorruptDatasetError as err:
        return (f"Note: {archive} is not a readable zip ({err.__cause__}); {folder} is used as it "
                f"is. Delete the zip, or replace it with a good copy.")
    if not changed:
        return None
    return (f"Note: {changed} file(s) of {archive} are missing from {folder} or differ there; the "
            f"folder is used as it is. To get the original sprites back, delete {folder} and load again.")


def load_pokemon(root: str | os.PathLike | None = None, image_size: int = 64,
                 download: bool = True, limit: int | None = None, cache: bool = True,
                 verify: bool = False) -> Dataset:
    """Pokémon sprites from ``<root>/pokemon/<class>/*.png``, ImageFolder style, RGB in [-1, 1].

    When the folder is missing and ``<root>/pokemon.zip`` is there, the zip is unpacked. An
    existing folder is used as it is, never replaced: a one-line note says when it lacks
    or changed files of the zip. ``cache`` and ``verify``: see ``load_image_folder``.
    """
    root = data_root(root)
    folder = root / "pokemon"
    archive = root / "pokemon.zip"
    if archive.is_file() and folder.is_dir():
        note = _pokemon_differs_note(folder, archive)
        if note:
            print(note)
    elif archive.is_file() and not folder.exists():
        extract_pokemon(archive, root)
    elif not folder.exists() and download:
        download_pokemon(root)
    if not folder.is_dir() or not any(p.is_dir() for p in folder.iterdir()):
        raise DatasetNotFoundError(
            f"Pokémon sprites were not found in {folder}. Run load_pokemon(download=True) "
            f"with an internet connection to fetch the d2l copy ({POKEMON_URL}), or put "
            f"sprites there as one sub-folder per Pokémon (pokemon/<name>/*.png), or set "
            f"{DATA_ENV} to a folder that holds pokemon/."
        )
    return load_image_folder(folder, image_size, limit, cache=cache, verify=verify)


def _base_dataset(dataset: Dataset) -> Dataset:
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return dataset


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = True,
                num_workers: int | None = None, device: str | torch.device | None = None,
                drop_last: bool = True, sampler: Sampler | None = None) -> DataLoader:
    """A DataLoader with sensible speed defaults: batched in-memory loading, workers for files.

    In-memory datasets (``InMemoryImages``, image-folder caches, and ``Subset``s of them)
    are served one tensor index per batch through ``collate_batch``, with no worker
    processes; the DataLoader's own sampler shuffles, so the batches are exactly those of
    the per-image path for the same seed. Images decoded from files get worker processes;
    pinned memory on CUDA. ``drop_last`` keeps every batch the same size, so BatchNorm
    never sees a batch of one. ``sampler`` (e.g. a ``DistributedSampler``) replaces shuffling.
    """
    if batch_size > len(dataset) and drop_last:
        raise ValueError(f"batch_size {batch_size} is larger than the dataset ({len(dataset)} "
                         f"items): no full batch could be made. Use a smaller batch.")
    base = _base_dataset(dataset)
    batched = isinstance(base, InMemoryImages)
    if batched:
        base.images  # build or open an image cache now, not inside the first training step
    if num_workers is None:
        in_memory = getattr(base, "in_memory", False) or isinstance(base, TensorDataset)
        num_workers = 0 if in_memory else min(4, max(1, (os.cpu_count() or 2) // 2))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle and sampler is None,
                      sampler=sampler, drop_last=drop_last, num_workers=num_workers,
                      collate_fn=collate_batch if batched else None,
                      persistent_workers=num_workers > 0,
                      worker_init_fn=die_with_parent if num_workers > 0 else None,
                      pin_memory=device is not None and torch.device(device).type == "cuda")


def first_images(dataset: Dataset, n: int) -> torch.Tensor:
    """Stack the first ``n`` images of a dataset (labels dropped) into one batch tensor."""
    n = min(n, len(dataset))
    return torch.stack([dataset[i][0] for i in range(n)])


def spread_images(dataset: Dataset, n: int) -> torch.Tensor:
    """``n`` images spread evenly over the dataset, as one batch: every class, not the first
    folder's (class folders sort 1, 10, 100, 11, ... so the first 64 sprites are 4 Pokémon)."""
    return first_images(limit_dataset(dataset, n), n)


# ------------------------------------------------------------------ 2-D points (lesson 00)
POINT_SETS = ("gaussian", "two_gaussians", "ring", "spiral")
RING_STD = 0.02  # each of the ring's 8 Gaussians (the ring of Metz et al. 2017, radius 2)


def ring_modes(k: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The centres of the ring's ``k`` Gaussians, evenly spaced on a circle."""
    angle = torch.arange(k, dtype=torch.float64) * 2 * math.pi / k
    return torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1).float()


def toy_points(name: str | torch.Tensor, n: int, seed: int | None = None) -> torch.Tensor:
    """``n`` points (n, 2) from a named 2-D distribution (:data:`POINT_SETS`), or from points a
    learner typed or drew (a tensor (m, 2): picked with replacement, jittered by 0.05)."""
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    noise = lambda std: std * torch.randn(n, 2, generator=g)  # noqa: E731
    if isinstance(name, torch.Tensor):
        if name.dim() != 2 or name.size(1) != 2 or len(name) == 0:
            raise ValueError(f"typed points must be a tensor of shape (m, 2), got {tuple(name.shape)}")
        return name.float()[torch.randint(len(name), (n,), generator=g)] + noise(0.05)
    if name == "gaussian":
        return torch.tensor([1.0, 0.5]) + noise(0.3)
    if name == "two_gaussians":
        side = torch.randint(2, (n, 1), generator=g).float() * 2 - 1
        return torch.cat([1.5 * side, torch.zeros(n, 1)], dim=1) + noise(0.2)
    if name == "ring":
        return ring_modes()[torch.randint(8, (n,), generator=g)] + noise(RING_STD)
    if name == "spiral":
        t = torch.rand(n, generator=g) * 3 * math.pi
        radius = 0.3 + 2.2 * t / (3 * math.pi)
        return torch.stack([radius * t.cos(), radius * t.sin()], dim=1) + noise(0.05)
    raise ValueError(f"no 2-D distribution {name!r}: choose one of {', '.join(POINT_SETS)}, "
                     f"or pass your own points as a tensor of shape (m, 2)")
