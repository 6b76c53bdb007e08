"""Request body limits, enforced while the body streams in (no trust in Content-Length)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labelvault.errors import PayloadTooLarge
from labelvault.server.problems import PROBLEM_JSON


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is larger than the {limit:,}-byte limit",
        hint="split the upload, or raise LABELVAULT_MAX_IMPORT_BYTES / "
        "LABELVAULT_MAX_JSON_BODY_BYTES on the server",
    )


class BodyLimit:
    """ASGI middleware: 413 as soon as a body passes its route's limit."""

    def __init__(self, app: ASGIApp, *, json_limit: int, import_limit: int) -> None:
        self.app, self.json_limit, self.import_limit = app, json_limit, import_limit

    def _limit_for(self, scope: Scope) -> int:
        path: str = scope.get("path", "")
        if scope.get("method") == "POST" and path.endswith("/items"):
            return self.import_limit
        return self.json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_413(scope, send, limit)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # An HTTPException passes through FastAPI's body parsing untouched
                    # (anything else becomes a 400 there); problems.py renders it.
                    raise HTTPException(413, _too_large(limit).detail)
            return message

        await self.app(scope, counting_receive, send)


async def _send_413(scope: Scope, send: Send, limit: int) -> None:
    import orjson

    body: dict[str, Any] = _too_large(limit).to_problem(instance=scope.get("path"))
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
