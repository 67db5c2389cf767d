"""The rules the README test compares by: JSON by shape, plain lines by form."""

from __future__ import annotations

from typing import Any

import pytest

from tests.shapes import json_documents, normalised, printed, shape_differences

ID = "01a20243-32d5-745c-84d9-46458af4f5b8"
OTHER_ID = "01a2028f-a733-766d-8851-fee7a63a4197"
TIME = "2026-11-22T07:58:08.085830Z"


def test_the_same_shape_with_other_ids_times_names_and_amounts_matches() -> None:
    shown = {"id": ID, "name": "Whiskers", "total": "150.00", "version": 1, "at": TIME, "items": [{"q": 1}]}
    got = {"id": OTHER_ID, "name": "Biscuit", "total": "250.00", "version": 5, "at": "2027-01-01T00:00:00Z",
           "items": [{"q": 2}]}  # fmt: skip

    assert shape_differences(shown, got) == []


@pytest.mark.parametrize(
    ("shown", "got"),
    [
        pytest.param({"a": 1, "b": 2}, {"a": 1}, id="a-shown-key-is-not-printed"),
        pytest.param({"a": 1}, {"a": 1, "b": 2}, id="a-printed-key-is-not-shown"),
        pytest.param({"a": {"b": {"c": 1}}}, {"a": {"b": {"d": 1}}}, id="keys-deep-inside"),
        pytest.param({"status": "PLACED"}, {"status": "CANCELLED"}, id="an-upper-case-value"),
        pytest.param({"id": ID}, {"id": "1001"}, id="an-id-that-is-not-one"),
        pytest.param({"at": TIME}, {"at": "yesterday"}, id="a-timestamp-that-is-not-one"),
        pytest.param({"note": None}, {"note": "hello"}, id="null-shown-a-string-printed"),
        pytest.param({"total": "150.00"}, {"total": 150.0}, id="a-string-shown-a-number-printed"),
        pytest.param({"n": 1}, {"n": True}, id="a-number-shown-a-boolean-printed"),
        pytest.param({"data": [1, 2]}, {"data": [1]}, id="an-array-of-another-length"),
        pytest.param({"data": []}, {"data": {}}, id="an-array-shown-an-object-printed"),
        pytest.param([{"status": "PLACED"}], [{"status": "APPROVED"}], id="inside-an-array"),
    ],
)
def test_a_difference_in_shape_is_reported(shown: Any, got: Any) -> None:
    assert shape_differences(shown, got) != []


def test_json_blocks_may_hold_several_documents_wrapped_over_lines() -> None:
    text = '{"a": 1,\n "b": [1,\n 2]}\n[3]\n'

    assert json_documents(text) == [{"a": 1, "b": [1, 2]}, [3]]


def test_printed_output_is_split_into_json_documents_and_other_lines() -> None:
    output = '{"status": "CANCELLED"}\n200\nAVAILABLE\n{"a": 1}{"b": 2}[not json\n'

    documents, lines = printed(output)

    assert documents == [{"status": "CANCELLED"}, {"a": 1}, {"b": 2}]
    assert lines == ["200", "AVAILABLE", "[not json"]


def test_lines_are_compared_exactly_but_for_the_values_of_ids_and_timestamps() -> None:
    shown = [f"created admin admin ({ID})", f"CANCELLED REFUNDED {TIME}"]

    assert normalised([f"created admin admin ({OTHER_ID})", "CANCELLED REFUNDED 2027-01-01T00:00:00Z"]) == normalised(
        shown
    )
    assert normalised(["CANCELLED REFUND_FAILED 2027-01-01T00:00:00Z"]) != normalised(shown[1:])
