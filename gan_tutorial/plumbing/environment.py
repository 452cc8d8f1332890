"""Switches read from the environment: quick mode, setting, data root, cache, device, oneDNN's cap.

Every environment variable the package reads is read here.

Every variable is parsed strictly: a value that means nothing raises an error naming the
variable and the values it accepts, instead of silently meaning "off". An empty (or
blank) value counts as unset.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

QUICK_ENV = "GAN_TUTORIAL_QUICK"
"""Set to 1 to shrink epochs and data so every notebook runs in a minute or two on a CPU."""

DATA_ENV = "GAN_TUTORIAL_DATA"
"""Folder holding the datasets (MNIST/, celeba/, pokemon/); defaults to ./data."""

CACHE_ENV = "GAN_TUTORIAL_CACHE"
"""Folder for decoded-image caches and MNIST checksum verdicts; overrides the place next to the data."""

DEVICE_ENV = "GAN_TUTORIAL_DEVICE"
"""Force a device (cpu, cuda, cuda:1, mps) instead of picking the fastest one."""

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
DEVICE_NAMES = "cpu, cuda, cuda:N (e.g. cuda:1), mps"
_DEVICE_PATTERN = re.compile(r"(cpu|mps|cuda)(:\d+)?")



def env_value(name: str) -> str | None:
    """The stripped value of environment variable ``name``; None when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or None


def env_flag(name: str, default: bool = False) -> bool:
    """Parse an on/off environment variable (1/0, true/false, yes/no, on/off; any case).

    Unset or blank gives ``default``; anything else raises ValueError naming the variable.
    """
    value = env_value(name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ValueError(f"{name}={value!r} is not an on/off value. Use one of "
                     f"{'/'.join(TRUE_WORDS)} to switch it on, {'/'.join(FALSE_WORDS)} to switch "
                     f"it off (any case), or leave it unset.")


def folder_setting(name: str) -> Path | None:
    """A folder named by environment variable ``name`` (``~`` expanded); None when unset or blank.

    A path that exists but is not a folder raises NotADirectoryError naming the variable.
    """
    value = env_value(name)
    if value is None:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{name}={value} names a file, not a folder: it must name a "
                                 f"folder. Point it at one, or leave it unset.")
    return path


def data_root_setting() -> Path | None:
    """The data root chosen by ``GAN_TUTORIAL_DATA``, or None."""
    return folder_setting(DATA_ENV)


def cache_setting() -> Path | None:
    """The cache folder chosen by ``GAN_TUTORIAL_CACHE``, or None."""
    return folder_setting(CACHE_ENV)


def user_cache_folder() -> Path:
    """``$XDG_CACHE_HOME/gan_tutorial``, by default ``~/.cache/gan_tutorial``."""
    base = env_value("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "gan_tutorial"


def check_device_name(value: str, source: str) -> str:
    """``value`` if it names a device gan_tutorial can use, else ValueError naming ``source``.

    Accepted: cpu, cuda, cuda:N, mps (lower case, as torch spells them).
    """
    if _DEVICE_PATTERN.fullmatch(value):
        return value
    hint = f" Did you mean {value.lower()!r}?" if _DEVICE_PATTERN.fullmatch(value.lower()) else ""
    raise ValueError(f"{source}={value!r} is not a device gan_tutorial can train on. "
                     f"Use one of: {DEVICE_NAMES}; or leave it unset to pick the fastest "
                     f"available.{hint}")


def device_setting() -> str | None:
    """The device forced by ``GAN_TUTORIAL_DEVICE``, validated; None when unset or blank."""
    value = env_value(DEVICE_ENV)
    return None if value is None else check_device_name(value, DEVICE_ENV)


ONEDNN_CAP_ENVS = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")  # oneDNN's own: torch's CPU kernels obey them


def onednn_isa_cap() -> str | None:
    """The instruction set oneDNN is capped at (``ONEDNN_MAX_CPU_ISA``, or its older name
    ``DNNL_MAX_CPU_ISA``), upper case; None when neither is set."""
    for name in ONEDNN_CAP_ENVS:
        value = env_value(name)
        if value is not None:
            return value.upper()
    return None


def quick_mode() -> bool:
    """True when the quick-mode switch is on (CI and smoke runs); see :func:`env_flag`."""
    return env_flag(QUICK_ENV)


SETTING_ENV = "GAN_TUTORIAL_SETTING"
"""Run length of the lessons: quick, class or full (quick mode forces quick)."""

SETTINGS = ("quick", "class", "full")


def lesson_setting(choice: str = "class") -> str:
    """The run length a lesson trains with: the one switch at the top of every notebook.

    ``choice`` is what the notebook asks for ("quick": about a minute, "class": about ten
    CPU minutes, "full": the source tutorial's settings). ``GAN_TUTORIAL_SETTING``
    overrides it, and quick mode (``GAN_TUTORIAL_QUICK=1``, as in the test suite) forces
    "quick".
    """
    value = "quick" if quick_mode() else (env_value(SETTING_ENV) or choice)
    if value not in SETTINGS:
        source = SETTING_ENV if env_value(SETTING_ENV) else "the setting"
        raise ValueError(f"{source}={value!r} is not a setting. Use one of: {', '.join(SETTINGS)}.")
    return value


LIVE_ENV = "GAN_TUTORIAL_LIVE"
"""1: draw the live training view even in quick mode; 0: never (e.g. when notebooks are
executed headless to publish them). Unset: live in a Jupyter kernel outside quick mode and CI."""


def notebook_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel (JupyterLab, Notebook, VS Code, Colab), where
    rich output such as a refreshing picture reaches a page; not a script or a terminal IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and any(c.__name__ == "ZMQInteractiveShell" for c in type(shell).__mro__)


def live_view_wanted() -> bool:
    """Whether ``GANTrainer.fit`` should refresh a live view: GAN_TUTORIAL_LIVE when set, else
    in a notebook's kernel outside quick mode and CI."""
    forced = env_value(LIVE_ENV)
    if forced is not None:
        return env_flag(LIVE_ENV)
    in_ci = (env_value("CI") or "0").lower() not in FALSE_WORDS  # CI=true, CI=github, ...
    return not (quick_mode() or in_ci) and notebook_kernel()
