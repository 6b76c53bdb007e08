"""Per-project data keys: AES-256-GCM encryption of stored payloads and answers.

Every ciphertext is bound to its place (project, row, column) through GCM's associated
data, so a ciphertext copied into another row or project fails to decrypt instead of
showing up there. Blob layout: ``version (1 byte) || nonce (12 bytes) || ct || tag (16)``.

Nonces are random. With 96-bit random nonces one key may safely seal about 2**32
messages (NIST SP 800-38D); a project's DEK stays far below that, and rotating the DEK
resets the count.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from labelvault.errors import IntegrityError, InvalidInput

__all__ = ["BLOB_OVERHEAD", "DataKey", "aad", "aad_many"]

_VERSION = 1
_VERSION_BYTE = bytes((_VERSION,))
_NONCE_BYTES = 12
_TAG_BYTES = 16
_KEY_BYTES = 32
_HEADER = 1 + _NONCE_BYTES

BLOB_OVERHEAD = _HEADER + _TAG_BYTES
"""Bytes a ciphertext blob adds to its plaintext (29)."""

_COLUMN_RE = re.compile(r"[a-z][a-z0-9_]{0,62}")


class DataKey:
    """A project's data-encryption key (DEK), ready to seal and open blobs."""

    __slots__ = ("_aead", "_key")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != _KEY_BYTES:
            size = len(key) if isinstance(key, bytes | bytearray) else type(key).__name__
            raise InvalidInput(
                f"A data key must be exactly 32 bytes, got {size}.",
                hint="Use DataKey.generate() for a new key, or pass the bytes returned by "
                "KeyProvider.unwrap().",
            )
        self._key = bytes(key)
        self._aead = AESGCM(self._key)

    @classmethod
    def generate(cls) -> DataKey:
        """A fresh random key from the OS CSPRNG."""
        return cls(os.urandom(_KEY_BYTES))

    @property
    def raw(self) -> bytes:
        """The key bytes, to be wrapped by a KeyProvider; never store them unwrapped."""
        return self._key

    def __repr__(self) -> str:
        return "DataKey(<secret>)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataKey):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(("DataKey", self._key))

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        """Seal ``plaintext`` bound to ``aad`` (see :func:`aad`)."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION_BYTE + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def encrypt_many(self, plaintexts: Sequence[bytes], aads: Sequence[bytes]) -> list[bytes]:
        """Seal many values at once (bulk import): one CSPRNG call for all nonces."""
        count = len(plaintexts)
        if len(aads) != count:
            raise InvalidInput(
                f"encrypt_many got {count} plaintexts but {len(aads)} associated data values.",
                hint="Pass one aad per plaintext, in the same order.",
            )
        nonces = os.urandom(_NONCE_BYTES * count)
        seal = self._aead.encrypt
        out: list[bytes] = []
        append = out.append
        start = 0
        for plaintext, assoc in zip(plaintexts, aads, strict=True):
            nonce = nonces[start : start + _NONCE_BYTES]
            append(_VERSION_BYTE + nonce + seal(nonce, plaintext, assoc))
            start += _NONCE_BYTES
        return out

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        """Open a blob sealed with this key and the same ``aad``.

        Raises IntegrityError when the blob was altered, was sealed for another place
        (row, column, project) or with another key.
        """
        if len(blob) < BLOB_OVERHEAD or blob[0] != _VERSION:
            raise _malformed(blob, aad)
        try:
            return self._aead.decrypt(blob[1:_HEADER], blob[_HEADER:], aad)
        except InvalidTag:
            raise _failed(aad) from None

    def decrypt_many(self, blobs: Sequence[bytes], aads: Sequence[bytes]) -> list[bytes]:
        """Open many blobs (bulk export); fails on the first bad one."""
        if len(blobs) != len(aads):
            raise InvalidInput(
                f"decrypt_many got {len(blobs)} blobs but {len(aads)} associated data values.",
                hint="Pass one aad per blob, in the same order.",
            )
        open_ = self._aead.decrypt
        out: list[bytes] = []
        append = out.append
        for blob, assoc in zip(blobs, aads, strict=True):
            if len(blob) < BLOB_OVERHEAD or blob[0] != _VERSION:
                raise _malformed(blob, assoc)
            try:
                append(open_(blob[1:_HEADER], blob[_HEADER:], assoc))
            except InvalidTag:
                raise _failed(assoc) from None
        return out


def aad(project_id: int, row_id: int, column: str) -> bytes:
    """Associated data naming where a ciphertext lives: ``b"lv1|p=42|r=7|c=payload"``.

    Unambiguous: ids are plain decimal integers and ``column`` is a lowercase identifier,
    so two different places never produce the same bytes.
    """
    project = _check_id("project_id", project_id)
    row = _check_id("row_id", row_id)
    return b"lv1|p=%d|r=%d" % (project, row) + _column_suffix(column)


def aad_many(project_id: int, row_ids: Sequence[int], column: str) -> list[bytes]:
    """:func:`aad` for many rows of one project and column (bulk paths)."""
    prefix = b"lv1|p=%d|r=" % _check_id("project_id", project_id)
    suffix = _column_suffix(column)
    return [prefix + b"%d" % _check_id("row_id", row_id) + suffix for row_id in row_ids]


def _check_id(name: str, value: int) -> int:
    if type(value) is not int:
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            raise InvalidInput(
                f"{name} must be an integer, got {type(value).__name__}.",
                hint="Pass the database id of the project/row the value is stored in.",
            )
        value = value.__index__()
    if value < 0:
        raise InvalidInput(
            f"{name} must not be negative, got {value}.",
            hint="Pass the database id of the project/row the value is stored in.",
        )
    return value


@lru_cache(maxsize=256)
def _column_suffix(column: str) -> bytes:
    if not isinstance(column, str) or not _COLUMN_RE.fullmatch(column):
        raise InvalidInput(
            f"Column name {column!r} cannot be used as associated data.",
            hint="Use the lowercase column name, e.g. 'payload' or 'value' "
            "(letters, digits, underscore; starting with a letter).",
        )
    return b"|c=" + column.encode("ascii")


def _malformed(blob: bytes, assoc: bytes) -> IntegrityError:
    version = blob[0] if len(blob) else None
    return IntegrityError(
        f"Encrypted value at {_place(assoc)} is malformed "
        f"(length {len(blob)}, format version {version}).",
        hint="The stored value was truncated or overwritten (data tampered or corrupted); "
        "restore it from a backup.",
    )


def _failed(assoc: bytes) -> IntegrityError:
    return IntegrityError(
        f"Encrypted value at {_place(assoc)} failed its integrity check.",
        hint="The value was tampered with, or moved here from another row, column or "
        "project, or the project's data key was replaced; restore it from a backup.",
    )


def _place(assoc: bytes) -> str:
    return assoc.decode("ascii", "backslashreplace") if len(assoc) <= 200 else "<long aad>"
