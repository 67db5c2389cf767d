"""storage/rows.py: values as the drivers return them, read back as the domain's types, whatever form was stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from orderline.storage.rows import as_datetime, as_uuid

ID = uuid.UUID("0190f5c2-7d3e-7a1b-8c2d-0000000000c3")


@pytest.mark.parametrize(
    "stored",
    [
        "0190f5c27d3e7a1b8c2d0000000000c3",  # what the SQLite adapter writes
        "0190F5C27D3E7A1B8C2D0000000000C3",
        "0190f5c2-7d3e-7a1b-8c2d-0000000000c3",
        "{0190f5c2-7d3e-7a1b-8c2d-0000000000c3}",  # forms only the standard library reads: the long way
        "urn:uuid:0190f5c2-7d3e-7a1b-8c2d-0000000000c3",
    ],
)
def test_a_stored_id_in_any_form_uuid_reads_is_that_uuid(stored: str) -> None:
    parsed = as_uuid(stored)

    assert type(parsed) is uuid.UUID
    assert parsed == ID
    assert hash(parsed) == hash(ID)
    assert str(parsed) == str(ID)


def test_a_uuid_from_the_driver_is_kept_as_it_is() -> None:
    assert as_uuid(ID) is ID


@pytest.mark.parametrize("stored", ["", "nope", "0190f5c27d3e7a1b8c2d0000000000c", " 0190f5c27d3e7a1b8c2d0000000000c3"])
def test_text_that_is_no_uuid_is_refused_as_the_standard_library_refuses_it(stored: str) -> None:
    with pytest.raises(ValueError, match="badly formed"):
        as_uuid(stored)


def test_a_stored_moment_is_read_in_utc_whatever_its_form() -> None:
    moment = datetime(2026, 12, 1, 8, 49, 29, 875998, tzinfo=UTC)

    assert as_datetime("2026-12-01 08:49:29.875998") == moment
    assert as_datetime("2026-12-01T09:49:29.875998+01:00") == moment
    assert as_datetime(moment) == moment
