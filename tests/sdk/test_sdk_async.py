"""AsyncClient behaves like Client: same requests, same errors, same retry rules."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest

from labelvault import errors
from labelvault.sdk import AsyncClient, Task


def run_with(handler, scenario, **options):
    """Run `scenario(client)` against a MockTransport; returns (result, requests)."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    async def main():
        options.setdefault("backoff_base", 0.0)
        async with AsyncClient(
            "http://lv.test", "tok", transport=httpx.MockTransport(record), **options
        ) as client:
            return await scenario(client)

    return asyncio.run(main()), seen


def test_create_project_and_next_task():
    task_body = {
        "assignment_id": "a1",
        "item": {"id": "i1", "data": {"text": "hi"}},
        "lease_expires_at": "2030-01-01T00:00:00+00:00",
    }

    def handler(request):
        if request.url.path.endswith("/projects"):
            return httpx.Response(201, json={"id": "p1", "name": "n"})
        return httpx.Response(200, json=task_body)

    async def scenario(client):
        project = await client.create_project("n", {"fields": []}, overlap=3)
        return project, await client.next_task(project["id"])

    (project, task), seen = run_with(handler, scenario)

    assert project["id"] == "p1"
    assert json.loads(seen[0].content) == {"name": "n", "schema": {"fields": []}, "overlap": 3}
    assert seen[0].headers["Authorization"] == "Bearer tok"
    assert task == Task("a1", task_body["item"], datetime(2030, 1, 1, tzinfo=UTC))


def test_next_task_is_none_on_204():
    result, _ = run_with(lambda r: httpx.Response(204), lambda c: c.next_task("p1"))
    assert result is None


def test_submit_retries_with_one_idempotency_key():
    answers = iter([httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"s": 1})])
    result, seen = run_with(lambda r: next(answers), lambda c: c.submit("a1", {"x": 1}))
    assert result == {"s": 1}
    assert len({r.headers["Idempotency-Key"] for r in seen}) == 1
    assert len(seen) == 3


def test_problem_json_raises_typed_errors_with_hint():
    def handler(request):
        return httpx.Response(
            403,
            json={"type": "https://labelvault.dev/problems/forbidden", "detail": "no", "hint": "h"},
            headers={"Content-Type": "application/problem+json"},
        )

    with pytest.raises(errors.Forbidden) as caught:
        run_with(handler, lambda c: c.quality("p1"))
    assert (caught.value.detail, caught.value.hint, caught.value.status) == ("no", "h", 403)


def test_import_streams_items_and_is_not_retried():
    seen_bodies: list[bytes] = []

    def handler(request):
        seen_bodies.append(request.content)
        return httpx.Response(503)

    with pytest.raises(errors.ServiceUnavailable):
        run_with(handler, lambda c: c.import_items("p1", ({"n": n} for n in range(3))))
    assert seen_bodies == [b'{"n":0}\n{"n":1}\n{"n":2}\n']


def test_import_file_and_export(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,text\n1,hello\n")
    target = tmp_path / "out.csv"
    progress: list[int] = []

    def handler(request):
        if request.method == "POST":
            assert request.headers["Content-Type"] == "text/csv"
            assert request.content == source.read_bytes()
            return httpx.Response(200, json={"created": 1})
        return httpx.Response(200, content=b"id,annotations\n1,[]\n")

    async def scenario(client):
        result = await client.import_items("p1", source)
        path = await client.export("p1", "csv", target, progress=progress.append)
        return result, path

    (result, path), _ = run_with(handler, scenario)
    assert result == {"created": 1}
    assert path.read_bytes() == b"id,annotations\n1,[]\n"
    assert progress[-1] == len(b"id,annotations\n1,[]\n")


def test_connection_refused_hint():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(errors.ServiceUnavailable) as caught:
        run_with(refuse, lambda c: c.me(), retries=1)
    assert "labelvault serve" in caught.value.hint
