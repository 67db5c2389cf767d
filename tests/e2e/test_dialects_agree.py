"""One order seen through all four APIs at once — the native Pet Store API, Shoplazza, sFOX and the DRF shop —
agrees on its state at every step of a paid order's life: paid, cancelled while its refund runs, refunded,
erased. Each change is audited with the API it came through. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.config import DIALECTS, Settings
from orderline.domain.order import NUMBER_OFFSET
from orderline.gateways.testmode import REFUNDS_LATER
from tests.e2e.http import Client, bearer, make_pet, register
from tests.support import TEST_GATEWAY_SECRET, SteppingClock, engine_settings

PASSWORD = "correct horse battery"
LATER = timedelta(seconds=3)  # past the test gateway's refund delay of 2 s
CARD = {"object": "card", "number": REFUNDS_LATER, "name": "Ada Lovelace", "cvc": "7319", "expMonth": 12,
        "expYear": 2030, "addressCity": "London", "addressCountry": "GB"}  # fmt: skip


@pytest.fixture
def settings(database_url: str) -> Settings:
    return engine_settings(
        database_url, refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET, dialects=",".join(DIALECTS)
    )


@dataclass(frozen=True, slots=True)
class Seen:
    """The order's state as each API shows it."""

    native: tuple[str, str]  # status, paymentStatus
    shoplazza: tuple[str, str, str]  # status, financial_status, fulfillment_status
    sfox: tuple[str, int]  # status, status_code
    drf: str  # status


@dataclass(frozen=True, slots=True)
class FourApis:
    client: Client
    customer: dict[str, str]  # Alice's native token
    drf: dict[str, str]  # Alice's token from the DRF shop's own sign-in
    merchant: dict[str, str]  # a Shoplazza merchant key, as Access-Token
    trader: dict[str, str]  # an sFOX key (an admin's: it sees every account's orders)

    async def seen(self, order: dict[str, Any]) -> Seen:
        native = await self._ok(self.client.get(f"/v1/orders/{order['id']}", headers=self.customer))
        shop = await self._ok(self.client.get(f"/openapi/2022-01/orders/{order['id']}", headers=self.merchant))
        sfox = await self._ok(self.client.get(f"/sfox/v1/orders/{_seq(order)}", headers=self.trader))
        drf = await self._ok(self.client.get(f"/api/v1/i/orders/{order['id']}/", headers=self.drf))
        return Seen(
            (native["status"], native["paymentStatus"]),
            (shop["status"], shop["financial_status"], shop["fulfillment_status"]),
            (sfox["status"], sfox["status_code"]),
            drf["status"],
        )

    async def gone_everywhere(self, order: dict[str, Any]) -> list[int]:
        return [
            (await self.client.get(f"/v1/orders/{order['id']}", headers=self.customer)).status_code,
            (await self.client.get(f"/openapi/2022-01/orders/{order['id']}", headers=self.merchant)).status_code,
            (await self.client.get(f"/sfox/v1/orders/{_seq(order)}", headers=self.trader)).status_code,
            (await self.client.get(f"/api/v1/i/orders/{order['id']}/", headers=self.drf)).status_code,
        ]

    @staticmethod
    async def _ok(request: Any) -> dict[str, Any]:
        response: httpx.Response = await request
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _seq(order: dict[str, Any]) -> int:
    return int(order["number"]) - NUMBER_OFFSET


@pytest.fixture
async def apis(client: Client, app_use_cases: UseCases) -> FourApis:
    customer = await register(client, "alice", PASSWORD)
    signed_in = await client.post("/api/v1/auth/token/", json={"username": "alice", "password": PASSWORD})
    _row, merchant = await app_use_cases.api_keys.create("shop", frozenset({Scope.READ_ORDER, Scope.WRITE_ORDER}))
    _row, trader = await app_use_cases.api_keys.create("desk", frozenset({Scope.ADMIN}))
    assert signed_in.status_code == 200, signed_in.text
    return FourApis(client, customer, bearer(signed_in.json()["access"]), {"Access-Token": merchant}, bearer(trader))


async def test_a_paid_order_reads_alike_through_every_api_from_payment_to_erasure(
    client: Client, apis: FourApis, admin: dict[str, str], app_use_cases: UseCases, clock: SteppingClock
) -> None:
    pet = await make_pet(client, admin, stock=1)
    order = (await client.post("/v1/orders", json={"petId": pet["id"]}, headers=apis.customer)).json()
    payment = {"amount": order["totalAmount"], "currency": order["currency"], "source": CARD}
    paid = await client.post(f"/v1/orders/{order['id']}/payment", json=payment, headers=apis.customer)
    seen_paid = await apis.seen(order)

    cancel = await client.post(f"/openapi/2022-01/orders/{order['id']}/cancel", json={}, headers=apis.merchant)
    again = await client.delete(f"/sfox/v1/orders/{_seq(order)}", headers=apis.trader)
    seen_pending = await apis.seen(order)

    clock.advance(LATER)
    settled = await app_use_cases.refunds.settle_pending()
    seen_refunded = await apis.seen(order)
    pet_after_cancel = (await client.get(f"/v1/pets/{pet['id']}")).json()

    trail = (await client.get("/v1/admin/audit-logs", params={"entityId": order["id"]}, headers=admin)).json()
    erased = await client.delete(f"/api/v1/i/orders/{order['id']}/", headers=apis.drf)
    gone = await apis.gone_everywhere(order)
    tombstone = (await client.get("/v1/admin/audit-logs", params={"entityId": order["id"]}, headers=admin)).json()

    assert paid.status_code == 200, paid.text
    assert seen_paid == Seen(("APPROVED", "PAID"), ("placed", "paid", "waiting"), ("Started", 100), "paid")
    assert cancel.status_code == 200, cancel.text
    assert (again.status_code, again.json()) == (200, {"status": "cancel pending"})  # nothing new started
    assert seen_pending == Seen(
        ("CANCEL_PENDING", "REFUND_PENDING"), ("cancelled", "refunding", "cancelled"), ("Cancel Pending", 90), "paid"
    )
    assert settled == 1
    assert seen_refunded == Seen(
        ("CANCELLED", "REFUNDED"), ("cancelled", "refunded", "cancelled"), ("Canceled", 10), "cancelled"
    )
    assert pet_after_cancel["status"] == "AVAILABLE"  # its unit released once, whichever API asked
    assert [(entry["action"], entry["api"]) for entry in reversed(trail["data"])] == [
        ("ORDER_CREATED", "native"),
        ("PAYMENT_SUCCEEDED", "native"),
        ("ORDER_CANCEL_REQUESTED", "shoplazza"),
        ("ORDER_CANCELLED", None),  # the refund settled in the background
    ]
    assert erased.status_code == 204
    assert gone == [404, 404, 400, 404]  # sFOX answers an id that is no order in the account with 400
    assert (tombstone["data"][0]["action"], tombstone["data"][0]["api"]) == ("ORDER_ERASED", "drf")
