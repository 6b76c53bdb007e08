"""How CLI commands reach a server: options, environment, and one seam to swap the client.

Tests (and embedders) replace `client_factory` to route the CLI to an in-process transport.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from labelvault.errors import InvalidInput
from labelvault.sdk import DEFAULT_URL, Client

ClientFactory = Callable[[str, str], Client]


def _open_client(url: str, token: str) -> Client:
    return Client(url, token)


client_factory: ClientFactory = _open_client

UrlOption = Annotated[
    str,
    typer.Option(
        "--url", envvar="LABELVAULT_URL", help="URL of the labelvault server.", show_envvar=True
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="LABELVAULT_TOKEN",
        help="API token (prefer the environment variable: options show up in `ps`).",
        show_envvar=True,
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

__all__ = ["DEFAULT_URL", "JsonOption", "TokenOption", "UrlOption", "client_factory", "connect"]


def connect(url: str, token: str | None) -> Client:
    """A client for the server, or a usage error saying where a token comes from."""
    if not token:
        raise InvalidInput(
            "no API token: LABELVAULT_TOKEN is not set and --token was not given",
            hint="export LABELVAULT_TOKEN=<token>; `labelvault admin init --json` prints the "
            "owner's token, `labelvault users invite` a new user's",
        )
    return client_factory(url, token)
