"""The asyncio client: the same calls as Client, built by the same code in _calls/_http."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from . import _calls as calls
from ._bodies import AtomicFile, Progress
from ._http import (
    Call,
    Id,
    JSONDict,
    RetryPolicy,
    api_base_url,
    default_headers,
    error_from_response,
    error_from_transport,
)
from ._settings import settings_from_env
from .models import Task

T = TypeVar("T")


class AsyncClient:
    """Async twin of Client (asyncio) for the calls a worker or pipeline makes concurrently.

    Files are read and written in 256 KiB blocking chunks, which is cheap on local disks.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_base: float = 0.2,
    ) -> None:
        self.url = url.rstrip("/")
        self._policy = RetryPolicy(retries=retries, backoff_base=backoff_base)
        self._http = httpx.AsyncClient(
            base_url=api_base_url(url),
            headers=default_headers(token),
            timeout=timeout,
            transport=transport,
        )

    @classmethod
    def from_env(cls, **options: Any) -> AsyncClient:
        """A client for LABELVAULT_URL (default http://127.0.0.1:8080) and LABELVAULT_TOKEN."""
        url, token = settings_from_env()
        return cls(url, token, **options)

    # ---- plumbing --------------------------------------------------------------------

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run(self, call: Call[T]) -> T:
        response = await self._send(call)
        try:
            return call.parse(response)
        finally:
            if not call.stream:
                await response.aclose()

    async def _send(self, call: Call[Any]) -> httpx.Response:
        attempt = 0
        while True:
            content = _async_chunks(call.body()) if call.body is not None else None
            request = self._http.build_request(**call.request_args(), content=content)
            try:
                response = await self._receive(request, call)
            except httpx.TransportError as exc:
                delay = self._policy.delay_after_error(call, exc, attempt)
                if delay is None:
                    raise error_from_transport(exc, self.url) from None
            else:
                delay = self._policy.delay_after_status(call, response, attempt)
                if delay is None:
                    if response.is_error:
                        raise error_from_response(response)
                    return response
                await response.aclose()
            await asyncio.sleep(delay)
            attempt += 1

    async def _receive(self, request: httpx.Request, call: Call[Any]) -> httpx.Response:
        response = await self._http.send(request, stream=True)
        try:
            if not call.stream or response.is_error:
                await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    # ---- calls -----------------------------------------------------------------------

    async def me(self) -> JSONDict:
        return await self._run(calls.me())

    async def create_project(
        self,
        name: str,
        schema: Mapping[str, Any],
        *,
        overlap: int = 1,
        lease_seconds: int | None = None,
        description: str | None = None,
    ) -> JSONDict:
        return await self._run(
            calls.create_project(name, schema, overlap, lease_seconds, description)
        )

    async def get_project(self, project_id: Id) -> JSONDict:
        return await self._run(calls.get_project(project_id))

    async def list_projects(self) -> list[JSONDict]:
        return await self._run(calls.list_projects())

    async def set_member(self, project_id: Id, user_id: Id, role: str) -> JSONDict:
        return await self._run(calls.set_member(project_id, user_id, role))

    async def import_items(
        self,
        project_id: Id,
        source: calls.ImportSource,
        *,
        format: str | None = None,
        on_error: calls.OnError = "abort",
        on_duplicate: calls.OnDuplicate = "skip",
        progress: Progress | None = None,
    ) -> JSONDict:
        """See Client.import_items."""
        return await self._run(
            calls.import_items(project_id, source, format, on_error, on_duplicate, progress)
        )

    async def get_item(self, project_id: Id, item_id: Id) -> JSONDict:
        return await self._run(calls.get_item(project_id, item_id))

    async def next_task(self, project_id: Id) -> Task | None:
        return await self._run(calls.next_task(project_id))

    async def submit(
        self, assignment_id: Id, values: Mapping[str, Any], idempotency_key: str | None = None
    ) -> JSONDict:
        """See Client.submit: retried with one Idempotency-Key, stored once."""
        return await self._run(calls.submit(assignment_id, values, idempotency_key))

    async def skip(self, assignment_id: Id, reason: str) -> JSONDict:
        return await self._run(calls.skip(assignment_id, reason))

    async def renew(self, assignment_id: Id) -> JSONDict:
        return await self._run(calls.renew(assignment_id))

    async def export(
        self,
        project_id: Id,
        format: str,
        path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
    ) -> Path:
        """See Client.export: written beside `path`, renamed when complete."""
        response = await self._send(calls.export(project_id, format))
        try:
            with AtomicFile(path) as out:
                try:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                        if progress is not None:
                            progress(out.written)
                except httpx.TransportError as exc:
                    raise error_from_transport(exc, self.url) from None
            return out.target
        finally:
            await response.aclose()

    async def quality(self, project_id: Id) -> JSONDict:
        return await self._run(calls.quality(project_id))

    async def leaderboard(self, project_id: Id) -> JSONDict:
        return await self._run(calls.leaderboard(project_id))


async def _async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
