"""`labelvault admin ...` and `labelvault serve --demo` as a user runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from labelvault.cli.main import app
from tests.live_server import free_port

runner = CliRunner()


def test_admin_init_prints_ids_and_a_working_token(tmp_path: Path):
    result = runner.invoke(
        app, ["admin", "init", "--data-dir", str(tmp_path), "--owner-email", "o@x.org", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"org_id", "user_id", "token"}
    assert out["token"].startswith("lv_")
    assert (tmp_path / "labelvault.db").exists()
    key_file = tmp_path / "master.key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    again = runner.invoke(
        app, ["admin", "init", "--data-dir", str(tmp_path), "--owner-email", "o@x.org"]
    )
    assert again.exit_code == 1
    assert "already exists" in again.output and "hint:" in again.output
    verify = runner.invoke(app, ["admin", "audit-verify", "--data-dir", str(tmp_path)])
    assert verify.exit_code == 0, verify.output
    assert "OK" in verify.output


def test_audit_verify_without_a_database_explains(tmp_path: Path):
    result = runner.invoke(app, ["admin", "audit-verify", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "no database" in result.output


def test_rotate_key_keeps_data_readable(tmp_path: Path):
    from labelvault.config import Settings
    from labelvault.domain.roles import OrgRole
    from labelvault.services import items, projects, setup
    from labelvault.services.context import Principal

    init = runner.invoke(
        app, ["admin", "init", "--data-dir", str(tmp_path), "--owner-email", "o@x.org", "--json"]
    )
    owner = json.loads(init.output)
    platform = setup.prepare(Settings(data_dir=tmp_path))
    who = Principal(owner["user_id"], owner["org_id"], "o@x.org", OrgRole.OWNER)
    schema = {"fields": [{"name": "a", "type": "text"}]}
    pid = projects.create(platform, who, name="p", schema=schema)["id"]
    import io

    items.import_items(platform, who, pid, io.BytesIO(b'{"text": "kept"}'), "jsonl")
    platform.close()
    rotated = runner.invoke(app, ["admin", "rotate-key", "--data-dir", str(tmp_path)])
    assert rotated.exit_code == 0, rotated.output
    assert "re-wrapped 1 project key" in rotated.output
    platform = setup.prepare(Settings(data_dir=tmp_path))
    listed = items.list_items(platform, who, pid)
    assert listed["items"][0]["data"] == {"text": "kept"}
    platform.close()


def test_serve_demo_prints_logins_that_work(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "labelvault.cli.main",
            "serve",
            "--demo",
            "--data-dir",
            str(tmp_path),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Try:"):
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}" in output, output
        tokens = re.findall(r"token (lv_\S+)", output)
        assert len(tokens) == 4, output
        url = f"http://127.0.0.1:{port}/api/v1"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        listed = httpx.get(f"{url}/projects", headers={"Authorization": f"Bearer {tokens[0]}"})
        assert listed.status_code == 200
        assert len(listed.json()) == 3
        task = httpx.get(f"{url}/projects/1/next", headers={"Authorization": f"Bearer {tokens[1]}"})
        assert task.status_code == 200, task.text
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
