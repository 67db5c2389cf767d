"""What a unit of work loaded: the version of each record as read, so saves need no version bookkeeping."""

from __future__ import annotations

from uuid import UUID

from orderline.application.errors import StaleVersion


class Seen:
    """The versions one repository read or wrote in its transaction, by record id.

    A save is ``UPDATE … WHERE id = :id AND version = :seen``: it succeeds only if nobody changed the
    record since this transaction read it. Saving a record this transaction never read is a bug.
    """

    def __init__(self) -> None:
        self._versions: dict[UUID, int] = {}

    def remember(self, record_id: UUID, version: int) -> None:
        self._versions[record_id] = version

    def version_of(self, record_id: UUID) -> int:
        try:
            return self._versions[record_id]
        except KeyError:
            raise RuntimeError(f"{record_id} is saved without having been read in this transaction") from None

    def saved(self, record_id: UUID, version: int, *, changed: int, what: str) -> None:
        """After ``UPDATE … WHERE id = :id AND version = :seen``: StaleVersion unless it changed the row (someone
        else changed it first), else the version written is the one a further save compares against."""
        if changed != 1:
            raise StaleVersion(f"{what} was changed by someone else", id=str(record_id))
        self.remember(record_id, version)
