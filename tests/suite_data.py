"""Which datasets the test suite can use, decided once per session.

MNIST and Pokémon are downloaded when missing (outside CI); CelebA is only ever fetched by
hand. Whatever is still missing is described once, with where it was looked for and how to
get it, and the tests and lesson notebooks that need it are skipped with that message.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gan_tutorial.plumbing.environment import DATA_ENV
from gan_tutorial.data import IMAGE_SUFFIXES, data_root, load_mnist, load_pokemon

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

NOTEBOOK_NEEDS = {"01_fc_gan_mnist": "MNIST", "02_dcgan_mnist": "MNIST",
                  "03_dcgan_celeba": "CelebA", "04_dcgan_pokemon": "Pokémon", "05_fc_vs_dcgan": "MNIST",
                  "06_troubleshooting": "MNIST",  # 06: real digits as the grid-contrast reference
                  "07_modern_gans": "MNIST", "08_conditional_gan": "MNIST"}
"""The dataset each lesson notebook trains on (or reads)."""

DATA_FIXTURES = {"MNIST": "mnist_data", "CelebA": "celeba_data", "Pokémon": "pokemon_data"}
"""The conftest fixture that provides each dataset (and skips, saying how to get it, without)."""


def require_notebook_data(request, notebook: str) -> None:
    """Skip the test, with how to get it, when the dataset ``notebook`` needs is missing
    (in CI the fixture fails instead)."""
    needs = NOTEBOOK_NEEDS.get(Path(notebook).stem)
    if needs in DATA_FIXTURES:
        request.getfixturevalue(DATA_FIXTURES[needs])


def in_ci() -> bool:
    """True on a CI machine (``CI=true``), where missing data is an error, not a skip."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _has_images(folder: Path) -> bool:
    return folder.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


def has_mnist(root: Path) -> bool:
    raw = root / "MNIST" / "raw"
    return all((raw / name).is_file() or (raw / f"{name}.gz").is_file() for name in MNIST_FILES)


def has_pokemon(root: Path) -> bool:
    folder = root / "pokemon"
    return folder.is_dir() and any(_has_images(sub) for sub in folder.iterdir())


def has_celeba(root: Path) -> bool:
    return _has_images(root / "celeba" / "img_align_celeba")


HOW_TO_GET = {
    "MNIST": ("MNIST/raw/ (the four MNIST .gz files)",
              "it downloads by itself (11 MB) when the machine is online: run `make test` again, "
              "or copy the four .gz files there"),
    "Pokémon": ("pokemon/<pokemon>/*.png",
                "it downloads by itself (the d2l book's pokemon.zip) when the machine is online: "
                "run `make test` again, or put sprites there in one folder per Pokémon"),
    "CelebA": ("celeba/img_align_celeba/*.jpg",
               "CelebA is downloaded by hand (1.4 GB, non-commercial research only): see docs/data.md, "
               "then run `make test` again"),
}


@dataclass
class DataStatus:
    """Where the data root is, what was downloaded, and a message per missing dataset."""

    root: Path
    downloaded: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)

    @classmethod
    def check(cls, download: bool) -> "DataStatus":
        """Look for every dataset under the data root; fetch MNIST and Pokémon if allowed."""
        root = data_root()
        status = cls(root)
        fetchers = {
            "MNIST": (has_mnist, lambda: load_mnist(root, split="all", download=True)),
            "Pokémon": (has_pokemon, lambda: load_pokemon(root, download=True)),
            "CelebA": (has_celeba, None),
        }
        for name, (present, fetch) in fetchers.items():
            failure = ""
            if not present(root) and download and fetch is not None:
                try:
                    fetch()
                    status.downloaded.append(name)
                except Exception as err:  # offline, read-only root, ...: explain, don't crash
                    failure = f" (the download failed: {type(err).__name__}: {str(err).splitlines()[0]})"
            if not present(root):
                where, how = HOW_TO_GET[name]
                status.missing[name] = (
                    f"{name} is missing: looked for {root / where} (data root from "
                    f"{DATA_ENV} or the default). {how[0].upper() + how[1:]}; or set {DATA_ENV} to a "
                    f"folder that holds it.{failure}")
        return status

    def describe_missing(self) -> str:
        return "\n".join(f"  - {message}" for message in self.missing.values())

    def header_lines(self) -> list[str]:
        """What pytest prints once, at the top of the run."""
        lines = [f"gan-tutorial data root: {self.root}"
                 + (f" (downloaded now: {', '.join(self.downloaded)})" if self.downloaded else "")]
        if len(self.missing) == len(HOW_TO_GET):
            lines.append("NO DATASET could be found or downloaded (offline?): every test and "
                         "notebook that needs data is skipped; the rest runs.")
        if self.missing:
            lines.append("skipped for missing data, everything else runs:")
            lines.append(self.describe_missing())
        return lines
