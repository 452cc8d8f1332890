"""Check MNIST's raw files against their known checksums before torchvision reads them.

torchvision checks the downloaded ``.gz`` files, but once the extracted files exist it
reads them unchecked: a truncated, zeroed or altered file then fails with a bare
``AssertionError`` or loads wrong digits silently, and downloading again does not help
because the bad extracted file is kept. ``check_mnist_files`` verifies every file a split
needs (the ``.gz`` against torchvision's ``MNIST.resources`` md5, the extracted files
against the md5 of the originals), deletes a bad one when downloading is allowed, and
otherwise names it and says to delete it.

Hashing all of MNIST takes about 0.3 s, so a file's verdict is remembered for its
size and modification time (in memory and in ``verified.json`` in the user cache folder);
a file that is changed in any ordinary way is checked again.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from torchvision import datasets
from torchvision.datasets.utils import extract_archive

from .dataset_errors import CorruptDatasetError
from .image_cache import CACHE_ENV, user_cache_folder

# md5 and size of the extracted IDX files (decompressed from the .gz files that
# torchvision's MNIST.resources checks).
EXTRACTED_MD5 = {
    "train-images-idx3-ubyte": ("6bbc9ace898e44ae57da46a324031adb", 47_040_016),
    "train-labels-idx1-ubyte": ("a25bea736e30d166cdddb491f175f624", 60_008),
    "t10k-images-idx3-ubyte": ("2646ac647ad5339dbf082846283269ea", 7_840_016),
    "t10k-labels-idx1-ubyte": ("27ae3e4e09519cfbb04c329615203637", 10_008),
}
GZ_MD5 = dict(datasets.MNIST.resources)
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_verified: dict[str, list] = {}


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verdict_store() -> Path:
    base = Path(os.environ[CACHE_ENV]).expanduser() if os.environ.get(CACHE_ENV) else user_cache_folder()
    return base / "verified.json"


def _load_verdicts() -> None:
    if not _verified:
        try:
            _verified.update(json.loads(_verdict_store().read_text()))
        except (OSError, ValueError):
            pass


def _save_verdicts() -> None:
    store = _verdict_store()
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_name(f"{store.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(_verified))
        os.replace(tmp, store)
    except OSError:
        pass  # remembering verdicts is an optimisation only


def file_problem(path: Path, md5: str, size: int | None = None) -> str | None:
    """None when ``path`` has the expected md5 (and size), else what is wrong with it."""
    info = path.stat()
    key = str(path.resolve())
    stamp = [info.st_size, info.st_mtime_ns, md5]
    _load_verdicts()
    if _verified.get(key) == stamp:
        return None
    if size is not None and info.st_size != size:
        return f"{info.st_size:,} bytes instead of {size:,}: truncated or incomplete"
    actual = _md5(path)
    if actual != md5:
        return f"md5 {actual} instead of {md5}: the contents are damaged"
    _verified[key] = stamp
    _save_verdicts()
    return None


def _corrupt(path: Path, problem: str, download: bool) -> None:
    """Delete a corrupt file when downloading is allowed, else raise naming it."""
    if download:
        try:
            path.unlink()
            print(f"Deleted the corrupt MNIST file {path} ({problem}); fetching it again.")
            return
        except OSError:
            pass
    raise CorruptDatasetError(
        f"The MNIST file {path} is corrupt ({problem}). Delete it and load MNIST again with "
        f"download=True (an internet connection fetches a good copy), or replace it with a good "
        f"copy of the file."
    )


def check_mnist_files(raw: Path, split: str, download: bool) -> None:
    """Verify the raw files ``split`` ("train", "test" or "all") needs; fix or name bad ones.

    A missing extracted file is decompressed from its ``.gz`` when that is intact, so
    copying the four ``.gz`` files is enough even with ``download=False``.
    """
    names = SPLIT_FILES["train"] + SPLIT_FILES["test"] if split == "all" else SPLIT_FILES[split]
    for name in names:
        extracted, archive = raw / name, raw / f"{name}.gz"
        if archive.is_file():
            problem = file_problem(archive, GZ_MD5[archive.name])
            if problem:
                _corrupt(archive, problem, download)
        if extracted.is_file():
            problem = file_problem(extracted, *EXTRACTED_MD5[name])
            if problem:
                _corrupt(extracted, problem, download)
        if not extracted.exists() and archive.is_file():
            try:
                extract_archive(str(archive), str(raw))
            except OSError:
                continue  # read-only folder: torchvision says the files are missing
            problem = file_problem(extracted, *EXTRACTED_MD5[name])
            if problem:
                _corrupt(extracted, problem, download)
