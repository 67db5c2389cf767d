"""Migration 0017 (ADR 0040): rows from before tenants are the public pool's, and stay found there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orderline.application.principal import PUBLIC
from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.migrate import alembic_config, upgrade

_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
_USER = UUID(int=1)
_VOUCHER = UUID(int=2)
_ORDER = UUID(int=3)
_TENANT = UUID("5b0e4c1e-0000-4000-8000-00000000000b")

_users = sa.table(
    "users",
    *(sa.column(name, sa.Uuid()) for name in ("id",)),
    *(sa.column(name) for name in ("username", "email", "password_hash", "role", "status", "version")),
    *(sa.column(name, sa.DateTime(timezone=True)) for name in ("created_at", "updated_at")),
)
_vouchers = sa.table(
    "vouchers",
    sa.column("id", sa.Uuid()),
    *(sa.column(name) for name in ("code", "percent_off", "uses", "version")),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_orders = sa.table(
    "orders",
    sa.column("id", sa.Uuid()),
    *(sa.column(name) for name in ("seq", "currency", "subtotal_minor", "discount_minor", "total_minor")),
    *(sa.column(name) for name in ("status", "version")),
    *(sa.column(name, sa.DateTime(timezone=True)) for name in ("created_at", "updated_at")),
)
_idempotency_keys = sa.table(
    "idempotency_keys",
    *(sa.column(name) for name in ("owner", "key", "fingerprint", "state")),
    *(sa.column(name, sa.DateTime(timezone=True)) for name in ("created_at", "expires_at")),
)


def _keep_rows_as_0016_did(url: DatabaseUrl) -> None:
    async def run() -> None:
        engine = create_async_engine(url.sqlalchemy_url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.execute(sa.insert(_users).values(
                    id=_USER, username="alice", email="alice@example.com", password_hash="x", role="CUSTOMER",
                    status="ACTIVE", version=1, created_at=_NOW, updated_at=_NOW,
                ))  # fmt: skip
                await connection.execute(sa.insert(_vouchers).values(
                    id=_VOUCHER, code="SPRING", percent_off=10, uses=0, version=1, created_at=_NOW,
                ))  # fmt: skip
                await connection.execute(sa.insert(_orders).values(
                    id=_ORDER, seq=1, currency="USD", subtotal_minor=100, discount_minor=0, total_minor=100,
                    status="PLACED", version=1, created_at=_NOW, updated_at=_NOW,
                ))  # fmt: skip
                await connection.execute(sa.insert(_idempotency_keys).values(
                    owner="address:127.0.0.1", key="k1", fingerprint="f", state="DONE", created_at=_NOW,
                    expires_at=_NOW,
                ))  # fmt: skip
        finally:
            await engine.dispose()

    asyncio.run(run())


def _found_after(url: DatabaseUrl) -> dict[str, object]:
    async def run() -> dict[str, object]:
        db = await open_database(url)
        try:
            async with db.transaction(PUBLIC) as uow:
                found: dict[str, object] = {
                    "user": await uow.users.get_by_username("alice"),
                    "voucher": await uow.vouchers.get_by_code("SPRING"),
                    "order": await uow.orders.get(_ORDER),
                    "key": await uow.idempotency.get("address:127.0.0.1", "k1"),
                }
            async with db.transaction(_TENANT) as uow:
                found["elsewhere"] = [
                    await uow.users.get_by_username("alice"),
                    await uow.vouchers.get_by_code("SPRING"),
                    await uow.orders.get(_ORDER),
                    await uow.idempotency.get("address:127.0.0.1", "k1"),
                ]
            return found
        finally:
            await db.close()

    return asyncio.run(run())


def test_upgrading_puts_every_row_of_before_in_the_public_pool(fresh_database: Callable[[], str]) -> None:
    raw = fresh_database()
    url = DatabaseUrl.parse(raw)
    command.downgrade(alembic_config(url), "0016")
    try:
        _keep_rows_as_0016_did(url)

        upgrade(url)
    finally:
        upgrade(url)  # the PostgreSQL database is shared by the session: leave it at head whatever happened

    found = _found_after(url)
    assert found["user"] is not None
    assert found["voucher"] is not None
    assert found["order"] is not None
    assert found["key"] is not None
    assert found["elsewhere"] == [None, None, None, None]
