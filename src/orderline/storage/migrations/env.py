"""Alembic environment: runs migrations on the async drivers the service already uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orderline.storage.schema import exists_on, metadata

# PostgreSQL's advisory lock for migrations: a 64-bit number no other code uses ("orderlin" in ASCII).
MIGRATION_LOCK_KEY = 0x6F72_6465_726C_696E


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
        include_object=lambda _object, name, *_: exists_on(connection.dialect.name, name),
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Processes migrating one database at once take turns: each waits here for the one before to
            # commit, then finds the schema at head and has nothing left to do. The lock is the
            # transaction's, so it is released at COMMIT, or when a migrating process dies. (SQLite
            # takes a file lock instead: orderline.storage.migrate.)
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(context.config.get_main_option("sqlalchemy.url") or "", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("orderline migrations run online only: orderline migrate --database-url URL")
asyncio.run(_run_online())
