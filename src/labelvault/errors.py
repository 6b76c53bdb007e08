"""One exception tree for the whole project.

Every error carries a human message and a fix hint; the server maps each class to an
HTTP status and renders it as RFC 9457 problem+json, and the SDK maps it back.
"""

from __future__ import annotations

from typing import Any


class LabelvaultError(Exception):
    """Base of every error labelvault raises on purpose."""

    status: int = 500
    title: str = "Internal error"
    type_slug: str = "internal"

    def __init__(
        self,
        detail: str,
        *,
        hint: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint
        self.errors = errors or []

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """Render as an RFC 9457 problem document."""
        body: dict[str, Any] = {
            "type": f"https://labelvault.dev/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.hint:
            body["hint"] = self.hint
        if self.errors:
            body["errors"] = self.errors
        if instance:
            body["instance"] = instance
        return body


class InvalidInput(LabelvaultError):
    """The request was understood but its content is wrong (HTTP 422)."""

    status = 422
    title = "Invalid input"
    type_slug = "invalid-input"


class BadRequest(LabelvaultError):
    """The request could not be parsed (malformed JSON/CSV, bad parameters) (HTTP 400)."""

    status = 400
    title = "Bad request"
    type_slug = "bad-request"


class Unauthenticated(LabelvaultError):
    """No valid credentials (HTTP 401)."""

    status = 401
    title = "Unauthenticated"
    type_slug = "unauthenticated"


class Forbidden(LabelvaultError):
    """Authenticated, visible, but not allowed (HTTP 403)."""

    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(LabelvaultError):
    """Missing, or belongs to another org: the two are indistinguishable on purpose (HTTP 404)."""

    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(LabelvaultError):
    """The request conflicts with the current state (HTTP 409)."""

    status = 409
    title = "Conflict"
    type_slug = "conflict"


class PayloadTooLarge(LabelvaultError):
    """The body or a field exceeds a configured limit (HTTP 413)."""

    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class IntegrityError(LabelvaultError):
    """Stored data failed an integrity check: audit chain broken, ciphertext tampered."""

    status = 500
    title = "Integrity check failed"
    type_slug = "integrity"


class ServiceUnavailable(LabelvaultError):
    """A dependency (database, key provider) is not reachable (HTTP 503)."""

    status = 503
    title = "Service unavailable"
    type_slug = "unavailable"


ERRORS_BY_SLUG: dict[str, type[LabelvaultError]] = {
    cls.type_slug: cls
    for cls in (
        LabelvaultError,
        InvalidInput,
        BadRequest,
        Unauthenticated,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        IntegrityError,
        ServiceUnavailable,
    )
}
