"""The small port every repository talks to: run SQL with ``:name`` parameters, get mapping rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

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
