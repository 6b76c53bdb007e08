"""What to send, when to retry and which error to raise: shared by Client and AsyncClient.

Every decision lives here so the two clients are thin I/O loops that cannot drift apart.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from labelvault import __version__
from labelvault.errors import (
    ERRORS_BY_SLUG,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    LabelvaultError,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthenticated,
)

T = TypeVar("T")
JSONDict = dict[str, Any]
Id = str | int
BodyFactory = Callable[[], Iterator[bytes]]

API_PREFIX = "/api/v1"
RETRYABLE_STATUSES = frozenset({502, 503, 504})
MAX_BACKOFF_SECONDS = 10.0
MAX_RETRY_AFTER_SECONDS = 30.0

_ERRORS_BY_STATUS: dict[int, type[LabelvaultError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidInput,
    502: ServiceUnavailable,
    503: ServiceUnavailable,
    504: ServiceUnavailable,
}

_HINTS_BY_STATUS: dict[int, str] = {
    400: "check the request parameters and body against docs/api.md",
    401: "check the token (LABELVAULT_TOKEN); create one with `labelvault admin init` "
    "or Client.create_token()",
    403: "ask a project manager or an org admin for a role that allows this",
    404: "check the id, and that the URL points at a labelvault server",
    409: "reload the resource and try again",
    413: "send a smaller body, or ask the admin to raise the server's size limit",
    422: "fix the fields listed in .errors",
    502: "the server or a proxy in front of it is unavailable; retry in a moment",
    503: "the server or a proxy in front of it is unavailable; retry in a moment",
    504: "the server or a proxy in front of it timed out; retry in a moment",
}


class Retry(Enum):
    """How safe a call is to send again after a failure."""

    IDEMPOTENT = "idempotent"
    """Sending twice does what sending once does: retry on transport errors and 502/503/504."""
    UNSENT_ONLY = "unsent-only"
    """Retry only when the connection could not even be opened, so nothing reached the server."""
    NEVER = "never"
    """The body cannot be produced twice (a caller's iterator): send exactly once."""


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call: the request to send and how to turn the response into a result."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: dict[str, str | int] | None = None
    json: Any = None
    body: BodyFactory | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry: Retry | None = None
    stream: bool = False

    @property
    def retry_mode(self) -> Retry:
        """The explicit mode, else what the HTTP method implies."""
        if self.retry is not None:
            return self.retry
        if self.method in ("GET", "HEAD", "PUT", "DELETE"):
            return Retry.IDEMPOTENT
        return Retry.UNSENT_ONLY

    def request_args(self) -> dict[str, Any]:
        """Keyword arguments for httpx's build_request, except the streamed body."""
        args: dict[str, Any] = {"method": self.method, "url": self.path}
        if self.params:
            args["params"] = self.params
        if self.json is not None:
            args["json"] = self.json
        if self.headers:
            args["headers"] = self.headers
        return args


def segment(value: Id) -> str:
    """One URL path segment, escaped so an id can never change the path."""
    return quote(str(value), safe="")


def api_base_url(url: str) -> str:
    """The API root for a server URL; accepts the URL with or without /api/v1."""
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise InvalidInput(
            f"server URL {url!r} has no http:// or https:// scheme",
            hint="pass the full URL, e.g. http://127.0.0.1:8080 (LABELVAULT_URL)",
        )
    if not base.endswith(API_PREFIX):
        base += API_PREFIX
    return base


def default_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "User-Agent": f"labelvault-sdk/{__version__} python-httpx/{httpx.__version__}",
    }


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter; None from a method means: do not retry."""

    retries: int = 3
    backoff_base: float = 0.2

    def delay_after_error(
        self, call: Call[Any], exc: httpx.TransportError, attempt: int
    ) -> float | None:
        if attempt >= self.retries:
            return None
        mode = call.retry_mode
        if mode is Retry.IDEMPOTENT or (
            mode is Retry.UNSENT_ONLY and isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        ):
            return backoff_delay(attempt, self.backoff_base)
        return None

    def delay_after_status(
        self, call: Call[Any], response: httpx.Response, attempt: int
    ) -> float | None:
        if attempt >= self.retries or response.status_code not in RETRYABLE_STATUSES:
            return None
        if call.retry_mode is not Retry.IDEMPOTENT:
            return None
        return max(backoff_delay(attempt, self.backoff_base), retry_after(response))


def backoff_delay(attempt: int, base: float) -> float:
    """base * 2**attempt, scaled by a random factor in [0.5, 1] so clients do not stampede."""
    return min(MAX_BACKOFF_SECONDS, base * 2.0**attempt) * (0.5 + random.random() / 2)


def retry_after(response: httpx.Response) -> float:
    """Seconds the server asked us to wait (numeric Retry-After only), capped."""
    value = response.headers.get("Retry-After", "")
    try:
        return min(MAX_RETRY_AFTER_SECONDS, max(0.0, float(value)))
    except ValueError:
        return 0.0


def error_from_response(response: httpx.Response) -> LabelvaultError:
    """The typed error for a 4xx/5xx response (its body must have been read)."""
    status = response.status_code
    problem = _problem_body(response)
    if problem is not None:
        slug = str(problem.get("type", "")).rstrip("/").rsplit("/", 1)[-1]
        cls = ERRORS_BY_SLUG.get(slug) or _class_for_status(status)
        detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        hint = problem.get("hint") or _HINTS_BY_STATUS.get(status)
        raw_errors = problem.get("errors")
        errors = (
            [e for e in raw_errors if isinstance(e, dict)] if isinstance(raw_errors, list) else []
        )
    else:
        cls = _class_for_status(status)
        text = response.text.strip()
        snippet = f": {text[:200]}" if text else ""
        request = response.request
        detail = f"HTTP {status} from {request.method} {request.url.path}{snippet}"
        hint = _HINTS_BY_STATUS.get(status) or "check the server's log for the cause"
        errors = []
    error = cls(detail, hint=str(hint) if hint else None, errors=errors)
    error.status = status
    return error


def error_from_transport(exc: httpx.TransportError, url: str) -> LabelvaultError:
    """A ServiceUnavailable that says which server could not be reached and what to check."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        detail = f"cannot connect to the labelvault server at {url}: {exc}"
        hint = f"is `labelvault serve` running at {url}? set LABELVAULT_URL to the server's URL"
    elif isinstance(exc, httpx.TimeoutException):
        detail = f"the labelvault server at {url} did not answer in time: {exc!r}"
        hint = "retry, or raise the client's timeout (Client(..., timeout=120))"
    else:
        detail = f"the connection to the labelvault server at {url} failed: {exc!r}"
        hint = f"check that the server at {url} is up and reachable, then retry"
    return ServiceUnavailable(detail, hint=hint)


def unexpected_response(response: httpx.Response, what: str) -> LabelvaultError:
    request = response.request
    return LabelvaultError(
        f"unexpected response to {request.method} {request.url.path}: {what}",
        hint="check that the URL points at a labelvault server of a compatible version",
    )


def _class_for_status(status: int) -> type[LabelvaultError]:
    if status in _ERRORS_BY_STATUS:
        return _ERRORS_BY_STATUS[status]
    return BadRequest if 400 <= status < 500 else LabelvaultError


def _problem_body(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON error document, if the body is one (problem+json or plain JSON object)."""
    content_type = response.headers.get("Content-Type", "")
    if "json" not in content_type:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


# ---- response parsers ----------------------------------------------------------------


def parse_json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise unexpected_response(response, "the body is not JSON") from None


def parse_object(response: httpx.Response) -> JSONDict:
    body = parse_json(response)
    if not isinstance(body, dict):
        raise unexpected_response(response, "expected a JSON object")
    return body


def parse_list(response: httpx.Response) -> list[JSONDict]:
    body = parse_json(response)
    if isinstance(body, dict):
        # tolerate a paginated envelope such as {"items": [...]} or {"projects": [...]}
        lists = [v for v in body.values() if isinstance(v, list)]
        if len(lists) == 1:
            body = lists[0]
    if not isinstance(body, list):
        raise unexpected_response(response, "expected a JSON list")
    return [entry for entry in body if isinstance(entry, dict)]


def parse_nothing(response: httpx.Response) -> None:
    return None


def parse_response(response: httpx.Response) -> httpx.Response:
    """For streamed calls: the caller consumes the open response."""
    return response
