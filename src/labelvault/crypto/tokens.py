"""API tokens: random secrets shown once and stored only as a digest.

A token carries 256 bits from the OS CSPRNG, so it cannot be guessed or brute-forced
from its digest; a slow, salted hash (as for passwords) would add nothing but latency
on every request. A plain SHA-256 digest is therefore the right choice, and it lets the
token be looked up by digest with an index.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["TOKEN_PREFIX", "new_token", "token_digest"]

TOKEN_PREFIX = "lv_"
"""Marks labelvault tokens, so secret scanners and people can recognise a leaked one."""

_TOKEN_BYTES = 32


def new_token() -> str:
    """A new bearer token: ``lv_`` + 43 URL-safe characters (256 bits of entropy)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def token_digest(token: str) -> str:
    """SHA-256 hex digest of ``token``: what the database stores and looks up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
