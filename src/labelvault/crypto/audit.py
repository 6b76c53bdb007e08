"""Tamper-evident audit log: a SHA-256 hash chain over canonical JSON entries.

Each entry's hash is ``SHA-256(previous hash || canonical JSON of the entry)``, starting
from :data:`GENESIS`. Editing an entry changes its hash; deleting or reordering entries
breaks the link to the previous hash. Entries that carry a per-chain sequence number
``seq`` (1, 2, 3, ...) also reveal a deletion or reordering whose hashes were recomputed.

The chain is unkeyed: it proves the log is internally consistent. To also catch a
truncated tail, compare the last hash with a copy kept elsewhere (``end=``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from labelvault.errors import InvalidInput

__all__ = ["GENESIS", "ChainBreak", "canonical_entry", "chain_hash", "verify_chain"]

GENESIS = bytes(32)
"""The hash that precedes the first entry of every chain."""

HASH_BYTES = 32
LOOKAHEAD = 256
"""How far :func:`verify_chain` looks ahead to tell a reordering from an edit."""

_MAX_DEPTH = 64


def canonical_entry(entry: Mapping[str, Any]) -> bytes:
    """Deterministic UTF-8 JSON of an entry: sorted keys, no spaces, no escapes of non-ASCII.

    Only JSON types are accepted (str keys; str, int, float, bool, None, list, dict
    values; finite floats), so the bytes hashed are exactly what is stored and read back.
    """
    if not isinstance(entry, Mapping):
        raise InvalidInput(
            f"An audit entry must be a mapping, got {type(entry).__name__}.",
            hint="Pass a dict of JSON values.",
        )
    plain = _plain_json(entry, "entry", 0)
    try:
        text = json.dumps(
            plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            "An audit entry contains a string that is not valid Unicode (lone surrogate).",
            hint="Decode external text with errors='replace' before logging it.",
        ) from None


def chain_hash(prev_hash: bytes, entry: Mapping[str, Any]) -> bytes:
    """The hash of ``entry`` when it follows the entry whose hash is ``prev_hash``."""
    if len(prev_hash) != HASH_BYTES:
        raise InvalidInput(
            f"prev_hash must be {HASH_BYTES} bytes, got {len(prev_hash)}.",
            hint="Use the stored hash of the previous entry, or GENESIS for the first one.",
        )
    return hashlib.sha256(bytes(prev_hash) + canonical_entry(entry)).digest()


@dataclass(frozen=True)
class ChainBreak:
    """The first entry at which a chain stops verifying.

    ``position`` is the 0-based index in the verified sequence (equal to the number of
    entries for a chain whose tail is missing); ``reason`` says what likely happened.
    """

    position: int
    entry_id: Any
    reason: str


def verify_chain(
    entries: Iterable[tuple[Any, Mapping[str, Any], bytes]],
    start: bytes = GENESIS,
    *,
    start_seq: int | None = None,
    end: bytes | None = None,
) -> ChainBreak | None:
    """Check ``(entry_id, entry, stored_hash)`` triples in chain order; ``None`` if intact.

    Returns the first bad entry with a reason naming the likely cause: an edited entry
    (its content no longer matches its hash), a deleted entry (a gap in the chain or in
    ``seq``) or reordered entries (the entry that belongs here comes later).

    ``start`` is the hash before the first entry, to verify from a checkpoint, and
    ``start_seq`` the checkpoint's ``seq`` (from GENESIS the first ``seq`` must be 1).
    ``end``, if given, is the head hash recorded elsewhere; it exposes a truncated tail.
    Entries are streamed: memory stays bounded however long the chain.
    """
    if len(start) != HASH_BYTES:
        raise InvalidInput(
            f"start must be a {HASH_BYTES}-byte hash, got {len(start)} bytes.",
            hint="Pass the stored hash of the checkpoint entry, or leave out start.",
        )
    stream = iter(entries)
    prev = _Link(bytes(start), start_seq, None, 0)
    if start_seq is None and prev.hash == GENESIS:
        prev = _Link(GENESIS, 0, None, 0)
    for entry_id, entry, stored in stream:
        stored = _as_bytes(stored)
        problem = _hash_problem(prev.hash, entry, stored)
        seq = _seq_of(entry)
        if problem is None and (seq is None or prev.seq is None or seq == prev.seq + 1):
            prev = _Link(stored, seq, entry_id, prev.count + 1)
            continue
        ahead = list(islice(stream, LOOKAHEAD))
        reason = _diagnose(entry_id, entry, stored, problem, prev, ahead)
        return ChainBreak(prev.count, entry_id, reason)
    if end is not None and bytes(end) != prev.hash:
        last = f"entry {prev.entry_id!r}" if prev.count else "its start"
        return ChainBreak(
            prev.count,
            None,
            f"the chain ends at {last} but the recorded head hash differs: "
            "entries at the end deleted?",
        )
    return None


@dataclass(frozen=True, slots=True)
class _Link:
    """The last verified entry: its hash, seq, id, and how many entries were verified."""

    hash: bytes
    seq: int | None
    entry_id: Any
    count: int


def _hash_problem(prev_hash: bytes, entry: Mapping[str, Any], stored: bytes) -> str | None:
    """Why ``stored`` is not the hash of ``entry`` after ``prev_hash`` (None if it is)."""
    if len(stored) != HASH_BYTES:
        return f"its stored hash is {len(stored)} bytes instead of {HASH_BYTES}: overwritten?"
    try:
        expected = chain_hash(prev_hash, entry)
    except InvalidInput as exc:
        return f"its content is not valid JSON data ({exc.detail}): edited?"
    return None if expected == stored else _MISMATCH


_MISMATCH = "mismatch"


def _follows(prev_hash: bytes, entry: Mapping[str, Any], stored: bytes) -> bool:
    return _hash_problem(prev_hash, entry, _as_bytes(stored)) is None


def _as_bytes(stored: object) -> bytes:
    """A stored hash as bytes; anything else (e.g. NULL) becomes b"" and fails the check."""
    return bytes(stored) if isinstance(stored, bytes | bytearray | memoryview) else b""


def _diagnose(
    entry_id: Any,
    entry: Mapping[str, Any],
    stored: bytes,
    problem: str | None,
    prev: _Link,
    ahead: list[tuple[Any, Mapping[str, Any], bytes]],
) -> str:
    """Name the likely cause of a break at ``entry`` (the entry after ``prev``)."""
    where = f"entry {entry_id!r}"
    if problem is not None and problem != _MISMATCH:
        return f"{where}: {problem}"
    seq = _seq_of(entry)
    jump = seq is not None and prev.seq is not None and seq != prev.seq + 1
    hidden = "" if problem else "; the hashes were recomputed to hide it"

    if jump and seq == prev.seq:
        return f"seq {seq} appears twice: duplicated or replayed? (at {where}{hidden})"

    # Reordered: the entry that belongs here (by hash link or by seq) comes later.
    for offset, (other_id, other, other_stored) in enumerate(ahead, start=1):
        other_seq = _seq_of(other)
        by_seq = jump and prev.seq is not None and other_seq == prev.seq + 1
        if by_seq or (problem == _MISMATCH and _follows(prev.hash, other, other_stored)):
            later = f"entry {other_id!r} at position {prev.count + offset}"
            if jump and other_seq is not None:
                return (
                    f"seq goes {prev.seq} then {seq}: reordered? (at {where}; "
                    f"seq {other_seq} comes later, {later}{hidden})"
                )
            after = f"entry {prev.entry_id!r}" if prev.count else "the start of the chain"
            return f"{where} is out of order: reordered? ({later} is the one that follows {after})"

    if seq is not None and prev.seq is not None and jump:
        nxt = ahead[0] if ahead else None
        if (
            problem == _MISMATCH
            and nxt is not None
            and _seq_of(nxt[1]) == prev.seq + 2
            and _follows(stored, nxt[1], nxt[2])
        ):
            return (
                f"{where} was edited: its seq reads {seq} where {prev.seq + 1} belongs, and "
                "its content does not match its stored hash"
            )
        if seq > prev.seq + 1:
            missing = (
                f"entry seq {prev.seq + 1} missing"
                if seq == prev.seq + 2
                else f"entries seq {prev.seq + 1}..{seq - 1} missing"
            )
            return f"{missing}: deleted? (before {where}{hidden})"
        return f"seq goes {prev.seq} then {seq}: reordered? (at {where}{hidden})"

    if seq is not None and prev.seq is not None:
        return (
            f"{where} was edited: its content does not match its stored hash "
            f"(its seq {seq} is in place, so nothing before it was deleted)"
        )
    after = f"entry {prev.entry_id!r}" if prev.count else "the start of the chain"
    return (
        f"{where} does not match its stored hash: its content was edited, or an entry "
        f"between {after} and it was deleted"
    )


def _seq_of(entry: Mapping[str, Any]) -> int | None:
    if not isinstance(entry, Mapping):
        return None
    seq = entry.get("seq")
    return seq if type(seq) is int else None


def _plain_json(value: Any, path: str, depth: int) -> Any:
    """``value`` as plain dicts/lists, or InvalidInput naming the first non-JSON part."""
    if depth > _MAX_DEPTH:
        raise InvalidInput(
            f"Audit entry is nested more than {_MAX_DEPTH} levels deep at {path}.",
            hint="Log a flatter summary of the action.",
        )
    if value is None or isinstance(value, str | int):  # bool is an int
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(
                f"Audit entry value at {path} is {value}, which JSON cannot represent.",
                hint="Log a finite number, or null.",
            )
        return value
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(
                    f"Audit entry key {key!r} at {path} is a {type(key).__name__}, not a string.",
                    hint="Use string keys only; JSON objects cannot have other keys.",
                )
            plain[key] = _plain_json(item, f"{path}[{key!r}]", depth + 1)
        return plain
    if isinstance(value, list | tuple):
        return [_plain_json(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise InvalidInput(
        f"Audit entry value at {path} is a {type(value).__name__}, which is not a JSON type.",
        hint="Convert it first: datetimes to ISO 8601 strings, bytes to hex or base64, "
        "sets to sorted lists, decimals to strings.",
    )
