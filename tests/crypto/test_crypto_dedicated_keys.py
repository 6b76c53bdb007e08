"""Dedicated (per-project) key-encryption keys: created, used, destroyed for good."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelvault.crypto import DataKey, InMemoryKeyProvider, LocalKeyFileProvider
from labelvault.errors import Conflict, ServiceUnavailable


@pytest.fixture(params=["file", "memory"])
def provider(request, tmp_path: Path):
    if request.param == "file":
        return LocalKeyFileProvider.create(tmp_path / "master.key")
    return InMemoryKeyProvider()


def test_a_destroyed_key_cannot_unwrap_what_it_wrapped(provider):
    dek = DataKey.generate().raw
    kek_id = provider.add_key()
    assert kek_id != provider.current_kek_id()
    wrapped = provider.wrap_with(kek_id, dek, context=b"project:1")
    assert provider.unwrap(kek_id, wrapped, context=b"project:1") == dek
    provider.destroy_key(kek_id)
    with pytest.raises(ServiceUnavailable):
        provider.unwrap(kek_id, wrapped, context=b"project:1")


def test_destroy_survives_reopening_the_key_file(tmp_path: Path):
    path = tmp_path / "master.key"
    provider = LocalKeyFileProvider.create(path)
    keep, drop = provider.add_key(), provider.add_key()
    provider.destroy_key(drop)
    reopened = LocalKeyFileProvider(path)
    assert keep in reopened.kek_ids() and drop not in reopened.kek_ids()
    assert drop not in path.read_text()
    assert (path.stat().st_mode & 0o777) == 0o600


def test_a_key_added_by_another_process_is_found(tmp_path: Path):
    path = tmp_path / "master.key"
    one = LocalKeyFileProvider.create(path)
    two = LocalKeyFileProvider(path)
    kek_id = one.add_key()
    wrapped = one.wrap_with(kek_id, b"k" * 32, context=b"c")
    assert two.unwrap(kek_id, wrapped, context=b"c") == b"k" * 32
    assert two.wrap_with(kek_id, b"k" * 32, context=b"c") != wrapped


def test_the_current_master_key_cannot_be_destroyed(provider):
    with pytest.raises(Conflict):
        provider.destroy_key(provider.current_kek_id())
