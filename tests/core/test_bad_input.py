"""What the API answers to bad credentials, malformed bodies, bad imports and oversize uploads.

Every error is an RFC 9457 problem document (application/problem+json) with a `detail`
saying what was wrong and a `hint` saying how to fix it; nothing is half-stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.core.security_support import API, assert_problem
from tests.helpers import World

NDJSON = {"Content-Type": "application/x-ndjson"}
CSV = {"Content-Type": "text/csv"}
JSON = {"Content-Type": "application/json"}
TEXT_SCHEMA = {"fields": [{"name": "t", "type": "text"}]}
JSON_LIMIT, IMPORT_LIMIT = 2048, 4096


def counts(world: World, pid: int) -> dict[str, int]:
    r = world.owner.get(f"{API}/projects/{pid}")
    assert r.status_code == 200, r.text
    return r.json()["counts"]


def ndjson(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def items_by_external_id(world: World, pid: int) -> dict[str, dict[str, Any]]:
    listed = world.owner.get(f"{API}/projects/{pid}/items", params={"limit": 1000}).json()
    return {item["external_id"]: item for item in listed["items"]}


# -- credentials ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer lv_not-a-real-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic b3duZXJAYWNtZS50ZXN0OnB3"},
        {"Authorization": "lv_token-without-a-scheme"},
    ],
    ids=["none", "unknown", "empty", "basic", "no-scheme"],
)
def test_missing_or_wrong_token_is_401_problem_with_www_authenticate(world, headers):
    r = world.client(None).get(f"{API}/projects", headers=headers)
    body = assert_problem(r, 401)
    assert body["type"].endswith("/unauthenticated")
    assert r.headers["www-authenticate"].lower().startswith("bearer")


def test_revoked_token_stops_working(world):
    made = world.owner.post(f"{API}/tokens", json={"name": "short-lived"}).json()
    client = world.client(made["token"])
    assert client.get(f"{API}/me").status_code == 200
    assert world.owner.delete(f"{API}/tokens/{made['id']}").status_code == 204
    r = client.get(f"{API}/me")
    assert_problem(r, 401)
    assert "www-authenticate" in r.headers


def test_wrong_password_is_401_problem(world):
    r = world.client(None).post(
        f"{API}/auth/login", json={"email": "owner@acme.test", "password": "wrong"}
    )
    assert_problem(r, 401)


# -- malformed requests -----------------------------------------------------------------


MALFORMED_JSON_TARGETS = [
    ("POST", "/projects"),
    ("PATCH", "/projects/{pid}"),
    ("PUT", "/projects/{pid}/members/1"),
    ("POST", "/tokens"),
    ("POST", "/users"),
    ("POST", "/auth/login"),
    ("POST", "/assignments/{aid}/submit"),
]


def check_problems(
    world: World, cases: list[tuple[Any, ...]], status_of: Any, detail_says: str = ""
) -> list[str]:
    """Send each case on one project; return what went wrong, so every case is reported."""
    pid = world.project()["id"]
    world.add_items(pid, [{"text": "x"}])
    aid = world.owner.get(f"{API}/projects/{pid}/next").json()["assignment_id"]
    failures = []
    for case in cases:
        method, path, kwargs, status = status_of(case)
        r = world.owner.request(method, API + path.format(pid=pid, aid=aid), **kwargs)
        try:
            assert detail_says in assert_problem(r, status)["detail"]
        except AssertionError as exc:
            failures.append(f"{method} {path}: {exc}")
    assert counts(world, pid) == {"items": 1, "annotations": 0, "completed_items": 0}
    return failures


def test_malformed_json_body_is_400_problem(world):
    def request(case: tuple[str, str]) -> tuple[str, str, dict[str, Any], int]:
        method, path = case
        return method, path, {"content": b'{"name": "x",', "headers": JSON}, 400

    failures = check_problems(world, MALFORMED_JSON_TARGETS, request, detail_says="JSON")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded"])
def test_json_body_with_the_wrong_content_type_says_to_fix_the_content_type(world, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = orjson.dumps({"name": "p", "schema": TEXT_SCHEMA})
    problem = assert_problem(world.owner.post(f"{API}/projects", content=body, headers=headers))
    assert 400 <= problem["status"] < 500
    assert "content-type" in (problem["detail"] + problem["hint"]).lower(), problem


def test_unknown_route_and_wrong_method_are_problems(world):
    for client in (world.owner, world.client(None)):
        missing = client.get(f"{API}/no-such-thing")
        assert_problem(missing, 404)
    wrong = world.owner.put(f"{API}/projects")
    assert_problem(wrong, 405)


def test_schema_violating_answer_is_422_naming_each_field(world):
    schema = {
        "fields": [
            {"name": "sentiment", "type": "single_choice", "options": ["pos", "neg"]},
            {"name": "stars", "type": "rating", "min": 1, "max": 5, "step": 1},
        ]
    }
    pid = world.project(schema=schema)["id"]
    world.add_items(pid, [{"text": "x"}])
    aid = world.owner.get(f"{API}/projects/{pid}/next").json()["assignment_id"]
    url = f"{API}/assignments/{aid}/submit"

    body = assert_problem(
        world.owner.post(url, json={"values": {"sentiment": "maybe", "stars": 9, "colour": "red"}}),
        422,
    )
    assert {e["field"] for e in body["errors"]} == {"sentiment", "stars", "colour"}
    by_field = {e["field"]: e for e in body["errors"]}
    assert "pos" in by_field["sentiment"]["allowed"]

    body = assert_problem(world.owner.post(url, json={"values": {"stars": 3}}), 422)
    assert [e["field"] for e in body["errors"]] == ["sentiment"]

    body = assert_problem(world.owner.post(url, json={"values": ["pos"]}), 422)
    assert body["errors"][0]["field"] == "values"

    body = assert_problem(world.owner.post(url, json={"answer": {"sentiment": "pos"}}), 422)
    assert "values" in {e["field"] for e in body["errors"]}

    ok = world.owner.post(url, json={"values": {"sentiment": "pos", "stars": 4}})
    assert ok.status_code == 200, ok.text
    assert counts(world, pid)["annotations"] == 1


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_invalid_schema_is_422_naming_the_path_inside_fields(world, method):
    bad = {
        "fields": [
            {"name": "ok", "type": "text"},
            {"name": "mood", "type": "single_choice", "options": []},
            {"name": "2bad", "type": "no-such-type"},
        ]
    }
    if method == "POST":
        r = world.owner.post(f"{API}/projects", json={"name": "p", "schema": bad})
    else:
        pid = world.project()["id"]
        r = world.owner.patch(f"{API}/projects/{pid}", json={"schema": bad})
    body = assert_problem(r, 422)
    fields = {e["field"] for e in body["errors"]}
    assert "fields[1].options" in fields
    assert any(f.startswith("fields[2].") for f in fields), fields
    if method == "POST":
        assert world.owner.get(f"{API}/projects").json() == []


def test_invalid_schema_leaves_the_project_unchanged(world):
    project = world.project()
    r = world.owner.patch(f"{API}/projects/{project['id']}", json={"schema": {"fields": []}})
    assert_problem(r, 422)
    after = world.owner.get(f"{API}/projects/{project['id']}").json()
    assert after["schema"] == project["schema"]
    assert after["schema_version"] == project["schema_version"]


def test_unknown_export_format_is_400_with_the_allowed_formats(world):
    pid = world.project()["id"]
    body = assert_problem(world.owner.get(f"{API}/projects/{pid}/export?format=xml"), 400)
    assert "xml" in body["detail"]
    for fmt in ("jsonl", "csv", "parquet"):
        assert fmt in body["hint"]


BAD_REQUESTS = [
    ("POST", "/projects", {"json": {"name": "p", "schema": TEXT_SCHEMA, "overlap": 0}}, 422),
    ("POST", "/projects", {"json": {"name": "", "schema": TEXT_SCHEMA}}, 422),
    ("POST", "/projects", {"json": {"schema": TEXT_SCHEMA}}, 422),
    (
        "POST",
        "/projects",
        {"json": {"name": "p", "schema": TEXT_SCHEMA, "lease_seconds": 1}},
        422,
    ),
    ("PATCH", "/projects/{pid}", {"json": {"owner": 2}}, 422),
    ("PATCH", "/projects/{pid}", {"json": [1, 2]}, 422),
    ("PUT", "/projects/{pid}/members/1", {"json": {"role": "boss"}}, 422),
    ("POST", "/users", {"json": {"email": "not-an-address"}}, 422),
    ("POST", "/users", {"json": {"email": "x@acme.test", "org_role": "boss"}}, 422),
    ("POST", "/users", {"json": {"email": "x@acme.test", "password": "short"}}, 422),
    ("POST", "/users", {"json": {"email": "owner@acme.test"}}, 409),
    ("POST", "/tokens", {"json": {"name": "t", "expires_in_days": 0}}, 422),
    ("GET", "/projects/{pid}/items?limit=0", {}, 422),
    ("GET", "/projects/{pid}/items?limit=many", {}, 422),
    ("GET", "/projects/{pid}/quality?method=vibes", {}, 422),
    ("GET", "/projects/{pid}/leaderboard", {}, 422),
    ("GET", "/audit?limit=0", {}, 422),
    ("GET", "/projects/not-a-number", {}, 422),
    ("POST", "/assignments/{aid}/skip", {"json": {"reason": "  "}}, 422),
    (
        "POST",
        "/assignments/{aid}/submit",
        {"json": {"values": {"sentiment": "pos"}}, "headers": {"Idempotency-Key": "k" * 201}},
        422,
    ),
    ("POST", "/projects/{pid}/items", {"content": b"", "headers": NDJSON}, 400),
    (
        "POST",
        "/projects/{pid}/items?on_error=ignore",
        {"content": b'{"a": 1}', "headers": NDJSON},
        400,
    ),
    (
        "POST",
        "/projects/{pid}/items?on_duplicate=merge",
        {"content": b'{"a": 1}', "headers": NDJSON},
        400,
    ),
    (
        "POST",
        "/projects/{pid}/items?format=xml",
        {"content": b'{"a": 1}', "headers": NDJSON},
        400,
    ),
    (
        "POST",
        "/projects/{pid}/items",
        {"content": b"\x1f\x8b\x08\x00rest", "headers": NDJSON},
        400,
    ),
    ("POST", "/projects/{pid}/items", {"content": b"a,a\n1,2\n", "headers": CSV}, 400),
]


def test_every_bad_request_is_a_problem_with_detail_and_hint(world):
    """Each request is refused with its status and a problem document; nothing is stored."""
    failures = check_problems(world, BAD_REQUESTS, lambda case: case)
    assert not failures, "\n".join(failures)


# -- imports ----------------------------------------------------------------------------

BAD_NDJSON = (
    b'{"id": "ok1", "text": "fine"}\n'
    b'{"id": "broken", "text": \n'
    b"[1, 2]\n"
    b'{"id": "ok2", "text": "also fine"}\n'
    b'"just a string"\n'
)


def test_malformed_ndjson_aborts_listing_every_bad_line_and_stores_nothing(world):
    pid = world.project()["id"]
    r = world.owner.post(f"{API}/projects/{pid}/items", content=BAD_NDJSON, headers=NDJSON)
    body = assert_problem(r, 422)
    assert [e["line"] for e in body["errors"]] == [2, 3, 5]
    assert all(f"line {e['line']}" in e["message"] for e in body["errors"])
    assert "on_error=skip" in body["hint"]
    assert counts(world, pid) == {"items": 0, "annotations": 0, "completed_items": 0}
    assert world.owner.get(f"{API}/projects/{pid}/next").status_code == 204


def test_malformed_ndjson_with_skip_stores_good_rows_and_reports_bad_ones(world):
    pid = world.project()["id"]
    r = world.owner.post(
        f"{API}/projects/{pid}/items?on_error=skip", content=BAD_NDJSON, headers=NDJSON
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["created"], result["failed"]) == (2, 3)
    assert [e["line"] for e in result["errors"]] == [2, 3, 5]
    assert set(items_by_external_id(world, pid)) == {"ok1", "ok2"}
    assert counts(world, pid)["items"] == 2


def test_malformed_json_list_import_names_the_item(world):
    pid = world.project()["id"]
    r = world.owner.post(
        f"{API}/projects/{pid}/items",
        content=b'[{"text": "a"}, {"text": ], {"text": "c"}]',
        headers=JSON,
    )
    body = assert_problem(r, 422)
    assert body["errors"] and body["errors"][0]["line"] == 2
    assert counts(world, pid)["items"] == 0


CSV_BODY = b"id,text\nr1,one\nr2,two,extra\nr3,three\nr4\n"


def test_csv_with_a_wrong_column_count_names_the_line(world):
    pid = world.project()["id"]
    r = world.owner.post(f"{API}/projects/{pid}/items", content=CSV_BODY, headers=CSV)
    body = assert_problem(r, 422)
    assert [e["line"] for e in body["errors"]] == [3, 5]
    assert "line 3" in body["errors"][0]["message"]
    assert "columns" in body["errors"][0]["message"]
    assert counts(world, pid)["items"] == 0

    r = world.owner.post(f"{API}/projects/{pid}/items?on_error=skip", content=CSV_BODY, headers=CSV)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["failed"]) == (2, 2)
    stored = items_by_external_id(world, pid)
    assert set(stored) == {"r1", "r3"}
    assert stored["r3"]["data"] == {"text": "three"}


def test_reimporting_the_same_ids_skips_them_or_updates_them(world):
    pid = world.project()["id"]
    first = [{"id": "a", "text": "old a"}, {"id": "b", "text": "old b"}]
    assert world.add_items(pid, first)["created"] == 2

    again = world.add_items(pid, first + [{"id": "c", "text": "new c"}])
    assert (again["created"], again["skipped_duplicates"], again["updated"]) == (1, 2, 0)
    assert items_by_external_id(world, pid)["a"]["data"] == {"text": "old a"}

    changed = [{"id": "a", "text": "new a"}, {"id": "b", "text": "new b"}]
    r = world.owner.post(
        f"{API}/projects/{pid}/items?on_duplicate=update", content=ndjson(changed), headers=NDJSON
    )
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["skipped_duplicates"]) == (0, 2, 0)
    stored = items_by_external_id(world, pid)
    assert {k: v["data"]["text"] for k, v in stored.items()} == {
        "a": "new a",
        "b": "new b",
        "c": "new c",
    }
    assert counts(world, pid)["items"] == 3


def test_the_same_id_twice_in_one_file_is_stored_once(world):
    pid = world.project()["id"]
    rows = [{"id": "dup", "text": "first"}, {"id": "dup", "text": "second"}]
    result = world.add_items(pid, rows)
    assert (result["created"], result["skipped_duplicates"]) == (1, 1)
    assert items_by_external_id(world, pid)["dup"]["data"] == {"text": "first"}
    assert counts(world, pid)["items"] == 1


# -- body size limits -------------------------------------------------------------------


@pytest.fixture
def limited(platform):  # type: ignore[no-untyped-def]
    """An app on the test platform with small body limits (no `world`: it would clash)."""
    from labelvault.server.app import create_app

    settings = platform.settings.model_copy(
        update={"max_json_body_bytes": JSON_LIMIT, "max_import_bytes": IMPORT_LIMIT}
    )
    return World(create_app(settings, platform=platform), platform)


def chunks(payload: bytes, size: int = 256) -> Iterator[bytes]:
    """A generator body: sent chunked, with no Content-Length to trust."""
    for start in range(0, len(payload), size):
        yield payload[start : start + size]


def big_project_body() -> bytes:
    return orjson.dumps({"name": "p", "schema": TEXT_SCHEMA, "description": "x" * JSON_LIMIT})


def big_import() -> bytes:
    return ndjson([{"id": f"r{i}", "text": "y" * 100} for i in range(IMPORT_LIMIT // 100)])


def test_oversized_json_body_with_content_length_is_413(limited):
    r = limited.owner.post(f"{API}/projects", content=big_project_body(), headers=JSON)
    body = assert_problem(r, 413)
    assert body["type"].endswith("/payload-too-large")
    assert limited.owner.get(f"{API}/projects").json() == []


def test_oversized_chunked_json_body_is_413(limited):
    r = limited.owner.post(f"{API}/projects", content=chunks(big_project_body()), headers=JSON)
    assert_problem(r, 413)
    assert limited.owner.get(f"{API}/projects").json() == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_import_is_413_and_stores_nothing(limited, chunked):
    pid = limited.project(schema=TEXT_SCHEMA)["id"]
    payload = big_import()
    assert len(payload) > IMPORT_LIMIT
    r = limited.owner.post(
        f"{API}/projects/{pid}/items",
        content=chunks(payload) if chunked else payload,
        headers=NDJSON,
    )
    body = assert_problem(r, 413)
    assert f"{IMPORT_LIMIT:,}" in body["detail"]
    info = limited.owner.get(f"{API}/projects/{pid}").json()
    assert info["counts"]["items"] == 0


def test_bodies_under_the_limits_pass(limited):
    pid = limited.project(schema=TEXT_SCHEMA)["id"]
    small = ndjson([{"text": "z"} for _ in range(10)])
    assert len(small) < IMPORT_LIMIT
    r = limited.owner.post(f"{API}/projects/{pid}/items", content=chunks(small, 16), headers=NDJSON)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 10
    body = orjson.dumps({"name": "ok", "schema": TEXT_SCHEMA})
    r = limited.owner.post(f"{API}/projects", content=chunks(body, 16), headers=JSON)
    assert r.status_code == 201, r.text


# -- values the database cannot hold ----------------------------------------------------

HUGE_ID = 2**63  # one past the largest BIGINT


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/projects/{huge}", {}),
        ("GET", "/projects/{pid}/items/{huge}", {}),
        ("GET", "/projects/{pid}/items?after={huge}", {}),
        ("POST", "/assignments/{huge}/renew", {}),
        ("PUT", "/projects/{pid}/members/{huge}", {"json": {"role": "annotator"}}),
        ("PATCH", "/users/{huge}", {"json": {"org_role": "member"}}),
        ("DELETE", "/tokens/{huge}", {}),
        ("GET", "/audit?after_id={huge}", {}),
    ],
)
def test_ids_beyond_the_integer_range_are_not_server_errors(world, method, path, kwargs):
    pid = world.project()["id"]
    r = world.owner.request(method, API + path.format(pid=pid, huge=HUGE_ID), **kwargs)
    assert r.status_code in (200, 404, 422), r.text
    if r.status_code != 200:
        assert_problem(r)


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/projects", {"name": "a\x00b", "schema": TEXT_SCHEMA}),
        ("POST", "/users", {"email": "nul\x00@acme.test"}),
        ("POST", "/tokens", {"name": "ci\x00"}),
    ],
    ids=["project-name", "user-email", "token-name"],
)
def test_nul_characters_in_text_are_stored_or_refused_not_server_errors(
    world, request, db_url, method, path, payload
):
    r = world.owner.request(method, API + path, json=payload)
    assert r.status_code in (201, 422), r.text
    if r.status_code == 422:
        assert_problem(r)


def test_nul_character_in_an_imported_id_is_stored_or_refused(world, request, db_url):
    pid = world.project()["id"]
    r = world.owner.post(
        f"{API}/projects/{pid}/items", content=b'{"id": "a\\u0000b", "text": "x"}\n', headers=NDJSON
    )
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert assert_problem(r)["errors"][0]["line"] == 1


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        (
            "POST",
            "/projects",
            b'{"name": "a\\ud800", "schema": {"fields": [{"name": "t", "type": "text"}]}}',
        ),
        ("PATCH", "/projects/{pid}", b'{"description": "a\\ud800"}'),
        ("POST", "/assignments/{aid}/submit", b'{"values": {"t": "a\\ud800"}}'),
    ],
    ids=["project-name", "project-description", "text-answer"],
)
def test_lone_surrogates_in_json_text_are_refused_not_server_errors(world, method, path, raw):
    pid = world.project(schema=TEXT_SCHEMA)["id"]
    world.add_items(pid, [{"text": "x"}])
    aid = world.owner.get(f"{API}/projects/{pid}/next").json()["assignment_id"]
    r = world.owner.request(method, API + path.format(pid=pid, aid=aid), content=raw, headers=JSON)
    assert_problem(r, 422)
