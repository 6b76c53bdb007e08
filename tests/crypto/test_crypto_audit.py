"""Audit hash chain: an intact log verifies; edits, deletions and reorderings are caught."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelvault.crypto import GENESIS, ChainBreak, canonical_entry, chain_hash, verify_chain
from labelvault.errors import InvalidInput

Row = tuple[Any, dict[str, Any], bytes]


def make_entries(n: int, *, with_seq: bool = True) -> list[dict[str, Any]]:
    entries = []
    for i in range(1, n + 1):
        entry: dict[str, Any] = {"action": "item.read", "actor": i % 3, "item": 100 + i}
        if with_seq:
            entry["seq"] = i
        entries.append(entry)
    return entries


def chain(entries: list[dict[str, Any]], start: bytes = GENESIS) -> list[Row]:
    """Rows as the database would hold them: (id, entry, stored hash)."""
    rows, prev = [], start
    for i, entry in enumerate(entries, start=1):
        prev = chain_hash(prev, entry)
        rows.append((f"e{i}", entry, prev))
    return rows


# canonical form -----------------------------------------------------------------------------


def test_canonical_entry_is_sorted_compact_utf8() -> None:
    entry = {"b": [1, 2.5, None, True], "a": "ünïcode ✓", "c": {"z": 1, "y": "x"}}
    expected = '{"a":"ünïcode ✓","b":[1,2.5,null,true],"c":{"y":"x","z":1}}'.encode()
    assert canonical_entry(entry) == expected
    assert canonical_entry(dict(reversed(list(entry.items())))) == expected


@pytest.mark.parametrize(
    "bad",
    [
        {"at": dt.datetime(2024, 1, 1)},
        {"blob": b"\x00"},
        {"tags": {"a"}},
        {"score": float("nan")},
        {"score": float("inf")},
        {"nested": {1: "int key"}},
        {"text": "\ud800"},
    ],
)
def test_canonical_entry_rejects_non_json(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as info:
        canonical_entry(bad)
    assert info.value.hint


def test_chain_hash_is_sha256_of_previous_hash_and_entry() -> None:
    entry = {"seq": 1, "action": "login"}
    assert (
        chain_hash(GENESIS, entry)
        == hashlib.sha256(GENESIS + b'{"action":"login","seq":1}').digest()
    )
    assert bytes(32) == GENESIS
    with pytest.raises(InvalidInput):
        chain_hash(b"short", entry)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"])),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_canonical_entry_ignores_key_order(entry: dict[str, Any]) -> None:
    shuffled = dict(sorted(entry.items(), reverse=True))
    assert canonical_entry(entry) == canonical_entry(shuffled)


# verification -------------------------------------------------------------------------------


def test_intact_chain_verifies() -> None:
    assert verify_chain(chain(make_entries(50))) is None
    assert verify_chain(chain(make_entries(50, with_seq=False))) is None
    assert verify_chain([]) is None


def test_verify_streams_from_a_generator() -> None:
    def rows() -> Iterator[Row]:
        yield from chain(make_entries(10))

    assert verify_chain(rows()) is None


def test_verify_from_a_checkpoint() -> None:
    rows = chain(make_entries(20))
    checkpoint = rows[9][2]
    assert verify_chain(rows[10:], start=checkpoint, start_seq=10) is None
    broken = verify_chain(rows[11:], start=checkpoint, start_seq=10)
    assert broken is not None and "seq 11 missing" in broken.reason


def test_edited_entry_is_found_at_its_position() -> None:
    rows = chain(make_entries(10))
    entry_id, entry, stored = rows[4]
    rows[4] = (entry_id, {**entry, "actor": 99}, stored)
    assert verify_chain(rows) == ChainBreak(
        4,
        "e5",
        "entry 'e5' was edited: its content does not match its stored hash "
        "(its seq 5 is in place, so nothing before it was deleted)",
    )


def test_edited_hash_is_found() -> None:
    rows = chain(make_entries(10))
    rows[2] = (rows[2][0], rows[2][1], bytes(32))
    found = verify_chain(rows)
    assert found is not None and found.position == 2 and "edited" in found.reason


def test_edited_seq_field_is_reported_as_an_edit() -> None:
    rows = chain(make_entries(10))
    rows[3] = ("e4", {**rows[3][1], "seq": 9}, rows[3][2])
    found = verify_chain(rows)
    assert found is not None and found.position == 3
    assert "its seq reads 9 where 4 belongs" in found.reason


def test_deleted_entry_is_found_after_the_gap() -> None:
    rows = chain(make_entries(10))
    del rows[6]
    found = verify_chain(rows)
    assert found is not None
    assert (found.position, found.entry_id) == (6, "e8")
    assert found.reason.startswith("entry seq 7 missing: deleted?")


def test_several_deleted_entries() -> None:
    rows = chain(make_entries(10))
    del rows[2:5]
    found = verify_chain(rows)
    assert found is not None and found.position == 2
    assert found.reason.startswith("entries seq 3..5 missing: deleted?")


def test_deleted_first_entry() -> None:
    found = verify_chain(chain(make_entries(5))[1:])
    assert found is not None and (found.position, found.entry_id) == (0, "e2")
    assert "entry seq 1 missing: deleted?" in found.reason


def test_swapped_entries_are_reported_as_reordered() -> None:
    rows = chain(make_entries(10))
    rows[3], rows[4] = rows[4], rows[3]
    found = verify_chain(rows)
    assert found is not None and (found.position, found.entry_id) == (3, "e5")
    assert found.reason.startswith("seq goes 3 then 5: reordered?")
    assert "seq 4 comes later" in found.reason


def test_entry_moved_far_later_is_reported_as_reordered() -> None:
    rows = chain(make_entries(30))
    rows.append(rows.pop(5))
    found = verify_chain(rows)
    assert found is not None and found.position == 5
    assert "reordered?" in found.reason and "position 29" in found.reason


def test_without_seq_edit_and_reorder_are_still_caught() -> None:
    rows = chain(make_entries(10, with_seq=False))
    edited = list(rows)
    edited[2] = ("e3", {**rows[2][1], "item": 0}, rows[2][2])
    found = verify_chain(edited)
    assert found is not None and found.position == 2
    assert "edited, or an entry between entry 'e2' and it was deleted" in found.reason

    swapped = list(rows)
    swapped[6], swapped[7] = swapped[7], swapped[6]
    found = verify_chain(swapped)
    assert found is not None and found.position == 6
    assert "reordered?" in found.reason and "'e7' at position 7" in found.reason

    assert verify_chain(rows[:4] + rows[5:]) == ChainBreak(
        4,
        "e6",
        "entry 'e6' does not match its stored hash: its content was edited, or an entry "
        "between entry 'e4' and it was deleted",
    )


def test_deletion_hidden_by_recomputed_hashes_is_caught_by_seq() -> None:
    entries = make_entries(8)
    del entries[3]
    found = verify_chain(chain(entries))
    assert found is not None and found.position == 3
    assert found.reason == (
        "entry seq 4 missing: deleted? (before entry 'e4'; the hashes were recomputed to hide it)"
    )


def test_reordering_hidden_by_recomputed_hashes_is_caught_by_seq() -> None:
    entries = make_entries(8)
    entries[5], entries[6] = entries[6], entries[5]  # seq 1..5, 7, 6, 8
    found = verify_chain(chain(entries))
    assert found is not None and found.position == 5
    assert found.reason.startswith("seq goes 5 then 7: reordered?")


def test_seq_going_backwards_is_reported() -> None:
    entries = make_entries(8)
    entries[6]["seq"] = 3  # rehashed: 1..6, 3, 8
    found = verify_chain(chain(entries))
    assert found is not None and found.position == 6
    assert found.reason.startswith("seq goes 6 then 3: reordered?")


def test_replayed_entry_is_reported() -> None:
    entries = make_entries(5)
    entries.insert(3, dict(entries[2]))
    found = verify_chain(chain(entries))
    assert found is not None and found.position == 3
    assert found.reason.startswith("seq 3 appears twice")


def test_truncated_tail_needs_the_recorded_head() -> None:
    rows = chain(make_entries(10))
    head = rows[-1][2]
    assert verify_chain(rows, end=head) is None
    found = verify_chain(rows[:7], end=head)
    assert found is not None and (found.position, found.entry_id) == (7, None)
    assert "deleted?" in found.reason


def test_unreadable_stored_entry_is_a_break_not_a_crash() -> None:
    rows: list[Any] = chain(make_entries(4))
    rows[1] = ("e2", {"seq": 2, "bad": float("nan")}, rows[1][2])
    rows[3] = ("e4", rows[3][1], b"\x00" * 5)
    found = verify_chain(rows)
    assert found is not None and found.position == 1 and "not valid JSON" in found.reason
    found = verify_chain(rows[2:], start=rows[1][2], start_seq=2)
    assert found is not None and found.position == 1 and "5 bytes" in found.reason


# properties ---------------------------------------------------------------------------------

sizes = st.integers(min_value=2, max_value=40)


@given(sizes, st.data(), st.booleans())
def test_any_edit_is_found_exactly_where_it_is(n: int, data: st.DataObject, with_seq: bool) -> None:
    rows = chain(make_entries(n, with_seq=with_seq))
    k = data.draw(st.integers(0, n - 1), label="k")
    rows[k] = (rows[k][0], {**rows[k][1], "action": "tampered"}, rows[k][2])
    found = verify_chain(rows)
    assert found is not None and found.position == k and found.entry_id == f"e{k + 1}"
    assert "edited" in found.reason


@given(sizes, st.data())
def test_any_deletion_is_found_where_the_gap_is(n: int, data: st.DataObject) -> None:
    rows = chain(make_entries(n))
    k = data.draw(st.integers(0, n - 2), label="k")
    del rows[k]
    found = verify_chain(rows)
    assert found is not None and found.position == k
    assert f"entry seq {k + 1} missing: deleted?" in found.reason


@given(sizes, st.data(), st.booleans())
def test_any_swap_is_found_at_the_first_moved_entry(
    n: int, data: st.DataObject, with_seq: bool
) -> None:
    rows = chain(make_entries(n, with_seq=with_seq))
    i = data.draw(st.integers(0, n - 2), label="i")
    j = data.draw(st.integers(i + 1, n - 1), label="j")
    rows[i], rows[j] = rows[j], rows[i]
    found = verify_chain(rows)
    assert found is not None and found.position == i
    assert "reordered?" in found.reason


def test_copied_row_is_reported_as_replayed() -> None:
    rows = chain(make_entries(5))
    rows.insert(3, rows[2])
    found = verify_chain(rows)
    assert found is not None and found.position == 3
    assert found.reason.startswith("seq 3 appears twice: duplicated or replayed?")


def test_missing_stored_hash_is_a_break() -> None:
    rows: list[Any] = chain(make_entries(3))
    rows[1] = ("e2", rows[1][1], None)
    found = verify_chain(rows)
    assert found is not None and found.position == 1 and "0 bytes" in found.reason
    with pytest.raises(InvalidInput):
        verify_chain(rows, start=b"x")
