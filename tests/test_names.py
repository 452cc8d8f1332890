"""One name per concept: no module of the package reaches into another's private names, and
every generator calls its noise size the same."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import gan_tutorial
from gan_tutorial import models
from gan_tutorial.lessons import GENERATORS

PACKAGE = Path(gan_tutorial.__file__).resolve().parent


def _private(name: str) -> bool:
    """``_helper`` is private; ``__version__`` and other dunders are not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _ours(where: str) -> bool:
    """Whether an import names a module of this package (relative, or gan_tutorial...)."""
    return where.startswith(".") or where.split(".")[0] == "gan_tutorial"


def private_imports(source: str) -> list[str]:
    """Every private name of this package that ``source`` imports, or reads off a package module
    it imported, as "line: what" (``from .checks import _passed``, ``checks._passed``). Other
    libraries' private names (``torch._C``) are theirs to keep stable, not this rule's."""
    tree = ast.parse(source)
    modules: set[str] = set()  # names the file binds to something it imported from the package
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            where = "." * node.level + (node.module or "")
            if not _ours(where):
                continue
            for alias in node.names:
                modules.add(alias.asname or alias.name)
                if _private(alias.name) or any(_private(part) for part in where.split(".") if part):
                    found.append(f"{node.lineno}: from {where} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not _ours(alias.name):
                    continue
                modules.add(alias.asname or alias.name.split(".")[0])
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"{node.lineno}: import {alias.name}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in modules):
            found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_the_walk_finds_each_way_of_reaching_a_private_name():
    source = ("from .checks import CheckError, _passed\n"
              "from .. import __version__\n"
              "from . import checks\n"
              "import gan_tutorial._hidden\n"
              "checks._close(1, 2)\n"
              "self._cache = checks.passed\n"
              "import torch\n"
              "torch._C.DisableTorchFunction\n")
    assert private_imports(source) == ["1: from .checks import _passed", "4: import gan_tutorial._hidden",
                                       "5: checks._close"]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_private_name_from_another(path):
    """A helper two modules share is public (no underscore, a docstring); a private one stays
    in its own module."""
    assert private_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_every_generator_calls_its_noise_size_latent_dim(name):
    generator = GENERATORS[name]
    parameters = inspect.signature(generator).parameters
    assert "latent_dim" in parameters and "nz" not in parameters
    assert generator(latent_dim=7).latent_shape[0] == 7


def test_the_d2l_names_of_the_blocks_are_not_aliases():
    """GBlock and DBlock are the blocks' one name; the prose says that d2l calls them
    G_block and D_block."""
    assert not hasattr(models, "G_block") and not hasattr(models, "D_block")
    assert not hasattr(gan_tutorial, "G_block") and not hasattr(gan_tutorial, "D_block")
