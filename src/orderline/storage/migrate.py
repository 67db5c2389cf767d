"""Schema migrations: upgrade to head with Alembic, and tell whether a database is at head."""

from __future__ import annotations

import asyncio
import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from orderline.storage.database import DatabaseUrl
from orderline.storage.driver import Connection
from orderline.storage.sqlite import optimize, require_folder

# How long a process waits for another one's SQLite migration before giving up; migrations take seconds.
LOCK_WAIT_SECONDS = 60.0
_LOCK_POLL_SECONDS = 0.05


class MigrationLockTimeout(TimeoutError):
    """Another process held the migration lock for longer than LOCK_WAIT_SECONDS."""


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
    if url.dialect == "sqlite":
        require_folder(url.target)
        with sqlite_migration_lock(url.target):
            command.upgrade(alembic_config(url), "head")
            optimize(url.target)  # new tables and indexes get the planner statistics SQLite judges missing
    else:
        command.upgrade(alembic_config(url), "head")


@contextmanager
def sqlite_migration_lock(path: str, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold an exclusive lock on a file beside the database while migrating it.

    Processes started at once on a new file would otherwise all create the tables, and all but one fail with
    "table ... already exists". Whoever waits finds the schema at head and has nothing left to do. The lock is
    the kernel's (flock), so a process that dies holding it releases it; the file itself stays, empty.
    """
    with open(f"{path}.migrate.lock", "a") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise MigrationLockTimeout(
                        f"another process has been migrating {path} for {wait:.0f} s (lock {handle.name})"
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
