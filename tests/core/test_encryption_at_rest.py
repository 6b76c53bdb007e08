"""Confidential content never reaches the disk or the database in the clear.

Item data, answers and skip reasons are sealed with the project's data key, bound to their
row, and unreadable for good once the project is deleted (crypto-shred).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from labelvault.config import Settings
from labelvault.crypto import DataKey, LocalKeyFileProvider, aad
from labelvault.domain.roles import OrgRole
from labelvault.errors import IntegrityError, LabelvaultError, NotFound
from labelvault.services import items as item_service
from labelvault.services.context import Platform, Principal, key_context

SCHEMA = {
    "fields": [
        {"name": "sentiment", "type": "single_choice", "options": ["pos", "neg", "neu"]},
        {"name": "note", "type": "text", "max_length": 500},
    ]
}


def _mark(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


def _engine(settings: Settings) -> Engine:
    return create_engine(settings.resolved_db_url())


def _table_dump(engine: Engine) -> bytes:
    """Every column of every table: raw bytes of binary columns, text of the rest, and each
    row rendered as text by the database itself (bytea as hex on PostgreSQL)."""
    out: list[bytes] = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        out.append(bytes(value))
                        out.append(bytes(value).hex().encode())
                    elif value is not None:
                        out.append(str(value).encode())
            if engine.dialect.name == "postgresql":
                out.extend(
                    r.encode()
                    for r in conn.execute(text(f'SELECT t::text FROM "{table}" AS t')).scalars()
                )
    return b"\n".join(out)


def _pg_dump(url: str) -> bytes | None:
    """`pg_dump --data-only` of the test database, when the tool is installed."""
    tool = shutil.which("pg_dump")
    if tool is None:
        return None
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    done = subprocess.run(
        [tool, "--data-only", libpq], capture_output=True, timeout=60, check=False
    )
    if done.returncode != 0 and b"version mismatch" in done.stderr:
        return None  # an older pg_dump than the server; the table dump still runs
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def _disk_files(data_dir: Path, key_file: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(data_dir)): p.read_bytes()
        for p in sorted(data_dir.rglob("*"))
        if p.is_file() and p.resolve() != key_file.resolve()
    }


def _forms(marker: str) -> list[bytes]:
    raw = marker.encode()
    return [raw, raw.hex().encode(), raw.hex().upper().encode()]


def _owner(world: Any) -> Principal:
    me = world.owner.get("/api/v1/me").json()
    return Principal(
        user_id=me["user_id"],
        org_id=me["org_id"],
        email=me["email"],
        org_role=OrgRole(me["org_role"]),
    )


def _fill(world: Any) -> tuple[int, dict[str, str]]:
    """A project whose items, answer and skip reason each carry a unique marker."""
    marks = {k: _mark(k) for k in ("item", "key", "nested", "old", "updated", "answer", "skip")}
    pid = world.project(schema=SCHEMA)["id"]
    world.add_items(
        pid,
        [
            {
                "id": "first",
                "text": f"confidential {marks['item']}",
                marks["key"]: {"deep": [marks["nested"]]},
            },
            {"id": "second", "text": f"soon replaced {marks['old']}"},
        ],
    )
    body = orjson.dumps({"id": "second", "text": f"replacement {marks['updated']}"})
    r = world.owner.post(
        f"/api/v1/projects/{pid}/items?on_duplicate=update",
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert r.status_code == 200 and r.json()["updated"] == 1, r.text
    first = world.owner.get(f"/api/v1/projects/{pid}/next").json()
    r = world.owner.post(
        f"/api/v1/assignments/{first['assignment_id']}/submit",
        json={"values": {"sentiment": "pos", "note": f"said {marks['answer']}"}},
    )
    assert r.status_code == 200, r.text
    second = world.owner.get(f"/api/v1/projects/{pid}/next").json()
    r = world.owner.post(
        f"/api/v1/assignments/{second['assignment_id']}/skip",
        json={"reason": f"skipped because {marks['skip']}"},
    )
    assert r.status_code == 200, r.text
    return pid, marks


def test_content_is_never_stored_in_the_clear(world: Any, settings: Settings) -> None:
    pid, marks = _fill(world)
    export = world.owner.get(f"/api/v1/projects/{pid}/export?format=jsonl")
    assert export.status_code == 200
    for kind in ("item", "key", "nested", "updated", "answer", "skip"):
        assert marks[kind].encode() in export.content, kind  # the data is really there
    assert marks["old"].encode() not in export.content

    engine = _engine(settings)
    dump = _table_dump(engine)
    engine.dispose()
    places = {"tables": dump}
    key_file = settings.resolved_key_file()
    assert key_file.exists()
    files = _disk_files(settings.data_dir, key_file)
    if settings.resolved_db_url().startswith("sqlite"):
        assert "labelvault.db" in files
        # The scan sees row data: the clear-text external id is in the file or its WAL.
        assert any(b"first" in content for content in files.values())
    places.update(files)
    if settings.db_url and settings.db_url.startswith("postgresql"):
        dumped = _pg_dump(settings.db_url)
        if dumped is not None:
            assert b"items" in dumped and b"assignments" in dumped
            places["pg_dump"] = dumped
    for kind, marker in marks.items():
        for where, content in places.items():
            for form in _forms(marker):
                assert form not in content, f"{kind} marker found in clear in {where}"
    # The external id and the schema are stored as they are, by design; a sanity check
    # that the scan looks where the data is.
    assert b"first" in dump and b"sentiment" in dump


def _ids(engine: Engine, sql: str, **params: Any) -> list[int]:
    with engine.connect() as conn:
        return [int(x) for x in conn.execute(text(sql), params).scalars()]


@pytest.mark.parametrize(
    "moved", ["item-in-project", "item-from-other-project", "answer-from-other-row"]
)
def test_ciphertext_moved_to_another_row_fails_instead_of_leaking(
    world: Any, settings: Settings, moved: str
) -> None:
    pid, marks = _fill(world)
    other_pid, other_marks = _fill(world)
    engine = _engine(settings)
    first, second = _ids(engine, "SELECT id FROM items WHERE project_id = :p ORDER BY id", p=pid)
    (other_first, _) = _ids(
        engine, "SELECT id FROM items WHERE project_id = :p ORDER BY id", p=other_pid
    )
    answer_row = _ids(engine, "SELECT id FROM assignments WHERE item_id = :i", i=first)[0]
    other_answer = _ids(engine, "SELECT id FROM assignments WHERE item_id = :i", i=other_first)[0]
    if moved == "item-in-project":
        target, leaked = first, marks["updated"]
        sql = (
            "UPDATE items SET payload = (SELECT payload FROM items WHERE id = :src) WHERE id = :dst"
        )
        params = {"src": second, "dst": first}
    elif moved == "item-from-other-project":
        target, leaked = first, other_marks["item"]
        sql = (
            "UPDATE items SET payload = (SELECT payload FROM items WHERE id = :src) WHERE id = :dst"
        )
        params = {"src": other_first, "dst": first}
    else:
        target, leaked = first, other_marks["answer"]
        sql = (
            "UPDATE assignments SET answer = (SELECT answer FROM assignments "
            "WHERE id = :src) WHERE id = :dst"
        )
        params = {"src": other_answer, "dst": answer_row}
    with engine.begin() as conn:
        assert conn.execute(text(sql), params).rowcount == 1
    engine.dispose()

    r = world.owner.get(f"/api/v1/projects/{pid}/items/{target}")
    assert r.status_code == 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/integrity")
    assert "integrity" in r.json()["detail"] and r.json()["hint"]
    assert leaked not in r.text

    export = world.owner.get(f"/api/v1/projects/{pid}/export?format=jsonl")
    assert leaked.encode() not in export.content  # the stream stops, it does not leak

    fresh = Platform.open(settings)  # a new process: no key or row cached
    try:
        with pytest.raises(IntegrityError) as raised:
            item_service.get_item(fresh, _owner(world), pid, target)
        assert leaked not in str(raised.value.detail)
    finally:
        fresh.close()


def test_a_wrapped_data_key_copied_from_another_project_does_not_open(
    world: Any, settings: Settings
) -> None:
    pid, _ = _fill(world)
    other_pid, other_marks = _fill(world)
    engine = _engine(settings)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE project_keys SET wrapped_dek = (SELECT wrapped_dek FROM project_keys "
                "WHERE project_id = :src), kek_id = (SELECT kek_id FROM project_keys "
                "WHERE project_id = :src) WHERE project_id = :dst"
            ),
            {"src": other_pid, "dst": pid},
        )
        first = conn.execute(
            text("SELECT MIN(id) FROM items WHERE project_id = :p"), {"p": pid}
        ).scalar_one()
    engine.dispose()
    fresh = Platform.open(settings)
    try:
        with pytest.raises(IntegrityError):
            item_service.get_item(fresh, _owner(world), pid, first)
    finally:
        fresh.close()


def _capture(engine: Engine, pid: int) -> dict[str, Any]:
    """What a copy of the database taken before the delete would hold for a project."""
    with engine.connect() as conn:
        key = conn.execute(
            text("SELECT kek_id, wrapped_dek FROM project_keys WHERE project_id = :p"), {"p": pid}
        ).one()
        blobs = [
            (bytes(b), aad(pid, int(i), "payload"))
            for i, b in conn.execute(
                text("SELECT id, payload FROM items WHERE project_id = :p"), {"p": pid}
            )
        ]
        blobs += [
            (bytes(b), aad(pid, int(i), "answer"))
            for i, b in conn.execute(
                text(
                    "SELECT id, answer FROM assignments WHERE project_id = :p "
                    "AND answer IS NOT NULL"
                ),
                {"p": pid},
            )
        ]
        blobs += [
            (bytes(b), aad(pid, int(i), "skip_reason"))
            for i, b in conn.execute(
                text(
                    "SELECT id, skip_reason FROM assignments WHERE project_id = :p "
                    "AND skip_reason IS NOT NULL"
                ),
                {"p": pid},
            )
        ]
    return {"kek_id": key[0], "wrapped": bytes(key[1]), "blobs": blobs}


def _delete(world: Any, pid: int) -> None:
    r = world.owner.delete(f"/api/v1/projects/{pid}")
    assert r.status_code == 204, r.text


def test_deleting_a_project_shreds_its_data_key(world: Any, settings: Settings) -> None:
    pid, _ = _fill(world)
    kept, kept_marks = _fill(world)
    engine = _engine(settings)
    before = _capture(engine, pid)
    assert len(before["blobs"]) == 4  # two items, one answer, one skip reason
    _delete(world, pid)

    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT COUNT(*) FROM project_keys WHERE project_id = :p"), {"p": pid}
            ).scalar_one()
            == 0
        )
        remaining = conn.execute(
            text("SELECT project_id, kek_id, wrapped_dek FROM project_keys")
        ).all()
    engine.dispose()
    assert [r[0] for r in remaining] == [kept]
    assert world.owner.get(f"/api/v1/projects/{pid}").status_code == 404
    assert world.owner.get(f"/api/v1/projects/{pid}/export").status_code == 404
    assert world.owner.get(f"/api/v1/projects/{pid}/next").status_code == 404

    # Every data key the installation can still unwrap fails on every old ciphertext.
    keys = LocalKeyFileProvider(settings.resolved_key_file())
    deks = [
        DataKey(keys.unwrap(kek, bytes(w), context=key_context(int(p)))) for p, kek, w in remaining
    ]
    for dek in deks:
        for blob, where in before["blobs"]:
            with pytest.raises(IntegrityError):
                dek.decrypt(blob, where)
    fresh = Platform.open(settings)
    try:
        with fresh.db.read() as conn, pytest.raises(NotFound):
            fresh.data_key(conn, pid)
    finally:
        fresh.close()
    # The surviving project is untouched.
    export = world.owner.get(f"/api/v1/projects/{kept}/export")
    assert kept_marks["item"].encode() in export.content


def test_a_database_backup_from_before_the_delete_is_unreadable(
    world: Any, settings: Settings
) -> None:
    pid, marks = _fill(world)
    engine = _engine(settings)
    backup = _capture(engine, pid)  # e.g. last night's database dump
    engine.dispose()
    _delete(world, pid)

    keys = LocalKeyFileProvider(settings.resolved_key_file())  # the key file as it is now
    try:
        raw = keys.unwrap(backup["kek_id"], backup["wrapped"], context=key_context(pid))
    except LabelvaultError:
        return  # the key-encryption key that wrapped it is gone: shredded
    opened = [DataKey(raw).decrypt(blob, where) for blob, where in backup["blobs"]]
    assert not any(marks["item"].encode() in p for p in opened), (
        "the deleted project's items were read back from a backup"
    )
