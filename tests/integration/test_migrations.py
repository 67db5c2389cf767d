"""Migrations: an empty database upgraded to head has exactly the schema the metadata describes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orderline.storage.database import DatabaseUrl
from orderline.storage.migrate import alembic_config, head_revision, upgrade
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


def _tables(url: DatabaseUrl) -> set[str]:
    async def run() -> set[str]:
        engine = create_async_engine(url.sqlalchemy_url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _keep_a_secret_as_0006_did(url: DatabaseUrl) -> None:
    async def run() -> None:
        engine = create_async_engine(url.sqlalchemy_url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("INSERT INTO signing_keys (name, secret, created_at) VALUES ('tokens', :secret, :now)"),
                    {"secret": "a" * 64, "now": datetime.now(UTC)},
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_upgrading_removes_the_signing_secrets_the_database_used_to_keep(fresh_database: Callable[[], str]) -> None:
    url = DatabaseUrl.parse(fresh_database())
    command.downgrade(alembic_config(url), "0006")
    try:
        _keep_a_secret_as_0006_did(url)

        upgrade(url)
    finally:
        upgrade(url)  # the PostgreSQL database is shared by the session: leave it at head whatever happened

    assert "signing_keys" not in _tables(url)
