"""Server errors come back as the matching labelvault.errors class, with detail and hint."""

from __future__ import annotations

import httpx
import pytest

from labelvault import errors
from labelvault.sdk import Client


@pytest.mark.parametrize(
    ("status", "slug", "expected"),
    [
        (400, "bad-request", errors.BadRequest),
        (401, "unauthenticated", errors.Unauthenticated),
        (403, "forbidden", errors.Forbidden),
        (404, "not-found", errors.NotFound),
        (409, "conflict", errors.Conflict),
        (413, "payload-too-large", errors.PayloadTooLarge),
        (422, "invalid-input", errors.InvalidInput),
        (503, "unavailable", errors.ServiceUnavailable),
        (500, "internal", errors.LabelvaultError),
    ],
)
def test_problem_json_raises_the_class_named_by_its_type(
    make_client, problem, status, slug, expected
):
    client, _ = make_client(lambda r: problem(status, slug, f"it failed ({slug})", "do this"))

    with pytest.raises(expected) as caught:
        client.get_project("p1")

    error = caught.value
    assert type(error) is expected
    assert error.detail == f"it failed ({slug})"
    assert error.hint == "do this"
    assert error.status == status


def test_field_errors_are_kept(make_client, problem):
    field_errors = [{"field": "sentiment", "message": "'maybe' is not an option"}]
    client, _ = make_client(
        lambda r: problem(422, "invalid-input", "answer does not match", errors=field_errors)
    )
    with pytest.raises(errors.InvalidInput) as caught:
        client.submit("a1", {"sentiment": "maybe"})
    assert caught.value.errors == field_errors
    assert caught.value.hint  # a default hint when the server gave none


def test_the_type_slug_wins_over_the_status(make_client, problem):
    client, _ = make_client(lambda r: problem(400, "payload-too-large", "too big"))
    with pytest.raises(errors.PayloadTooLarge):
        client.me()


def test_unknown_slug_falls_back_to_the_status(make_client, problem):
    client, _ = make_client(lambda r: problem(409, "something-new", "already taken"))
    with pytest.raises(errors.Conflict, match="already taken"):
        client.me()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, errors.Unauthenticated),
        (404, errors.NotFound),
        (405, errors.BadRequest),
        (502, errors.ServiceUnavailable),
        (500, errors.LabelvaultError),
    ],
)
def test_non_json_error_bodies_still_raise_a_typed_error_with_a_hint(make_client, status, expected):
    client, _ = make_client(
        lambda r: httpx.Response(status, text="<html>Bad Gateway</html>"), retries=0
    )
    with pytest.raises(expected) as caught:
        client.get_project("p1")
    error = caught.value
    assert type(error) is expected
    assert str(status) in error.detail
    assert "/api/v1/projects/p1" in error.detail
    assert "Bad Gateway" in error.detail
    assert error.hint
    assert error.status == status


def test_connection_refused_says_to_start_the_server_or_set_the_url():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = Client(
        "http://127.0.0.1:9", "t", transport=httpx.MockTransport(refuse), backoff_base=0
    )
    with pytest.raises(errors.ServiceUnavailable) as caught:
        client.me()
    assert "http://127.0.0.1:9" in caught.value.detail
    assert "labelvault serve" in caught.value.hint
    assert "LABELVAULT_URL" in caught.value.hint


def test_a_real_refused_connection_is_reported_the_same_way():
    # port 9 (discard) is closed on test machines: the OS refuses at once, no waiting
    with (
        Client("http://127.0.0.1:9", "t", retries=0) as client,
        pytest.raises(errors.ServiceUnavailable) as caught,
    ):
        client.me()
    assert "labelvault serve" in caught.value.hint


def test_a_url_without_scheme_is_rejected_with_a_hint():
    with pytest.raises(errors.InvalidInput) as caught:
        Client("localhost:8080", "t")
    assert "http://" in caught.value.hint


def test_a_2xx_that_is_not_json_is_reported_not_crashed(make_client):
    client, _ = make_client(lambda r: httpx.Response(200, text="<html>proxy login</html>"))
    with pytest.raises(errors.LabelvaultError) as caught:
        client.me()
    assert "not JSON" in caught.value.detail
    assert "labelvault server" in caught.value.hint


def test_from_env_without_a_token_says_how_to_get_one(monkeypatch):
    monkeypatch.delenv("LABELVAULT_TOKEN", raising=False)
    with pytest.raises(errors.Unauthenticated) as caught:
        Client.from_env()
    assert "LABELVAULT_TOKEN" in caught.value.detail
    assert "admin init" in caught.value.hint
