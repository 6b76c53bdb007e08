"""The work queue under load and over time: overlap, leases, late submits, skips, renewals.

The load test runs real `labelvault serve` processes (two of them on PostgreSQL, sharing
the database as replicas would) and eight annotator threads with their own HTTP clients.
The lease tests run in-process with a movable clock.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text

from tests.core.server_process import admin_init, client, external_db, running_servers

SCHEMA = {
    "fields": [
        {"name": "sentiment", "type": "single_choice", "options": ["pos", "neg", "neu"]},
        {"name": "note", "type": "text", "max_length": 300},
    ]
}
ITEMS = 150
OVERLAP = 2
ANNOTATORS = 8
RUN_DEADLINE_S = 90.0


# ---------------------------------------------------------------- load test


@dataclass
class Board:
    """What the annotator threads share: acknowledgments, problems and a quiet-detector.

    An annotator may stop after a 204 only when no other annotator was holding or fetching
    a task meanwhile and nobody skipped (a skip frees a slot someone could still take).
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    skips_done: int = 0
    submits: set[tuple[str, int, str]] = field(default_factory=set)
    skips: set[tuple[str, int, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    finished: set[str] = field(default_factory=set)

    def problem(self, message: str) -> None:
        with self.lock:
            self.problems.append(message)


def _annotate(
    board: Board, pid: int, email: str, clients: list[httpx.Client], skipper: bool, deadline: float
) -> None:
    turn = 0
    while time.monotonic() < deadline:
        turn += 1
        fetch, send = clients[turn % len(clients)], clients[(turn + 1) % len(clients)]
        with board.lock:
            board.in_flight += 1
            epoch = board.skips_done
        try:
            r = fetch.get(f"/projects/{pid}/next")
        except httpx.HTTPError as exc:
            board.problem(f"{email}: next failed: {exc!r}")
            with board.lock:
                board.in_flight -= 1
            return
        if r.status_code == 204:
            with board.lock:
                board.in_flight -= 1
                if board.in_flight == 0 and board.skips_done == epoch:
                    board.finished.add(email)
                    return
            time.sleep(0.01)
            continue
        try:
            _work_one(
                board, pid, email, r, fetch, send, skipper and turn % 5 == 0, again=turn % 10 == 3
            )
        except httpx.HTTPError as exc:
            board.problem(f"{email}: request failed: {exc!r}")
            return
        finally:
            with board.lock:
                board.in_flight -= 1
    board.problem(f"{email}: still working after {RUN_DEADLINE_S} s")


def _work_one(
    board: Board,
    pid: int,
    email: str,
    r: httpx.Response,
    fetch: httpx.Client,
    send: httpx.Client,
    skip: bool,
    again: bool,
) -> None:
    if r.status_code != 200:
        board.problem(f"{email}: next -> {r.status_code} {r.text}")
        return
    task = r.json()
    aid, item_id = task["assignment_id"], task["item"]["id"]
    if again:  # asking again while holding a live lease hands back the same task
        same = fetch.get(f"/projects/{pid}/next")
        if same.status_code != 200 or same.json()["assignment_id"] != aid:
            board.problem(f"{email}: second next gave {same.status_code} {same.text[:200]}")
    note = f"{email}|{aid}|{uuid.uuid4().hex[:8]}"
    if skip:
        s = send.post(f"/assignments/{aid}/skip", json={"reason": note})
        if s.status_code != 200:
            board.problem(f"{email}: skip -> {s.status_code} {s.text}")
            return
        with board.lock:
            board.skips.add((email, item_id, note))
            board.skips_done += 1
        return
    s = send.post(
        f"/assignments/{aid}/submit",
        json={"values": {"sentiment": "pos" if aid % 2 else "neg", "note": note}},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    if s.status_code != 200:
        board.problem(f"{email}: submit -> {s.status_code} {s.text}")
        return
    body = s.json()
    if body["item_id"] != item_id or body["status"] != "submitted":
        board.problem(f"{email}: submit acknowledged {body}, expected item {item_id}")
    with board.lock:
        board.submits.add((email, item_id, note))


def _setup_project(owner: httpx.Client) -> tuple[int, list[tuple[str, str]]]:
    r = owner.post("/projects", json={"name": "load", "schema": SCHEMA, "overlap": OVERLAP})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    rows = b"\n".join(orjson.dumps({"id": f"i{n:03d}", "text": f"item {n}"}) for n in range(ITEMS))
    r = owner.post(
        f"/projects/{pid}/items", content=rows, headers={"Content-Type": "application/x-ndjson"}
    )
    assert r.status_code == 200 and r.json()["created"] == ITEMS, r.text
    people = []
    for n in range(ANNOTATORS):
        email = f"ann{n}@acme.test"
        r = owner.post("/users", json={"email": email, "org_role": "member"})
        assert r.status_code == 201, r.text
        user = r.json()
        r = owner.put(f"/projects/{pid}/members/{user['user_id']}", json={"role": "annotator"})
        assert r.status_code == 200, r.text
        people.append((email, user["token"]))
    return pid, people


def _db_engine(db_url: str, data_dir: Path) -> Any:
    return create_engine(
        db_url if external_db(db_url) else f"sqlite:///{data_dir / 'labelvault.db'}"
    )


def test_eight_annotators_with_overlap_two_label_every_item_exactly_twice(
    tmp_path: Path, db_url: str
) -> None:
    data_dir, db = tmp_path / "data", external_db(db_url)
    token = admin_init(data_dir, db)["token"]
    replicas = 2 if db else 1  # PostgreSQL: two app processes share the queue
    with running_servers(replicas, data_dir, db, tmp_path) as servers:
        board = _run_annotators(servers, token)
        with client(servers[0], token) as owner:
            export = owner.get(f"/projects/{board.pid}/export?format=jsonl")
        assert export.status_code == 200, export.text

    assert board.problems == []
    assert board.finished == {f"ann{n}@acme.test" for n in range(ANNOTATORS)}
    records = [orjson.loads(line) for line in export.content.splitlines()]
    assert len(records) == ITEMS
    exported_submits, exported_skips = set(), set()
    for record in records:
        answers = record["annotations"]
        who = [a["annotator"] for a in answers]
        assert len(who) == len(set(who)), f"an annotator got item {record['id']} twice: {who}"
        submitted = [a for a in answers if a["status"] == "submitted"]
        assert len(submitted) == OVERLAP, record
        exported_submits |= {(a["annotator"], record["id"], a["values"]["note"]) for a in submitted}
        exported_skips |= {
            (a["annotator"], record["id"], a["skip_reason"])
            for a in answers
            if a["status"] == "skipped"
        }
    assert len(exported_submits) == ITEMS * OVERLAP
    assert exported_submits == board.submits  # nothing lost, nothing invented
    assert exported_skips == board.skips
    assert board.skips, "the run should have exercised skips"

    engine = _db_engine(db_url, data_dir)
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(text("SELECT status, COUNT(*) FROM assignments GROUP BY status")).all()
        )
        slots = collections.Counter(conn.execute(text("SELECT slots_used FROM items")).scalars())
        doubles = conn.execute(
            text(
                "SELECT item_id, annotator_id FROM assignments GROUP BY item_id, annotator_id "
                "HAVING COUNT(*) > 1"
            )
        ).all()
    engine.dispose()
    assert statuses == {"submitted": ITEMS * OVERLAP, "skipped": len(board.skips)}
    assert slots == {OVERLAP: ITEMS}
    assert doubles == []


@dataclass
class _Run(Board):
    pid: int = 0


def _run_annotators(servers: list[Any], token: str) -> _Run:
    with client(servers[0], token) as owner:
        pid, people = _setup_project(owner)
    board = _Run(pid=pid)
    deadline = time.monotonic() + RUN_DEADLINE_S
    clients = {email: [client(s, tok) for s in servers] for email, tok in people}
    threads = [
        threading.Thread(
            target=_annotate, args=(board, pid, email, clients[email], n < 4, deadline), daemon=True
        )
        for n, (email, _) in enumerate(people)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + 5))
    for pair in clients.values():
        for c in pair:
            c.close()
    assert not any(t.is_alive() for t in threads), "annotator threads did not finish"
    return board


# ---------------------------------------------------------------- leases over time


class Clock:
    """Moves the queue's notion of now forward without sleeping."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def advance(self, seconds: float) -> None:
        self.offset_ms += int(seconds * 1000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    from labelvault.services import queue
    from labelvault.storage.database import now_ms as real_now_ms

    moved = Clock()
    monkeypatch.setattr(queue, "now_ms", lambda: real_now_ms() + moved.offset_ms)
    return moved


LEASE_S = 10


def _project(world: Any, items: list[str], overlap: int = 1) -> int:
    pid = world.project(schema=SCHEMA, overlap=overlap, lease_seconds=LEASE_S)["id"]
    world.add_items(pid, [{"id": x, "text": f"text of {x}"} for x in items])
    return pid


def _annotators(world: Any, pid: int, n: int) -> list[Any]:
    out = []
    for k in range(n):
        user_id, c = world.user(f"lease{k}@acme.test")
        world.member(pid, user_id, "annotator")
        out.append(c)
    return out


def _next(c: Any, pid: int) -> dict[str, Any] | None:
    r = c.get(f"/api/v1/projects/{pid}/next")
    assert r.status_code in (200, 204), r.text
    return r.json() if r.status_code == 200 else None


def _submit(c: Any, task: dict[str, Any], note: str, key: str | None = None) -> Any:
    return c.post(
        f"/api/v1/assignments/{task['assignment_id']}/submit",
        json={"values": {"sentiment": "pos", "note": note}},
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )


def _answers(world: Any, pid: int) -> dict[str, list[tuple[str, str, Any]]]:
    r = world.owner.get(f"/api/v1/projects/{pid}/export?format=jsonl")
    assert r.status_code == 200, r.text
    out = {}
    for line in r.content.splitlines():
        rec = orjson.loads(line)
        out[rec["external_id"]] = sorted(
            (a["annotator"], a["status"], (a["values"] or {}).get("note") or a["skip_reason"])
            for a in rec["annotations"]
        )
    return out


def test_expired_lease_returns_the_item_to_the_queue(world: Any, clock: Clock) -> None:
    pid = _project(world, ["x"])
    a, b = _annotators(world, pid, 2)
    held = _next(a, pid)
    assert held is not None
    assert _next(b, pid) is None  # the only slot is leased
    clock.advance(LEASE_S - 1)
    assert _next(b, pid) is None  # not expired yet
    clock.advance(2)
    taken = _next(b, pid)
    assert taken is not None and taken["item"]["external_id"] == "x"
    assert taken["assignment_id"] != held["assignment_id"]
    assert _submit(b, taken, "b's answer").status_code == 200
    assert _answers(world, pid) == {"x": [("lease1@acme.test", "submitted", "b's answer")]}


@pytest.mark.parametrize("swept", [False, True], ids=["before-sweep", "after-sweep"])
def test_late_submit_is_accepted_while_the_slot_is_free(
    world: Any, clock: Clock, swept: bool
) -> None:
    pid = _project(world, ["x"])
    (a,) = _annotators(world, pid, 1)
    task = _next(a, pid)
    assert task is not None
    clock.advance(LEASE_S + 5)
    if swept:  # the expired lease was returned to the queue; nobody else took it
        assert _next(a, pid) is None  # and it is never handed back to the same annotator
    r = _submit(a, task, "late but welcome")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted"
    assert _answers(world, pid) == {"x": [("lease0@acme.test", "submitted", "late but welcome")]}
    info = world.owner.get(f"/api/v1/projects/{pid}").json()
    assert info["counts"]["completed_items"] == 1


def test_late_submit_after_another_annotator_took_the_slot_is_409(world: Any, clock: Clock) -> None:
    pid = _project(world, ["x"], overlap=2)
    a, b, c = _annotators(world, pid, 3)
    task_a, task_b = _next(a, pid), _next(b, pid)
    assert task_a and task_b
    assert _next(c, pid) is None  # both slots leased
    clock.advance(6)
    renewed = b.post(f"/api/v1/assignments/{task_b['assignment_id']}/renew")
    assert renewed.status_code == 200, renewed.text
    clock.advance(5)  # a's lease is over, b's renewed one is not
    task_c = _next(c, pid)
    assert task_c is not None and task_c["item"]["external_id"] == "x"

    key = uuid.uuid4().hex
    late = _submit(a, task_a, "too late", key)
    assert late.status_code == 409, late.text
    assert late.headers["content-type"] == "application/problem+json"
    problem = late.json()
    assert "expired" in problem["detail"] and "another annotator" in problem["detail"]
    assert problem["hint"]
    assert _submit(a, task_a, "too late", key).status_code == 409  # a retry changes nothing

    assert _submit(b, task_b, "b").status_code == 200
    assert _submit(c, task_c, "c").status_code == 200
    assert _answers(world, pid) == {
        "x": [("lease1@acme.test", "submitted", "b"), ("lease2@acme.test", "submitted", "c")]
    }


def test_renew_extends_the_lease(world: Any, clock: Clock) -> None:
    pid = _project(world, ["x"])
    a, b = _annotators(world, pid, 2)
    task = _next(a, pid)
    assert task is not None
    clock.advance(LEASE_S - 2)
    r = a.post(f"/api/v1/assignments/{task['assignment_id']}/renew")
    assert r.status_code == 200, r.text
    renewed = r.json()
    assert renewed["assignment_id"] == task["assignment_id"]
    assert renewed["lease_expires_at"] >= task["lease_expires_at"] + (LEASE_S - 3) * 1000
    clock.advance(5)  # past the first expiry, inside the renewed lease
    assert _next(b, pid) is None
    again = _next(a, pid)
    assert again is not None and again["lease_expires_at"] == renewed["lease_expires_at"]
    assert b.post(f"/api/v1/assignments/{task['assignment_id']}/renew").status_code == 404
    assert _submit(a, task, "renewed").status_code == 200


def test_skip_frees_the_slot_and_never_returns_the_item_to_the_skipper(world: Any) -> None:
    pid = _project(world, ["x", "y"])
    a, b = _annotators(world, pid, 2)
    first = _next(a, pid)
    assert first is not None
    skipped_id = first["item"]["external_id"]
    r = a.post(
        f"/api/v1/assignments/{first['assignment_id']}/skip", json={"reason": "not my language"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "skipped"
    second = _next(a, pid)
    assert second is not None and second["item"]["external_id"] != skipped_id
    assert _submit(a, second, "a").status_code == 200
    assert _next(a, pid) is None  # the skipped item is never offered back
    other = _next(b, pid)
    assert other is not None and other["item"]["external_id"] == skipped_id
    assert _submit(b, other, "b").status_code == 200
    again = a.post(
        f"/api/v1/assignments/{first['assignment_id']}/submit",
        json={"values": {"sentiment": "pos", "note": "changed my mind"}},
    )
    assert again.status_code == 409
    assert _answers(world, pid)[skipped_id] == [
        ("lease0@acme.test", "skipped", "not my language"),
        ("lease1@acme.test", "submitted", "b"),
    ]


def test_next_twice_while_holding_a_lease_returns_the_same_assignment(world: Any) -> None:
    pid = _project(world, ["x", "y"])
    a, b = _annotators(world, pid, 2)
    first, again = _next(a, pid), _next(a, pid)
    assert first is not None and again == first
    other = _next(b, pid)
    assert other is not None and other["item"]["id"] != first["item"]["id"]
    assert _submit(a, first, "a").status_code == 200
    assert _next(a, pid) is None  # y is leased by b, x is done by a
    assert _answers(world, pid)["x"] == [("lease0@acme.test", "submitted", "a")]


def test_an_annotator_gets_every_open_item_however_many_they_answered(
    world: Any, platform: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labelvault.domain.roles import OrgRole
    from labelvault.services import queue
    from labelvault.services.context import Principal
    from labelvault.storage import queue as storage_queue

    monkeypatch.setattr(storage_queue, "PARTIAL_WINDOW", 4)  # the same logic, smaller
    total = storage_queue.PARTIAL_WINDOW + 2
    pid = _project(world, [f"x{n:03d}" for n in range(total)], overlap=3)
    people = []
    for k in range(2):
        user_id, c = world.user(f"deep{k}@acme.test")
        world.member(pid, user_id, "annotator")
        people.append((Principal(user_id, world.org_id, f"deep{k}@acme.test", OrgRole.MEMBER), c))
    (fast, _), (second, second_http) = people

    def label(who: Principal, n: int) -> None:  # through the service: fast setup
        for _ in range(n):
            task = queue.next_task(platform, who, pid)
            assert task is not None
            queue.submit(platform, who, task["assignment_id"], {"sentiment": "neu", "note": ""})

    label(fast, total)  # every item now has one answer of three
    label(second, storage_queue.PARTIAL_WINDOW)  # the first window's worth now has two
    remaining = []
    while (task := _next(second_http, pid)) is not None and len(remaining) < total:
        remaining.append(task["item"]["external_id"])
        assert _submit(second_http, task, "second").status_code == 200
    assert (
        len(remaining) == total - storage_queue.PARTIAL_WINDOW
    )  # nobody else will take these two slots
