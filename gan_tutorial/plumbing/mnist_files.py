"""Check MNIST's raw files against their known checksums before torchvision reads them.

torchvision checks the downloaded ``.gz`` files, but once the extracted files exist it
reads them unchecked: a truncated, zeroed or altered file then fails with a bare
``AssertionError`` or loads wrong digits silently, and downloading again does not help
because the bad extracted file is kept. ``check_mnist_files`` verifies every file a split
needs (the ``.gz`` against torchvision's ``MNIST.resources`` md5, the extracted files
against the md5 of the originals) and replaces a bad one by a verified copy (from its
``.gz``, or downloaded), keeping the bad file as ``NAME.bad``; without a verified copy it
names the file, what it should be and the fix, and deletes nothing.

Hashing all of MNIST takes about 0.3 s, so a file's verdict is remembered for its
size and modification time (in memory and in ``verified.json`` in the user cache folder);
a file that is changed in any ordinary way is checked again.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from torchvision import datasets

from .dataset_errors import CorruptDatasetError
from .hashing import file_hash
from .environment import cache_setting, user_cache_folder

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
    return file_hash(path, "md5")


def _verdict_store() -> Path:
    base = cache_setting() or user_cache_folder()
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


GZ_SIZE = {"train-images-idx3-ubyte.gz": 9_912_422, "train-labels-idx1-ubyte.gz": 28_881,
           "t10k-images-idx3-ubyte.gz": 1_648_877, "t10k-labels-idx1-ubyte.gz": 4_542}


def _expected(name: str) -> tuple[str, int]:
    """(md5, size) of the intact file ``name`` (extracted or .gz)."""
    return EXTRACTED_MD5[name] if name in EXTRACTED_MD5 else (GZ_MD5[name], GZ_SIZE[name])


def identify(path: Path) -> str | None:
    """Which MNIST file ``path`` holds intact (found by its size, confirmed by md5), or None."""
    size = path.stat().st_size
    for name in [*EXTRACTED_MD5, *GZ_MD5]:
        md5, expected_size = _expected(name)
        if size == expected_size and file_problem(path, md5, expected_size) is None:
            return name
    return None


def _extract_to_temp(archive: Path, name: str) -> Path:
    """Decompress ``archive`` next to it under a temporary name (never over a file)."""
    import gzip
    import shutil

    tmp = archive.with_name(f".{name}.{os.getpid()}.tmp")
    with gzip.open(archive, "rb") as source, open(tmp, "wb") as target:
        shutil.copyfileobj(source, target)
    return tmp


def _download(raw: Path, archive_name: str) -> Path | None:
    """Fetch ``archive_name`` from torchvision's MNIST mirrors into a temporary folder in
    ``raw``, checked against its md5; None when no mirror could be reached."""
    from torchvision.datasets.utils import download_url

    folder = raw / f".download-{os.getpid()}"
    for mirror in datasets.MNIST.mirrors:
        try:
            download_url(f"{mirror}{archive_name}", str(folder), archive_name, GZ_MD5[archive_name])
            return folder / archive_name
        except (OSError, RuntimeError, ValueError):
            continue
    return None


def _put_in_place(bad: Path, good: Path) -> Path:
    """Move ``bad`` aside (``NAME.bad``, never over another file) and ``good`` into its place."""
    aside, n = bad.with_name(bad.name + ".bad"), 1
    while aside.exists():
        aside, n = bad.with_name(f"{bad.name}.bad{n}"), n + 1
    os.replace(bad, aside)
    os.replace(good, bad)
    return aside


def _verified_replacement(raw: Path, name: str, download: bool) -> tuple[Path | None, str]:
    """A good copy of ``name`` under a temporary name, checked, and where it came from."""
    archive_name = name if name.endswith(".gz") else f"{name}.gz"
    archive = raw / archive_name
    if name != archive_name and archive.is_file() and file_problem(archive, GZ_MD5[archive_name]) is None:
        source, where = archive, f"decompressed from {archive.name}"
    elif download:
        source, where = _download(raw, archive_name), "downloaded"
        if source is None:
            return None, "downloading failed (no internet connection?)"
    else:
        return None, "no intact .gz to rebuild it from, and download=False"
    good = source if name == archive_name else _extract_to_temp(source, name)
    if file_problem(good, *_expected(name)) is not None:
        good.unlink()
        return None, f"the copy {where} did not match either"
    return good, where


def _repair(path: Path, problem: str, download: bool) -> None:
    """Replace a damaged file by a verified copy, keeping it as ``NAME.bad``; else raise naming it.

    Nothing is ever deleted: a file that fails its check may be the only copy of something
    (two files swapped by hand hold all of MNIST between them).
    """
    good, where = _verified_replacement(path.parent, path.name, download)
    try:
        if good is not None:
            aside = _put_in_place(path, good)
            print(f"The MNIST file {path} was damaged ({problem}); replaced it by a good copy "
                  f"({where}, md5 checked). The damaged file is kept as {aside}: delete it when "
                  f"you like.")
            return
    finally:
        for folder in path.parent.glob(f".download-{os.getpid()}"):
            for file in folder.iterdir():
                file.unlink()
            folder.rmdir()
    md5, size = _expected(path.name)
    really = identify(path)
    if really is not None:
        fix = (f"It is an intact copy of {really}: the files look renamed or swapped. Rename "
               f"each back to its own name (this one to {really}), then load MNIST again.")
    else:
        fix = ("Replace it by a good copy (the four .gz files are enough: the extracted files are "
               "rebuilt from them), or move it away and load MNIST with download=True and an "
               "internet connection.")
    raise CorruptDatasetError(
        f"The MNIST file {path} is not the expected file ({problem}; expected {size:,} bytes, md5 "
        f"{md5}), and no good copy could be made ({where}). Nothing was deleted. {fix}")


def check_mnist_files(raw: Path, split: str, download: bool) -> None:
    """Verify the raw files ``split`` ("train", "test" or "all") needs; repair or name bad ones.

    A missing extracted file is decompressed from its ``.gz`` when that is intact, so
    copying the four ``.gz`` files is enough even with ``download=False``.
    """
    names = SPLIT_FILES["train"] + SPLIT_FILES["test"] if split == "all" else SPLIT_FILES[split]
    for name in names:
        extracted, archive = raw / name, raw / f"{name}.gz"
        if archive.is_file():
            problem = file_problem(archive, GZ_MD5[archive.name])
            if problem:
                _repair(archive, problem, download)
        if extracted.is_file():
            problem = file_problem(extracted, *EXTRACTED_MD5[name])
            if problem:
                _repair(extracted, problem, download)
        if not extracted.exists() and archive.is_file():
            try:
                os.replace(_extract_to_temp(archive, name), extracted)
            except OSError:
                continue  # read-only folder: torchvision says the files are missing
            problem = file_problem(extracted, *EXTRACTED_MD5[name])
            if problem:
                _repair(extracted, problem, download)
