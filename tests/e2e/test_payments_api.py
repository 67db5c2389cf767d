"""Pay Order and the cancellation saga over HTTP: charges, declines, refunds now and later, callbacks."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar import Litestar

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build, worker_beside
from orderline.gateways.testmode import DECLINED, REFUND_FAILS_LATER, REFUNDS_LATER, SUCCEEDS, TestModeGateway
from orderline.http.app import create_app
from orderline.storage.schema import metadata
from tests.e2e.http import Client, as_owner, assert_problem, make_pet
from tests.e2e.lifespan import lifespan_of
from tests.support import FAST_HASHER, TEST_GATEWAY_SECRET, Db, SteppingClock, engine_settings

CVC = "7319"
LATER = timedelta(seconds=3)  # past the test gateway's default refund delay of 2 s


def payment(order: dict[str, Any], number: str = SUCCEEDS, **overrides: Any) -> dict[str, Any]:
    card = {"object": "card", "name": "Ada Lovelace", "number": number, "cvc": CVC, "expMonth": 12, "expYear": 2030,
            "addressCity": "London", "addressCountry": "GB"}  # fmt: skip
    return {"amount": order["totalAmount"], "currency": order["currency"], "source": card, **overrides}


async def placed(client: Client, admin: dict[str, str], stock: int = 1) -> tuple[dict[str, Any], dict[str, Any]]:
    pet = await make_pet(client, admin, stock=stock)
    response = await client.post("/v1/orders", json={"petId": pet["id"]})
    assert response.status_code == 201, response.text
    return pet, response.json()


async def paid(client: Client, admin: dict[str, str], number: str = SUCCEEDS) -> tuple[dict[str, Any], dict[str, Any]]:
    pet, order = await placed(client, admin)
    response = await client.post(
        f"/v1/orders/{order['id']}/payment", json=payment(order, number), headers=as_owner(order)
    )
    assert response.status_code == 200, response.text
    return pet, order


async def read(client: Client, order: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(f"/v1/orders/{order['id']}", headers=as_owner(order))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def cancel(client: Client, order: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "CUSTOMER_REQUEST"},
                             headers=as_owner(order))  # fmt: skip


async def free_stock(client: Client, pet: dict[str, Any]) -> int:
    stock: int = (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"]
    return stock


async def test_a_successful_payment_approves_the_order_and_shows_the_card_masked(
    client: Client, admin: dict[str, str]
) -> None:
    _, order = await placed(client, admin)

    response = await client.post(f"/v1/orders/{order['id']}/payment", json=payment(order), headers=as_owner(order))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "SUCCEEDED"
    assert body["amount"] == order["totalAmount"]
    assert body["source"]["number"] == "************4242"
    assert "cvc" not in body["source"]
    after = await read(client, order)
    assert (after["status"], after["paymentStatus"]) == ("APPROVED", "PAID")
    assert (after["paidAmount"], after["refundedAmount"]) == (order["totalAmount"], "0.00")
    assert after["paidAt"] is not None
    listed = await client.get(f"/v1/orders/{order['id']}/payments", headers=as_owner(order))
    assert [p["id"] for p in listed.json()["data"]] == [body["id"]]


async def test_a_declined_card_is_402_naming_the_failed_payment_and_the_client_may_retry(
    client: Client, admin: dict[str, str]
) -> None:
    _, order = await placed(client, admin)
    url = f"/v1/orders/{order['id']}/payment"

    declined = await client.post(url, json=payment(order, DECLINED), headers=as_owner(order))
    unpaid = await read(client, order)
    retried = await client.post(url, json=payment(order), headers=as_owner(order))

    problem = assert_problem(declined, 402, "payment-declined")
    assert problem["declineCode"] == "card_declined"
    assert (unpaid["status"], unpaid["paymentStatus"]) == ("PLACED", "UNPAID")
    assert retried.status_code == 200
    listed = (await client.get(f"{url}s", headers=as_owner(order))).json()["data"]
    assert [(p["id"], p["status"]) for p in listed] == [
        (problem["paymentId"], "FAILED"),
        (retried.json()["id"], "SUCCEEDED"),
    ]
    assert listed[0]["failureCode"] == "card_declined"


@pytest.mark.parametrize(
    ("change", "slug"),
    [
        pytest.param({"amount": "1.00"}, "payment-mismatch", id="amount"),
        pytest.param({"currency": "EUR"}, "payment-mismatch", id="currency"),
        pytest.param({"currency": "XYZ"}, "unknown-currency", id="unknown-currency"),
    ],
)
async def test_a_payment_that_is_not_the_order_total_is_422_and_charges_nothing(
    client: Client, admin: dict[str, str], change: dict[str, str], slug: str
) -> None:
    _, order = await placed(client, admin)

    response = await client.post(f"/v1/orders/{order['id']}/payment", json=payment(order, **change),
                                 headers=as_owner(order))  # fmt: skip

    assert_problem(response, 422, slug)
    assert (await client.get(f"/v1/orders/{order['id']}/payments", headers=as_owner(order))).json()["data"] == []
    assert (await read(client, order))["status"] == "PLACED"


@pytest.mark.parametrize(
    ("card", "field"),
    [
        pytest.param({"number": "4242424242424241"}, "number", id="luhn"),
        pytest.param({"number": "4242-4242"}, "number", id="not-digits"),
        pytest.param({"cvc": "12"}, "cvc", id="short-cvc"),
        pytest.param({"expYear": 2020}, "expYear", id="expired"),
        pytest.param({"expMonth": 13}, "expMonth", id="month"),
        pytest.param({"number": "4" * 30}, "number", id="too-long"),
        pytest.param({"cvc": "12345"}, "cvc", id="long-cvc"),
    ],
)
async def test_an_unusable_card_is_422_naming_the_field_and_never_reaches_the_gateway(
    client: Client, admin: dict[str, str], card: dict[str, Any], field: str
) -> None:
    _, order = await placed(client, admin)
    body = payment(order)
    body["source"].update(card)

    response = await client.post(f"/v1/orders/{order['id']}/payment", json=body, headers=as_owner(order))

    assert assert_problem(response, 422, "invalid-card")["field"] == field
    assert (await client.get(f"/v1/orders/{order['id']}/payments", headers=as_owner(order))).json()["data"] == []


async def test_paying_an_order_that_is_not_placed_is_409_naming_its_status(
    client: Client, admin: dict[str, str]
) -> None:
    _, order = await paid(client, admin)

    again = await client.post(f"/v1/orders/{order['id']}/payment", json=payment(order), headers=as_owner(order))

    assert assert_problem(again, 409, "order-not-payable")["currentStatus"] == "APPROVED"


async def test_someone_elses_order_cannot_be_paid_and_is_404(
    client: Client, admin: dict[str, str], alice: dict[str, str]
) -> None:
    _, order = await placed(client, admin)

    response = await client.post(f"/v1/orders/{order['id']}/payment", json=payment(order), headers=alice)

    assert_problem(response, 404, "not-found")


async def test_a_retried_payment_with_the_same_key_charges_once(client: Client, admin: dict[str, str]) -> None:
    _, order = await placed(client, admin)
    headers = {**as_owner(order), "Idempotency-Key": "pay-once"}
    url = f"/v1/orders/{order['id']}/payment"

    first = await client.post(url, json=payment(order), headers=headers)
    second = await client.post(url, json=payment(order), headers=headers)
    other = await client.post(url, json=payment(order, amount="1.00"), headers=headers)

    assert first.status_code == second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert_problem(other, 422, "idempotency-key-reused")
    assert len((await client.get(f"{url}s", headers=as_owner(order))).json()["data"]) == 1


async def test_a_payment_with_a_stale_etag_is_412_and_charges_nothing(client: Client, admin: dict[str, str]) -> None:
    _, order = await placed(client, admin)
    stale = f'"{order["id"]}.{order["version"] - 1 or 99}"'

    response = await client.post(f"/v1/orders/{order['id']}/payment", json=payment(order),
                                 headers={**as_owner(order), "If-Match": stale})  # fmt: skip

    assert_problem(response, 412, "precondition-failed")
    assert (await read(client, order))["paymentStatus"] == "UNPAID"


async def test_cancelling_a_paid_order_refunds_it_at_once_and_releases_the_stock(
    client: Client, admin: dict[str, str]
) -> None:
    pet, order = await paid(client, admin, SUCCEEDS)

    response = await cancel(client, order)

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["paymentStatus"]) == ("CANCELLED", "REFUNDED")
    assert (response.json()["paidAmount"], response.json()["refundedAmount"]) == (order["totalAmount"],) * 2
    assert await free_stock(client, pet) == 1


async def test_deleting_a_paid_order_refunds_it_and_answers_204(client: Client, admin: dict[str, str]) -> None:
    _, order = await paid(client, admin, SUCCEEDS)

    response = await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))

    assert response.status_code == 204
    assert (await read(client, order))["paymentStatus"] == "REFUNDED"


async def test_deleting_an_order_whose_refund_is_asynchronous_answers_202_with_the_pending_order(
    client: Client, admin: dict[str, str]
) -> None:
    _, order = await paid(client, admin, REFUNDS_LATER)

    response = await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))

    assert response.status_code == 202, response.text
    assert (response.json()["status"], response.json()["paymentStatus"]) == ("CANCEL_PENDING", "REFUND_PENDING")
    assert response.headers["ETag"] == f'"{order["id"]}.{response.json()["version"]}"'


async def test_an_admin_force_cancel_of_a_shipped_order_whose_refund_fails_leaves_it_shipped(
    client: Client, admin: dict[str, str], clock: SteppingClock, app_use_cases: UseCases
) -> None:
    pet, order = await paid(client, admin, REFUND_FAILS_LATER)
    assert (await client.post(f"/v1/admin/orders/{order['id']}/ship", headers=admin)).status_code == 200

    pending = await client.post(f"/v1/admin/orders/{order['id']}/force-cancel", json={"reason": "FRAUD"},
                                headers=admin)  # fmt: skip
    clock.advance(LATER)
    await app_use_cases.refunds.settle_pending()

    assert pending.status_code == 202, pending.text
    after = await read(client, order)
    assert (after["status"], after["paymentStatus"]) == ("SHIPPED", "REFUND_FAILED")
    pet_now = (await client.get(f"/v1/pets/{pet['id']}")).json()
    assert (pet_now["stockAvailable"], pet_now["stock"]) == (0, 1)


async def test_an_order_waiting_for_its_refund_cannot_be_shipped(client: Client, admin: dict[str, str]) -> None:
    _, order = await paid(client, admin, REFUNDS_LATER)
    await cancel(client, order)

    response = await client.post(f"/v1/admin/orders/{order['id']}/ship", headers=admin)

    assert assert_problem(response, 409, "illegal-transition")["currentStatus"] == "CANCEL_PENDING"
    assert (await read(client, order))["status"] == "CANCEL_PENDING"


async def test_the_payment_listing_shows_each_refund_with_the_gateways_reference(
    client: Client, admin: dict[str, str]
) -> None:
    _, order = await paid(client, admin, REFUNDS_LATER)
    await cancel(client, order)

    listed = (await client.get(f"/v1/orders/{order['id']}/payments", headers=as_owner(order))).json()["data"]

    [refund] = listed[0]["refunds"]
    assert (refund["status"], refund["amount"], refund["settledAt"]) == ("PENDING", order["totalAmount"], None)
    assert refund["reference"].startswith("tg_re_asyncok_")


async def test_the_payment_listing_is_a_page_like_every_list(client: Client, admin: dict[str, str]) -> None:
    _, order = await paid(client, admin)

    listed = await client.get(f"/v1/orders/{order['id']}/payments", headers=as_owner(order))

    assert listed.status_code == 200, listed.text
    assert listed.json().keys() == {"data", "nextCursor"}
    assert listed.json()["nextCursor"] is None


async def test_the_payment_listing_pages_through_every_attempt_oldest_first(
    client: Client, admin: dict[str, str]
) -> None:
    _, order = await placed(client, admin)
    url = f"/v1/orders/{order['id']}/payment"
    attempts = [(await client.post(url, json=payment(order, DECLINED), headers=as_owner(order))).json()["paymentId"]
                for _ in range(4)]  # fmt: skip
    attempts.append((await client.post(url, json=payment(order), headers=as_owner(order))).json()["id"])

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{url}s", params=params, headers=as_owner(order))).json()
        seen += [p["id"] for p in page["data"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break

    assert seen == attempts
    assert pages == 3


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"limit": 0}, id="limit-0"),
        pytest.param({"limit": 101}, id="limit-101"),
        pytest.param({"cursor": "not-a-cursor"}, id="garbage-cursor"),
        pytest.param({"cursor": "eyJrIjoib3JkZXJzIiwidiI6MX0"}, id="another-lists-cursor"),
    ],
)
async def test_a_bad_limit_or_cursor_for_the_payment_listing_is_a_422(
    client: Client, admin: dict[str, str], params: dict[str, Any]
) -> None:
    _, order = await paid(client, admin)

    response = await client.get(f"/v1/orders/{order['id']}/payments", params=params, headers=as_owner(order))

    assert_problem(response, 422, "validation-error")


async def test_a_retried_cancel_with_the_same_key_refunds_once(client: Client, admin: dict[str, str], db: Db) -> None:
    _, order = await paid(client, admin, SUCCEEDS)
    headers = {**as_owner(order), "Idempotency-Key": "cancel-once"}
    url = f"/v1/orders/{order['id']}/cancel"

    first = await client.post(url, json={"reason": "CUSTOMER_REQUEST"}, headers=headers)
    second = await client.post(url, json={"reason": "CUSTOMER_REQUEST"}, headers=headers)

    assert first.status_code == second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    async with db.snapshot() as uow:
        refunds = await uow.payments.refunds_of(order_id_of(order))
    assert len(refunds) == 1


async def test_an_asynchronous_refund_leaves_the_order_pending_until_the_signed_callback_confirms_it(
    client: Client, admin: dict[str, str], clock: SteppingClock, db: Db
) -> None:
    pet, order = await paid(client, admin, REFUNDS_LATER)

    pending = await cancel(client, order)
    again = await cancel(client, order)
    held = await free_stock(client, pet)
    clock.advance(LATER)
    reference = await refund_reference(db, order)
    headers, body = TestModeGateway(clock, timedelta(seconds=2), TEST_GATEWAY_SECRET).signed_callback(reference)
    confirmed = await client.post("/v1/gateway/callbacks", content=body,
                                  headers={**headers, "content-type": "application/json"})  # fmt: skip

    assert pending.status_code == 202, pending.text
    assert (pending.json()["status"], pending.json()["paymentStatus"]) == ("CANCEL_PENDING", "REFUND_PENDING")
    assert again.status_code == 202
    assert again.json() == pending.json()
    assert held == 0
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "SUCCEEDED"
    after = await read(client, order)
    assert (after["status"], after["paymentStatus"]) == ("CANCELLED", "REFUNDED")
    assert await free_stock(client, pet) == 1


async def test_a_failed_asynchronous_refund_puts_the_order_back_to_approved_and_audits_why(
    client: Client, admin: dict[str, str], clock: SteppingClock, app_use_cases: UseCases
) -> None:
    pet, order = await paid(client, admin, REFUND_FAILS_LATER)

    pending = await cancel(client, order)
    clock.advance(LATER)
    settled = await app_use_cases.refunds.settle_pending()

    assert pending.status_code == 202
    assert settled == 1
    after = await read(client, order)
    assert (after["status"], after["paymentStatus"], after["cancelReason"]) == ("APPROVED", "REFUND_FAILED", None)
    assert await free_stock(client, pet) == 0
    audit = await client.get("/v1/admin/audit-logs", params={"entityId": order["id"]}, headers=admin)
    failed = [entry for entry in audit.json()["data"] if entry["action"] == "ORDER_CANCEL_FAILED"]
    assert len(failed) == 1
    assert "refused the refund" in failed[0]["reason"]


async def test_a_callback_with_a_bad_signature_is_401_and_changes_nothing(
    client: Client, admin: dict[str, str], clock: SteppingClock, db: Db
) -> None:
    _, order = await paid(client, admin, REFUNDS_LATER)
    await cancel(client, order)
    clock.advance(LATER)
    reference = await refund_reference(db, order)
    forged = TestModeGateway(clock, timedelta(seconds=2), "whsec_" + "Zm9yZ2VkLXNlY3JldC1mb3JnZWQtc2VjcmV0LTMyYg==")
    headers, body = forged.signed_callback(reference)

    response = await client.post("/v1/gateway/callbacks", content=body,
                                 headers={**headers, "content-type": "application/json"})  # fmt: skip

    assert_problem(response, 401, "invalid-signature")
    assert (await read(client, order))["status"] == "CANCEL_PENDING"


async def test_a_signed_callback_about_an_unknown_refund_is_404(client: Client, clock: SteppingClock) -> None:
    gateway = TestModeGateway(clock, timedelta(seconds=2), TEST_GATEWAY_SECRET)
    headers, body = gateway.signed_callback("tg_re_asyncok_1_0123456789abcdef0123456789abcdef")

    response = await client.post("/v1/gateway/callbacks", content=body,
                                 headers={**headers, "content-type": "application/json"})  # fmt: skip

    assert_problem(response, 404, "not-found")


async def test_the_card_number_and_cvc_are_never_stored_or_logged(
    client: Client, admin: dict[str, str], db: Db, capsys: pytest.CaptureFixture[str]
) -> None:
    _, order = await placed(client, admin)
    url = f"/v1/orders/{order['id']}/payment"
    await client.post(url, json=payment(order, DECLINED), headers=as_owner(order))
    bad = payment(order)
    bad["source"]["expMonth"] = 13
    await client.post(url, json=bad, headers=as_owner(order))
    await client.post(url, json=payment(order), headers={**as_owner(order), "Idempotency-Key": "k"})
    await cancel(client, order)

    stored = await everything_stored(db)
    logged = capsys.readouterr()

    for number in (SUCCEEDS, DECLINED):
        assert number not in stored
        assert number not in logged.out + logged.err
    cvc = re.compile(rf"(?<![0-9A-Za-z-]){CVC}(?![0-9A-Za-z-])")
    assert not cvc.search(stored)
    assert not cvc.search(logged.out + logged.err)
    assert "4242" in stored  # the last four are kept, so the dump did read the payments


async def test_the_background_poller_settles_a_pending_refund_by_itself(database_url: str) -> None:
    settings = engine_settings(database_url, refund_poll_seconds=0.05, test_gateway_refund_delay=0.2)
    # the real clock; the worker runs recovery beside the app, as `serve` runs it on SQLite
    app = create_app(settings, lambda: build(settings, hasher=FAST_HASHER), partial(worker_beside, settings))
    async with running(app) as client:
        admin = await admin_headers(app)
        _, order = await paid(client, admin, REFUNDS_LATER)

        pending = await cancel(client, order)
        for _ in range(100):
            if (await read(client, order))["status"] != "CANCEL_PENDING":
                break
            await asyncio.sleep(0.05)

        assert pending.status_code == 202
        after = await read(client, order)
        assert (after["status"], after["paymentStatus"]) == ("CANCELLED", "REFUNDED")


def order_id_of(order: dict[str, Any]) -> UUID:
    return UUID(order["id"])


async def refund_reference(db: Db, order: dict[str, Any]) -> str:
    async with db.snapshot() as uow:
        refunds = await uow.payments.refunds_of(order_id_of(order))
    assert len(refunds) == 1
    assert refunds[0].reference is not None
    return refunds[0].reference


async def everything_stored(db: Db) -> str:
    """Every row of every table, as text."""
    rows: list[str] = []
    async with db.snapshot() as uow:
        for table in metadata.sorted_tables:
            found = await uow.connection.fetch_all(f"SELECT * FROM {table.name}")
            rows.extend(repr(dict(row)) for row in found)  # type: ignore[call-overload]
    return "\n".join(rows)


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[Client]:
    """The app with its lifespan (and so its refund poller) running, and a client for it."""
    asgi: Any = app
    async with lifespan_of(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi),
                                                   base_url="http://orderline.test") as client:  # fmt: skip
        yield client


async def admin_headers(app: Litestar) -> dict[str, str]:
    use_cases: UseCases = app.state.use_cases
    _key, secret = await use_cases.api_keys.create("poller-test", frozenset({Scope.ADMIN}))
    return {"Authorization": f"Bearer {secret}"}
