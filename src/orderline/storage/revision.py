"""The schema revision a database is at, beside the newest one this package ships (for readiness)."""

from __future__ import annotations

from functools import cache

from orderline.application.ports import SchemaRevision
from orderline.storage.driver import Connection


@cache
def _newest() -> str:
    # Imported here: migrate imports database, which imports the adapters that import this module.
    # Cached: finding the head reads every migration script, and a readiness probe must stay cheap.
    from orderline.storage.migrate import head_revision

    return head_revision()


async def schema_revision(connection: Connection) -> SchemaRevision:
    from orderline.storage.migrate import current_revision

    return SchemaRevision(await current_revision(connection), _newest())
