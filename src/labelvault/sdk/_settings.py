"""Where a client finds its server and token when none are passed explicitly."""

from __future__ import annotations

import os

from labelvault.errors import Unauthenticated

DEFAULT_URL = "http://127.0.0.1:8080"
URL_VARIABLE = "LABELVAULT_URL"
TOKEN_VARIABLE = "LABELVAULT_TOKEN"
TOKEN_HINT = (
    "set LABELVAULT_TOKEN to an API token: `labelvault admin init --json` prints the owner's, "
    "an admin's `labelvault users invite` prints a new user's"
)


def settings_from_env() -> tuple[str, str]:
    """(url, token) from LABELVAULT_URL and LABELVAULT_TOKEN, read when called."""
    url = os.environ.get(URL_VARIABLE) or DEFAULT_URL
    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise Unauthenticated(f"{TOKEN_VARIABLE} is not set", hint=TOKEN_HINT)
    return url, token
