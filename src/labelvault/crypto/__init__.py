"""Encryption at rest, key providers, the audit hash chain, passwords and tokens."""

from labelvault.crypto.audit import GENESIS, ChainBreak, canonical_entry, chain_hash, verify_chain
from labelvault.crypto.envelope import BLOB_OVERHEAD, DataKey, aad, aad_many
from labelvault.crypto.keys import (
    KEY_BYTES,
    InMemoryKeyProvider,
    KeyProvider,
    LocalKeyFileProvider,
    rewrap,
)
from labelvault.crypto.passwords import hash_password, password_needs_rehash, verify_password
from labelvault.crypto.tokens import TOKEN_PREFIX, new_token, token_digest

__all__ = [
    "BLOB_OVERHEAD",
    "GENESIS",
    "KEY_BYTES",
    "TOKEN_PREFIX",
    "ChainBreak",
    "DataKey",
    "InMemoryKeyProvider",
    "KeyProvider",
    "LocalKeyFileProvider",
    "aad",
    "aad_many",
    "canonical_entry",
    "chain_hash",
    "hash_password",
    "new_token",
    "password_needs_rehash",
    "rewrap",
    "token_digest",
    "verify_chain",
    "verify_password",
]
