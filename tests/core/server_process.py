"""A real `labelvault serve` in a child process, for tests that kill, restart or share it.

The child runs the installed CLI (`labelvault.cli.main:main`) exactly as an operator would,
on a free loopback port; its output goes to a log file outside the data directory.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT_S = 40.0
_CLI = "from labelvault.cli.main import main; main()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def external_db(db_url: str) -> str | None:
    """The --db value for a test database URL: None for SQLite (the data dir's own file)."""
    return None if db_url.startswith("sqlite") else db_url


def _cli_args(*args: str, data_dir: Path, db: str | None) -> list[str]:
    out = [sys.executable, "-c", _CLI, *args, "--data-dir", str(data_dir)]
    return [*out, "--db", db] if db else out


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELVAULT_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def admin_init(
    data_dir: Path, db: str | None, owner_email: str = "owner@acme.test"
) -> dict[str, Any]:
    """`labelvault admin init --json` (in-process); returns {"org_id", "user_id", "token"}."""
    from typer.testing import CliRunner

    from labelvault.cli.main import app

    args = ["admin", "init", "--data-dir", str(data_dir), "--owner-email", owner_email, "--json"]
    result = CliRunner().invoke(app, [*args, *(["--db", db] if db else [])])
    assert result.exit_code == 0, result.output
    line = [x for x in result.stdout.splitlines() if x.startswith("{")][-1]
    return dict(json.loads(line))


@dataclass
class ServerProcess:
    data_dir: Path
    db: str | None
    log_path: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        """Start on a fresh free port and wait until /api/v1/health answers."""
        for _attempt in range(3):
            if self.launch().wait_healthy():
                return self
        raise RuntimeError(f"labelvault serve did not start; log:\n{self.log()}")

    def launch(self) -> ServerProcess:
        """Spawn the process without waiting (start several at once, then wait_healthy)."""
        self.port = free_port()
        args = _cli_args("serve", data_dir=self.data_dir, db=self.db)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*args, "--port", str(self.port), "--log-level", "warning"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_child_env(),
            )
        return self

    def wait_healthy(self) -> bool:
        """True once healthy; False if the process exited (e.g. its port was taken)."""
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # e.g. the port was taken between free_port() and bind
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"labelvault serve was not healthy in time; log:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing of the process's own buffers (a crash;
        what the operating system already holds survives, unlike a power cut)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def running_servers(
    count: int, data_dir: Path, db: str | None, log_dir: Path
) -> Iterator[list[ServerProcess]]:
    """`count` servers on the same data (replicas), started together, always stopped."""
    servers = [ServerProcess(data_dir, db, log_dir / f"serve-{n}.log") for n in range(count)]
    try:
        for server in servers:
            server.launch()
        for server in servers:
            if not server.wait_healthy():
                server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def client(server: ServerProcess, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1", timeout=30, headers={"Authorization": f"Bearer {token}"}
    )
