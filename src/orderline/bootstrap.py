"""The composition root: the one module that knows every concrete class and wires them together."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from litestar import Litestar
from uuid_utils.compat import uuid7

from orderline.application.ports import Clock, IdGenerator
from orderline.application.services import Services
from orderline.config import Settings
from orderline.http.app import create_app
from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.migrate import current_revision, head_revision, upgrade_async
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.sqlite import SqliteDatabase


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Uuid7Ids:
    def new_id(self) -> UUID:
        return uuid7()


class SchemaOutdated(RuntimeError):
    """The database is not at the schema this version needs, and we may not migrate it ourselves."""


async def build(settings: Settings, *, clock: Clock | None = None, ids: IdGenerator | None = None) -> Services:
    """Open the database (migrating an embedded SQLite file first) and wire the use cases."""
    url = DatabaseUrl.parse(settings.database_url)
    if url.dialect == "sqlite":
        await upgrade_async(url)
    db = await open_database(url, pool_size=settings.db_pool_size)
    try:
        await ensure_schema_current(db, url)
    except BaseException:
        await db.close()
        raise
    return Services.wire(db, clock or SystemClock(), ids or Uuid7Ids())


async def ensure_schema_current(db: SqliteDatabase | PostgresDatabase, url: DatabaseUrl) -> None:
    async with db.snapshot() as uow:
        revision = await current_revision(uow.connection)
    if revision != head_revision():
        raise SchemaOutdated(
            f"the database {url} is at schema {revision or 'none'}, but this orderline needs"
            f" {head_revision()}: run `orderline migrate --database-url URL` first"
        )


def app(settings: Settings | None = None) -> Litestar:
    """The ASGI app for ``settings`` (default: the environment), e.g. ``uvicorn --factory orderline.bootstrap:app``."""
    settings = settings or Settings.load()
    return create_app(settings, lambda: build(settings))
