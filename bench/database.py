"""A fresh, empty database per engine: a SQLite file in a temp dir, or a dedicated PostgreSQL database."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg

from bench.server import orderline

BENCH_DATABASE = "orderline_bench"


class EngineUnavailableError(Exception):
    """The engine cannot be benchmarked here (e.g. PostgreSQL is unreachable); the engine is skipped."""


def sqlite_database(directory: Path) -> tuple[str, str]:
    """URL and version of a SQLite file that does not exist yet; `serve` creates and migrates it."""
    return f"sqlite:///{(directory / 'bench.db').resolve()}", f"SQLite {sqlite3.sqlite_version}"


async def postgres_database(base_url: str) -> tuple[str, str]:
    """URL and version of a just-created BENCH_DATABASE on base_url's server, migrated to head."""
    try:
        admin = await asyncpg.connect(base_url, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise EngineUnavailableError(f"PostgreSQL at {_safe(base_url)} is unreachable: {exc}") from None
    try:
        version = await admin.fetchval("SHOW server_version")
        # Dropping first means every run starts from the same empty, freshly migrated schema.
        await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}"')
        await admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(base_url)._replace(path=f"/{BENCH_DATABASE}"))
    await orderline("migrate", "--database-url", url)
    return url, f"PostgreSQL {version}"


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


async def placed_orders(url: str) -> list[str]:
    """The ids of every PLACED order, oldest first, read from the database (wrk does not collect them)."""
    sql = "SELECT id FROM orders WHERE status = 'PLACED' ORDER BY seq"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            rows = connection.execute(sql).fetchall()
        return [str(UUID(hex=value) if isinstance(value, str) else UUID(bytes=value)) for (value,) in rows]
    postgres = await asyncpg.connect(url)
    try:
        return [str(row["id"]) for row in await postgres.fetch(sql)]
    finally:
        await postgres.close()
