"""bench/floor.py: the floor app runs, request for request, the statements orderline runs, and leaves rows orderline
reads as its own (so its figures are the cost of orderline's own SQL, not of something near it)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from bench import floor
from bench.stack import Request, bearer, call, orderline_app

from tests.e2e.lifespan import lifespan_of


class _Recorder:
    """A sqlite3 connection that notes every statement run on it (the floor runs them all through ``execute``)."""

    def __init__(self, raw: Any, log: list[str]) -> None:
        self.raw = raw
        self.log = log

    def execute(self, sql: str, params: Any = ()) -> Any:
        self.log.append(sql)
        return self.raw.execute(sql, params)

    @property
    def in_transaction(self) -> bool:
        return bool(self.raw.in_transaction)

    def close(self) -> None:
        self.raw.close()


async def _floor_runs(app: Any, name: str, order: UUID | str | None, pet: UUID | str) -> list[str]:
    """The floor's statement texts for one request, normalised; the request must succeed."""
    db = app.state.floor["db"]
    log: list[str] = []
    if isinstance(db, floor.SqliteFloor):
        db.writer, db.reader = _Recorder(db.writer, log), _Recorder(db.reader, log)
    with floor.recording() as calls:
        answer = await call(app, floor.floor_request(name, order, pet))
    if isinstance(db, floor.SqliteFloor):
        db.writer, db.reader = db.writer.raw, db.reader.raw
    assert answer.status == floor.STATUS[name], answer.body
    return [floor.normalised(sql) for sql in log] + [floor.normalised(c.sql) for c in calls]


async def _status(app: Any, key: str, order: str) -> tuple[str, str]:
    answer = await call(app, Request("GET", f"/v1/orders/{order}", headers=bearer(key)))
    assert answer.status == 200, answer.body
    body = json.loads(answer.body)
    return body["status"], body["paymentStatus"]


async def _reserved(url: str, pet: UUID) -> int:
    """The pet's reserved units, as stored."""
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            return int(connection.execute("SELECT stock_reserved FROM pets WHERE id = ?", (pet.hex,)).fetchone()[0])
    postgres = await asyncpg.connect(url)
    try:
        return int(await postgres.fetchval("SELECT stock_reserved FROM pets WHERE id = $1", pet))
    finally:
        await postgres.close()


async def _column(url: str, sql: str, order: str) -> list[Any]:
    """One column of the rows a statement on an order's id (``:id``) finds, as stored."""
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            return [row[0] for row in connection.execute(sql.replace(":id", "?"), (UUID(order).hex,))]
    postgres = await asyncpg.connect(url)
    try:
        return [row[0] for row in await postgres.fetch(sql.replace(":id", "$1"), UUID(order))]
    finally:
        await postgres.close()


async def test_the_floor_runs_the_statements_orderline_runs_and_makes_rows_orderline_reads(database_url: str) -> None:
    engine = "sqlite" if database_url.startswith("sqlite") else "postgres"
    async with orderline_app(database_url) as app:
        setup = await floor.prepare(app)
        plan, recorded = await floor.record(app, setup, engine)
        ran = {name: [floor.normalised(r.sql) for r in statements] for name, statements in recorded.items()}
        assert set(ran) == set(floor.SCENARIOS)
        assert plan.fresh[floor.CREATE] >= 3  # the order, its audit entry, its event (and the request's id)
        pet = setup.pets[1]
        reserved = await _reserved(database_url, pet)
        served = floor.floor_app(floor.loads(floor.dumps(plan)), database_url)
        async with lifespan_of(served):
            assert await _floor_runs(served, floor.CREATE, None, pet) == ran[floor.CREATE]
            assert await _floor_runs(served, floor.CREATE, None, pet) == ran[floor.CREATE]
            made = [order for order, on in await floor.placed(database_url) if on == str(pet)]
            assert len(made) == 2
            assert await _reserved(database_url, pet) == reserved + 2
            for order in made:
                assert await _status(app, setup.admin_key, order) == ("PLACED", "UNPAID")
                assert await _floor_runs(served, floor.GET_CUSTOMER, order, pet) == ran[floor.GET_CUSTOMER]
                assert await _floor_runs(served, floor.GET_ADMIN, order, pet) == ran[floor.GET_ADMIN]
            assert await _floor_runs(served, floor.PAY, made[0], pet) == ran[floor.PAY]
            assert await _floor_runs(served, floor.CANCEL, made[1], pet) == ran[floor.CANCEL]
        assert await _status(app, setup.admin_key, made[0]) == ("APPROVED", "PAID")
        assert (await _status(app, setup.admin_key, made[1]))[0] == "CANCELLED"
        assert await _reserved(database_url, pet) == reserved + 1
        # One payment per pay, made and then settled under the same fresh id; every change's events, fresh ids each.
        assert await _column(database_url, "SELECT status FROM payments WHERE order_id = :id", made[0]) == ["SUCCEEDED"]
        for order, events in ((made[0], 4), (made[1], 4)):
            assert len(await _column(database_url, "SELECT id FROM outbox WHERE order_id = :id", order)) == events


def test_orderlines_ratios_are_read_from_a_bench_table(tmp_path: Any) -> None:
    table = tmp_path / "latest.md"
    table.write_text(
        "## SQLite 3.40.1\n\n| scenario | generator | ok | errors | req/s | ÷ reference |\n"
        "|---|---|---:|---|---:|---:|\n"
        "| create `POST /v1/orders` | wrk | 7467 | 0 | 932 | 0.068 |\n"
        "| get `GET /v1/orders/{id}` | wrk | 25339 | 0 | 3,128 | 0.230 |\n"
        "## PostgreSQL 15.20\n\n| pay `POST /v1/orders/{id}/payment` | wrk | 3091 | 0 | 386 | 0.026 |\n"
    )
    assert floor.orderline_ratios(table) == {
        "sqlite": {floor.CREATE: 0.068, floor.GET_CUSTOMER: 0.230, floor.GET_ADMIN: 0.230},
        "postgres": {floor.PAY: 0.026},
    }


@pytest.mark.parametrize(
    "texts",
    [
        ["BEGIN IMMEDIATE", "INSERT INTO x VALUES (1)", "COMMIT"],  # no SAVEPOINT
        ["BEGIN IMMEDIATE", "SAVEPOINT unit", "INSERT INTO x VALUES (1)", "RELEASE unit"],  # never committed
        ["SELECT 1", "ROLLBACK"],
    ],
)
def test_a_recorded_request_outside_the_group_commits_shape_is_refused(texts: list[str]) -> None:
    statements = [floor.Statement((text,), "nothing", {}, ()) for text in texts]
    with pytest.raises(ValueError, match="transaction"):
        floor._units("sqlite", statements)
