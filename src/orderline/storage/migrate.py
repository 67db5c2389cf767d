"""Schema migrations: upgrade to head with Alembic, and tell whether a database is at head."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from orderline.storage.database import DatabaseUrl
from orderline.storage.driver import Connection


def alembic_config(url: DatabaseUrl) -> Config:
    config = Config()
    config.set_main_option("script_location", "orderline.storage:migrations")
    config.set_main_option("sqlalchemy.url", url.sqlalchemy_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config(DatabaseUrl("sqlite", "unused"))).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def upgrade(url: DatabaseUrl) -> None:
    """Bring the database to the newest schema. Blocking: call it outside a running event loop."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_async(url: DatabaseUrl) -> None:
    await asyncio.to_thread(upgrade, url)


async def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    exists = {
        "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'",
        "postgresql": "SELECT 1 FROM pg_tables WHERE tablename = 'alembic_version' AND schemaname = current_schema()",
    }[connection.dialect]
    if await connection.fetch_one(exists) is None:
        return None
    row = await connection.fetch_one("SELECT version_num FROM alembic_version")
    return None if row is None else str(row["version_num"])
