"""Migrations: an empty database upgraded to head has exactly the schema the metadata describes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, insert, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orderline.storage import schema
from orderline.storage.database import DatabaseUrl
from orderline.storage.migrate import alembic_config, upgrade
from orderline.storage.revision import head_revision
from orderline.storage.schema import exists_on, metadata


def _drift(url: DatabaseUrl) -> tuple[list[Any], str | None]:
    def compare(connection: Connection) -> tuple[list[Any], str | None]:
        def on_this_engine(_object: object, name: str | None, *_: object) -> bool:
            return exists_on(connection.dialect.name, name)

        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": on_this_engine})
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


_ORDER, _CAPTURED, _DECLINED = UUID(int=1), UUID(int=2), UUID(int=3)


def _pay_and_refund_as_0009_did(url: DatabaseUrl) -> None:
    """A paid order with a line taken off (its partial refund done), one refund failed and one pending."""
    now = datetime.now(UTC)
    card = {"last4": "4242", "brand": "VISA", "exp_month": 12, "exp_year": 2030}

    def payment(id: UUID, minor: int, status: str) -> dict[str, Any]:
        return {"id": id, "order_id": _ORDER, "amount_minor": minor, "currency": "USD", "status": status,
                "gateway": "test", "card": card, "created_at": now, "updated_at": now}  # fmt: skip

    def refund(n: int, minor: int, status: str) -> dict[str, Any]:
        return {"id": UUID(int=100 + n), "payment_id": _CAPTURED, "order_id": _ORDER, "amount_minor": minor,
                "currency": "USD", "status": status, "requested_at": now, "partial": True}  # fmt: skip

    async def run() -> None:
        engine = create_async_engine(url.sqlalchemy_url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.execute(insert(schema.orders).values(
                    id=_ORDER, seq=1, currency="USD", subtotal_minor=20_000, discount_minor=0, total_minor=15_000,
                    status="APPROVED", version=3, created_at=now, updated_at=now, payment_status="REFUND_PENDING",
                ))  # fmt: skip
                await connection.execute(insert(schema.orders).values(
                    id=UUID(int=9), seq=2, currency="USD", subtotal_minor=100, discount_minor=0, total_minor=100,
                    status="PLACED", version=1, created_at=now, updated_at=now,
                ))  # fmt: skip
                await connection.execute(
                    insert(schema.payments), [payment(_CAPTURED, 20_000, "SUCCEEDED"), payment(_DECLINED, 7, "FAILED")]
                )
                await connection.execute(
                    insert(schema.refunds),
                    [refund(1, 5_000, "SUCCEEDED"), refund(2, 300, "FAILED"), refund(3, 200, "PENDING")],
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


def _amounts(url: DatabaseUrl) -> list[tuple[int, int, int]]:
    async def run() -> list[tuple[int, int, int]]:
        engine = create_async_engine(url.sqlalchemy_url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                sql = "SELECT seq, captured_minor, refunded_minor FROM orders ORDER BY seq"
                rows = await connection.execute(text(sql))
                return [(row[0], row[1], row[2]) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrading_gives_each_order_the_money_its_payments_captured_and_its_refunds_returned(
    fresh_database: Callable[[], str],
) -> None:
    url = DatabaseUrl.parse(fresh_database())
    command.downgrade(alembic_config(url), "0009")
    try:
        _pay_and_refund_as_0009_did(url)

        upgrade(url)
    finally:
        upgrade(url)  # the PostgreSQL database is shared by the session: leave it at head whatever happened

    assert _amounts(url) == [(1, 20_000, 5_000), (2, 0, 0)]
