"""Each SDK method sends the request docs/api.md describes and returns what the server said."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from labelvault.errors import InvalidInput, LabelvaultError
from labelvault.sdk import Client, Task

PROJECT = {
    "id": "p1",
    "name": "reviews",
    "schema": {"fields": []},
    "overlap": 2,
    "counts": {"items": 0, "annotations": 0, "completed_items": 0},
}


def json_response(body, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_every_request_carries_the_bearer_token_under_api_v1(make_client):
    client, seen = make_client(lambda r: json_response({"user_id": "u1", "org_role": "owner"}))

    assert client.me() == {"user_id": "u1", "org_role": "owner"}

    request = seen.requests[0]
    assert request.method == "GET"
    assert str(request.url) == "http://lv.test:8080/api/v1/me"
    assert request.headers["Authorization"] == "Bearer lv_test_token"
    assert request.headers["User-Agent"].startswith("labelvault-sdk/")


def test_url_that_already_ends_in_api_v1_is_not_doubled():
    seen = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or json_response({}))
    with Client("http://lv.test/api/v1/", "t", transport=transport) as client:
        client.me()
    assert seen[0].url.path == "/api/v1/me"


def test_create_project_posts_name_schema_and_options(make_client):
    client, seen = make_client(lambda r: json_response(PROJECT, 201))
    schema = {"fields": [{"name": "sentiment", "type": "single_choice", "options": ["pos", "neg"]}]}

    project = client.create_project("reviews", schema, overlap=2, lease_seconds=300)

    assert project["id"] == "p1"
    request = seen.requests[0]
    assert (request.method, request.url.path) == ("POST", "/api/v1/projects")
    assert json.loads(request.content) == {
        "name": "reviews",
        "schema": schema,
        "overlap": 2,
        "lease_seconds": 300,
    }


def test_create_project_leaves_out_options_not_given(make_client):
    client, seen = make_client(lambda r: json_response(PROJECT, 201))
    client.create_project("reviews", {"fields": []})
    assert json.loads(seen.requests[0].content) == {
        "name": "reviews",
        "schema": {"fields": []},
        "overlap": 1,
    }


@pytest.mark.parametrize(
    ("call", "method", "path"),
    [
        (lambda c: c.get_project("p1"), "GET", "/api/v1/projects/p1"),
        (lambda c: c.list_projects(), "GET", "/api/v1/projects"),
        (lambda c: c.list_members("p1"), "GET", "/api/v1/projects/p1/members"),
        (lambda c: c.list_tokens(), "GET", "/api/v1/tokens"),
        (lambda c: c.get_item("p1", "i9"), "GET", "/api/v1/projects/p1/items/i9"),
        (lambda c: c.quality("p1"), "GET", "/api/v1/projects/p1/quality"),
        (lambda c: c.leaderboard("p1"), "GET", "/api/v1/projects/p1/leaderboard"),
        (lambda c: c.renew("a7"), "POST", "/api/v1/assignments/a7/renew"),
    ],
)
def test_simple_calls_hit_the_documented_paths(make_client, call, method, path):
    client, seen = make_client(lambda r: json_response([] if r.url.path.endswith("s") else {}))
    call(client)
    assert (seen.requests[0].method, seen.requests[0].url.path) == (method, path)


def test_ids_are_escaped_so_they_cannot_change_the_path(make_client):
    client, seen = make_client(lambda r: json_response({}))
    client.get_project("../tokens")
    assert seen.requests[0].url.raw_path == b"/api/v1/projects/..%2Ftokens"


def test_update_project_patches_only_the_given_fields(make_client):
    client, seen = make_client(lambda r: json_response(PROJECT))
    client.update_project("p1", name="renamed", overlap=3)
    request = seen.requests[0]
    assert (request.method, request.url.path) == ("PATCH", "/api/v1/projects/p1")
    assert json.loads(request.content) == {"name": "renamed", "overlap": 3}


def test_update_project_rejects_unknown_fields_before_sending(make_client):
    client, seen = make_client(lambda r: json_response(PROJECT))
    with pytest.raises(InvalidInput) as caught:
        client.update_project("p1", nmae="typo")
    assert "nmae" in caught.value.detail
    assert "name" in caught.value.hint
    assert seen.requests == []


def test_delete_calls_return_none_on_204(make_client):
    client, seen = make_client(lambda r: httpx.Response(204))
    assert client.delete_project("p1") is None
    assert client.remove_member("p1", "u2") is None
    assert client.revoke_token("t3") is None
    assert [(r.method, r.url.path) for r in seen.requests] == [
        ("DELETE", "/api/v1/projects/p1"),
        ("DELETE", "/api/v1/projects/p1/members/u2"),
        ("DELETE", "/api/v1/tokens/t3"),
    ]


def test_set_member_puts_the_role(make_client):
    member = {"user_id": "u2", "email": "a@example.com", "role": "annotator"}
    client, seen = make_client(lambda r: json_response(member))
    assert client.set_member("p1", "u2", "annotator") == member
    request = seen.requests[0]
    assert (request.method, request.url.path) == ("PUT", "/api/v1/projects/p1/members/u2")
    assert json.loads(request.content) == {"role": "annotator"}


def test_invite_user_returns_the_new_users_token(make_client):
    created = {"user_id": "u5", "email": "new@example.com", "org_role": "member", "token": "s3"}
    client, seen = make_client(lambda r: json_response(created, 201))
    assert client.invite_user("new@example.com")["token"] == "s3"
    assert seen.requests[0].url.path == "/api/v1/users"
    assert json.loads(seen.requests[0].content) == {
        "email": "new@example.com",
        "org_role": "member",
    }


def test_create_token_sends_expiry_when_given(make_client):
    client, seen = make_client(lambda r: json_response({"id": "t1", "token": "secret"}, 201))
    client.create_token("ci", expires_in_days=30)
    assert json.loads(seen.requests[0].content) == {"name": "ci", "expires_in_days": 30}


def test_next_task_returns_a_task_with_a_parsed_lease(make_client):
    body = {
        "assignment_id": "a1",
        "item": {"id": "i1", "external_id": "r-1", "data": {"text": "great"}},
        "lease_expires_at": "2030-01-02T03:04:05Z",
    }
    client, seen = make_client(lambda r: json_response(body))

    task = client.next_task("p1")

    assert seen.requests[0].url.path == "/api/v1/projects/p1/next"
    assert task == Task(
        assignment_id="a1",
        item=body["item"],
        lease_expires_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert task.data == {"text": "great"}


@pytest.mark.parametrize(
    "stamp",
    [1893553445000, 1893553445, "2030-01-02T03:04:05+00:00", "2030-01-02T03:04:05"],
)
def test_lease_expiry_is_read_from_iso_text_or_unix_time(make_client, stamp):
    body = {"assignment_id": 7, "item": {"id": 1}, "lease_expires_at": stamp}
    client, _ = make_client(lambda r: json_response(body))
    task = client.next_task(1)
    assert task.assignment_id == "7"
    assert task.lease_expires_at == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_malformed_task_is_reported_as_an_unexpected_response(make_client):
    client, _ = make_client(lambda r: json_response({"assignment_id": 1}))
    with pytest.raises(LabelvaultError, match="not a task"):
        client.next_task(1)


def test_next_task_returns_none_when_there_is_no_work(make_client):
    client, _ = make_client(lambda r: httpx.Response(204))
    assert client.next_task("p1") is None


def test_submit_sends_values_and_an_idempotency_key(make_client):
    result = {"assignment_id": "a1", "item_id": "i1", "status": "submitted"}
    client, seen = make_client(lambda r: json_response(result))

    assert client.submit("a1", {"sentiment": "pos"}) == result
    client.submit("a1", {"sentiment": "pos"}, idempotency_key="my-key")

    first, second = seen.requests
    assert (first.method, first.url.path) == ("POST", "/api/v1/assignments/a1/submit")
    assert json.loads(first.content) == {"values": {"sentiment": "pos"}}
    assert len(first.headers["Idempotency-Key"]) == 36  # a fresh uuid4
    assert second.headers["Idempotency-Key"] == "my-key"


def test_two_submits_without_a_key_get_different_keys(make_client):
    client, seen = make_client(lambda r: json_response({}))
    client.submit("a1", {"x": 1})
    client.submit("a2", {"x": 1})
    keys = {r.headers["Idempotency-Key"] for r in seen.requests}
    assert len(keys) == 2


def test_skip_sends_the_reason(make_client):
    client, seen = make_client(lambda r: json_response({"status": "skipped"}))
    client.skip("a1", "not in English")
    assert seen.requests[0].url.path == "/api/v1/assignments/a1/skip"
    assert json.loads(seen.requests[0].content) == {"reason": "not in English"}


def test_iter_items_follows_next_after_until_the_last_page(make_client):
    pages = {
        None: {"items": [{"id": "i1"}, {"id": "i2"}], "next_after": "i2"},
        "i2": {"items": [{"id": "i3"}], "next_after": None},
    }
    client, seen = make_client(lambda r: json_response(pages[r.url.params.get("after")]))

    assert [item["id"] for item in client.iter_items("p1", page_size=2)] == ["i1", "i2", "i3"]
    assert [dict(r.url.params) for r in seen.requests] == [
        {"limit": "2"},
        {"limit": "2", "after": "i2"},
    ]


def test_audit_passes_the_cursor(make_client):
    client, seen = make_client(lambda r: json_response({"entries": []}))
    client.audit(after_id=41, limit=10)
    assert seen.requests[0].url.path == "/api/v1/audit"
    assert dict(seen.requests[0].url.params) == {"after_id": "41", "limit": "10"}


def test_from_env_reads_url_and_token(monkeypatch):
    monkeypatch.setenv("LABELVAULT_URL", "http://from-env:9000")
    monkeypatch.setenv("LABELVAULT_TOKEN", "env-token")
    seen = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or json_response({}))
    with Client.from_env(transport=transport) as client:
        client.me()
    assert str(seen[0].url) == "http://from-env:9000/api/v1/me"
    assert seen[0].headers["Authorization"] == "Bearer env-token"
