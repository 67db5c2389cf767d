"""Sandbox tenants over HTTP (ADR 0041): made with a key bound to them, seeded all or nothing, deleted at once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest

from orderline.config import Settings
from orderline.storage.schema import metadata
from tests.e2e.http import make_pet, place
from tests.support import Db

PETS = [
    {"name": "Whiskers", "species": "CAT", "adoptionFee": "150.00", "stock": 10},
    {"name": "Rex", "species": "DOG", "adoptionFee": "250.00", "stock": 1},
]
STATUSES = ["PLACED", "APPROVED", "SHIPPED", "DELIVERED", "CANCELLED", "CANCEL_PENDING"]
FIXTURE = {
    "pets": PETS,
    "vouchers": [{"code": "SPRING10", "percentOff": 10}],
    "users": [{"username": "alice", "email": "alice@example.com", "password": "correct horse battery"}],
    "orders": [
        {"pet": "Whiskers", "user": "alice", "status": status, "voucherCode": "SPRING10"} for status in STATUSES
    ],
}
TENANT_OWNED = [table.name for table in metadata.sorted_tables if "tenant_id" in table.columns]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, sandbox=True)


async def a_tenant(client: httpx.AsyncClient, **body: Any) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A new sandbox tenant: its id, its key's Authorization header, and what the creation answered."""
    created = await client.post("/v1/sandbox/tenants", json=body)
    assert created.status_code == 201, created.text
    made: dict[str, Any] = created.json()
    return made["tenantId"], {"Authorization": f"Bearer {made['apiKey']}"}, made


async def rows_of(db: Db, tenant: str) -> dict[str, int]:
    """How many rows each tenant-owned table, and the sandbox's tables, hold for ``tenant``."""
    counts = {}
    async with db.snapshot() as uow:
        for table in [*TENANT_OWNED, "order_lines"]:
            where = "tenant_id = :tenant"
            if table == "order_lines":
                where = "order_id IN (SELECT id FROM orders WHERE tenant_id = :tenant)"
            row = await uow.connection.fetch_one(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}",
                                                 {"tenant": UUID(tenant)})  # fmt: skip
            assert row is not None
            counts[table] = int(row["n"])
    return counts


async def sandbox_tenants(db: Db) -> int:
    async with db.snapshot() as uow:
        row = await uow.connection.fetch_one("SELECT COUNT(*) AS n FROM sandbox_tenants")
    assert row is not None
    return int(row["n"])


async def test_a_new_tenants_key_sees_its_own_empty_shop_not_the_public_pool(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_pet(client, admin)
    tenant, key, _made = await a_tenant(client)

    pets = (await client.get("/v1/pets", headers=key)).json()["data"]

    assert pets == []
    assert UUID(tenant).version == 7


async def test_the_demo_seed_stocks_the_new_tenant_only(client: httpx.AsyncClient) -> None:
    _tenant, key, made = await a_tenant(client, seed="demo")

    theirs = (await client.get("/v1/pets", headers=key, params={"limit": 100})).json()["data"]
    public = (await client.get("/v1/pets", params={"limit": 100})).json()["data"]

    assert len(theirs) == len(made["seeded"]["pets"]) == 10
    assert public == []


async def test_a_fixture_brings_each_order_to_its_status_through_the_use_cases(client: httpx.AsyncClient) -> None:
    _tenant, key, made = await a_tenant(client, fixture=FIXTURE)

    orders = [(await client.get(f"/v1/orders/{order}", headers=key)).json() for order in made["seeded"]["orders"]]

    assert [order["status"] for order in orders] == STATUSES
    assert {order["userId"] for order in orders} == set(made["seeded"]["users"])
    assert {order["voucherCode"] for order in orders} == {"SPRING10"}
    assert [order["paymentStatus"] for order in orders] == [
        "UNPAID", "PAID", "PAID", "PAID", "UNPAID", "REFUND_PENDING",
    ]  # fmt: skip


async def test_a_fixtures_user_can_sign_in_to_the_tenant(client: httpx.AsyncClient) -> None:
    tenant, _key, _made = await a_tenant(client, fixture=FIXTURE)

    signed_in = await client.post(
        "/v1/auth/tokens", json={"username": "alice", "password": "correct horse battery"},
        headers={"X-Tenant-ID": tenant},
    )  # fmt: skip

    assert signed_in.status_code == 200, signed_in.text


@pytest.mark.parametrize(
    ("fixture", "field"),
    [
        ({"pets": PETS, "orders": [{"pet": "Nobody"}]}, "fixture.orders[0].pet"),
        ({"pets": PETS, "orders": [{"pet": "Rex", "user": "nobody"}]}, "fixture.orders[0].user"),
        ({"pets": PETS, "orders": [{"pet": "Rex"}, {"pet": "Rex"}]}, "fixture.orders[1]"),
        ({"pets": [{**PETS[0], "adoptionFee": "1.234"}]}, "fixture.pets[0]"),
        ({"pets": [{**PETS[0], "colour": "red"}]}, "fixture.pets[0].colour"),
        ({"orders": [{"pet": "Rex", "status": "LOST"}]}, "fixture.orders[0].status"),
    ],
)
async def test_a_fixture_that_does_not_fit_is_422_naming_the_entry_and_leaves_nothing_behind(
    client: httpx.AsyncClient, db: Db, fixture: dict[str, Any], field: str
) -> None:
    refused = await client.post("/v1/sandbox/tenants", json={"fixture": fixture})

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"].startswith(field)
    assert await sandbox_tenants(db) == 0
    async with db.snapshot() as uow:
        assert await uow.connection.fetch_all("SELECT id FROM pets") == []
        assert await uow.connection.fetch_all("SELECT id FROM api_keys") == []


async def test_a_seed_and_a_fixture_at_once_are_refused(client: httpx.AsyncClient, db: Db) -> None:
    refused = await client.post("/v1/sandbox/tenants", json={"seed": "demo", "fixture": FIXTURE})

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "fixture"
    assert await sandbox_tenants(db) == 0


async def test_deleting_a_tenant_removes_every_row_it_had_and_nothing_else(
    client: httpx.AsyncClient, db: Db, admin: dict[str, str]
) -> None:
    public_order = await place(client, (await make_pet(client, admin))["id"])
    tenant, key, _made = await a_tenant(client, fixture=FIXTURE)
    await client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks", "events": ["*"]}, headers=key)
    await client.post(f"/v1/sandbox/tenants/{tenant}/faults", json={"next": "refund", "outcome": "fail"}, headers=key)
    before = await rows_of(db, tenant)

    deleted = await client.delete(f"/v1/sandbox/tenants/{tenant}", headers=key)

    assert deleted.status_code == 204, deleted.text
    assert {table for table, count in before.items() if count} >= {
        "orders", "order_lines", "payments", "refunds", "users", "vouchers", "pets", "api_keys", "audit_log",
        "outbox", "webhook_subscriptions", "sandbox_tenants", "sandbox_faults",
    }  # fmt: skip
    assert set((await rows_of(db, tenant)).values()) == {0}
    assert (await client.get(f"/v1/orders/{public_order['id']}", headers=admin)).status_code == 200


async def test_a_deleted_tenants_key_stops_working(client: httpx.AsyncClient) -> None:
    tenant, key, _made = await a_tenant(client)
    await client.delete(f"/v1/sandbox/tenants/{tenant}", headers=key)

    assert (await client.get("/v1/orders", headers=key)).status_code == 401


async def test_a_second_delete_is_not_found(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    tenant, _key, _made = await a_tenant(client)
    operator = {**admin, "X-Tenant-ID": tenant}

    first = await client.delete(f"/v1/sandbox/tenants/{tenant}", headers=operator)
    second = await client.delete(f"/v1/sandbox/tenants/{tenant}", headers=operator)

    assert (first.status_code, second.status_code) == (204, 404)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "", None),
        ("POST", "/clock", {"advanceSeconds": 60}),
        ("POST", "/faults", {"next": "charge", "outcome": "fail"}),
    ],
)
async def test_another_tenants_key_finds_no_such_tenant(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    tenant, _key, _made = await a_tenant(client)
    _other, other_key, _ = await a_tenant(client)

    answer = await client.request(method, f"/v1/sandbox/tenants/{tenant}{path}", json=body, headers=other_key)

    assert answer.status_code == 404, answer.text


async def test_the_public_pool_is_no_sandbox_tenant(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    answer = await client.delete("/v1/sandbox/tenants/00000000-0000-0000-0000-000000000000", headers=admin)

    assert answer.status_code == 404
