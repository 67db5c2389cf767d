"""The versions a unit of work read: what optimistic saves compare against."""

from __future__ import annotations

from uuid import uuid4

import pytest

from orderline.application.errors import StaleVersion
from orderline.storage.versions import Seen


def test_a_save_compares_against_the_version_last_read_or_written() -> None:
    seen, record = Seen(), uuid4()

    seen.remember(record, 3)
    seen.remember(record, 4)

    assert seen.version_of(record) == 4


def test_saving_a_record_the_transaction_never_read_is_a_bug_not_a_conflict() -> None:
    with pytest.raises(RuntimeError, match="without having been read"):
        Seen().version_of(uuid4())


def test_a_save_that_changed_no_row_is_stale_and_keeps_the_version_read() -> None:
    seen, record = Seen(), uuid4()
    seen.remember(record, 3)

    with pytest.raises(StaleVersion, match="pet"):
        seen.saved(record, 4, changed=0, what="pet")

    assert seen.version_of(record) == 3


def test_a_save_that_changed_its_row_remembers_the_new_version() -> None:
    seen, record = Seen(), uuid4()
    seen.remember(record, 3)

    seen.saved(record, 4, changed=1, what="pet")

    assert seen.version_of(record) == 4
