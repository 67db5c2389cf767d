"""Schema migrations: upgrade to head with Alembic.

Alembic (and SQLAlchemy with it) is imported only when there is a migration to run: a process that finds its
database at head, as most do, never loads it (storage/revision.py says why).
"""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from orderline.storage.database import DatabaseUrl
from orderline.storage.revision import head_revision
from orderline.storage.sqlite import optimize, require_folder

if TYPE_CHECKING:
    from alembic.config import Config

# How long a process waits for another one's SQLite migration before giving up; migrations take seconds.
LOCK_WAIT_SECONDS = 60.0
_LOCK_POLL_SECONDS = 0.05


class MigrationLockTimeout(TimeoutError):
    """Another process held the migration lock for longer than LOCK_WAIT_SECONDS."""


def alembic_config(url: DatabaseUrl) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "orderline.storage:migrations")
    config.set_main_option("sqlalchemy.url", url.sqlalchemy_url.replace("%", "%%"))
    return config


def upgrade(url: DatabaseUrl) -> None:
    """Bring the database to the newest schema. Blocking: call it outside a running event loop."""
    if url.dialect == "sqlite" and _sqlite_revision(url.target) == head_revision():
        return  # at head, as it stays once there: nothing to lock for
    from alembic import command

    if url.dialect == "sqlite":
        require_folder(url.target)
        with sqlite_migration_lock(url.target):
            command.upgrade(alembic_config(url), "head")
            optimize(url.target)  # new tables and indexes get the planner statistics SQLite judges missing
    else:
        command.upgrade(alembic_config(url), "head")


def _sqlite_revision(path: str) -> str | None:
    """The revision of the SQLite file at ``path``, read without writing (None: no file, or never migrated)."""
    if path == ":memory:" or not Path(path).is_file():
        return None
    with closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)) as db:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone() is None:
            return None
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


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
