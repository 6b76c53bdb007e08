"""Key-encryption keys (KEKs) and the providers that hold them.

A project's data key (DEK) is never stored in the clear: it is wrapped by a KEK that
lives outside the database (a local key file by default, a cloud KMS or Vault transit
engine in larger installs). Destroying the wrapped DEK destroys the project's data
(crypto-shred); rotating the KEK only re-wraps small DEKs, never the data itself.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from labelvault.errors import Conflict, IntegrityError, InvalidInput, ServiceUnavailable

__all__ = [
    "KEY_BYTES",
    "InMemoryKeyProvider",
    "KeyProvider",
    "LocalKeyFileProvider",
    "rewrap",
]

KEY_BYTES = 32
"""Length of every KEK and DEK: AES-256."""

_WRAP_VERSION = 1
_NONCE_BYTES = 12
_TAG_BYTES = 16
_FILE_MODE = 0o600


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps and unwraps data keys with a key-encryption key the database never sees.

    ``context`` is authenticated, not encrypted (e.g. ``b"project:42"``): a wrapped DEK
    only unwraps under the context it was wrapped with, so one project's wrapped key
    cannot be swapped into another project's row.
    """

    def current_kek_id(self) -> str:
        """Id of the KEK that new wraps use."""
        ...

    def wrap(self, dek: bytes, *, context: bytes) -> tuple[str, bytes]:
        """Encrypt ``dek`` under the current KEK; returns ``(kek_id, wrapped)``."""
        ...

    def unwrap(self, kek_id: str, wrapped: bytes, *, context: bytes) -> bytes:
        """Decrypt a wrapped DEK with the KEK named ``kek_id``."""
        ...

    def wrap_with(self, kek_id: str, dek: bytes, *, context: bytes) -> bytes:
        """Encrypt ``dek`` under the named KEK (a dedicated one from ``add_key``)."""
        ...

    def add_key(self) -> str:
        """Create a dedicated KEK (e.g. one per project) and return its id."""
        ...

    def destroy_key(self, kek_id: str) -> None:
        """Destroy a dedicated KEK for good: what it wrapped becomes unreadable everywhere,
        including in database backups (crypto-shredding)."""
        ...


def rewrap(
    provider: KeyProvider, kek_id: str, wrapped: bytes, *, context: bytes
) -> tuple[str, bytes]:
    """Re-wrap a DEK under the provider's current KEK (the step after a KEK rotation).

    Returns the input unchanged when it already uses the current KEK, so a rotation job
    can be re-run safely.
    """
    if kek_id == provider.current_kek_id():
        return kek_id, wrapped
    dek = provider.unwrap(kek_id, wrapped, context=context)
    return provider.wrap(dek, context=context)


class _KekRing:
    """A set of AES-256 KEKs by id, one of them current; does the actual wrapping."""

    __slots__ = ("current", "_aeads", "keys")

    def __init__(self, current: str, keys: Mapping[str, bytes]) -> None:
        self.current = current
        self.keys = dict(keys)
        self._aeads = {kek_id: AESGCM(key) for kek_id, key in self.keys.items()}

    def wrap(self, dek: bytes, context: bytes) -> tuple[str, bytes]:
        return self.current, self._seal(self.current, dek, context)

    def _seal(self, kek_id: str, dek: bytes, context: bytes) -> bytes:
        _check_bytes("dek", dek)
        _check_bytes("context", context)
        if not dek:
            raise InvalidInput(
                "Cannot wrap an empty data key.",
                hint="Pass the 32 raw bytes of the data key (DataKey.raw).",
            )
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aeads[kek_id].encrypt(nonce, dek, context)
        return bytes((_WRAP_VERSION,)) + nonce + sealed

    def wrap_with(self, kek_id: str, dek: bytes, context: bytes) -> bytes:
        if kek_id not in self._aeads:
            raise ServiceUnavailable(
                f"Key-encryption key {kek_id!r} does not exist.",
                hint="Create it with add_key() first, or reload the key file.",
            )
        return self._seal(kek_id, dek, context)

    def has(self, kek_id: str) -> bool:
        return kek_id in self._aeads

    def unwrap(self, kek_id: str, wrapped: bytes, context: bytes, source: str) -> bytes:
        _check_bytes("context", context)
        aead = self._aeads.get(kek_id)
        if aead is None:
            raise ServiceUnavailable(
                f"Key-encryption key {kek_id!r} is not in {source}.",
                hint="Restore the key file (or KMS key) that holds this key; keys must be "
                "kept after a rotation until every data key has been re-wrapped.",
            )
        blob = bytes(wrapped)
        if len(blob) < 1 + _NONCE_BYTES + _TAG_BYTES or blob[0] != _WRAP_VERSION:
            raise IntegrityError(
                f"Wrapped data key is malformed (length {len(blob)}, "
                f"version {blob[0] if blob else None}).",
                hint="The stored wrapped key was truncated or overwritten; restore it from a "
                "backup.",
            )
        nonce = blob[1 : 1 + _NONCE_BYTES]
        try:
            return aead.decrypt(nonce, blob[1 + _NONCE_BYTES :], context)
        except InvalidTag:
            raise IntegrityError(
                f"Wrapped data key does not open with key-encryption key {kek_id!r} "
                f"and context {context!r}.",
                hint="The wrapped key was tampered with, copied from another project, or the "
                "key file was replaced by a different one with the same key id; restore the "
                "right key file or the wrapped key from a backup.",
            ) from None


class LocalKeyFileProvider(KeyProvider):
    """KEKs kept in a local JSON file: ``{"current": id, "keys": {id: base64(32 bytes)}}``.

    The file must be private to the service user (mode 0600). Other processes serving
    the same data pick up a rotation by themselves: an unwrap naming a KEK they have not
    seen yet reloads the file once.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ring = _load_key_file(self.path)

    def __repr__(self) -> str:
        return f"LocalKeyFileProvider({str(self.path)!r}, current={self._ring.current!r})"

    @classmethod
    def create(cls, path: Path) -> LocalKeyFileProvider:
        """Write a new key file holding one fresh KEK (mode 0600) and load it.

        Refuses to overwrite: replacing a key file makes every project unreadable.
        """
        path = Path(path)
        if path.exists():
            raise Conflict(
                f"Key file {path} already exists; refusing to overwrite it.",
                hint="Overwriting a key file makes all encrypted data unreadable. Use the "
                "existing file, or move it away first if you really mean to start over.",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        kek_id = _new_kek_id()
        content = _dump_key_file(kek_id, {kek_id: os.urandom(KEY_BYTES)})
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
        except FileExistsError:
            raise Conflict(
                f"Key file {path} already exists; refusing to overwrite it.",
                hint="Another process created it a moment ago; use that file.",
            ) from None
        except OSError as exc:
            raise ServiceUnavailable(
                f"Cannot create key file {path}: {exc.strerror}.",
                hint="Check that the directory exists and is writable by the service user.",
            ) from exc
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(path.parent)
        return cls(path)

    def current_kek_id(self) -> str:
        return self._ring.current

    def kek_ids(self) -> list[str]:
        """Ids of every KEK in the file (the current one included)."""
        return list(self._ring.keys)

    def wrap(self, dek: bytes, *, context: bytes) -> tuple[str, bytes]:
        return self._ring.wrap(dek, context)

    def unwrap(self, kek_id: str, wrapped: bytes, *, context: bytes) -> bytes:
        ring = self._ring
        if not ring.has(kek_id):
            ring = self.reload()
        return ring.unwrap(kek_id, wrapped, context, source=f"key file {self.path}")

    def reload(self) -> _KekRing:
        """Re-read the key file (e.g. after another process rotated it)."""
        with self._lock:
            self._ring = _load_key_file(self.path)
            return self._ring

    def rotate(self) -> str:
        """Add a new KEK and make it current; older KEKs stay for unwrapping.

        The file is rewritten atomically (temporary file + ``os.replace``), under an
        exclusive lock so two concurrent rotations cannot drop each other's key.
        """
        with self._lock, _exclusive_file_lock(self.path):
            ring = _load_key_file(self.path)
            kek_id = _new_kek_id()
            keys = {**ring.keys, kek_id: os.urandom(KEY_BYTES)}
            _atomic_write(self.path, _dump_key_file(kek_id, keys))
            self._ring = _KekRing(kek_id, keys)
        return kek_id

    def wrap_with(self, kek_id: str, dek: bytes, *, context: bytes) -> bytes:
        ring = self._ring
        if not ring.has(kek_id):
            ring = self.reload()
        return ring.wrap_with(kek_id, dek, context)

    def add_key(self) -> str:
        """Add a dedicated KEK to the file (atomically, under the file lock)."""
        with self._lock, _exclusive_file_lock(self.path):
            ring = _load_key_file(self.path)
            kek_id = _new_kek_id("dek-kek")
            keys = {**ring.keys, kek_id: os.urandom(KEY_BYTES)}
            _atomic_write(self.path, _dump_key_file(ring.current, keys))
            self._ring = _KekRing(ring.current, keys)
        return kek_id

    def destroy_key(self, kek_id: str) -> None:
        """Remove a dedicated KEK from the file; the current master KEK cannot be destroyed."""
        with self._lock, _exclusive_file_lock(self.path):
            ring = _load_key_file(self.path)
            if kek_id == ring.current:
                raise Conflict(
                    f"{kek_id!r} is the current key-encryption key and cannot be destroyed.",
                    hint="Rotate first; only dedicated or retired keys can be destroyed.",
                )
            if kek_id not in ring.keys:
                return
            keys = {k: v for k, v in ring.keys.items() if k != kek_id}
            _atomic_write(self.path, _dump_key_file(ring.current, keys))
            self._ring = _KekRing(ring.current, keys)


class InMemoryKeyProvider(KeyProvider):
    """KEKs held only in memory: for tests and throw-away demos, never for real data."""

    def __init__(self) -> None:
        kek_id = _new_kek_id()
        self._ring = _KekRing(kek_id, {kek_id: os.urandom(KEY_BYTES)})

    def current_kek_id(self) -> str:
        return self._ring.current

    def wrap(self, dek: bytes, *, context: bytes) -> tuple[str, bytes]:
        return self._ring.wrap(dek, context)

    def unwrap(self, kek_id: str, wrapped: bytes, *, context: bytes) -> bytes:
        return self._ring.unwrap(kek_id, wrapped, context, source="this in-memory provider")

    def rotate(self) -> str:
        kek_id = _new_kek_id()
        self._ring = _KekRing(kek_id, {**self._ring.keys, kek_id: os.urandom(KEY_BYTES)})
        return kek_id

    def wrap_with(self, kek_id: str, dek: bytes, *, context: bytes) -> bytes:
        return self._ring.wrap_with(kek_id, dek, context)

    def add_key(self) -> str:
        kek_id = _new_kek_id("dek-kek")
        self._ring = _KekRing(
            self._ring.current, {**self._ring.keys, kek_id: os.urandom(KEY_BYTES)}
        )
        return kek_id

    def destroy_key(self, kek_id: str) -> None:
        if kek_id == self._ring.current:
            raise Conflict(
                f"{kek_id!r} is the current key-encryption key and cannot be destroyed.",
                hint="Rotate first; only dedicated or retired keys can be destroyed.",
            )
        keys = {k: v for k, v in self._ring.keys.items() if k != kek_id}
        self._ring = _KekRing(self._ring.current, keys)


def _new_kek_id(prefix: str = "kek") -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def _check_bytes(name: str, value: object) -> None:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidInput(
            f"{name} must be bytes, got {type(value).__name__}.",
            hint=f"Encode {name} first, e.g. b'project:42' or 'project:42'.encode().",
        )


def _dump_key_file(current: str, keys: Mapping[str, bytes]) -> bytes:
    doc = {
        "current": current,
        "keys": {kid: base64.b64encode(key).decode("ascii") for kid, key in keys.items()},
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _load_key_file(path: Path) -> _KekRing:
    fix = "restore it from a backup (only a brand-new installation should create a new one)"
    try:
        st = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ServiceUnavailable(
            f"Key file {path} does not exist.",
            hint=f"Point the key file setting at the right file, or {fix}. Without it "
            "encrypted data cannot be read.",
        ) from None
    except OSError as exc:
        raise ServiceUnavailable(
            f"Cannot read key file {path}: {exc.strerror}.",
            hint="Run the service as the user that owns the key file (mode 0600).",
        ) from exc
    if os.name == "posix" and st.st_mode & 0o077:
        raise ServiceUnavailable(
            f"Key file {path} is accessible by other users (mode {stat.S_IMODE(st.st_mode):04o}).",
            hint=f"Restrict it to its owner: chmod 600 {path}",
        )
    bad = ServiceUnavailable(
        f"Key file {path} is not a valid labelvault key file.",
        hint='Expected JSON {"current": id, "keys": {id: base64 of 32 bytes}}; ' + fix + ".",
    )
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad from None
    if not isinstance(doc, dict):
        raise bad
    current, encoded = doc.get("current"), doc.get("keys")
    if not isinstance(current, str) or not isinstance(encoded, dict) or current not in encoded:
        raise bad
    keys: dict[str, bytes] = {}
    for kek_id, value in encoded.items():
        try:
            key = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
        except binascii.Error:
            key = b""
        if len(key) != KEY_BYTES:
            raise ServiceUnavailable(
                f"Key {kek_id!r} in key file {path} is not a base64-encoded 32-byte key.",
                hint=f"The file is damaged; {fix}.",
            )
        keys[kek_id] = key
    return _KekRing(current, keys)


def _atomic_write(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make a create/rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _exclusive_file_lock(path: Path) -> Iterator[None]:
    """Inter-process lock beside the key file (POSIX ``flock``; best effort elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    lock_path = path.with_name(f".{path.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
