"""Password hashing with argon2id (memory-hard, so stolen hashes are slow to crack)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_password", "password_needs_rehash", "verify_password"]

# argon2-cffi's defaults are the RFC 9106 "low memory" profile: argon2id, t=3, m=64 MiB, p=4.
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An encoded argon2id hash (salt and parameters included) to store instead of the password."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """True when ``password`` matches ``stored``; False for a wrong password or a damaged hash."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made with weaker parameters than today's: rehash after login."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True
