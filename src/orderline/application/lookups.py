"""One-statement reads: outside a transaction where the database offers it, else in a snapshot."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import cast
from uuid import UUID

from orderline.application.ports import Database, UnitOfWork


def one_statement(db: Database, tenant: UUID) -> AbstractAsyncContextManager[UnitOfWork]:
    """A unit of work for a read that is one statement. On PostgreSQL it runs in autocommit, where a
    statement is its own snapshot: the same view a read-only transaction gives, without BEGIN and ROLLBACK
    (ADR 0032). It sees every commit made before it starts."""
    # Not isinstance(db, Lookups): a runtime Protocol check walks the class's attributes on every call, and
    # authentication asks on every request (ADR 0033).
    lookup = getattr(db, "lookup", None)
    return cast(AbstractAsyncContextManager[UnitOfWork], lookup(tenant)) if lookup is not None else db.snapshot(tenant)
