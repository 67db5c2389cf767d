"""The schema revision a database is at, beside the newest one this package ships — without Alembic.

Every process asks at start (readiness, the schema check, SQLite's migrate-at-start), and most find the database
at head; importing Alembic and SQLAlchemy to learn that costs ~0.5 s of CPU per process, so the newest revision
is read off the migration files' names instead. Revisions are numbered like their files (``0020_…py`` is
revision ``"0020"``, revising ``"0019"``), which tests/unit/test_revision.py holds against Alembic's own view.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from orderline.application.ports import SchemaRevision
from orderline.storage.driver import Connection

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_NUMBERED = re.compile(r"^(\d{4})_\w+\.py$")


@cache
def head_revision() -> str:
    """The newest revision this package ships."""
    numbers = [match[1] for path in VERSIONS.iterdir() if (match := _NUMBERED.match(path.name))]
    assert numbers, "the package ships no migrations"
    return max(numbers)


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


async def schema_revision(connection: Connection) -> SchemaRevision:
    return SchemaRevision(await current_revision(connection), head_revision())
