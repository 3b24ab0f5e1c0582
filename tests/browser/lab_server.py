"""A JupyterLab server of its own for the browser tests: temp dirs, random token, no network."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT = 90.0

# JupyterLab settings that keep runs quiet and repeatable: no news or update checks (they
# would call out to the network and pop up toasts over the widgets), every cell rendered.
USER_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": "JupyterLab Light"},
}

SERVER_CONFIG: dict[str, Any] = {
    "ServerApp": {
        # the language server and terminals are not needed and cost start-up time
        "jpserver_extensions": {"jupyter_lsp": False, "jupyter_server_terminals": False},
        "terminals_enabled": False,
    },
}


def free_port() -> int:
    """A localhost TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab: its URL, token and folders."""

    base: Path
    port: int
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    process: subprocess.Popen[bytes] | None = None

    @property
    def root_dir(self) -> Path:
        """Where notebooks live (the server's root)."""
        return self.base / "root"

    @property
    def runtime_dir(self) -> Path:
        """Where the kernels' connection files are."""
        return self.base / "runtime"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.base / "server.log"

    def start(self) -> None:
        """Start the server and wait until its API answers."""
        dirs = {
            name: self.base / name for name in ("root", "runtime", "config", "data", "ipython", "settings")
        }
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        for name, settings in USER_SETTINGS.items():
            path = dirs["settings"] / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))
        (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "IPYTHONDIR": str(dirs["ipython"]),
            "JUPYTER_PLATFORM_DIRS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        argv = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.open_browser=False",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={dirs['root']}",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={dirs['settings']}",
            f"--LabApp.workspaces_dir={self.base / 'workspaces'}",
            # the default ("pypi") asks PyPI about extensions
            "--LabApp.extension_manager=readonly",
        ]
        if os.geteuid() == 0:
            argv.append("--allow-root")  # CI containers run as root
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=dirs["root"])
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with {self.process.returncode}:\n{self.log_path.read_text()}"
                )
            try:
                self.api("GET", "/api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(
            f"JupyterLab did not answer within {STARTUP_TIMEOUT} s:\n{self.log_path.read_text()}"
        )

    def stop(self) -> None:
        """Stop the server (and so its kernels)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the server's REST API; return the decoded JSON answer (None if empty)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def session_for(self, notebook: str) -> dict[str, Any] | None:
        """The kernel session of a notebook (by its path from the root), if one is open."""
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == notebook:
                return session
        return None

    def shutdown_session(self, notebook: str) -> None:
        """Shut down a notebook's kernel so that it stops using CPU.

        A kernel still restarting (a scenario that restarted it) can make the server answer 500
        for a moment: asked again up to three times; if it still fails, the kernel goes when the
        server stops at the end of the session.
        """
        for attempt in range(3):
            try:
                session = self.session_for(notebook)
                if session is not None:
                    self.api("DELETE", f"/api/sessions/{session['id']}")
                return
            except urllib.error.HTTPError as exc:
                if attempt == 2:
                    warnings.warn(f"could not shut down the kernel of {notebook}: {exc}", stacklevel=2)
                    return
                time.sleep(1.0)
