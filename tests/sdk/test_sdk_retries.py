"""Retries: only where a replay is safe, bounded, and submit keeps its idempotency key."""

from __future__ import annotations

import httpx
import pytest

from labelvault import errors
from labelvault.sdk import _http


def flaky(failures: list[httpx.Response | type[Exception]], final: httpx.Response):
    """A handler that fails with each entry of `failures` in turn, then answers `final`."""
    remaining = list(failures)

    def handle(request: httpx.Request) -> httpx.Response:
        if remaining:
            failure = remaining.pop(0)
            if isinstance(failure, httpx.Response):
                return failure
            raise failure("simulated", request=request)
        return final

    return handle


OK = httpx.Response(200, json={"ok": True})


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_is_retried_on_gateway_errors(make_client, status):
    client, seen = make_client(flaky([httpx.Response(status), httpx.Response(status)], OK))
    assert client.get_project("p1") == {"ok": True}
    assert len(seen.requests) == 3


def test_get_is_retried_on_connection_errors(make_client):
    client, seen = make_client(flaky([httpx.ConnectError, httpx.ReadError], OK))
    assert client.me() == {"ok": True}
    assert len(seen.requests) == 3


def test_retries_stop_after_the_configured_count(make_client):
    client, seen = make_client(lambda r: httpx.Response(503), retries=2)
    with pytest.raises(errors.ServiceUnavailable):
        client.get_project("p1")
    assert len(seen.requests) == 3  # one try + two retries


def test_retries_zero_sends_once(make_client):
    client, seen = make_client(lambda r: httpx.Response(503), retries=0)
    with pytest.raises(errors.ServiceUnavailable):
        client.get_project("p1")
    assert len(seen.requests) == 1


def test_client_errors_are_not_retried(make_client, problem):
    client, seen = make_client(lambda r: problem(404, "not-found", "no such project"))
    with pytest.raises(errors.NotFound):
        client.get_project("p1")
    assert len(seen.requests) == 1


def test_put_and_delete_are_retried(make_client):
    client, seen = make_client(flaky([httpx.Response(502)], httpx.Response(204)))
    client.delete_project("p1")
    assert [r.method for r in seen.requests] == ["DELETE", "DELETE"]

    member = httpx.Response(200, json={"role": "annotator"})
    client, seen = make_client(flaky([httpx.ReadError], member))
    assert client.set_member("p1", "u1", "annotator") == {"role": "annotator"}
    assert [r.method for r in seen.requests] == ["PUT", "PUT"]


def test_submit_retries_with_the_same_idempotency_key(make_client):
    client, seen = make_client(
        flaky([httpx.ReadTimeout, httpx.Response(503)], httpx.Response(200, json={"s": 1}))
    )
    assert client.submit("a1", {"sentiment": "pos"}) == {"s": 1}
    keys = [r.headers["Idempotency-Key"] for r in seen.requests]
    assert len(keys) == 3
    assert len(set(keys)) == 1


def test_post_without_a_key_is_not_retried_after_it_may_have_reached_the_server(make_client):
    client, seen = make_client(flaky([httpx.Response(503)], OK))
    with pytest.raises(errors.ServiceUnavailable):
        client.create_project("reviews", {"fields": []})
    assert len(seen.requests) == 1

    client, seen = make_client(flaky([httpx.ReadTimeout], OK))
    with pytest.raises(errors.ServiceUnavailable):
        client.skip("a1", "unreadable")
    assert len(seen.requests) == 1


def test_patch_is_not_retried_because_a_new_schema_bumps_the_version(make_client):
    client, seen = make_client(flaky([httpx.Response(502)], OK))
    with pytest.raises(errors.ServiceUnavailable):
        client.update_project("p1", schema={"fields": []})
    assert len(seen.requests) == 1


def test_post_is_retried_when_the_connection_never_opened(make_client):
    client, seen = make_client(flaky([httpx.ConnectError], OK))
    assert client.create_project("reviews", {"fields": []}) == {"ok": True}
    assert len(seen.requests) == 2


def test_import_from_an_iterable_is_sent_exactly_once(make_client):
    client, seen = make_client(flaky([httpx.ConnectError], OK))
    with pytest.raises(errors.ServiceUnavailable):
        client.import_items("p1", iter([{"text": "a"}]))
    assert len(seen.requests) == 1


def test_import_from_a_file_is_resent_whole_when_the_connection_never_opened(make_client, tmp_path):
    data = tmp_path / "items.jsonl"
    data.write_text('{"text": "a"}\n{"text": "b"}\n')
    client, seen = make_client(flaky([httpx.ConnectError], OK))
    client.import_items("p1", data)
    assert len(seen.requests) == 2
    assert seen.requests[1].content == data.read_bytes()


def test_backoff_grows_exponentially_with_jitter():
    for attempt in range(4):
        delays = [_http.backoff_delay(attempt, 0.2) for _ in range(50)]
        assert all(0.1 * 2**attempt <= d <= 0.2 * 2**attempt for d in delays)
    assert _http.backoff_delay(30, 0.2) <= _http.MAX_BACKOFF_SECONDS


def test_the_client_waits_between_retries_and_honours_retry_after(make_client, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("labelvault.sdk.client.time.sleep", waits.append)
    busy = httpx.Response(503, headers={"Retry-After": "2"})
    client, _ = make_client(flaky([httpx.Response(502), busy], OK), backoff_base=0.2)

    client.me()

    assert len(waits) == 2
    assert 0.1 <= waits[0] <= 0.2
    assert waits[1] == 2.0
