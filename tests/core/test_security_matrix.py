"""Who may call what: every API route against every kind of caller.

The table below has one or more rows per route. A route without a row fails
`test_every_route_has_a_security_row`, so a new endpoint cannot ship without deciding who
may call it. Expectations follow docs/api.md and domain/roles.py:
- no token or a bad token: 401;
- another org's ids, or a project the caller has no role in: 404, never 403;
- a visible project where the caller's role lacks the permission: 403;
- otherwise success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.core.security_support import (
    ACTORS,
    ADMIN,
    ANNOTATOR,
    ANON,
    API,
    AUTHENTICATED,
    BAD_TOKEN,
    GHOST_SCENE,
    MANAGER,
    MEMBER,
    OTHER_OWNER,
    OWNER,
    PROBLEM_JSON,
    REVIEWER,
    Cast,
    Scene,
    api_routes,
    without_numbers,
)

OK, UNAUTHENTICATED, FORBIDDEN, HIDDEN = "2xx", 401, 403, 404
QUEUE_WORKERS = (OWNER, ADMIN, MANAGER, REVIEWER, ANNOTATOR)


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    kwargs: dict[str, Any]


Builder = Callable[[Cast, str, Scene], Request]


@dataclass(frozen=True)
class Row:
    """One route called one way, and what each actor must get back."""

    method: str
    route: str
    build: Builder
    expect: dict[str, str | int]
    #: A success changes the scene (deletes, leases, submits): later rows need a fresh one.
    spoils: bool = True
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.method} {self.route}" + (f" ({self.note})" if self.note else "")


def expect(
    ok: tuple[str, ...] = (),
    forbidden: tuple[str, ...] = (),
    hidden: tuple[str, ...] = (),
    public: bool = False,
) -> dict[str, str | int]:
    """Spell out every actor's expected status; each authenticated actor exactly once."""
    table: dict[str, str | int] = {}
    for outcome, actors in ((OK, ok), (FORBIDDEN, forbidden), (HIDDEN, hidden)):
        for actor in actors:
            assert actor not in table, f"{actor} listed twice"
            table[actor] = outcome
    assert set(table) == set(AUTHENTICATED), set(AUTHENTICATED) ^ set(table)
    table[ANON] = table[BAD_TOKEN] = OK if public else UNAUTHENTICATED
    return table


def everyone() -> dict[str, str | int]:
    return expect(ok=AUTHENTICATED)


def org_admins() -> dict[str, str | int]:
    """Org-level administration: the caller's own org, so another org's owner succeeds."""
    return expect(ok=(OWNER, ADMIN, OTHER_OWNER), forbidden=(MANAGER, REVIEWER, ANNOTATOR, MEMBER))


def in_project(
    ok: tuple[str, ...], forbidden: tuple[str, ...] = (), hidden: tuple[str, ...] = ()
) -> dict[str, str | int]:
    """A project-scoped action: no role in the project and another org are always 404."""
    return expect(ok=ok, forbidden=forbidden, hidden=(*hidden, MEMBER, OTHER_OWNER))


def call(method: str, url: str, **kwargs: Any) -> Builder:
    """A request whose url may name scene ids: {pid}, {item}, {assignment}, {target}, {token}."""

    def build(cast: Cast, actor: str, scene: Scene) -> Request:
        filled = url.format(
            pid=scene.project_id,
            item=scene.item_id,
            assignment=scene.assignment_id,
            target=scene.target_user_id,
            token=scene.spare_token_id,
        )
        return Request(method, API + filled, kwargs)

    return build


def own_assignment(action: str, **kwargs: Any) -> Builder:
    """An assignment the actor leased themselves (callers who cannot lease use the scene's)."""

    def build(cast: Cast, actor: str, scene: Scene) -> Request:
        assignment = scene.assignment_id
        if actor in QUEUE_WORKERS:
            task = cast.clients[actor].get(f"{API}/projects/{scene.project_id}/next")
            assert task.status_code == 200, task.text
            assignment = task.json()["assignment_id"]
        return Request("POST", f"{API}/assignments/{assignment}/{action}", kwargs)

    return build


def own_token(cast: Cast, actor: str, scene: Scene) -> Request:
    """A token the actor created themselves (callers without a token aim at the owner's)."""
    token_id = scene.spare_token_id
    if actor in AUTHENTICATED:
        made = cast.clients[actor].post(f"{API}/tokens", json={"name": "throwaway"})
        assert made.status_code == 201, made.text
        token_id = made.json()["id"]
    return Request("DELETE", f"{API}/tokens/{token_id}", {})


def new_user(cast: Cast, actor: str, scene: Scene) -> Request:
    email = cast.unique("invitee") + "@example.test"
    return Request("POST", f"{API}/users", {"json": {"email": email, "org_role": "member"}})


def login(cast: Cast, actor: str, scene: Scene) -> Request:
    if "login" not in cast.user_ids:
        r = cast.world.owner.post(
            f"{API}/users",
            json={"email": "pw@acme.test", "org_role": "member", "password": "correct horse"},
        )
        assert r.status_code == 201, r.text
        cast.user_ids["login"] = r.json()["user_id"]
    body = {"email": "pw@acme.test", "password": "correct horse"}
    return Request("POST", f"{API}/auth/login", {"json": body})


NDJSON = {"Content-Type": "application/x-ndjson"}
ANSWER = {"values": {"sentiment": "pos"}}
SKIP = {"reason": "not my language"}

ROWS: list[Row] = [
    # -- identity ------------------------------------------------------------------------
    Row(
        "POST",
        "/auth/login",
        login,
        expect(ok=AUTHENTICATED, public=True),
        spoils=False,
        note="a stray Authorization header does not matter",
    ),
    Row("GET", "/me", call("GET", "/me"), everyone(), spoils=False),
    Row("POST", "/tokens", call("POST", "/tokens", json={"name": "ci"}), everyone(), spoils=False),
    Row("GET", "/tokens", call("GET", "/tokens"), everyone(), spoils=False),
    Row("DELETE", "/tokens/{token_id}", own_token, everyone(), spoils=False, note="own token"),
    Row(
        "DELETE",
        "/tokens/{token_id}",
        call("DELETE", "/tokens/{token}"),
        expect(ok=(OWNER,), hidden=(ADMIN, MANAGER, REVIEWER, ANNOTATOR, MEMBER, OTHER_OWNER)),
        note="the owner's token",
    ),
    Row("POST", "/users", new_user, org_admins(), spoils=False),
    Row("GET", "/users", call("GET", "/users"), org_admins(), spoils=False),
    Row(
        "PATCH",
        "/users/{user_id}",
        call("PATCH", "/users/{target}", json={"org_role": "member"}),
        expect(
            ok=(OWNER, ADMIN),
            forbidden=(MANAGER, REVIEWER, ANNOTATOR, MEMBER),
            hidden=(OTHER_OWNER,),
        ),
        spoils=False,
    ),
    # -- projects ------------------------------------------------------------------------
    Row(
        "POST",
        "/projects",
        call(
            "POST",
            "/projects",
            json={"name": "new", "schema": {"fields": [{"name": "t", "type": "text"}]}},
        ),
        everyone(),
        spoils=False,
    ),
    Row("GET", "/projects", call("GET", "/projects"), everyone(), spoils=False),
    Row(
        "GET",
        "/projects/{project_id}",
        call("GET", "/projects/{pid}"),
        in_project(ok=QUEUE_WORKERS),
        spoils=False,
    ),
    Row(
        "PATCH",
        "/projects/{project_id}",
        call("PATCH", "/projects/{pid}", json={"description": "changed"}),
        in_project(ok=(OWNER, ADMIN, MANAGER), forbidden=(REVIEWER, ANNOTATOR)),
        spoils=False,
    ),
    Row(
        "DELETE",
        "/projects/{project_id}",
        call("DELETE", "/projects/{pid}"),
        in_project(ok=(OWNER, ADMIN), forbidden=(MANAGER, REVIEWER, ANNOTATOR)),
    ),
    Row(
        "GET",
        "/projects/{project_id}/members",
        call("GET", "/projects/{pid}/members"),
        in_project(ok=(OWNER, ADMIN, MANAGER), forbidden=(REVIEWER, ANNOTATOR)),
        spoils=False,
    ),
    Row(
        "PUT",
        "/projects/{project_id}/members/{user_id}",
        call("PUT", "/projects/{pid}/members/{target}", json={"role": "reviewer"}),
        in_project(ok=(OWNER, ADMIN, MANAGER), forbidden=(REVIEWER, ANNOTATOR)),
        spoils=False,
    ),
    Row(
        "DELETE",
        "/projects/{project_id}/members/{user_id}",
        call("DELETE", "/projects/{pid}/members/{target}"),
        in_project(ok=(OWNER, ADMIN, MANAGER), forbidden=(REVIEWER, ANNOTATOR)),
    ),
    # -- items ---------------------------------------------------------------------------
    Row(
        "POST",
        "/projects/{project_id}/items",
        call(
            "POST", "/projects/{pid}/items", content=b'{"id": "new", "text": "x"}\n', headers=NDJSON
        ),
        in_project(ok=(OWNER, ADMIN, MANAGER), forbidden=(REVIEWER, ANNOTATOR)),
        spoils=False,
    ),
    Row(
        "GET",
        "/projects/{project_id}/items",
        call("GET", "/projects/{pid}/items"),
        in_project(ok=(OWNER, ADMIN, MANAGER, REVIEWER), forbidden=(ANNOTATOR,)),
        spoils=False,
    ),
    Row(
        "GET",
        "/projects/{project_id}/items/{item_id}",
        call("GET", "/projects/{pid}/items/{item}"),
        in_project(ok=(OWNER, ADMIN, MANAGER, REVIEWER), hidden=(ANNOTATOR,)),
        spoils=False,
        note="an item the annotator was never given",
    ),
    # -- work queue ----------------------------------------------------------------------
    # A lease taken by `next` (or renewed) leaves the scene usable: the actor's later `next`
    # returns the same live lease, and the annotator keeps theirs.
    Row(
        "GET",
        "/projects/{project_id}/next",
        call("GET", "/projects/{pid}/next"),
        in_project(ok=QUEUE_WORKERS),
        spoils=False,
    ),
    Row(
        "POST",
        "/assignments/{assignment_id}/renew",
        own_assignment("renew"),
        in_project(ok=QUEUE_WORKERS),
        spoils=False,
        note="own lease",
    ),
    Row(
        "POST",
        "/assignments/{assignment_id}/submit",
        own_assignment("submit", json=ANSWER),
        in_project(ok=QUEUE_WORKERS),
        note="own lease",
    ),
    Row(
        "POST",
        "/assignments/{assignment_id}/skip",
        own_assignment("skip", json=SKIP),
        in_project(ok=QUEUE_WORKERS),
        note="own lease",
    ),
    Row(
        "POST",
        "/assignments/{assignment_id}/renew",
        call("POST", "/assignments/{assignment}/renew"),
        in_project(ok=(ANNOTATOR,), hidden=(OWNER, ADMIN, MANAGER, REVIEWER)),
        spoils=False,
        note="the annotator's lease",
    ),
    Row(
        "POST",
        "/assignments/{assignment_id}/submit",
        call("POST", "/assignments/{assignment}/submit", json=ANSWER),
        in_project(ok=(ANNOTATOR,), hidden=(OWNER, ADMIN, MANAGER, REVIEWER)),
        note="the annotator's lease",
    ),
    Row(
        "POST",
        "/assignments/{assignment_id}/skip",
        call("POST", "/assignments/{assignment}/skip", json=SKIP),
        in_project(ok=(ANNOTATOR,), hidden=(OWNER, ADMIN, MANAGER, REVIEWER)),
        note="the annotator's lease",
    ),
    # -- export, quality, audit ----------------------------------------------------------
    Row(
        "GET",
        "/projects/{project_id}/export",
        call("GET", "/projects/{pid}/export"),
        in_project(ok=(OWNER, ADMIN, MANAGER, REVIEWER), forbidden=(ANNOTATOR,)),
        spoils=False,
    ),
    Row(
        "GET",
        "/projects/{project_id}/quality",
        call("GET", "/projects/{pid}/quality"),
        in_project(ok=(OWNER, ADMIN, MANAGER, REVIEWER), forbidden=(ANNOTATOR,)),
        spoils=False,
    ),
    Row(
        "GET",
        "/projects/{project_id}/leaderboard",
        call("GET", "/projects/{pid}/leaderboard"),
        in_project(ok=(OWNER, ADMIN, MANAGER, REVIEWER), forbidden=(ANNOTATOR,)),
        spoils=False,
    ),
    Row("GET", "/audit", call("GET", "/audit"), org_admins(), spoils=False),
]


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    """argon2id at its production cost takes a large share of a second per hash; the matrix
    checks who may log in, not the hash strength, so it uses the cheapest parameters."""
    from argon2 import PasswordHasher

    from labelvault.crypto import passwords

    monkeypatch.setattr(
        passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def _outcome(status: int) -> str | int:
    return OK if 200 <= status < 300 else status


def _run(cast: Cast, actor: str, row: Row, scene: Scene | None = None) -> Any:
    request = row.build(cast, actor, scene or cast.scene)
    return cast.clients[actor].request(request.method, request.url, **request.kwargs)


def _problem_shape_issue(response: Any) -> str | None:
    """Why an error response is not a proper problem document, or None."""
    if response.status_code < 400:
        return None
    if not response.headers.get("content-type", "").startswith(PROBLEM_JSON):
        return f"content-type {response.headers.get('content-type')}"
    body = response.json()
    if not body.get("detail") or not body.get("hint"):
        return "problem without detail or hint"
    if (
        response.status_code == 401
        and "bearer" not in response.headers.get("www-authenticate", "").lower()
    ):
        return "401 without WWW-Authenticate: Bearer"
    return None


def test_every_route_has_a_security_row(app):
    served = api_routes(app)
    assert ("GET", f"{API}/me") in served, "route enumeration found nothing"
    covered = {(row.method, API + row.route) for row in ROWS}
    missing = sorted(served - covered)
    assert not missing, f"routes without a row in the security matrix: {missing}"
    stale = sorted(covered - served)
    assert not stale, f"matrix rows for routes that do not exist: {stale}"


@pytest.mark.parametrize("actor", ACTORS)
def test_role_tenant_matrix(world, actor):
    """Every row called by one actor; all mismatches are reported together."""
    cast = Cast.build(world)
    problems = []
    for row in ROWS:
        response = _run(cast, actor, row)
        got, want = _outcome(response.status_code), row.expect[actor]
        if got != want:
            problems.append(f"{row.name}: expected {want}, got {got}: {response.text[:200]}")
        elif issue := _problem_shape_issue(response):
            problems.append(f"{row.name}: {issue}")
        if row.spoils and got == OK:
            cast.spoil_scene()
    assert not problems, f"{actor}:\n" + "\n".join(problems)


@pytest.mark.parametrize("actor", [MEMBER, OTHER_OWNER])
def test_hidden_ids_look_exactly_like_missing_ids(world, actor):
    """A 404 for a real id the caller may not see matches a 404 for an id that does not
    exist, word for word apart from the number: no existence oracle."""
    cast = Cast.build(world)
    compared = 0
    for row in ROWS:
        if row.expect[actor] != HIDDEN:
            continue
        real = _run(cast, actor, row)
        ghost = _run(cast, actor, row, GHOST_SCENE)
        assert real.status_code == ghost.status_code == 404, (row.name, real.text, ghost.text)
        a, b = real.json(), ghost.json()
        assert (a["type"], a["title"], a.get("hint")) == (b["type"], b["title"], b.get("hint"))
        assert without_numbers(a["detail"]) == without_numbers(b["detail"]), row.name
        compared += 1
    assert compared >= 15


# -- visibility rules beyond the status codes -------------------------------------------


def test_other_org_assignment_submit_is_404_and_stores_nothing(world):
    pid = world.project(by=world.other_owner)["id"]
    world.add_items(pid, [{"text": "theirs"}], by=world.other_owner)
    task = world.other_owner.get(f"{API}/projects/{pid}/next").json()
    aid = task["assignment_id"]
    for action, body in (("submit", ANSWER), ("skip", SKIP), ("renew", None)):
        r = world.owner.post(f"{API}/assignments/{aid}/{action}", json=body)
        assert r.status_code == 404, (action, r.text)
        assert r.headers["content-type"] == PROBLEM_JSON
    export = world.other_owner.get(f"{API}/projects/{pid}/export").content
    assert b'"annotations":[]' in export
    mine = world.other_owner.post(f"{API}/assignments/{aid}/submit", json=ANSWER)
    assert mine.status_code == 200, mine.text


def test_annotator_reads_an_item_only_after_receiving_it(world):
    pid = world.project()["id"]
    world.add_items(pid, [{"id": "x", "text": "one"}, {"id": "y", "text": "two"}])
    ann_id, ann = world.user("ann@acme.test")
    world.member(pid, ann_id, "annotator")
    items = world.owner.get(f"{API}/projects/{pid}/items").json()["items"]
    ids = {item["external_id"]: item["id"] for item in items}
    for item_id in ids.values():
        assert ann.get(f"{API}/projects/{pid}/items/{item_id}").status_code == 404

    task = ann.get(f"{API}/projects/{pid}/next").json()
    held = task["item"]["id"]
    r = ann.get(f"{API}/projects/{pid}/items/{held}")
    assert r.status_code == 200, r.text
    assert r.json()["data"] == task["item"]["data"]
    (other,) = set(ids.values()) - {held}
    assert ann.get(f"{API}/projects/{pid}/items/{other}").status_code == 404

    submitted = ann.post(f"{API}/assignments/{task['assignment_id']}/submit", json=ANSWER)
    assert submitted.status_code == 200, submitted.text
    after = ann.get(f"{API}/projects/{pid}/items/{held}")
    assert after.status_code == 200, after.text
    assert [a["values"] for a in after.json()["annotations"]] == [ANSWER["values"]]


def test_annotator_never_sees_another_annotators_answers(world):
    pid = world.project(overlap=2)["id"]
    world.add_items(pid, [{"text": "shared"}])
    clients = {}
    for name, label in (("ann1", "pos"), ("ann2", "neg")):
        user_id, client = world.user(f"{name}@acme.test")
        world.member(pid, user_id, "annotator")
        task = client.get(f"{API}/projects/{pid}/next").json()
        r = client.post(
            f"{API}/assignments/{task['assignment_id']}/submit",
            json={"values": {"sentiment": label}},
        )
        assert r.status_code == 200, r.text
        clients[name] = (client, task["item"]["id"], label)
    for name, (client, item_id, label) in clients.items():
        item = client.get(f"{API}/projects/{pid}/items/{item_id}").json()
        assert [a["values"]["sentiment"] for a in item["annotations"]] == [label]
        assert [a["annotator"] for a in item["annotations"]] == [f"{name}@acme.test"]
    reviewer_id, reviewer = world.user("rev@acme.test")
    world.member(pid, reviewer_id, "reviewer")
    item_id = clients["ann1"][1]
    seen = reviewer.get(f"{API}/projects/{pid}/items/{item_id}").json()["annotations"]
    assert sorted(a["values"]["sentiment"] for a in seen) == ["neg", "pos"]


def test_item_is_not_reachable_through_another_project_or_org(world):
    first = world.project()["id"]
    second = world.project()["id"]
    world.add_items(first, [{"text": "in first"}])
    item_id = world.owner.get(f"{API}/projects/{first}/items").json()["items"][0]["id"]
    r = world.owner.get(f"{API}/projects/{second}/items/{item_id}")
    assert r.status_code == 404, r.text
    theirs = world.project(by=world.other_owner)["id"]
    r = world.other_owner.get(f"{API}/projects/{theirs}/items/{item_id}")
    assert r.status_code == 404, r.text


def test_removed_member_loses_the_project_and_their_lease(world):
    pid = world.project()["id"]
    world.add_items(pid, [{"text": "one"}])
    ann_id, ann = world.user("gone@acme.test")
    world.member(pid, ann_id, "annotator")
    task = ann.get(f"{API}/projects/{pid}/next").json()
    assert world.owner.delete(f"{API}/projects/{pid}/members/{ann_id}").status_code == 204
    assert ann.get(f"{API}/projects/{pid}").status_code == 404
    assert ann.get(f"{API}/projects/{pid}/items/{task['item']['id']}").status_code == 404
    r = ann.post(f"{API}/assignments/{task['assignment_id']}/submit", json=ANSWER)
    assert r.status_code == 404, r.text
    assert pid not in {p["id"] for p in ann.get(f"{API}/projects").json()}


def test_listings_stay_inside_the_callers_org_and_roles(world):
    ours = world.project()["id"]
    theirs = world.project(by=world.other_owner)["id"]
    member_id, member = world.user("plain@acme.test")
    assert {p["id"] for p in world.owner.get(f"{API}/projects").json()} == {ours}
    assert {p["id"] for p in world.other_owner.get(f"{API}/projects").json()} == {theirs}
    assert member.get(f"{API}/projects").json() == []
    their_users = {u["email"] for u in world.other_owner.get(f"{API}/users").json()}
    assert their_users == {"owner@globex.test"}
    r = world.other_owner.put(
        f"{API}/projects/{theirs}/members/{member_id}", json={"role": "annotator"}
    )
    assert r.status_code == 404, r.text  # a user of another org cannot be added


def test_audit_log_only_shows_the_callers_org(world):
    ours = world.project()["id"]
    world.add_items(ours, [{"text": "ours"}])
    theirs = world.project(by=world.other_owner)["id"]
    world.add_items(theirs, [{"text": "theirs"}], by=world.other_owner)
    world.other_owner.get(f"{API}/projects/{theirs}/export")
    admin_id, admin = world.user("auditor@acme.test", org_role="admin")
    acme_users = {u["user_id"] for u in world.owner.get(f"{API}/users").json()}
    globex_users = {u["user_id"] for u in world.other_owner.get(f"{API}/users").json()}

    def entries(client):
        r = client.get(f"{API}/audit", params={"limit": 1000})
        assert r.status_code == 200, r.text
        return r.json()["entries"]

    for client in (world.owner, admin):
        mine = entries(client)
        assert mine
        assert {e["actor_id"] for e in mine} <= acme_users | {None}
        assert not any(e["target"].startswith(f"project:{theirs}") for e in mine)
        assert any(e["target"] == f"project:{ours}" for e in mine)
    other = entries(world.other_owner)
    assert {e["actor_id"] for e in other} <= globex_users | {None}
    assert any(e["action"] == "project.export" for e in other)
    assert not any(e["target"].startswith(f"project:{ours}") for e in other)

    # Paging from any id, including ids of the other org's entries, never crosses over.
    for after in sorted({e["id"] for e in other})[:5]:
        page = world.owner.get(f"{API}/audit", params={"after_id": after, "limit": 1000})
        assert {e["actor_id"] for e in page.json()["entries"]} <= acme_users | {None}
    _, member = world.user("nosy@acme.test")
    r = member.get(f"{API}/audit")
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM_JSON


def test_org_roles_cannot_be_escalated_by_admins_or_members(world):
    """Only an owner grants admin or owner, and nobody but an owner touches an owner."""
    owner_id = world.owner.get(f"{API}/me").json()["user_id"]
    admin_id, admin = world.user("second-admin@acme.test", org_role="admin")
    member_id, member = world.user("climber@acme.test")
    attempts = [
        (admin, "POST", "/users", {"email": "new-admin@acme.test", "org_role": "admin"}),
        (admin, "POST", "/users", {"email": "new-owner@acme.test", "org_role": "owner"}),
        (admin, "PATCH", f"/users/{member_id}", {"org_role": "admin"}),
        (admin, "PATCH", f"/users/{admin_id}", {"org_role": "owner"}),
        (admin, "PATCH", f"/users/{owner_id}", {"org_role": "member"}),
        (member, "PATCH", f"/users/{member_id}", {"org_role": "admin"}),
        (member, "POST", "/users", {"email": "friend@acme.test", "org_role": "member"}),
    ]
    for client, method, path, body in attempts:
        r = client.request(method, API + path, json=body)
        assert r.status_code == 403, (method, path, body, r.text)
        assert r.headers["content-type"] == PROBLEM_JSON
    roles = {u["user_id"]: u["org_role"] for u in world.owner.get(f"{API}/users").json()}
    assert (roles[owner_id], roles[admin_id], roles[member_id]) == ("owner", "admin", "member")
    assert len(roles) == 3
    r = world.owner.patch(f"{API}/users/{member_id}", json={"org_role": "admin"})
    assert r.status_code == 200, r.text


def test_tokens_are_listed_and_revoked_only_by_their_holder(world):
    admin_id, admin = world.user("tok-admin@acme.test", org_role="admin")
    made = world.owner.post(f"{API}/tokens", json={"name": "owner-ci"}).json()
    assert made["id"] not in {t["id"] for t in admin.get(f"{API}/tokens").json()}
    assert made["id"] in {t["id"] for t in world.owner.get(f"{API}/tokens").json()}
    assert all("token" not in t for t in world.owner.get(f"{API}/tokens").json())
    assert admin.delete(f"{API}/tokens/{made['id']}").status_code == 404
    assert world.client(made["token"]).get(f"{API}/me").status_code == 200
