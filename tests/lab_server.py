"""A throw-away JupyterLab server for the browser tests (tests/test_browser.py).

``LabServer`` starts the JupyterLab of the running Python (the project's venv) on 127.0.0.1,
a free port and a random token, with its own runtime, config, data, settings and workspace
folders under a temporary directory, so a user's Jupyter set-up can neither leak in nor be
changed. Stopping it shuts down every kernel and kills anything it started that is still alive.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

# JupyterLab settings for a quiet, offline session: no news or update pop-ups.
QUIET_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    # Start the notebook's kernel without the "Select Kernel" dialog (the dialog's
    # "Always start the preferred kernel" box).
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"autoStartDefaultKernel": True},
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """JupyterLab serving ``root_dir``; use as a context manager or call start()/stop().

    ``env`` is added to the server's (and so the kernels') environment.
    """

    def __init__(self, root_dir: Path, work_dir: Path, env: dict[str, str] | None = None,
                 start_timeout: float = 180.0, trusted: list[Path] | None = None) -> None:
        self.root_dir = Path(root_dir)
        self.work_dir = Path(work_dir)
        self.extra_env = dict(env or {})
        self.start_timeout = start_timeout
        self.trusted = list(trusted or [])  # notebooks whose stored HTML (the player's script) may run, as `make lab` trusts
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.work_dir / "jupyterlab.log"
        self.process: subprocess.Popen | None = None
        self._log_file = None

    # --- life cycle -------------------------------------------------------------------------
    def start(self) -> "LabServer":
        dirs = {name: self.work_dir / name for name in
                ("runtime", "config", "data", "ipython", "settings", "workspaces")}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        for name, values in QUIET_SETTINGS.items():
            target = dirs["settings"] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)  # the kernel must use the notebook's inline backend
        env.update(JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), JUPYTER_CONFIG_DIR=str(dirs["config"]),
                   JUPYTER_DATA_DIR=str(dirs["data"]), IPYTHONDIR=str(dirs["ipython"]),
                   JUPYTER_PLATFORM_DIRS="0", PYTHONUNBUFFERED="1")
        env.update(self.extra_env)
        if self.trusted:  # signs them in this server's own data dir, as `jupyter trust` does for a user
            subprocess.run([str(Path(sys.executable).parent / "jupyter-trust"), *map(str, self.trusted)],
                           env=env, check=True, capture_output=True)
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root_dir}",
               f"--LabApp.user_settings_dir={dirs['settings']}",
               f"--LabApp.workspaces_dir={dirs['workspaces']}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # containers run as root; JupyterLab refuses without it
        self._log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(cmd, cwd=self.root_dir, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self._log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode} while "
                                   f"starting; its log ({self.log_path}) ends:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer on {self.base_url} within "
                           f"{self.start_timeout:.0f} s; its log ends:\n{self.log_tail()}")

    def stop(self) -> None:
        """Shut down kernels and server; kill whatever it started that is still running."""
        if self.process is None:
            return
        try:
            started = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            started = []
        if self.process.poll() is None:
            try:
                for kernel in self.api("GET", "/api/kernels"):
                    self.api("DELETE", f"/api/kernels/{kernel['id']}")
            except Exception:  # noqa: BLE001 - best effort; the signals below still apply
                pass
            self.process.send_signal(signal.SIGTERM)  # the server also shuts down its kernels
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        for child in started:  # kernels run in their own process groups: end them by pid
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(started, timeout=10)
        self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> "LabServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- helpers ----------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """The browser URL of ``path`` (e.g. ``/lab/tree/x.ipynb``) with the token."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{sep}token={self.token}"

    def api(self, method: str, path: str):
        """Call the Jupyter Server REST API; returns the decoded JSON (or None)."""
        request = urllib.request.Request(self.base_url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut down every running kernel (frees memory between lessons)."""
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"
