"""An acknowledged answer survives the server being killed (SIGKILL) right after the 200.

Each test runs a real `labelvault serve` on SQLite (the data dir's file) or PostgreSQL,
kills it without warning, starts it again on the same data and reads the export.
This is a process crash; a power cut (losing the operating system's cache) is not covered.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from labelvault.cli.main import app as cli
from tests.core.server_process import ServerProcess, admin_init, client, external_db

SCHEMA = {
    "fields": [
        {"name": "sentiment", "type": "single_choice", "options": ["pos", "neg", "neu"]},
        {"name": "note", "type": "text", "max_length": 300},
    ]
}


def _setup(
    server: ServerProcess, token: str, items: int, annotators: int
) -> tuple[int, list[tuple[str, str]]]:
    with client(server, token) as owner:
        r = owner.post("/projects", json={"name": "durable", "schema": SCHEMA})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        body = b"\n".join(
            orjson.dumps({"id": f"i{n:02d}", "text": f"item {n}"}) for n in range(items)
        )
        r = owner.post(
            f"/projects/{pid}/items", content=body, headers={"Content-Type": "application/x-ndjson"}
        )
        assert r.status_code == 200 and r.json()["created"] == items, r.text
        people = []
        for n in range(annotators):
            email = f"ann{n}@acme.test"
            r = owner.post("/users", json={"email": email})
            assert r.status_code == 201, r.text
            user = r.json()
            r = owner.put(f"/projects/{pid}/members/{user['user_id']}", json={"role": "annotator"})
            assert r.status_code == 200, r.text
            people.append((email, user["token"]))
    return pid, people


def _submit(c: httpx.Client, aid: int, note: str, key: str) -> httpx.Response:
    return c.post(
        f"/assignments/{aid}/submit",
        json={"values": {"sentiment": "neu", "note": note}},
        headers={"Idempotency-Key": key},
    )


def _exported(server: ServerProcess, token: str, pid: int) -> list[dict[str, Any]]:
    with client(server, token) as owner:
        r = owner.get(f"/projects/{pid}/export?format=jsonl")
    assert r.status_code == 200, r.text
    return [orjson.loads(line) for line in r.content.splitlines()]


def _submitted(records: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted(
        (rec["external_id"], a["annotator"], a["values"]["note"])
        for rec in records
        for a in rec["annotations"]
        if a["status"] == "submitted"
    )


def _audit_verify(data_dir: Path, db: str | None) -> Any:
    args = ["admin", "audit-verify", "--data-dir", str(data_dir), *(["--db", db] if db else [])]
    return CliRunner().invoke(cli, args)


def test_acknowledged_submits_survive_sigkill_and_retries_are_safe(
    tmp_path: Path, db_url: str
) -> None:
    data_dir, db = tmp_path / "data", external_db(db_url)
    token = admin_init(data_dir, db)["token"]
    server = ServerProcess(data_dir, db, tmp_path / "serve.log").start()
    try:
        pid, [(email, ann_token)] = _setup(server, token, items=20, annotators=1)
        acked: list[tuple[str, str, str]] = []
        with client(server, ann_token) as ann:
            for n in range(12):
                task = ann.get(f"/projects/{pid}/next")
                assert task.status_code == 200, task.text
                aid = task.json()["assignment_id"]
                r = _submit(ann, aid, f"answer {n}", f"key-{n}")
                assert r.status_code == 200, r.text
                acked.append((task.json()["item"]["external_id"], email, f"answer {n}"))
                last = (aid, f"key-{n}", f"answer {n}", r.json())
            held = ann.get(f"/projects/{pid}/next").json()
        server.kill()  # right after the last 200, no graceful shutdown
        assert server.proc is not None and server.proc.returncode == -9

        server.start()  # same data dir, same database
        assert _submitted(_exported(server, token, pid)) == sorted(acked)
        with client(server, ann_token) as ann:
            aid, key, note, first = last
            again = _submit(ann, aid, note, key)
            assert again.status_code == 200, again.text
            assert again.json()["replayed"] is True
            assert again.json()["submitted_at"] == first["submitted_at"]
            still = ann.get(f"/projects/{pid}/next")  # the lease outlived the process
            assert still.status_code == 200 and still.json() == held
            assert _submit(ann, held["assignment_id"], "after restart", "k").status_code == 200
        acked.append((held["item"]["external_id"], email, "after restart"))
        assert _submitted(_exported(server, token, pid)) == sorted(acked)
    finally:
        server.stop()
    assert _audit_verify(data_dir, db).exit_code == 0


class _Annotator(threading.Thread):
    """Labels until the server goes away; remembers what was acknowledged and what was not."""

    def __init__(self, server: ServerProcess, pid: int, email: str, token: str) -> None:
        super().__init__(daemon=True)
        self.server, self.pid, self.email, self.token = server, pid, email, token
        self.acked: list[tuple[str, str, str]] = []
        self.pending: tuple[int, str, str, str] | None = None  # aid, note, key, external id
        self.unexpected: list[str] = []

    def run(self) -> None:
        with client(self.server, self.token) as c:
            try:
                self.label(c)
            except httpx.TransportError:
                return  # the server was killed under us

    def label(self, c: httpx.Client) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            task = c.get(f"/projects/{self.pid}/next")
            if task.status_code == 204:
                return
            if task.status_code != 200:
                self.unexpected.append(f"next -> {task.status_code} {task.text}")
                return
            body = task.json()
            note = f"{self.email}|{body['assignment_id']}"
            self.pending = (
                body["assignment_id"],
                note,
                uuid.uuid4().hex,
                body["item"]["external_id"],
            )
            r = _submit(c, body["assignment_id"], note, self.pending[2])
            if r.status_code != 200:
                self.unexpected.append(f"submit -> {r.status_code} {r.text}")
                return
            self.acked.append((body["item"]["external_id"], self.email, note))
            self.pending = None


def test_kill_during_concurrent_submits_keeps_every_acknowledged_answer(
    tmp_path: Path, db_url: str
) -> None:
    data_dir, db = tmp_path / "data", external_db(db_url)
    token = admin_init(data_dir, db)["token"]
    items = 45
    server = ServerProcess(data_dir, db, tmp_path / "serve.log").start()
    try:
        pid, people = _setup(server, token, items=items, annotators=3)
        workers = [_Annotator(server, pid, email, tok) for email, tok in people]
        for w in workers:
            w.start()
        deadline = time.monotonic() + 30
        while sum(len(w.acked) for w in workers) < 15 and time.monotonic() < deadline:
            time.sleep(0.002)
        server.kill()  # mid-flight: some requests are being processed right now
        for w in workers:
            w.join(timeout=30)
        assert not any(w.is_alive() for w in workers)
        assert [u for w in workers for u in w.unexpected] == []
        acked = sorted(a for w in workers for a in w.acked)
        assert 15 <= len(acked) < items, "the kill should land in the middle of the work"

        server.start()
        after_restart = _submitted(_exported(server, token, pid))
        assert set(acked) <= set(after_restart)  # no acknowledged answer was lost
        attempted = set(acked) | {
            (w.pending[3], w.email, w.pending[1]) for w in workers if w.pending
        }
        assert set(after_restart) <= attempted  # and nothing appeared that was never sent

        # Clients retry what was in flight with the same key; then everyone finishes.
        for w, (email, tok) in zip(workers, people, strict=True):
            if w.pending is None:
                continue
            aid, note, key, ext = w.pending
            with client(server, tok) as c:
                r = _submit(c, aid, note, key)
            assert r.status_code == 200, r.text
            w.acked.append((ext, email, note))
        finishers = [_Annotator(server, pid, email, tok) for email, tok in people]
        for f in finishers:
            f.start()
        for f in finishers:
            f.join(timeout=40)
        assert not any(f.is_alive() for f in finishers)
        assert [u for f in finishers for u in f.unexpected] == []
        final = _submitted(_exported(server, token, pid))
        everything = sorted(a for w in workers + finishers for a in w.acked)
        assert final == everything  # each answer exactly once, none lost
        assert len(final) == items and len({ext for ext, _, _ in final}) == items
    finally:
        server.stop()

    engine = create_engine(db or f"sqlite:///{data_dir / 'labelvault.db'}")
    with engine.connect() as conn:
        drift = conn.execute(
            text(
                "SELECT i.id FROM items i WHERE i.slots_used <> "
                "(SELECT COUNT(*) FROM assignments a "
                "WHERE a.item_id = i.id AND a.status IN ('leased', 'submitted'))"
            )
        ).all()
    engine.dispose()
    assert drift == []  # slot counters agree with the assignments after the crash
    assert _audit_verify(data_dir, db).exit_code == 0
