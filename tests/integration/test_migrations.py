"""Migrations: an empty database upgraded to head has exactly the schema the metadata describes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orderline.storage.database import DatabaseUrl
from orderline.storage.migrate import head_revision
from orderline.storage.schema import metadata


def _drift(url: DatabaseUrl) -> tuple[list[Any], str | None]:
    def compare(connection: Connection) -> tuple[list[Any], str | None]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata)), context.get_current_revision()

    async def run() -> tuple[list[Any], str | None]:
        engine = create_async_engine(url.sqlalchemy_url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_an_empty_database_migrated_to_head_matches_the_metadata(fresh_database: Callable[[], str]) -> None:
    url = DatabaseUrl.parse(fresh_database())

    differences, revision = _drift(url)

    assert differences == []
    assert revision == head_revision()
