"""Every error leaves the server as RFC 9457 problem+json, never as a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from labelvault.errors import LabelvaultError, ServiceUnavailable

log = logging.getLogger("labelvault.server")
PROBLEM_JSON = "application/problem+json"

_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Unauthenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "Invalid input"),
}


def problem_response(error: LabelvaultError, request: Request) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(
        error.to_problem(instance=request.url.path),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _plain_problem(
    status: int,
    detail: str,
    hint: str | None,
    request: Request,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    slug, title = _STATUS_SLUGS.get(status, ("internal", "Internal error"))
    body: dict[str, Any] = {
        "type": f"https://labelvault.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if hint:
        body["hint"] = hint
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(LabelvaultError)
    async def _labelvault(request: Request, exc: LabelvaultError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_path(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
        if malformed:
            return _plain_problem(
                400,
                "the request body is not valid JSON",
                "send a JSON object with Content-Type: application/json",
                request,
                errors,
            )
        content_type = request.headers.get("content-type", "")
        body_errors = [e for e in exc.errors() if tuple(e.get("loc", ()))[:1] == ("body",)]
        if body_errors and "json" not in content_type:
            return _plain_problem(
                415 if content_type else 422,
                f"the body was sent as {content_type or 'no content type'}, not JSON",
                "send the body as JSON with the header Content-Type: application/json",
                request,
                errors,
            )
        return _plain_problem(
            422,
            f"the request has {len(errors)} invalid field(s)",
            "see errors[] for each field and the OpenAPI schema at /api/v1/openapi.json",
            request,
            errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        hint = None
        if exc.status_code == 404:
            hint = "see /api/v1/openapi.json for the available endpoints"
        elif exc.status_code == 405:
            hint = "see /api/v1/openapi.json for the methods this path accepts"
        elif exc.status_code == 413:
            hint = (
                "split the upload, or raise LABELVAULT_MAX_IMPORT_BYTES / "
                "LABELVAULT_MAX_JSON_BODY_BYTES on the server"
            )
        return _plain_problem(exc.status_code, str(exc.detail), hint, request)

    @app.exception_handler(OperationalError)
    async def _db(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error on %s: %s", request.url.path, exc)
        return problem_response(
            ServiceUnavailable(
                "the database is not available right now",
                hint="retry in a moment; if it persists, check the database",
            ),
            request,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return _plain_problem(
            500,
            "an unexpected error happened; it was logged",
            "retry; if it persists, report it with the time of the request",
            request,
        )
