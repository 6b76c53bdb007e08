"""DataKey / aad: values encrypted at rest open only with the right key, in the right place."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelvault.crypto import BLOB_OVERHEAD, DataKey, aad, aad_many
from labelvault.errors import IntegrityError, InvalidInput

KEY = DataKey.generate()
HERE = aad(42, 7, "payload")


def test_round_trip() -> None:
    blob = KEY.encrypt(b'{"text": "hello"}', HERE)
    assert KEY.decrypt(blob, HERE) == b'{"text": "hello"}'


def test_blob_is_versioned_and_hides_the_plaintext() -> None:
    plaintext = b"secret patient note"
    blob = KEY.encrypt(plaintext, HERE)
    assert blob[0] == 1
    assert len(blob) == len(plaintext) + BLOB_OVERHEAD == len(plaintext) + 1 + 12 + 16
    assert plaintext not in blob


def test_same_plaintext_encrypts_differently_each_time() -> None:
    assert KEY.encrypt(b"same", HERE) != KEY.encrypt(b"same", HERE)


def test_key_can_be_rebuilt_from_its_raw_bytes() -> None:
    blob = KEY.encrypt(b"x", HERE)
    assert DataKey(KEY.raw).decrypt(blob, HERE) == b"x"
    assert DataKey(KEY.raw) == KEY


@pytest.mark.parametrize(
    "elsewhere",
    [aad(42, 8, "payload"), aad(43, 7, "payload"), aad(42, 7, "value"), b""],
    ids=["other-row", "other-project", "other-column", "no-aad"],
)
def test_ciphertext_moved_elsewhere_fails(elsewhere: bytes) -> None:
    blob = KEY.encrypt(b"confidential", HERE)
    with pytest.raises(IntegrityError) as info:
        KEY.decrypt(blob, elsewhere)
    assert "moved" in (info.value.hint or "")


def test_wrong_key_fails() -> None:
    blob = KEY.encrypt(b"confidential", HERE)
    with pytest.raises(IntegrityError):
        DataKey.generate().decrypt(blob, HERE)


@given(st.binary(max_size=64), st.data())
def test_any_flipped_bit_is_detected(plaintext: bytes, data: st.DataObject) -> None:
    blob = bytearray(KEY.encrypt(plaintext, HERE))
    index = data.draw(st.integers(0, len(blob) - 1), label="index")
    bit = data.draw(st.integers(0, 7), label="bit")
    blob[index] ^= 1 << bit
    with pytest.raises(IntegrityError):
        KEY.decrypt(bytes(blob), HERE)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + bytes(27), b"\x02" + bytes(40)])
def test_truncated_or_unknown_format_fails(blob: bytes) -> None:
    with pytest.raises(IntegrityError) as info:
        KEY.decrypt(blob, HERE)
    assert "lv1|p=42|r=7|c=payload" in info.value.detail


@pytest.mark.parametrize("raw", [b"", bytes(16), bytes(31), bytes(33)])
def test_data_key_must_be_32_bytes(raw: bytes) -> None:
    with pytest.raises(InvalidInput, match="32 bytes"):
        DataKey(raw)


def test_repr_does_not_leak_the_key() -> None:
    assert KEY.raw.hex() not in repr(KEY)
    assert repr(KEY.raw) not in repr(KEY)


def test_encrypt_many_round_trip_and_binding() -> None:
    plaintexts = [f"item {i}".encode() for i in range(500)]
    aads = aad_many(5, range(1, 501), "payload")
    blobs = KEY.encrypt_many(plaintexts, aads)
    assert len({blob[1:13] for blob in blobs}) == len(blobs)  # fresh nonce for each
    assert KEY.decrypt_many(blobs, aads) == plaintexts
    assert [KEY.decrypt(b, a) for b, a in zip(blobs, aads, strict=True)] == plaintexts
    with pytest.raises(IntegrityError):
        KEY.decrypt_many(blobs[1:] + blobs[:1], aads)  # rows shuffled


def test_encrypt_many_of_nothing() -> None:
    assert KEY.encrypt_many([], []) == []


def test_bulk_calls_need_one_aad_per_value() -> None:
    with pytest.raises(InvalidInput, match="2 plaintexts but 1"):
        KEY.encrypt_many([b"a", b"b"], [HERE])
    with pytest.raises(InvalidInput, match="1 blobs but 0"):
        KEY.decrypt_many([KEY.encrypt(b"a", HERE)], [])


def test_aad_encoding_is_stable() -> None:
    # Changing this breaks every stored ciphertext: it is a storage format.
    assert aad(42, 7, "payload") == b"lv1|p=42|r=7|c=payload"
    assert aad_many(42, [7, 8], "value") == [b"lv1|p=42|r=7|c=value", b"lv1|p=42|r=8|c=value"]


places = st.tuples(
    st.integers(0, 10**12),
    st.integers(0, 10**12),
    st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
)


@given(places, places)
def test_aad_is_unambiguous(a: tuple[int, int, str], b: tuple[int, int, str]) -> None:
    assert (aad(*a) == aad(*b)) == (a == b)


@pytest.mark.parametrize(
    ("project_id", "row_id", "column"),
    [(1, 1, "Payload"), (1, 1, "pay|load"), (1, 1, ""), (-1, 1, "payload"), (1, True, "payload")],
)
def test_aad_rejects_ambiguous_parts(project_id: int, row_id: int, column: str) -> None:
    with pytest.raises(InvalidInput):
        aad(project_id, row_id, column)
