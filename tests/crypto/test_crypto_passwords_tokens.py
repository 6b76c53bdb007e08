"""Passwords (argon2id) and API tokens (random, stored as a SHA-256 digest)."""

from __future__ import annotations

import hashlib
import re

from labelvault.crypto import (
    hash_password,
    new_token,
    password_needs_rehash,
    token_digest,
    verify_password,
)


def test_password_hash_verifies_only_the_right_password() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapler")
    assert not password_needs_rehash(stored)


def test_same_password_gets_a_different_salt() -> None:
    assert hash_password("pässwörd") != hash_password("pässwörd")


def test_damaged_hash_never_verifies() -> None:
    assert not verify_password("not-a-hash", "anything")
    assert not verify_password("", "")
    assert password_needs_rehash("not-a-hash")


def test_weaker_hash_needs_rehash() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("pw")
    assert verify_password(weak, "pw")
    assert password_needs_rehash(weak)


def test_tokens_are_prefixed_random_and_urlsafe() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert re.fullmatch(r"lv_[A-Za-z0-9_-]{43}", token)  # 32 random bytes


def test_token_digest_is_sha256_hex() -> None:
    token = new_token()
    assert token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in token_digest(token)
    assert token_digest(token) != token_digest(new_token())
