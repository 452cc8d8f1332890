"""Decode an image folder once, keep the pixels: a memory-mapped uint8 cache.

Decoding a JPEG and resizing it costs more than a DCGAN step needs per image on a GPU
(about 500 faces/s on 2 CPU cores). ``CachedImageFolder`` decodes every image once, with
exactly the ``Resize`` + ``CenterCrop`` of ``image_transform``, and stores the uint8 pixels
as one ``.npy`` array (N, 3, H, W) that later runs memory-map instead of decoding again.
Served through ``InMemoryImages``, a batch is one index and one division.

Where the cache lives: ``$GAN_TUTORIAL_CACHE`` when set; else ``.cache/gan_tutorial/``
next to the image folder (for ``load_celeba``/``load_pokemon`` that is under the data root);
else, when that place is read-only, ``~/.cache/gan_tutorial`` (``$XDG_CACHE_HOME``).

When it is rebuilt: the cache's name holds a hash of the image size and of the file list
(relative paths, sizes, modification times), so adding, removing or changing an image
makes a new one (stale ones of the same folder are deleted). A ``.json`` manifest written
last records the shape and a CRC-32 of the pixels; a missing, truncated or corrupt cache
fails that check and is rebuilt.
"""
from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import re
import stat
import tempfile
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms
from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes
from tqdm.auto import tqdm

from .checkpoint import DiskFullError
from .environment import CACHE_ENV, cache_setting, user_cache_folder
from .in_memory import InMemoryImages
from .processes import die_with_parent, left_by_dead_process


CACHE_FORMAT = 2  # 2: 16-bit, float and transparent images decoded as viewers show them
_CHUNK = 1 << 24  # bytes per step when checksumming


class UnreadableImageError(OSError):
    """An image file cannot be decoded; the message names the file(s) and the fix."""


def to_rgb(image: Image.Image, path: str | os.PathLike = "image") -> Image.Image:
    """8-bit RGB pixels as an image viewer shows them, for every mode Pillow opens.

    ``convert("RGB")`` alone clips 16-bit and 32-bit greyscale to white (mid-grey 32768
    becomes 255) and turns transparent pixels black. Here 16-bit values are scaled by
    255/65535, float images in [0, 1] or [0, 255] are scaled to 8 bits, and transparency is
    composited on white, as viewers and the sprites' own backgrounds show it. Values that
    have no 8-bit meaning (negative, or beyond 16 bits) raise UnreadableImageError.
    """
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        if image.mode == "F" and low >= 0 and high <= 1:
            scale = 255.0
        elif image.mode == "F" and low >= 0 and high <= 255:
            scale = 1.0
        elif image.mode != "F" and low >= 0 and high <= 65535:
            scale = 255.0 / 65535.0
        else:
            raise UnreadableImageError(
                f"Cannot read image {path}: its {image.mode} pixels range from {low:g} to {high:g}, "
                f"which has no 8-bit meaning. Save it as an 8- or 16-bit PNG or a JPEG.")
        grey = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")  # uint8, 2-D: mode L
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def read_image(path: str | os.PathLike) -> Image.Image:
    """An image file as 8-bit RGB (:func:`to_rgb`), with an error that names the file."""
    try:
        with open(path, "rb") as f:
            image = Image.open(f)
            image.load()
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise UnreadableImageError(
            f"Cannot read image {path}: {err}. Delete or replace the file; "
            f"find_unreadable_images(folder) lists every such file in a folder."
        ) from err
    return to_rgb(image, path)


def find_unreadable_images(folder: str | os.PathLike, progress: bool = True) -> list[tuple[Path, str]]:
    """Decode every image under ``folder`` (recursively); return ``(path, reason)`` for each failure.

    Run it before a long training run on a folder you copied or downloaded yourself:
    an empty list means every image decodes.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise NotADirectoryError(f"find_unreadable_images: no folder at {folder}")
    paths = sorted(walk_images(folder))
    bad = []
    for path in tqdm(paths, desc=f"checking {folder.name}", unit="img", disable=not progress):
        try:
            read_image(path)
        except UnreadableImageError as err:
            bad.append((path, str(err.__cause__)))
    return bad


def _writable(folder: Path) -> bool:
    """Whether we may create ``folder`` (or write in it).

    Besides ``os.access``, the permission bits must allow writing: root passes
    ``os.access`` everywhere, yet a folder marked read-only (``r-x``) must stay untouched.
    """
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    if not probe.is_dir():
        return False
    mode = probe.stat().st_mode
    return os.access(probe, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def cache_folder(image_folder: Path) -> tuple[Path, str]:
    """Where the cache of ``image_folder`` goes, and why (a sentence for the learner)."""
    chosen = cache_setting()
    if chosen is not None:
        return chosen, f"the cache folder {chosen}, as {CACHE_ENV} is set"
    beside = image_folder.parent / ".cache" / "gan_tutorial"
    if _writable(beside):
        return beside, f"the cache folder {beside}, next to the data (set {CACHE_ENV} to choose another)"
    user = user_cache_folder()
    return user, (f"{image_folder.parent} is read-only, so the cache goes to the user cache "
                  f"folder {user} (set {CACHE_ENV} to choose another)")


@dataclass(frozen=True)
class ImageFile:
    """One image of the folder: path relative to the folder, class index, size, mtime."""

    relpath: str
    label: int
    size: int
    mtime_ns: int


def walk_images(folder: str | os.PathLike, seen_folders: set[str] | None = None,
                seen_files: set[str] | None = None) -> Iterator[Path]:
    """Image files under ``folder`` in ImageFolder's order, following links, each real one once.

    ``os.walk(followlinks=True)`` (what ImageFolder uses) goes round a link to a parent folder
    for ever, or reads the same images many times over. Here a folder whose real path was
    already visited is skipped, and so is a file seen before; a link that points nowhere, and
    a named pipe, socket or device (opening a pipe waits for a writer: the build would hang),
    are skipped with a warning naming them. ``seen_folders``/``seen_files`` (real paths) carry what
    was visited across calls; a folder listed there beforehand is not entered through a link.
    """
    seen_folders = set() if seen_folders is None else seen_folders
    seen_files = set() if seen_files is None else seen_files
    start = os.path.realpath(folder)
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen_folders and real != start:
            dirs[:] = []
            continue
        seen_folders.add(real)
        dirs.sort()
        dirs[:] = [d for d in dirs if os.path.realpath(os.path.join(root, d)) not in seen_folders]
        for name in sorted(files):
            path = Path(root) / name
            if path.suffix.lower() not in IMG_EXTENSIONS:
                continue
            if not path.exists():  # a link to nothing
                warnings.warn(f"skipping {path}: it is a link to {os.readlink(path)}, which does "
                              f"not exist. Remove the link or restore its target.", stacklevel=2)
                continue
            if not path.is_file():  # a FIFO, socket or device: reading it may wait for ever
                warnings.warn(f"skipping {path}: it is not a regular file (a named pipe, socket "
                              f"or device), so it holds no image. Move it out of the folder.",
                              stacklevel=2)
                continue
            target = os.path.realpath(path)
            if target not in seen_files:
                seen_files.add(target)
                yield path


def image_samples(folder: str | os.PathLike) -> tuple[list[str], list[tuple[str, int]]]:
    """ImageFolder's classes and (path, class index) samples, from :func:`walk_images`."""
    classes, class_to_idx = find_classes(str(folder))
    # the root and every class folder are walked on their own: never again through a link
    folders = {os.path.realpath(folder)} | {os.path.realpath(Path(folder) / c) for c in classes}
    files: set[str] = set()
    samples = [(str(path), class_to_idx[name]) for name in classes
               for path in walk_images(Path(folder) / name, folders, files)]
    return classes, samples


def scan_image_folder(folder: Path) -> tuple[list[str], list[ImageFile]]:
    """Classes and files as ``torchvision.datasets.ImageFolder`` orders them (loop-safe)."""
    classes, samples = image_samples(folder)
    files = []
    for path, label in samples:
        info = os.stat(path)
        files.append(ImageFile(os.path.relpath(path, folder), label, info.st_size, info.st_mtime_ns))
    return classes, files


def cache_key(image_size: int, files: list[ImageFile]) -> str:
    """Hash of everything the cached pixels depend on."""
    digest = hashlib.sha1(f"{CACHE_FORMAT}:{image_size}:".encode())
    for f in files:
        digest.update(f"{f.relpath}\0{f.size}\0{f.mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _reserve(path: Path) -> None:
    """Allocate a file's blocks now: a memory map over a sparse file on a full disk dies with
    SIGBUS at the first page that cannot be stored. Raises DiskFullError naming the file."""
    if not hasattr(os, "posix_fallocate"):
        return
    size = path.stat().st_size
    with open(path, "r+b") as f:
        try:
            os.posix_fallocate(f.fileno(), 0, size)
        except OSError as err:
            if err.errno == errno.ENOSPC:
                raise DiskFullError(path, size) from None
            if err.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # file systems without it
                raise


def crc32_of(array: np.ndarray) -> int:
    """CRC-32 of an array's bytes (about 1 GB/s), read in chunks so a memory map stays lazy."""
    flat = array.reshape(-1)
    crc = 0
    for start in range(0, flat.size, _CHUNK):
        crc = zlib.crc32(flat[start:start + _CHUNK], crc)
    return crc


class _DecodedFiles(Dataset):
    """Decodes files to uint8 (C, H, W) for the cache build; failures come back as messages."""

    def __init__(self, folder: Path, files: list[ImageFile], image_size: int) -> None:
        self.folder, self.files = folder, files
        self.resize = transforms.Compose([transforms.Resize(image_size),
                                          transforms.CenterCrop(image_size)])

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[int, np.ndarray | str]:
        path = self.folder / self.files[i].relpath
        try:
            image = self.resize(read_image(path))
        except UnreadableImageError as err:
            return i, f"{path}: {err.__cause__}"
        return i, np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)


def _readable_by_all(path: Path) -> None:
    """Give a temporary file (created 0600) the permissions of an ordinary new file."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def _as_list(batch):
    return batch


class CachedImageFolder(InMemoryImages):
    """An image folder served from its decoded uint8 cache, ImageFolder's facts kept.

    ``classes``, ``class_to_idx``, ``samples``, ``targets`` and the labels are those
    ``torchvision.datasets.ImageFolder`` gives; ``dataset[i]`` equals
    ``image_transform(image_size)`` applied to the file (up to float rounding).
    The pixels are decoded (or the cache opened) on first use, so ``len()`` and
    ``classes`` are free.
    """

    def __init__(self, folder: str | os.PathLike, image_size: int,
                 select: Callable[[int], list[int]] | None = None, progress: bool = True,
                 workers: int | None = None) -> None:
        """``select(n)`` picks which of the folder's ``n`` images to keep (default: all)."""
        self.root = Path(folder).expanduser()
        self.image_size, self.progress, self.workers = image_size, progress, workers
        self.classes, all_files = scan_image_folder(self.root)
        self.files = all_files if select is None else [all_files[i] for i in select(len(all_files))]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        self.labels = torch.tensor([f.label for f in self.files], dtype=torch.long)
        self.targets = self.labels.tolist()
        self.samples = [(str(self.root / f.relpath), f.label) for f in self.files]
        self.imgs = self.samples
        location, self.cache_reason = cache_folder(self.root)
        self._folder_id = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:8]
        self._stem = f"{self.root.name}-{self._folder_id}-{image_size}px"
        self.cache_path = location / f"{self._stem}-{len(self.files)}-{cache_key(image_size, self.files)}.npy"
        self._all_files = all_files
        self._images: torch.Tensor | None = None

    @property
    def manifest_path(self) -> Path:
        return self.cache_path.with_suffix(".json")

    @property
    def images(self) -> torch.Tensor:
        """The uint8 pixels (N, 3, H, W), memory-mapped from the cache (built on first use)."""
        if self._images is None:
            array = self._open()
            if array is None:
                self._build()
                array = self._open()
                if array is None:
                    raise RuntimeError(f"The image cache {self.cache_path} could not be read back "
                                       f"after building it; is the disk full?")
            self._images = torch.from_numpy(array)
        return self._images

    def _open(self) -> np.ndarray | None:
        """The cached array when the cache is complete and intact, else None (and say why)."""
        if not self.manifest_path.is_file() or not self.cache_path.is_file():
            return None
        expected = [len(self.files), 3, self.image_size, self.image_size]
        pixels, on_disk = int(np.prod(expected)), self.cache_path.stat().st_size
        if on_disk < pixels:  # mapping it would end in SIGBUS at the first missing page
            tqdm.write(f"Image cache {self.cache_path} is damaged (truncated: {on_disk:,} bytes, "
                       f"at least {pixels:,} expected); rebuilding it.")
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text())
            array = np.load(self.cache_path, mmap_mode="c", allow_pickle=False)
            problem = ("wrong shape" if list(array.shape) != expected or array.dtype != np.uint8
                       or manifest.get("shape") != expected
                       else "checksum mismatch" if crc32_of(array) != manifest.get("crc32")
                       else None)
        except (OSError, ValueError, EOFError) as err:
            problem = f"unreadable ({err})"
        if problem is None:
            return array
        tqdm.write(f"Image cache {self.cache_path} is damaged ({problem}); rebuilding it.")
        return None

    def _build(self) -> None:
        """Decode every file into a new cache, then write the manifest (the completion mark)."""
        location = self.cache_path.parent
        location.mkdir(parents=True, exist_ok=True)
        n, size = len(self.files), self.image_size
        if self.progress:
            tqdm.write(f"Decoding {n:,} images of {self.root} once at {size}x{size} into "
                       f"{self.cache_path} ({self.cache_reason}).")
        workers = self.workers if self.workers is not None else (
            0 if n < 256 else min(4, os.cpu_count() or 1))
        self._remove_dead_temporaries()
        fd, tmp_name = tempfile.mkstemp(prefix=f"{self._stem}.{os.getpid()}.", suffix=".npy.tmp",
                                        dir=location)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            array = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, 3, size, size))
            _reserve(tmp)  # a full disk fails here, with a message, not later as SIGBUS
            failures = []
            # Its own generator: iterating a DataLoader draws a seed from the global RNG, and
            # a run must train the same whether or not its cache had to be built first.
            loader = DataLoader(_DecodedFiles(self.root, self.files, size), batch_size=32,
                                num_workers=workers, collate_fn=_as_list,
                                worker_init_fn=die_with_parent if workers else None,
                                generator=torch.Generator().manual_seed(0))
            with tqdm(total=n, desc=f"caching {self.root.name} {size}px", unit="img",
                      disable=not self.progress) as bar:
                for batch in loader:
                    for i, pixels in batch:
                        if isinstance(pixels, str):
                            failures.append(pixels)
                        else:
                            array[i] = pixels
                    bar.update(len(batch))
            if failures:
                listed = "\n  ".join(failures[:20]) + ("\n  ..." if len(failures) > 20 else "")
                raise UnreadableImageError(
                    f"{len(failures)} image(s) in {self.root} cannot be read:\n  {listed}\n"
                    f"Delete or replace them (find_unreadable_images(folder) lists them all), "
                    f"then load the folder again.")
            array.flush()
            crc = crc32_of(array)
            del array
            _readable_by_all(tmp)
            os.replace(tmp, self.cache_path)
        finally:
            tmp.unlink(missing_ok=True)
        manifest = {"format": CACHE_FORMAT, "folder": str(self.root), "shape": [n, 3, size, size],
                    "crc32": crc, "classes": self.classes, "image_size": size,
                    "whole_folder": self.files == self._all_files,
                    "files": [[f.relpath, f.size, f.mtime_ns] for f in self.files]}
        fd, tmp_manifest = tempfile.mkstemp(prefix=f"{self._stem}.{os.getpid()}.", suffix=".json.tmp",
                                            dir=location)
        with os.fdopen(fd, "w") as f:
            json.dump(manifest, f)
        _readable_by_all(Path(tmp_manifest))
        os.replace(tmp_manifest, self.manifest_path)
        self._remove_stale()

    def _remove_dead_temporaries(self) -> None:
        """Delete half-built caches of this folder whose building process is gone (kill -9)."""
        for tmp in self.cache_path.parent.glob(f"{glob.escape(self._stem)}.*.tmp"):
            if left_by_dead_process(tmp, self._stem):
                tmp.unlink(missing_ok=True)

    def _remove_stale(self) -> None:
        """Delete caches of this folder that describe files which changed or disappeared,
        and, after a whole-folder build, the older whole-folder caches of the same size.

        The cache folder may be shared with the learner's own files: only a manifest that
        carries this folder's exact cache name (folder id included) and parses with this
        package's ``format`` and ``folder`` keys, and its ``.npy`` twin, are ever deleted.
        """
        current = {(f.relpath, f.size, f.mtime_ns) for f in self._all_files}
        whole = self.files == self._all_files
        prefix = f"{self.root.name}-{self._folder_id}-"
        ours = re.compile(re.escape(prefix) + r"\d+px-\d+-[0-9a-f]{16}\.json")
        for manifest_path in self.cache_path.parent.glob(f"{glob.escape(prefix)}*.json"):
            if manifest_path == self.manifest_path or not ours.fullmatch(manifest_path.name):
                continue
            try:
                manifest = json.loads(manifest_path.read_text())
            except (OSError, ValueError):
                continue  # manifests are written whole (os.replace): this one is not ours
            if (not isinstance(manifest, dict) or "format" not in manifest
                    or manifest.get("folder") != str(self.root)):
                continue
            try:
                stale = (manifest["format"] != CACHE_FORMAT
                         or any(tuple(f) not in current for f in manifest["files"])
                         or (whole and manifest.get("whole_folder")
                             and manifest.get("image_size") == self.image_size))
            except (KeyError, TypeError):
                stale = True  # this folder's manifest, but unusable
            if stale:
                manifest_path.with_suffix(".npy").unlink(missing_ok=True)
                manifest_path.unlink(missing_ok=True)
