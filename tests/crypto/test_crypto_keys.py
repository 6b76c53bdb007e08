"""Key providers: wrapped data keys, the local key file, rotation."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from labelvault.crypto import (
    DataKey,
    InMemoryKeyProvider,
    KeyProvider,
    LocalKeyFileProvider,
    rewrap,
)
from labelvault.errors import Conflict, IntegrityError, ServiceUnavailable

CTX = b"project:42"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "master.json"


@pytest.fixture
def provider(key_file: Path) -> LocalKeyFileProvider:
    return LocalKeyFileProvider.create(key_file)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_writes_a_private_key_file(provider: LocalKeyFileProvider, key_file: Path) -> None:
    assert mode(key_file) == 0o600
    doc = json.loads(key_file.read_text())
    assert doc["current"] == provider.current_kek_id()
    assert len(base64.b64decode(doc["keys"][doc["current"]])) == 32
    assert isinstance(provider, KeyProvider)


def test_wrap_unwrap_round_trip(provider: LocalKeyFileProvider, key_file: Path) -> None:
    dek = DataKey.generate()
    kek_id, wrapped = provider.wrap(dek.raw, context=CTX)
    assert kek_id == provider.current_kek_id()
    assert wrapped[0] == 1 and len(wrapped) == 1 + 12 + 32 + 16
    assert dek.raw not in wrapped
    # A new process reading the same file gets the same key back.
    assert LocalKeyFileProvider(key_file).unwrap(kek_id, wrapped, context=CTX) == dek.raw


def test_create_refuses_to_overwrite(provider: LocalKeyFileProvider, key_file: Path) -> None:
    before = key_file.read_bytes()
    with pytest.raises(Conflict) as info:
        LocalKeyFileProvider.create(key_file)
    assert str(key_file) in info.value.detail
    assert "unreadable" in (info.value.hint or "")
    assert key_file.read_bytes() == before


def test_missing_key_file_says_what_and_how(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ServiceUnavailable) as info:
        LocalKeyFileProvider(missing)
    assert str(missing) in info.value.detail
    assert "does not exist" in info.value.detail
    assert "backup" in (info.value.hint or "")


def test_key_file_readable_by_others_is_refused(
    provider: LocalKeyFileProvider, key_file: Path
) -> None:
    key_file.chmod(0o644)
    with pytest.raises(ServiceUnavailable) as info:
        LocalKeyFileProvider(key_file)
    assert "0644" in info.value.detail
    assert info.value.hint == f"Restrict it to its owner: chmod 600 {key_file}"


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"current": "a", "keys": {}}',
        b'{"current": "a", "keys": {"a": "c2hvcnQ="}}',
        b'{"current": "a", "keys": {"a": "!!!"}}',
    ],
)
def test_damaged_key_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "k.json"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(ServiceUnavailable) as info:
        LocalKeyFileProvider(path)
    assert str(path) in info.value.detail
    assert info.value.hint


def test_wrapped_key_opens_only_under_its_context(provider: LocalKeyFileProvider) -> None:
    kek_id, wrapped = provider.wrap(DataKey.generate().raw, context=CTX)
    with pytest.raises(IntegrityError):
        provider.unwrap(kek_id, wrapped, context=b"project:43")


@pytest.mark.parametrize("index", [0, 1, 13, -1])
def test_tampered_wrapped_key_fails(provider: LocalKeyFileProvider, index: int) -> None:
    kek_id, wrapped = provider.wrap(DataKey.generate().raw, context=CTX)
    bad = bytearray(wrapped)
    bad[index] ^= 0x01
    with pytest.raises(IntegrityError):
        provider.unwrap(kek_id, bytes(bad), context=CTX)


def test_wrong_kek_with_the_same_id_fails(provider: LocalKeyFileProvider, tmp_path: Path) -> None:
    kek_id, wrapped = provider.wrap(DataKey.generate().raw, context=CTX)
    impostor = tmp_path / "impostor.json"
    impostor.write_text(
        json.dumps({"current": kek_id, "keys": {kek_id: base64.b64encode(os.urandom(32)).decode()}})
    )
    impostor.chmod(0o600)
    with pytest.raises(IntegrityError, match=kek_id):
        LocalKeyFileProvider(impostor).unwrap(kek_id, wrapped, context=CTX)


def test_unknown_kek_names_the_missing_key(provider: LocalKeyFileProvider, tmp_path: Path) -> None:
    other = LocalKeyFileProvider.create(tmp_path / "other.json")
    kek_id, wrapped = other.wrap(DataKey.generate().raw, context=CTX)
    with pytest.raises(ServiceUnavailable, match=kek_id) as info:
        provider.unwrap(kek_id, wrapped, context=CTX)
    assert "Restore" in (info.value.hint or "")


def test_rotate_keeps_old_wraps_readable(provider: LocalKeyFileProvider, key_file: Path) -> None:
    dek = DataKey.generate().raw
    old_id, old_wrapped = provider.wrap(dek, context=CTX)
    new_id = provider.rotate()
    assert new_id != old_id
    assert provider.current_kek_id() == new_id
    wrapped_id, new_wrapped = provider.wrap(dek, context=CTX)
    assert wrapped_id == new_id
    assert provider.unwrap(old_id, old_wrapped, context=CTX) == dek
    assert provider.unwrap(new_id, new_wrapped, context=CTX) == dek
    reloaded = LocalKeyFileProvider(key_file)
    assert reloaded.current_kek_id() == new_id
    assert set(reloaded.kek_ids()) == {old_id, new_id}
    assert mode(key_file) == 0o600
    assert sorted(p.name for p in key_file.parent.iterdir() if not p.name.endswith(".lock")) == [
        key_file.name
    ]


def test_other_processes_pick_up_a_rotation(provider: LocalKeyFileProvider, key_file: Path) -> None:
    stale = LocalKeyFileProvider(key_file)
    provider.rotate()
    kek_id, wrapped = provider.wrap(b"k" * 32, context=CTX)
    assert stale.unwrap(kek_id, wrapped, context=CTX) == b"k" * 32


def test_two_rotations_from_stale_copies_keep_both_keys(
    provider: LocalKeyFileProvider, key_file: Path
) -> None:
    other = LocalKeyFileProvider(key_file)
    first = provider.rotate()
    second = other.rotate()
    assert {first, second} <= set(LocalKeyFileProvider(key_file).kek_ids())


def test_rewrap_moves_a_key_to_the_current_kek(provider: LocalKeyFileProvider) -> None:
    dek = DataKey.generate().raw
    old = provider.wrap(dek, context=CTX)
    provider.rotate()
    kek_id, wrapped = rewrap(provider, *old, context=CTX)
    assert kek_id == provider.current_kek_id() != old[0]
    assert provider.unwrap(kek_id, wrapped, context=CTX) == dek
    assert rewrap(provider, kek_id, wrapped, context=CTX) == (kek_id, wrapped)


def test_in_memory_provider_behaves_like_the_file_one() -> None:
    memory = InMemoryKeyProvider()
    assert isinstance(memory, KeyProvider)
    old = memory.wrap(b"d" * 32, context=CTX)
    memory.rotate()
    assert memory.unwrap(*old, context=CTX) == b"d" * 32
    with pytest.raises(IntegrityError):
        memory.unwrap(*old, context=b"project:1")
