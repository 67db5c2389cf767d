"""The small port every repository talks to: run SQL with ``:name`` parameters, get mapping rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

Params = Mapping[str, Any]


class Row(Protocol):
    """A result row by column name: sqlite3.Row and asyncpg.Record both are."""

    def __getitem__(self, key: str, /) -> Any: ...


class UniqueViolation(Exception):
    """A write broke a unique constraint; ``detail`` names the constraint or its columns."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Connection(Protocol):
    """One driver connection inside a transaction. SQL uses ``:name`` placeholders on both engines."""

    dialect: str  # "sqlite" or "postgresql"

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]: ...
    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None: ...
    async def execute(self, sql: str, params: Params | None = None) -> int:
        """Run a statement and return how many rows it changed; a broken unique constraint is UniqueViolation."""
        ...

    def for_update(self) -> str:
        """The row-lock clause for a SELECT in a write transaction ('' where writes are serialised)."""
        ...

    async def next_value(self, sequence: str, table: str, column: str) -> int:
        """The next value of a monotonic counter (a sequence, or MAX + 1 under SQLite's write lock)."""
        ...

    async def write(self, write: Write) -> None:
        """Run ``write`` now or with the next statement or COMMIT of this transaction, whichever comes first:
        every later statement sees it, and its check has run before any later result is returned."""
        ...

    async def lock(self, table: str, row_id: UUID, tenant: UUID) -> bool:
        """Lock the row of ``table`` with id ``row_id`` of ``tenant`` for this transaction; False if there is none
        (True where writes are serialised anyway: the read that follows tells)."""
        ...


@dataclass(frozen=True, slots=True)
class Write:
    """An INSERT, UPDATE or DELETE (no RETURNING) whose only result anyone reads is how many rows it changed.

    PostgreSQL sends it later, with the statements queued beside it, as one statement (ADR 0034); SQLite runs
    it at once. ``row`` names the one row an UPDATE or DELETE changes, so two writes of it never share a
    statement (PostgreSQL leaves which one wins open). ``check`` is told the row count and may raise.
    ``returning`` and ``summary`` say what PostgreSQL's statement returns for it (the outbox's NOTIFY).
    """

    sql: str
    params: Params
    row: tuple[str, Any] | None = None
    check: Callable[[int], None] | None = None
    returning: str = "1"
    summary: str = "count(*)"
