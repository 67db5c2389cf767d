"""Each problem page shows what the server sends: every type is provoked through the real app and its body
compared with the page's example (the same members, type, title, status and code).

Most are provoked as a client would. The few no client can reach on purpose (a lost race, a bug, a
gateway charge still running, a database that stops answering) are made to happen by replacing the one
use case method that would raise them, so the answer still travels the whole HTTP path.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn
from uuid import uuid4

import httpx
import msgspec
import pytest

from orderline.application.errors import DatabaseUnavailable, StaleVersion
from orderline.application.event_stream import TooManyStreams
from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.domain.errors import DomainError, PaymentInProgress
from orderline.gateways.testmode import DECLINED, SUCCEEDS
from orderline.http.app import create_app
from orderline.http.problems import every_problem_type
from tests.e2e.http import Client, as_owner, bearer, make_pet, place, register
from tests.e2e.lifespan import lifespan_of
from tests.support import FAST_HASHER, SteppingClock

PAGES = Path(__file__).parents[2] / "docs" / "problems"
CARD = {"object": "card", "number": SUCCEEDS, "cvc": "123", "expMonth": 12, "expYear": 2099}


class World:
    """What a provocation may use: the client, an admin's headers, the app's use cases, and monkeypatch."""

    def __init__(self, client: Client, admin: dict[str, str], use_cases: UseCases, patch: pytest.MonkeyPatch,
                 settings: Settings, clock: SteppingClock) -> None:  # fmt: skip
        self.client, self.admin, self.use_cases, self.patch = client, admin, use_cases, patch
        self.settings, self.clock = settings, clock

    async def order(self, **pet: Any) -> dict[str, Any]:
        made = await make_pet(self.client, self.admin, **pet)
        return await place(self.client, made["id"])

    async def pay(self, order: dict[str, Any], **card: Any) -> httpx.Response:
        body = {"amount": order["totalAmount"], "currency": order["currency"], "source": {**CARD, **card}}
        return await self.client.post(f"/v1/orders/{order['id']}/payment", json=body, headers=as_owner(order))

    def failing(self, target: object, name: str, error: BaseException) -> None:
        async def fail(*_args: Any, **_kwargs: Any) -> NoReturn:
            raise error

        self.patch.setattr(target, name, fail)


Provocation = Callable[[World], Awaitable[httpx.Response]]
PROVOKE: dict[str, Provocation] = {}


def provokes(slug: str) -> Callable[[Provocation], Provocation]:
    def register_it(provocation: Provocation) -> Provocation:
        PROVOKE[slug] = provocation
        return provocation

    return register_it


@provokes("bad-request")
async def _(w: World) -> httpx.Response:
    return await w.client.post("/v1/orders", content=b'{"petId": ', headers={"Content-Type": "application/json"})


@provokes("invalid-tenant")
async def _(w: World) -> httpx.Response:
    return await w.client.get("/v1/orders", headers={**w.admin, "X-Tenant-ID": "shop-1"})


@provokes("concurrent-modification")
async def _(w: World) -> httpx.Response:
    order = await w.order()
    w.failing(w.use_cases.orders, "cancel", StaleVersion(f"order {order['id']} was changed by someone else",
                                                           id=order["id"]))  # fmt: skip
    return await w.client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))


@provokes("content-too-large")
async def _(w: World) -> httpx.Response:
    body = b'{"note": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    return await w.client.post("/v1/orders", content=body, headers={"Content-Type": "application/json"})


@provokes("currency-mismatch")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin)
    return await w.client.post("/v1/orders", json={"petId": pet["id"], "currency": "EUR"})


@provokes("domain-rule-refused")
async def _(w: World) -> httpx.Response:
    order = await w.order()
    w.failing(w.use_cases.orders, "cancel", DomainError("a business rule refused the request"))
    return await w.client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))


@provokes("forbidden")
async def _(w: World) -> httpx.Response:
    customer = await register(w.client, "carol")
    return await w.client.post("/v1/pets", json={"name": "Rex", "species": "DOG", "adoptionFee": "1.00"},
                               headers=customer)  # fmt: skip


@provokes("idempotency-key-in-use")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin)
    body = {"petId": pet["id"]}
    fingerprint = json.dumps(body).encode()
    import hashlib

    digest = hashlib.sha256(b"\n".join([b"POST", b"/v1/orders", fingerprint])).hexdigest()
    await w.use_cases.idempotency.claim(PUBLIC, "address:127.0.0.1", "busy", digest)  # another request holds it
    return await w.client.post("/v1/orders", content=fingerprint,
                               headers={"Content-Type": "application/json", "Idempotency-Key": "busy"})  # fmt: skip


@provokes("idempotency-key-reused")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin, stock=3)
    await w.client.post("/v1/orders", json={"petId": pet["id"]}, headers={"Idempotency-Key": "k"})
    return await w.client.post("/v1/orders", json={"petId": pet["id"], "quantity": 2}, headers={"Idempotency-Key": "k"})


@provokes("illegal-transition")
async def _(w: World) -> httpx.Response:
    order = await w.order()
    return await w.client.post(f"/v1/admin/orders/{order['id']}/ship", headers=w.admin)


@provokes("internal-server-error")
async def _(w: World) -> httpx.Response:
    w.failing(w.use_cases.catalogue, "inventory", RuntimeError("a bug"))
    return await w.client.get("/v1/inventory")


@provokes("invalid-address")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin)
    address = {"line1": "   ", "city": "London", "postalCode": "SW1A 1AA", "country": "GB"}
    return await w.client.post("/v1/orders", json={"petId": pet["id"], "billingAddress": address})


@provokes("invalid-amount")
async def _(w: World) -> httpx.Response:
    return await w.client.post("/v1/pets", json={"name": "Rex", "species": "DOG", "adoptionFee": "1.005"},
                               headers=w.admin)  # fmt: skip


@provokes("invalid-card")
async def _(w: World) -> httpx.Response:
    return await w.pay(await w.order(), number="4242424242424241")


@provokes("invalid-order")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin, stock=3)
    return await w.client.post("/v1/orders", json={"items": [{"petId": pet["id"]}, {"petId": pet["id"]}]})


@provokes("invalid-signature")
async def _(w: World) -> httpx.Response:
    return await w.client.post("/v1/gateway/callbacks", json={"type": "refund.updated", "data": {"reference": "x"}})


@provokes("invalid-user")
async def _(w: World) -> httpx.Response:
    alice = await register(w.client, "alice")
    me = (await w.client.get("/v1/users/me", headers=alice)).json()
    return await w.client.put(f"/v1/users/{me['id']}", json={"phone": "call me maybe"}, headers=alice)


@provokes("invalid-voucher")
async def _(w: World) -> httpx.Response:
    body = {"code": "BOTH", "percentOff": 10, "amountOff": "5.00", "currency": "USD"}
    return await w.client.post("/v1/admin/vouchers", json=body, headers=w.admin)


@provokes("method-not-allowed")
async def _(w: World) -> httpx.Response:
    return await w.client.patch("/v1/inventory")


@provokes("not-found")
async def _(w: World) -> httpx.Response:
    return await w.client.get(f"/v1/orders/{uuid4()}", headers=w.admin)


@provokes("order-not-cancellable")
async def _(w: World) -> httpx.Response:
    order = await w.order()
    await w.client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))
    return await w.client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))


@provokes("order-not-editable")
async def _(w: World) -> httpx.Response:
    order = await w.order()
    await w.client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))
    return await w.client.delete(f"/v1/orders/{order['id']}/items/1", headers=as_owner(order))


@provokes("order-not-payable")
async def _(w: World) -> httpx.Response:
    order = await w.order()
    await w.pay(order)
    return await w.pay(order)


@provokes("out-of-stock")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin, stock=1)
    return await w.client.post("/v1/orders", json={"petId": pet["id"], "quantity": 2})


@provokes("payment-declined")
async def _(w: World) -> httpx.Response:
    return await w.pay(await w.order(), number=DECLINED)


@provokes("payment-in-progress")
async def _(w: World) -> httpx.Response:
    order = await w.order()
    w.failing(w.use_cases.payments, "pay", PaymentInProgress(
        "another payment of this order is being processed; wait for its answer"))  # fmt: skip
    return await w.pay(order)


@provokes("payment-mismatch")
async def _(w: World) -> httpx.Response:
    order = await w.order()
    body = {"amount": "1.00", "currency": order["currency"], "source": CARD}
    return await w.client.post(f"/v1/orders/{order['id']}/payment", json=body, headers=as_owner(order))


@provokes("pet-not-found")
async def _(w: World) -> httpx.Response:
    return await w.client.post("/v1/orders", json={"petId": str(uuid4())})


@provokes("pet-reserved")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin)
    await place(w.client, pet["id"])
    return await w.client.delete(f"/v1/pets/{pet['id']}", headers=w.admin)


@provokes("precondition-failed")
async def _(w: World) -> httpx.Response:
    order = await w.order()
    return await w.client.delete(f"/v1/orders/{order['id']}", headers={**as_owner(order), "If-Match": '"stale.9"'})


@provokes("rate-limit-exceeded")
async def _(w: World) -> httpx.Response:
    tight = msgspec.structs.replace(w.settings, rate_limits="default=1/60")
    app = create_app(tight, lambda: build(tight, clock=w.clock, hasher=FAST_HASHER))
    asgi: Any = app
    async with lifespan_of(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi),
                                                   base_url="http://orderline.test") as client:  # fmt: skip
        await client.get("/v1/inventory")
        return await client.get("/v1/inventory")


@provokes("service-unavailable")
async def _(w: World) -> httpx.Response:
    w.failing(w.use_cases.health, "database_reachable", DatabaseUnavailable.timed_out(5))
    return await w.client.get("/v1/healthz")


@provokes("too-many-streams")
async def _(w: World) -> httpx.Response:
    # A held stream needs real HTTP (tests/e2e/test_live_stream_api.py); here the refusal itself is enough.
    w.failing(w.use_cases.event_stream, "open", TooManyStreams("you have 5 live streams open already", 5))
    return await w.client.get("/v1/admin/events", headers=w.admin)


@provokes("stock-below-committed")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin, stock=2)
    await place(w.client, pet["id"], quantity=2)
    body = {"name": pet["name"], "species": pet["species"], "adoptionFee": pet["adoptionFee"], "stock": 1}
    return await w.client.put(f"/v1/pets/{pet['id']}", json=body, headers=w.admin)


@provokes("total-mismatch")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin)
    return await w.client.post("/v1/orders", json={"petId": pet["id"], "totalAmount": "1.00"})


@provokes("unauthorized")
async def _(w: World) -> httpx.Response:
    return await w.client.get("/v1/orders", headers=bearer("olk_not-a-key-we-issued"))


@provokes("unknown-currency")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin)
    return await w.client.post("/v1/orders", json={"petId": pet["id"], "currency": "XYZ"})


@provokes("unsupported-media-type")
async def _(w: World) -> httpx.Response:
    return await w.client.post("/v1/orders", content=b"petId=1", headers={"Content-Type": "text/plain"})


@provokes("user-exists")
async def _(w: World) -> httpx.Response:
    await register(w.client, "dave")
    body = {"username": "dave", "email": "other@example.com", "password": "correct horse battery"}
    return await w.client.post("/v1/users", json=body)


@provokes("validation-error")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin)
    return await w.client.post("/v1/orders", json={"petId": pet["id"], "quantity": 0})


@provokes("invalid-webhook")
async def _(w: World) -> httpx.Response:
    body = {"url": "https://example.com/hooks", "events": ["order.shipped"]}
    return await w.client.post("/v1/webhooks", json=body, headers=w.admin)


@provokes("webhook-inactive")
async def _(w: World) -> httpx.Response:
    body = {"url": "https://example.com/hooks", "events": ["*"], "active": False}
    created = (await w.client.post("/v1/webhooks", json=body, headers=w.admin)).json()
    return await w.client.post(f"/v1/webhooks/{created['id']}/test", headers=w.admin)


@provokes("voucher-exists")
async def _(w: World) -> httpx.Response:
    body = {"code": "TWICE", "percentOff": 10}
    await w.client.post("/v1/admin/vouchers", json=body, headers=w.admin)
    return await w.client.post("/v1/admin/vouchers", json=body, headers=w.admin)


@provokes("voucher-not-applicable")
async def _(w: World) -> httpx.Response:
    pet = await make_pet(w.client, w.admin)
    return await w.client.post("/v1/orders", json={"petId": pet["id"], "voucherCode": "NOSUCH"})


@provokes("weak-password")
async def _(w: World) -> httpx.Response:
    return await w.client.post("/v1/users", json={"username": "erin", "email": "erin@example.com",
                                                  "password": "aaaaaaaaaaaa"})  # fmt: skip


def test_every_problem_type_is_provoked_here() -> None:
    assert set(PROVOKE) == {problem.slug for problem in every_problem_type()}


def _examples(slug: str) -> list[dict[str, Any]]:
    text = (PAGES / f"{slug}.md").read_text()
    return [json.loads(block.split("```", 1)[0]) for block in text.split("```json")[1:]]


@pytest.mark.parametrize("slug", sorted(PROVOKE))
async def test_the_problem_page_shows_the_members_the_server_sends(
    slug: str, client: Client, admin: dict[str, str], app_use_cases: UseCases, monkeypatch: pytest.MonkeyPatch,
    settings: Settings, clock: SteppingClock,
) -> None:  # fmt: skip
    world = World(client, admin, app_use_cases, monkeypatch, settings, clock)

    response = await PROVOKE[slug](world)

    sent = response.json()
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    assert (sent["code"], sent["status"]) == (slug, response.status_code), sent
    shown = [example for example in _examples(slug) if example.keys() == sent.keys()]
    assert shown, f"docs/problems/{slug}.md shows no example with the members {sorted(sent)}"
    for example in shown:
        assert (example["type"], example["title"], example["status"]) == (sent["type"], sent["title"], sent["status"])
