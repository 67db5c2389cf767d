"""Database URLs and opening the right adapter for one: SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from orderline.application.ports import CommitObserver, EventSource
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.sqlite import SqliteDatabase

_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg"}
_SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite"}


class DatabaseUrlError(ValueError):
    """The database URL names no engine we support, or is malformed."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    dialect: Literal["sqlite", "postgresql"]
    target: str  # the SQLite file path, or the libpq DSN asyncpg takes

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        scheme, sep, rest = url.partition("://")
        if not sep:
            raise DatabaseUrlError(f"{url!r} is not a URL such as sqlite:///./orderline.db")
        if scheme in _SQLITE_SCHEMES:
            path = rest[1:] if rest.startswith("/") else rest
            if not path or path == ":memory:":
                raise DatabaseUrlError("SQLite needs a file path, e.g. sqlite:///./orderline.db")
            return cls("sqlite", path)
        if scheme in _POSTGRES_SCHEMES:
            if not urlsplit(url).hostname and "host=" not in url:
                raise DatabaseUrlError(f"{url!r} names no PostgreSQL host")
            return cls("postgresql", "postgresql://" + rest)
        raise DatabaseUrlError(f"unsupported database {scheme!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")

    @property
    def sqlalchemy_url(self) -> str:
        if self.dialect == "sqlite":
            return f"sqlite+aiosqlite:///{self.target}"
        return self.target.replace("postgresql://", "postgresql+asyncpg://", 1)

    def __str__(self) -> str:
        """The URL without its password, fit for logs and messages."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.target}"
        parts = urlsplit(self.target)
        if parts.password is None:
            return self.target
        return self.target.replace(f":{parts.password}@", ":***@", 1)


async def open_database(
    url: DatabaseUrl,
    pool_size: int = 10,
    statement_timeout: float = 5.0,
    observers: Sequence[CommitObserver] = (),
    events: EventSource | None = None,
) -> SqliteDatabase | PostgresDatabase:
    """The adapter for ``url``; no wait on the database (a statement, a lock, a connection) outlasts the timeout,
    each write transaction writes the outbox events ``events`` makes of what it recorded before its COMMIT, and
    ``observers`` are told what it recorded once it committed."""
    if url.dialect == "sqlite":
        return await SqliteDatabase.open(
            url.target,
            readers=min(pool_size, 8),
            statement_timeout=statement_timeout,
            observers=observers,
            events=events,
        )
    return await PostgresDatabase.open(
        url.target, max_size=pool_size, statement_timeout=statement_timeout, observers=observers, events=events
    )
