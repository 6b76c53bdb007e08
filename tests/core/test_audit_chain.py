"""The audit log records who did what, and `labelvault admin audit-verify` catches tampering.

Every scenario edits the database directly, as someone with database access but without
the application would, then runs the admin command an operator would run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from labelvault.cli.main import app as cli
from labelvault.config import Settings
from labelvault.crypto import chain_hash

SECRET = "audit-must-not-hold-this-7f3a9c"
PASSWORD = "a long enough passphrase"
ENTRY_KEYS = ("org_id", "shard", "seq", "at", "actor_id", "action", "target", "detail")
COLUMNS = (*ENTRY_KEYS, "hash")


def _verify(settings: Settings) -> Any:
    args = ["admin", "audit-verify", "--data-dir", str(settings.data_dir)]
    if settings.db_url and not settings.db_url.startswith("sqlite"):
        args += ["--db", settings.db_url]
    return CliRunner().invoke(cli, args)


def _activity(world: Any) -> dict[str, Any]:
    """A day's work: invites, logins, tokens, roles, import, labelling, export."""
    owner = world.owner
    r = owner.post("/api/v1/users", json={"email": "ann@acme.test", "password": PASSWORD})
    assert r.status_code == 201, r.text
    ann_id = r.json()["user_id"]
    assert (
        owner.post(
            "/api/v1/auth/login", json={"email": "ann@acme.test", "password": "wrong password!!"}
        ).status_code
        == 401
    )
    r = owner.post("/api/v1/auth/login", json={"email": "ann@acme.test", "password": PASSWORD})
    assert r.status_code == 200, r.text
    ann = world.client(r.json()["token"])
    r = ann.post("/api/v1/tokens", json={"name": "laptop"})
    assert r.status_code == 201, r.text
    assert ann.delete(f"/api/v1/tokens/{r.json()['id']}").status_code == 204

    pid = world.project(overlap=1)["id"]
    world.add_items(pid, [{"id": f"t{n}", "text": f"{SECRET} {n}"} for n in range(4)])
    world.member(pid, ann_id, "annotator")
    item_ids = []
    for _ in range(3):
        task = ann.get(f"/api/v1/projects/{pid}/next").json()
        item_ids.append(task["item"]["id"])
        r = ann.post(
            f"/api/v1/assignments/{task['assignment_id']}/submit",
            json={"values": {"sentiment": "pos"}},
        )
        assert r.status_code == 200, r.text
    task = ann.get(f"/api/v1/projects/{pid}/next").json()
    assert (
        ann.post(
            f"/api/v1/assignments/{task['assignment_id']}/skip", json={"reason": SECRET}
        ).status_code
        == 200
    )
    assert owner.get(f"/api/v1/projects/{pid}/items/{item_ids[0]}").status_code == 200
    assert owner.get(f"/api/v1/projects/{pid}/export?format=jsonl").status_code == 200
    r = owner.patch(f"/api/v1/users/{ann_id}", json={"org_role": "admin"})
    assert r.status_code == 200, r.text
    return {"pid": pid, "ann_id": ann_id, "item_ids": item_ids}


def _all_entries(client: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    while True:
        r = client.get(f"/api/v1/audit?after_id={after}&limit=7")
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["entries"]
        if page["next_after"] is None:
            return out
        after = page["next_after"]


def test_the_audit_log_records_each_kind_of_action(world: Any, settings: Settings) -> None:
    info = _activity(world)
    entries = _all_entries(world.owner)
    assert [e["id"] for e in entries] == sorted({e["id"] for e in entries})  # paged, no repeat
    pid, ann_id = info["pid"], info["ann_id"]

    def find(action: str, **match: Any) -> list[dict[str, Any]]:
        return [
            e for e in entries if e["action"] == action and all(e[k] == v for k, v in match.items())
        ]

    assert find("login", actor_id=ann_id, target=f"user:{ann_id}")
    assert find("login.failed", actor_id=ann_id)
    assert find("token.create", actor_id=ann_id)
    assert find("token.revoke", actor_id=ann_id)
    assert find("user.invite", target=f"user:{ann_id}")
    assert find("project.create", target=f"project:{pid}")
    assert find("items.import", target=f"project:{pid}")[0]["detail"]["created"] == 4
    assert find("role.project", target=f"project:{pid}/user:{ann_id}")[0]["detail"]["to"] == (
        "annotator"
    )
    assert find("role.org", target=f"user:{ann_id}")[0]["detail"] == {
        "from": "member",
        "to": "admin",
    }
    for item_id in info["item_ids"]:
        where = f"project:{pid}/item:{item_id}"
        assert find("item.read", actor_id=ann_id, target=where)  # the lease shows the content
        assert find("answer.submit", actor_id=ann_id, target=where)
    assert len(find("answer.skip", actor_id=ann_id)) == 1
    assert find("project.export", target=f"project:{pid}")[0]["detail"] == {
        "format": "jsonl",
        "consensus": False,
    }
    assert SECRET not in orjson.dumps(entries).decode()  # ids and counts, never content

    other = _all_entries(world.other_owner)
    assert not {e["id"] for e in other} & {e["id"] for e in entries}  # tenants apart
    member = world.user("plain@acme.test")[1]
    assert member.get("/api/v1/audit").status_code == 403

    result = _verify(settings)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


# ---------------------------------------------------------------- tampering


def _engine(settings: Settings) -> Engine:
    return create_engine(settings.resolved_db_url())


def _longest_chain(engine: Engine, org_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        shard = conn.execute(
            text(
                "SELECT shard FROM audit_log WHERE org_id = :o GROUP BY shard "
                "ORDER BY COUNT(*) DESC, shard LIMIT 1"
            ),
            {"o": org_id},
        ).scalar_one()
        rows = (
            conn.execute(
                text(
                    f"SELECT id, {', '.join(COLUMNS)} FROM audit_log "
                    "WHERE org_id = :o AND shard = :s "
                    "ORDER BY id"
                ),
                {"o": org_id, "s": shard},
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def _set(conn: Any, entry_id: int, values: dict[str, Any]) -> None:
    assignments = ", ".join(f"{k} = :{k}" for k in values)
    conn.execute(
        text(f"UPDATE audit_log SET {assignments} WHERE id = :entry_id"),
        {**values, "entry_id": entry_id},
    )


def _swap(conn: Any, a: dict[str, Any], b: dict[str, Any]) -> None:
    """Exchange two entries' contents (ids stay): the log now reads them in swapped order."""
    _set(conn, a["id"], {**{k: b[k] for k in COLUMNS}, "seq": -1})
    _set(conn, b["id"], {k: a[k] for k in COLUMNS})
    _set(conn, a["id"], {"seq": b["seq"]})


def _tamper(conn: Any, chain: list[dict[str, Any]], how: str) -> int:
    """Apply one kind of tampering; returns the id of the first entry that no longer verifies."""
    mid = len(chain) // 2
    target, after = chain[mid], chain[mid + 1]
    if how == "edit-detail":
        _set(conn, target["id"], {"detail": '{"count":0}'})
        return int(target["id"])
    if how == "edit-action":
        hidden = next(e for e in chain if e["action"] in ("project.export", "answer.submit"))
        _set(conn, hidden["id"], {"action": "item.read"})  # pass an export or a submit off
        return int(hidden["id"])
    if how == "edit-and-rehash":
        prev = chain[mid - 1]
        edited = {k: target[k] for k in ENTRY_KEYS} | {"detail": '{"count":0}'}
        _set(
            conn,
            target["id"],
            {"detail": edited["detail"], "hash": chain_hash(bytes(prev["hash"]), edited)},
        )
        return int(after["id"])
    if how == "delete-middle":
        conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": target["id"]})
        return int(after["id"])
    if how == "delete-first":
        conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": chain[0]["id"]})
        return int(chain[1]["id"])
    if how == "swap":
        _swap(conn, target, after)
        return int(target["id"])
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    ["edit-detail", "edit-action", "edit-and-rehash", "delete-middle", "delete-first", "swap"],
)
def test_audit_verify_names_the_first_broken_entry(
    world: Any, settings: Settings, how: str
) -> None:
    _activity(world)
    assert _verify(settings).exit_code == 0
    engine = _engine(settings)
    chain = _longest_chain(engine, world.org_id)
    assert len(chain) >= 6
    with engine.begin() as conn:
        broken = _tamper(conn, chain, how)
    engine.dispose()

    result = _verify(settings)
    assert result.exit_code == 1, result.output
    assert f"entry id {broken} " in result.output, result.output
    assert "BROKEN" in result.output


def test_audit_verify_notices_a_deleted_last_entry(world: Any, settings: Settings) -> None:
    _activity(world)
    engine = _engine(settings)
    chain = _longest_chain(engine, world.org_id)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": chain[-1]["id"]})
    engine.dispose()

    result = _verify(settings)
    assert result.exit_code == 1, result.output
    assert f"chain {chain[-1]['shard']})" in result.output, result.output
    assert "deleted" in result.output


@pytest.mark.parametrize("heads", ["one-chain", "whole-org"])
def test_audit_verify_is_not_fooled_by_removing_chain_heads(
    world: Any, settings: Settings, heads: str
) -> None:
    _activity(world)
    engine = _engine(settings)
    chain = _longest_chain(engine, world.org_id)
    with engine.begin() as conn:
        _tamper(conn, chain, "edit-detail")
        if heads == "one-chain":
            conn.execute(
                text("DELETE FROM audit_chains WHERE org_id = :o AND shard = :s"),
                {"o": world.org_id, "s": chain[0]["shard"]},
            )
        else:
            conn.execute(text("DELETE FROM audit_chains WHERE org_id = :o"), {"o": world.org_id})
    engine.dispose()

    result = _verify(settings)
    assert result.exit_code == 1, result.output


def test_audit_verify_without_a_database_says_how_to_fix_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["admin", "audit-verify", "--data-dir", str(tmp_path / "nowhere")]
    )
    assert result.exit_code not in (0, 1)  # neither "intact" nor "tampered"
    assert "--data-dir" in result.output
