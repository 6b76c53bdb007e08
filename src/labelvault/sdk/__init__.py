"""Python client of the labelvault REST API (docs/sdk.md).

from labelvault.sdk import Client
with Client.from_env() as client:
    project = client.create_project("reviews", schema)
"""

from labelvault.errors import (
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

from ._settings import DEFAULT_URL
from .async_client import AsyncClient
from .client import Client
from .models import Task

__all__ = [
    "DEFAULT_URL",
    "AsyncClient",
    "BadRequest",
    "Client",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "LabelvaultError",
    "NotFound",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "Task",
    "Unauthenticated",
]
