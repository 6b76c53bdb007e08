"""The synchronous client: one method per REST call, retries where a replay is safe."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
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


class Client:
    """A labelvault server seen from Python.

    >>> with Client("http://127.0.0.1:8080", token) as client:   # doctest: +SKIP
    ...     project = client.create_project("reviews", schema)

    GET/PUT/DELETE and submit (which carries an Idempotency-Key) are retried on connection
    errors and 502/503/504 with exponential backoff; other POSTs are retried only when the
    connection could not be opened at all. Errors raise the matching labelvault.errors class.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        backoff_base: float = 0.2,
    ) -> None:
        self.url = url.rstrip("/")
        self._policy = RetryPolicy(retries=retries, backoff_base=backoff_base)
        self._http = httpx.Client(
            base_url=api_base_url(url),
            headers=default_headers(token),
            timeout=timeout,
            transport=transport,
        )

    @classmethod
    def from_env(cls, **options: Any) -> Client:
        """A client for LABELVAULT_URL (default http://127.0.0.1:8080) and LABELVAULT_TOKEN."""
        url, token = settings_from_env()
        return cls(url, token, **options)

    # ---- plumbing --------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, call: Call[T]) -> T:
        response = self._send(call)
        try:
            return call.parse(response)
        finally:
            if not call.stream:
                response.close()

    def _send(self, call: Call[Any]) -> httpx.Response:
        attempt = 0
        while True:
            content = call.body() if call.body is not None else None
            request = self._http.build_request(**call.request_args(), content=content)
            try:
                response = self._receive(request, call)
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
                response.close()
            time.sleep(delay)
            attempt += 1

    def _receive(self, request: httpx.Request, call: Call[Any]) -> httpx.Response:
        """Send; read the body now unless the caller streams it (errors are always read)."""
        response = self._http.send(request, stream=True)
        try:
            if not call.stream or response.is_error:
                response.read()
        except BaseException:
            response.close()
            raise
        return response

    # ---- identity and access ---------------------------------------------------------

    def me(self) -> JSONDict:
        """Who the token belongs to: user_id, email, org_id, org_role."""
        return self._run(calls.me())

    def create_token(self, name: str, expires_in_days: int | None = None) -> JSONDict:
        """A new API token for the caller; the secret is in ["token"] and is shown only once."""
        return self._run(calls.create_token(name, expires_in_days))

    def list_tokens(self) -> list[JSONDict]:
        return self._run(calls.list_tokens())

    def revoke_token(self, token_id: Id) -> None:
        self._run(calls.revoke_token(token_id))

    def invite_user(
        self, email: str, org_role: str = "member", password: str | None = None
    ) -> JSONDict:
        """Add a user to the caller's org (owner/admin); the result includes their token."""
        return self._run(calls.invite_user(email, org_role, password))

    def list_users(self) -> list[JSONDict]:
        return self._run(calls.list_users())

    # ---- projects and members --------------------------------------------------------

    def create_project(
        self,
        name: str,
        schema: Mapping[str, Any],
        *,
        overlap: int = 1,
        lease_seconds: int | None = None,
        description: str | None = None,
    ) -> JSONDict:
        return self._run(calls.create_project(name, schema, overlap, lease_seconds, description))

    def get_project(self, project_id: Id) -> JSONDict:
        return self._run(calls.get_project(project_id))

    def list_projects(self) -> list[JSONDict]:
        """Projects the caller has a role in (all of the org's for owners and admins)."""
        return self._run(calls.list_projects())

    def update_project(self, project_id: Id, **fields: Any) -> JSONDict:
        """Change name, description, schema, overlap or lease_seconds."""
        return self._run(calls.update_project(project_id, fields))

    def delete_project(self, project_id: Id) -> None:
        """Delete the project and destroy its data key: its data becomes unreadable for good."""
        self._run(calls.delete_project(project_id))

    def list_members(self, project_id: Id) -> list[JSONDict]:
        return self._run(calls.list_members(project_id))

    def set_member(self, project_id: Id, user_id: Id, role: str) -> JSONDict:
        """Give a user a project role: manager, reviewer or annotator."""
        return self._run(calls.set_member(project_id, user_id, role))

    def remove_member(self, project_id: Id, user_id: Id) -> None:
        self._run(calls.remove_member(project_id, user_id))

    # ---- items -----------------------------------------------------------------------

    def import_items(
        self,
        project_id: Id,
        source: calls.ImportSource,
        *,
        format: str | None = None,
        on_error: calls.OnError = "abort",
        on_duplicate: calls.OnDuplicate = "skip",
        progress: Progress | None = None,
    ) -> JSONDict:
        """Stream items into a project; returns created/updated/skipped_duplicates/failed/errors.

        `source` is a path (.jsonl/.ndjson, .json, .csv, .parquet, or say `format=`) streamed
        as is, with progress(bytes_sent); or an iterable of dicts streamed as NDJSON, with
        progress(items_sent). With on_error="abort" a bad row raises InvalidInput whose
        .errors list the bad lines, and nothing is stored.
        """
        return self._run(
            calls.import_items(project_id, source, format, on_error, on_duplicate, progress)
        )

    def list_items(self, project_id: Id, limit: int = 100, after: Id | None = None) -> JSONDict:
        """One page: {"items": [...], "next_after": id or None}."""
        return self._run(calls.list_items(project_id, limit, after))

    def iter_items(self, project_id: Id, page_size: int = 100) -> Iterator[JSONDict]:
        """Every item of the project, page by page."""
        after: Id | None = None
        while True:
            page = self.list_items(project_id, limit=page_size, after=after)
            yield from page.get("items", [])
            after = page.get("next_after")
            if after is None or not page.get("items"):
                return

    def get_item(self, project_id: Id, item_id: Id) -> JSONDict:
        return self._run(calls.get_item(project_id, item_id))

    # ---- work queue ------------------------------------------------------------------

    def next_task(self, project_id: Id) -> Task | None:
        """Lease the next item to answer, or None when there is no work for the caller."""
        return self._run(calls.next_task(project_id))

    def submit(
        self, assignment_id: Id, values: Mapping[str, Any], idempotency_key: str | None = None
    ) -> JSONDict:
        """Answer an assignment. Safe to retry: every attempt carries the same Idempotency-Key
        (a fresh uuid4 when none is given), so the server stores the answer once."""
        return self._run(calls.submit(assignment_id, values, idempotency_key))

    def skip(self, assignment_id: Id, reason: str) -> JSONDict:
        return self._run(calls.skip(assignment_id, reason))

    def renew(self, assignment_id: Id) -> JSONDict:
        """Extend the lease; returns the new lease_expires_at."""
        return self._run(calls.renew(assignment_id))

    # ---- export, quality, audit ------------------------------------------------------

    def export(
        self,
        project_id: Id,
        format: str,
        path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
    ) -> Path:
        """Download items with their annotations (jsonl, csv or parquet) to `path`.

        The file is written beside `path` and renamed at the end: `path` is either the
        complete export or untouched. progress(bytes_written) is called as data arrives.
        """
        response = self._send(calls.export(project_id, format))
        try:
            with AtomicFile(path) as out:
                try:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                        if progress is not None:
                            progress(out.written)
                except httpx.TransportError as exc:
                    raise error_from_transport(exc, self.url) from None
            return out.target
        finally:
            response.close()

    def quality(self, project_id: Id) -> JSONDict:
        """Consensus, agreement per field and per-annotator scores."""
        return self._run(calls.quality(project_id))

    def leaderboard(self, project_id: Id) -> JSONDict:
        """Ranking of the compared candidates with confidence intervals."""
        return self._run(calls.leaderboard(project_id))

    def audit(self, after_id: int = 0, limit: int = 100) -> JSONDict:
        """The org's audit entries after `after_id` (org owner/admin)."""
        return self._run(calls.audit(after_id, limit))
