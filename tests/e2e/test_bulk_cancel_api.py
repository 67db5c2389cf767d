"""POST /v1/orders/bulk-cancel over HTTP: one result per id in the order given, retries, and its 422s."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from orderline.gateways.testmode import REFUNDS_LATER
from tests.e2e.http import Client, assert_problem, make_pet, place

PATH = "/v1/orders/bulk-cancel"
UNKNOWN = "019b4139-def0-7abc-8def-123456789abc"


async def paid(client: Client, order: dict[str, Any], headers: dict[str, str], card: str) -> None:
    body = {"amount": order["totalAmount"], "currency": order["currency"],
            "source": {"number": card, "cvc": "123", "expMonth": 12, "expYear": 2099}}  # fmt: skip
    response = await client.post(f"/v1/orders/{order['id']}/payment", json=body, headers=headers)
    assert response.status_code == 200, response.text


async def test_each_id_gets_its_outcome_and_status_in_the_order_given(
    client: Client, admin: dict[str, str], alice: dict[str, str], bob: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=10)
    placed = await place(client, pet["id"], headers=alice)
    refunding = await place(client, pet["id"], headers=alice)
    await paid(client, refunding, alice, REFUNDS_LATER)
    bobs = await place(client, pet["id"], headers=bob)
    ids = [refunding["id"], UNKNOWN, placed["id"], bobs["id"]]

    response = await client.post(PATH, json={"ids": ids, "reason": "DUPLICATE", "note": "twice"}, headers=alice)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "results": [
            {"id": refunding["id"], "outcome": "CANCEL_PENDING", "status": "CANCEL_PENDING"},
            {"id": UNKNOWN, "outcome": "NOT_FOUND", "status": None},
            {"id": placed["id"], "outcome": "CANCELLED", "status": "CANCELLED"},
            {"id": bobs["id"], "outcome": "NOT_FOUND", "status": None},
        ]
    }
    cancelled = (await client.get(f"/v1/orders/{placed['id']}", headers=alice)).json()
    assert (cancelled["cancelReason"], cancelled["cancelNote"]) == ("DUPLICATE", "twice")
    assert (await client.get(f"/v1/orders/{bobs['id']}", headers=bob)).json()["status"] == "PLACED"


async def test_a_repeat_without_a_key_answers_what_each_order_now_is(
    client: Client, admin: dict[str, str], alice: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=2)
    order = await place(client, pet["id"], headers=alice)
    body = {"ids": [order["id"]], "reason": "OTHER"}

    await client.post(PATH, json=body, headers=alice)
    repeat = await client.post(PATH, json=body, headers=alice)

    assert repeat.json() == {"results": [{"id": order["id"], "outcome": "NOT_CANCELLABLE", "status": "CANCELLED"}]}
    assert (await client.get(f"/v1/orders/{order['id']}", headers=alice)).json()["version"] == 2


async def test_a_retry_with_the_same_key_replays_the_first_answer(
    client: Client, admin: dict[str, str], alice: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=2)
    order = await place(client, pet["id"], headers=alice)
    body = {"ids": [order["id"]], "reason": "OTHER"}
    keyed = alice | {"Idempotency-Key": "bulk-1"}

    first = await client.post(PATH, json=body, headers=keyed)
    retry = await client.post(PATH, json=body, headers=keyed)
    reused = await client.post(PATH, json={**body, "reason": "FRAUD"}, headers=keyed)

    assert first.json()["results"][0]["outcome"] == "CANCELLED"
    assert (retry.status_code, retry.json()) == (200, first.json())
    assert retry.headers["idempotent-replayed"] == "true"
    assert_problem(reused, 422, "idempotency-key-reused")


async def test_a_bulk_cancel_needs_credentials_with_the_write_orders_scope(
    client: Client, admin: dict[str, str], reader: dict[str, str]
) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])
    body = {"ids": [order["id"]], "reason": "OTHER"}

    assert_problem(await client.post(PATH, json=body), 401, "unauthorized")
    assert_problem(await client.post(PATH, json=body, headers=reader), 403, "forbidden")
    assert (await client.get(f"/v1/orders/{order['id']}", headers=admin)).json()["status"] == "PLACED"


def _ids(count: int) -> list[str]:
    return [str(uuid.UUID(int=n + 1)) for n in range(count)]


ORDER = "the order placed for the test"  # stands for a real order, so a refusal visibly leaves it alone


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"ids": [], "reason": "OTHER"}, "ids", id="empty"),
        pytest.param({"ids": [*_ids(100), ORDER], "reason": "OTHER"}, "ids", id="101-ids"),
        pytest.param({"ids": [ORDER, "not-a-uuid"], "reason": "OTHER"}, "ids[1]", id="bad-uuid"),
        pytest.param({"ids": [ORDER, ORDER], "reason": "OTHER"}, "ids", id="duplicate"),
        pytest.param({"ids": [ORDER], "reason": "OTHER", "force": True}, "force", id="unknown-field"),
        pytest.param({"ids": [ORDER]}, "reason", id="no-reason"),
        pytest.param({"ids": [ORDER], "reason": "BORED"}, "reason", id="unknown-reason"),
        pytest.param({"ids": ORDER, "reason": "OTHER"}, "ids", id="not-a-list"),
    ],
)
async def test_a_bad_bulk_is_a_422_naming_the_field_and_cancels_nothing(
    client: Client, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])
    ids = body["ids"]
    sent = body | {"ids": order["id"] if ids == ORDER else [order["id"] if i == ORDER else i for i in ids]}

    response = await client.post(PATH, json=sent, headers=admin)

    [error] = assert_problem(response, 422, "validation-error")["errors"]
    assert error["field"] == field
    assert (await client.get(f"/v1/orders/{order['id']}", headers=admin)).json()["status"] == "PLACED"


async def test_the_largest_bulk_is_answered_in_full(client: Client, admin: dict[str, str]) -> None:
    response = await client.post(PATH, json={"ids": _ids(100), "reason": "OTHER"}, headers=admin)

    assert response.status_code == 200
    assert [result["outcome"] for result in response.json()["results"]] == ["NOT_FOUND"] * 100
