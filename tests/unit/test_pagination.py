"""Cursors: what a list writes reads back as it was, and any other text is a 422 on ``cursor``, never a crash."""

from __future__ import annotations

import base64
import json
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderline.application.errors import InvalidInput
from orderline.application.pagination import MAX_SEQ, Cursor, decode_id_cursor, decode_seq_cursor, page_of

KINDS = st.sampled_from(["orders", "pets", "users", "vouchers", "audit"])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _refused_or_read(cursor: str) -> None:
    """Either a key, or InvalidInput on ``cursor``: any other exception fails the property."""
    for decode in (decode_id_cursor, decode_seq_cursor):
        refusals: list[InvalidInput] = []
        try:
            decode("orders", cursor)
        except InvalidInput as refusal:
            refusals.append(refusal)
        assert all(refusal.field == "cursor" for refusal in refusals)


@given(kind=KINDS, seq=st.integers(1, MAX_SEQ))
def test_a_sequence_cursor_reads_back_as_it_was_written(kind: str, seq: int) -> None:
    assert decode_seq_cursor(kind, Cursor(kind, seq).encode()) == seq


@given(kind=KINDS, key=st.uuids())
def test_an_id_cursor_reads_back_as_it_was_written(kind: str, key: UUID) -> None:
    assert decode_id_cursor(kind, Cursor(kind, key).encode()) == key


@given(st.text(max_size=400))
def test_any_text_is_read_or_refused_on_cursor(cursor: str) -> None:
    _refused_or_read(cursor)


@given(st.binary(max_size=300))
def test_any_bytes_in_base64_are_read_or_refused_on_cursor(raw: bytes) -> None:
    _refused_or_read(_b64(raw))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(), lambda inner: (
    st.lists(inner) | st.dictionaries(st.text(), inner)), max_leaves=30))  # fmt: skip
def test_any_json_in_base64_is_read_or_refused_on_cursor(value: object) -> None:
    _refused_or_read(_b64(json.dumps({"k": "orders", "v": value}).encode()))


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000 + b"]" * 100_000, b'{"k":"orders","v":' + b"[" * 5000 + b"]" * 5000 + b"}"],
    ids=["nested", "nested-key"],
)
def test_a_deeply_nested_cursor_is_refused_without_being_parsed(raw: bytes) -> None:
    with pytest.raises(InvalidInput):
        decode_seq_cursor("orders", _b64(raw))


@pytest.mark.parametrize(
    ("kind", "key"),
    [("pets", 7), ("orders", UUID(int=1)), ("orders", MAX_SEQ + 1), ("orders", 0), ("orders", True)],
    ids=["other-list", "id-for-seq", "beyond-bigint", "zero", "bool"],
)
def test_a_cursor_of_another_list_or_key_is_refused(kind: str, key: object) -> None:
    raw = json.dumps({"k": kind, "v": str(key) if isinstance(key, UUID) else key}).replace(" ", "").encode()

    with pytest.raises(InvalidInput):
        decode_seq_cursor("orders", _b64(raw))


def test_a_full_page_carries_the_cursor_of_its_last_row() -> None:
    page = page_of([3, 2, 1], 2, "orders", lambda seq: seq)

    assert (page.items, decode_seq_cursor("orders", page.next_cursor or "")) == ([3, 2], 2)
