"""A fake labelvault server for SDK tests: httpx.MockTransport plus a log of requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from labelvault.sdk import Client

URL = "http://lv.test:8080"
TOKEN = "lv_test_token"

Handler = Callable[[httpx.Request], httpx.Response]


def _problem(status: int, slug: str, detail: str, hint: str | None = None, **extra: Any):
    body = {
        "type": f"https://labelvault.dev/problems/{slug}",
        "title": slug.replace("-", " ").capitalize(),
        "status": status,
        "detail": detail,
        **extra,
    }
    if hint:
        body["hint"] = hint
    return httpx.Response(
        status, content=json.dumps(body), headers={"Content-Type": "application/problem+json"}
    )


@pytest.fixture
def problem() -> Callable[..., httpx.Response]:
    """problem(status, slug, detail, hint=None, **extra): a problem+json as in docs/api.md."""
    return _problem


class Recorder:
    """Answers with a handler and remembers every request it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


@pytest.fixture
def make_client() -> Callable[..., tuple[Client, Recorder]]:
    clients: list[Client] = []

    def build(handler: Handler, **options: Any) -> tuple[Client, Recorder]:
        recorder = Recorder(handler)
        options.setdefault("backoff_base", 0.0)
        client = Client(URL, TOKEN, transport=httpx.MockTransport(recorder), **options)
        clients.append(client)
        return client, recorder

    yield build
    for client in clients:
        client.close()
