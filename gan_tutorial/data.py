"""Datasets for the lessons: MNIST, CelebA faces and Pokémon sprites.

All loaders find data under one *data root*: the ``root`` argument, else the
``GAN_TUTORIAL_DATA`` environment variable, else ``data/`` in the repository.
Layout under the root::

    MNIST/raw/...                    torchvision's MNIST files (downloaded automatically)
    celeba/img_align_celeba/*.jpg    CelebA aligned faces (manual download, see below)
    pokemon/<class>/*.png            Pokémon sprites in class folders (downloaded automatically)

Images come out as tensors scaled to [-1, 1], matching the generators' Tanh output.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Subset, TensorDataset
from torchvision import datasets, transforms
from torchvision.datasets.utils import download_url, extract_archive

from .config import DATA_ENV

CELEBA_PAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
CELEBA_GDRIVE_ID = "0B7EVK8r0v71pZjFTYXZWM3FlRnM"  # img_align_celeba.zip, as torchvision uses
CELEBA_ZIP_MD5 = "00d2c5bc6d35e252742224ab0c1e8fcb"
POKEMON_URL = "http://d2l-data.s3-accelerate.amazonaws.com/pokemon.zip"  # the d2l book's copy
POKEMON_ZIP_SHA1 = "c065c0e2593b8b161a2d7873e42418bf6a21106c"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not where the tutorial looked; the message says how to get it."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the data root: argument, else ``$GAN_TUTORIAL_DATA``, else ``<repo>/data``.

    When the package is installed rather than run from a checkout, the last fallback
    is ``~/gan_tutorial_data``.
    """
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").is_file():  # a checkout of this repository
        return repo / "data"
    return Path.home() / "gan_tutorial_data"  # installed from a wheel


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
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    indices = torch.linspace(0, len(dataset) - 1, limit).long().tolist()
    return Subset(dataset, indices)


class InMemoryImages(Dataset):
    """Images held as one uint8 tensor, scaled to [-1, 1] on access; labels alongside.

    For small datasets such as MNIST this removes the per-image PIL work (and the worker
    processes) that otherwise limit training speed: indexing is a slice and a division.
    """

    in_memory = True

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError("images must be a uint8 tensor of shape (N, C, H, W)")
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        # the same numbers as ToTensor() + Normalize(0.5, 0.5): x / 255 * 2 - 1
        return self.images[index].float() / 127.5 - 1, int(self.labels[index])


def _mnist_in_memory(parts: list[datasets.MNIST], image_size: int) -> InMemoryImages:
    """Resize all digits at once (bilinear, antialiased, as transforms.Resize does)."""
    images = torch.cat([p.data for p in parts]).unsqueeze(1)
    labels = torch.cat([p.targets for p in parts])
    if image_size != images.shape[-1]:
        resized = torch.nn.functional.interpolate(images.float(), size=(image_size, image_size),
                                                  mode="bilinear", antialias=True)
        images = resized.round().clamp(0, 255).to(torch.uint8)
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
    try:
        parts = [datasets.MNIST(root, train=(s == "train"), download=download, transform=tf)
                 for s in (["train", "test"] if split == "all" else [split])]
    except RuntimeError as err:
        raise DatasetNotFoundError(
            f"MNIST was not found in {root / 'MNIST' / 'raw'}. Run with download=True and an "
            f"internet connection, or copy the four MNIST .gz files "
            f"(http://yann.lecun.com/exdb/mnist/) there, or point {DATA_ENV} at a folder "
            f"that holds MNIST/raw/."
        ) from err
    if in_memory:
        dataset: Dataset = _mnist_in_memory(parts, image_size)
    else:
        dataset = parts[0] if len(parts) == 1 else ConcatDataset(parts)
    return limit_dataset(dataset, limit)


def load_image_folder(path: str | os.PathLike, image_size: int = 64,
                      limit: int | None = None) -> Dataset:
    """Any folder of RGB images, ImageFolder style: ``path/<class>/*.jpg|png``, scaled to [-1, 1].

    Classes do not matter to a GAN; one sub-folder holding every image is enough.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        raise DatasetNotFoundError(f"No folder at {path}.")
    if not any(_count_images(sub) for sub in path.iterdir() if sub.is_dir()):
        raise DatasetNotFoundError(
            f"No images in sub-folders of {path}. ImageFolder expects path/<any name>/<image>: "
            f"move the images into a sub-folder, e.g. {path / 'images'}."
        )
    dataset = datasets.ImageFolder(str(path), transform=image_transform(image_size),
                                   allow_empty=True)
    return limit_dataset(dataset, limit)


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
                download: bool = False, limit: int | None = None) -> Dataset:
    """CelebA aligned faces via ImageFolder: Resize + CenterCrop to ``image_size``, [-1, 1].

    Looks for ``<root>/celeba/img_align_celeba/*.jpg``; raises ``DatasetNotFoundError``
    with download instructions when it is missing.
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
    return load_image_folder(folder.parent, image_size, limit)


def sha1_of(path: Path) -> str:
    """SHA-1 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_pokemon(root: Path) -> None:
    """Fetch the d2l book's pokemon.zip (progress bar, SHA-1 checked) and unpack it."""
    root.mkdir(parents=True, exist_ok=True)
    download_url(POKEMON_URL, str(root), "pokemon.zip")
    archive = root / "pokemon.zip"
    if sha1_of(archive) != POKEMON_ZIP_SHA1:
        archive.unlink()
        raise DatasetNotFoundError(
            f"pokemon.zip from {POKEMON_URL} failed its SHA-1 check and was deleted; "
            f"try again, or unpack a copy by hand into {root / 'pokemon'}."
        )
    extract_archive(str(archive), str(root))


def load_pokemon(root: str | os.PathLike | None = None, image_size: int = 64,
                 download: bool = True, limit: int | None = None) -> Dataset:
    """Pokémon sprites from ``<root>/pokemon/<class>/*.png`` via ImageFolder, RGB in [-1, 1]."""
    root = data_root(root)
    folder = root / "pokemon"
    if not folder.is_dir() and download:
        download_pokemon(root)
    if not folder.is_dir() or not any(p.is_dir() for p in folder.iterdir()):
        raise DatasetNotFoundError(
            f"Pokémon sprites were not found in {folder}. Run load_pokemon(download=True) "
            f"with an internet connection to fetch the d2l copy ({POKEMON_URL}), or put "
            f"sprites there as one sub-folder per Pokémon (pokemon/<name>/*.png), or set "
            f"{DATA_ENV} to a folder that holds pokemon/."
        )
    return load_image_folder(folder, image_size, limit)


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = True,
                num_workers: int | None = None, device: torch.device | None = None,
                drop_last: bool = True) -> DataLoader:
    """A DataLoader with sensible speed defaults: worker processes and pinned memory on GPU.

    Images decoded from files get worker processes; in-memory datasets need none.
    ``drop_last`` keeps every batch the same size, so BatchNorm never sees a batch of one.
    """
    if batch_size > len(dataset) and drop_last:
        raise ValueError(f"batch_size {batch_size} is larger than the dataset ({len(dataset)} "
                         f"items): no full batch could be made. Use a smaller batch.")
    if num_workers is None:
        base = dataset.dataset if isinstance(dataset, Subset) else dataset
        in_memory = getattr(base, "in_memory", False) or isinstance(base, TensorDataset)
        num_workers = 0 if in_memory else min(4, max(1, (os.cpu_count() or 2) // 2))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      num_workers=num_workers, persistent_workers=num_workers > 0,
                      pin_memory=device is not None and device.type == "cuda")


def first_images(dataset: Dataset, n: int) -> torch.Tensor:
    """Stack the first ``n`` images of a dataset (labels dropped) into one batch tensor."""
    n = min(n, len(dataset))
    return torch.stack([dataset[i][0] for i in range(n)])
