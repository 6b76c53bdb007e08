"""Actors, scenes and route enumeration shared by the security and bad-input tests.

An *actor* is one kind of caller (anonymous, bad token, each org and project role, an owner
of another org). A *scene* is a fresh project of the first org where every actor has its
role, with items, a live lease held by the annotator and a spare owner token; requests in
the matrix point at the scene's ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"

#: Routes served by the framework, not by labelvault's own routers.
UNGUARDED_ROUTES = frozenset({f"{API}/openapi.json", f"{API}/docs", f"{API}/health"})

ANON, BAD_TOKEN = "anonymous", "bad_token"
OWNER, ADMIN, MANAGER, REVIEWER, ANNOTATOR = "owner", "admin", "manager", "reviewer", "annotator"
MEMBER, OTHER_OWNER = "member_no_role", "other_org_owner"

#: Callers with a valid token; every matrix row gives each of them an expectation.
AUTHENTICATED = (OWNER, ADMIN, MANAGER, REVIEWER, ANNOTATOR, MEMBER, OTHER_OWNER)
ACTORS = (ANON, BAD_TOKEN, *AUTHENTICATED)
#: Actors that hold a role in the scene's project (org admins act as managers).
PROJECT_ROLES = {MANAGER: "manager", REVIEWER: "reviewer", ANNOTATOR: "annotator"}

SCENE_SCHEMA = {
    "fields": [
        {"name": "sentiment", "type": "single_choice", "options": ["pos", "neg", "neu"]},
        {"name": "preference", "type": "pairwise", "required": False},
    ]
}
SCENE_ITEMS = [
    {"id": "a", "text": "first", "model_a": "m1", "model_b": "m2"},
    {"id": "b", "text": "second", "model_a": "m1", "model_b": "m2"},
    {"id": "c", "text": "third", "model_a": "m2", "model_b": "m1"},
    {"id": "d", "text": "never leased", "model_a": "m2", "model_b": "m1"},
]


def api_routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app serves under the API prefix, framework routes excluded.

    Routers included into the app are expanded through FastAPI's own route iterator when
    the installed FastAPI nests them; otherwise `app.routes` is already flat.
    """
    routes: Iterable[Any]
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are flattened into app.routes
        routes = app.routes
    else:
        routes = iter_route_contexts(app.routes)
    found: set[tuple[str, str]] = set()
    for route in routes:
        path = getattr(route, "path", None)
        if not path or not path.startswith(API + "/") or path in UNGUARDED_ROUTES:
            continue
        for method in set(getattr(route, "methods", None) or ()) - {"HEAD", "OPTIONS"}:
            found.add((method, path))
    return found


def assert_problem(response: Any, status: int | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with a detail and a hint."""
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code, body
    assert body["type"].startswith("https://labelvault.dev/problems/"), body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert isinstance(body.get("hint"), str) and body["hint"], body
    return body


def without_numbers(text: str) -> str:
    """A message with its ids blanked, to compare two 404s that name different ids."""
    return re.sub(r"\d+", "N", text)


@dataclass
class Scene:
    """Ids a matrix request may point at."""

    project_id: int
    item_id: int  # an item no annotator was ever given
    assignment_id: int  # the annotator's live lease
    target_user_id: int  # an org member with a project role, changed by member routes
    spare_token_id: int  # a second token of the org owner


#: Ids that exist nowhere: a 404 for them must look like a 404 for another org's ids.
GHOST_SCENE = Scene(
    project_id=900_000_001,
    item_id=900_000_002,
    assignment_id=900_000_003,
    target_user_id=900_000_004,
    spare_token_id=900_000_005,
)


@dataclass
class Cast:
    """The first org's users in every role, plus clients for all actors, on one World."""

    world: Any
    clients: dict[str, TestClient] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    _scene: Scene | None = None
    _serial: int = 0

    @classmethod
    def build(cls, world: Any) -> Cast:
        cast = cls(world)
        cast.clients[ANON] = world.client(None)
        cast.clients[BAD_TOKEN] = world.client("lv_" + "x" * 43)
        cast.clients[OWNER] = world.owner
        cast.clients[OTHER_OWNER] = world.other_owner
        me = world.owner.get(f"{API}/me").json()
        cast.user_ids[OWNER] = me["user_id"]
        cast.user_ids[OTHER_OWNER] = world.other_owner.get(f"{API}/me").json()["user_id"]
        for actor, org_role in (
            (ADMIN, "admin"),
            (MANAGER, "member"),
            (REVIEWER, "member"),
            (ANNOTATOR, "member"),
            (MEMBER, "member"),
            ("target", "member"),
        ):
            user_id, client = world.user(f"{actor}@acme.test", org_role=org_role)
            cast.user_ids[actor] = user_id
            cast.clients[actor] = client
        return cast

    def unique(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial}"

    @property
    def scene(self) -> Scene:
        if self._scene is None:
            self._scene = self.new_scene()
        return self._scene

    def spoil_scene(self) -> None:
        """The scene was changed by a request; the next row gets a fresh one."""
        self._scene = None

    def new_scene(self) -> Scene:
        world = self.world
        pid = world.project(schema=SCENE_SCHEMA)["id"]
        for actor, role in PROJECT_ROLES.items():
            world.member(pid, self.user_ids[actor], role)
        world.member(pid, self.user_ids["target"], "annotator")
        world.add_items(pid, SCENE_ITEMS)
        task = self.clients[ANNOTATOR].get(f"{API}/projects/{pid}/next")
        assert task.status_code == 200, task.text
        listed = world.owner.get(f"{API}/projects/{pid}/items").json()["items"]
        item_ids = {item["external_id"]: item["id"] for item in listed}
        assert task.json()["item"]["id"] != item_ids["d"]
        spare = world.owner.post(f"{API}/tokens", json={"name": "spare"})
        assert spare.status_code == 201, spare.text
        return Scene(
            project_id=pid,
            item_id=item_ids["d"],
            assignment_id=task.json()["assignment_id"],
            target_user_id=self.user_ids["target"],
            spare_token_id=spare.json()["id"],
        )
