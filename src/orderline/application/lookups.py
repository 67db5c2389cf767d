"""One-statement reads: outside a transaction where the database offers it, else in a snapshot."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from orderline.application.ports import Database, Lookups, UnitOfWork


def one_statement(db: Database) -> AbstractAsyncContextManager[UnitOfWork]:
    """A unit of work for a read that is one statement. On PostgreSQL it runs in autocommit, where a
    statement is its own snapshot: the same view a read-only transaction gives, without BEGIN and ROLLBACK
    (ADR 0032). It sees every commit made before it starts."""
    return db.lookup() if isinstance(db, Lookups) else db.snapshot()
