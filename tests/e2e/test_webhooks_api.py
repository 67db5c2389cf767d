"""/v1/webhooks over HTTP on a real database: subscriptions, the secret shown once, rotation, deliveries, replays,
test pings, and every refusal as problem+json that changes nothing."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from tests.e2e.conftest import _key
from tests.e2e.http import Client, assert_problem
from tests.e2e.lifespan import lifespan_of
from tests.support import FAST_HASHER, START, Db, SteppingClock
from tests.webhook_rows import a_delivery, an_event, an_order_callback, outbox_rows

BODY = {"url": "http://127.0.0.1:9000/hooks", "events": ["order.*", "payment.succeeded"], "description": "fulfilment"}


@pytest.fixture
async def hooks(app_use_cases: UseCases) -> dict[str, str]:
    """A key with write:webhooks and nothing else."""
    return await _key(app_use_cases, Scope.WRITE_WEBHOOKS)


async def _create(client: Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/webhooks", json={**BODY, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_subscription_is_created_and_its_secret_is_shown_this_once(
    client: Client, hooks: dict[str, str]
) -> None:
    response = await client.post("/v1/webhooks", json=BODY, headers=hooks)

    created = response.json()
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"), validate=True)) == 32
    assert {k: created[k] for k in BODY} == BODY
    assert (created["active"], created["disabledReason"], created["previousSecretExpiresAt"]) == (True, None, None)
    read = (await client.get(f"/v1/webhooks/{created['id']}", headers=hooks)).json()
    listed = (await client.get("/v1/webhooks", headers=hooks)).json()
    assert read == {k: v for k, v in created.items() if k != "secret"}
    assert listed == {"data": [read], "nextCursor": None}


async def test_an_admin_may_manage_webhooks_too(client: Client, admin: dict[str, str]) -> None:
    created = await _create(client, admin)

    assert (await client.get(f"/v1/webhooks/{created['id']}", headers=admin)).status_code == 200


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "ftp://example.com/in"}, "url"),
        ({"url": "https://user:pw@example.com/in"}, "url"),
        ({"events": ["order.shipped"]}, "events"),
        ({"events": ["order.*", "*.*"]}, "events"),
    ],
)
async def test_a_bad_url_or_an_unknown_event_pattern_is_a_400_and_nothing_is_stored(
    client: Client, hooks: dict[str, str], fields: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/webhooks", json={**BODY, **fields}, headers=hooks)

    problem = assert_problem(response, 400, "invalid-webhook")
    assert problem["field"] == field
    assert (await client.get("/v1/webhooks", headers=hooks)).json()["data"] == []


async def test_without_write_webhooks_it_is_a_403_and_without_credentials_a_401(
    client: Client, clerk: dict[str, str]
) -> None:
    forbidden = await client.post("/v1/webhooks", json=BODY, headers=clerk)
    anonymous = await client.get("/v1/webhooks")

    assert assert_problem(forbidden, 403, "forbidden")["requiredScope"] == "write:webhooks"
    assert_problem(anonymous, 401, "unauthorized")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/rotate-secret"), ("GET", "/deliveries"),
     ("POST", "/test"), ("POST", "/replay")],
)  # fmt: skip
async def test_an_unknown_subscription_or_an_order_callback_is_a_404(
    client: Client, hooks: dict[str, str], db: Db, method: str, path: str
) -> None:
    body = {"since": "2026-01-01T00:00:00Z"} if path == "/replay" else {"active": False} if method == "PATCH" else None
    for webhook_id in ("01a22b12-973b-74a6-856d-0acafa48fb01", str(await an_order_callback(db))):
        response = await client.request(method, f"/v1/webhooks/{webhook_id}{path}", json=body, headers=hooks)

        assert_problem(response, 404, "not-found")
    assert (await client.get("/v1/webhooks", headers=hooks)).json()["data"] == []


async def test_a_cursor_the_list_did_not_give_is_refused_naming_it(client: Client, hooks: dict[str, str]) -> None:
    response = await client.get("/v1/webhooks", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=hooks)

    assert assert_problem(response, 422, "validation-error")["errors"][0]["field"] == "cursor"


async def test_the_list_pages_with_its_cursor(client: Client, hooks: dict[str, str]) -> None:
    made = [(await _create(client, hooks))["id"] for _ in range(3)]

    first = (await client.get("/v1/webhooks", params={"limit": 2}, headers=hooks)).json()
    rest = (await client.get("/v1/webhooks", params={"limit": 2, "cursor": first["nextCursor"]}, headers=hooks)).json()

    assert [w["id"] for w in first["data"] + rest["data"]] == made
    assert rest["nextCursor"] is None


async def test_patch_merges_what_it_is_sent_and_null_removes_the_description(
    client: Client, hooks: dict[str, str]
) -> None:
    created = await _create(client, hooks)

    response = await client.patch(
        f"/v1/webhooks/{created['id']}",
        json={"description": None, "events": ["*"]},
        headers={**hooks, "Content-Type": "application/merge-patch+json"},
    )

    body = response.json()
    assert response.status_code == 200, response.text
    assert (body["url"], body["events"], body["description"], body["active"]) == (BODY["url"], ["*"], None, True)
    assert "secret" not in body


@pytest.mark.parametrize("change", [{"url": "gopher://example.com/"}, {"events": ["refunds.*"]}])
async def test_a_refused_patch_changes_nothing(client: Client, hooks: dict[str, str], change: dict[str, Any]) -> None:
    created = await _create(client, hooks)
    path = f"/v1/webhooks/{created['id']}"

    response = await client.patch(path, json={**change, "active": False}, headers=hooks)

    assert_problem(response, 400, "invalid-webhook")
    assert (await client.get(path, headers=hooks)).json()["active"] is True


@pytest.mark.parametrize("change", [{"url": None}, {"events": []}, {"active": "no"}, {"secret": "whsec_x"}])
async def test_a_patch_of_the_wrong_shape_is_a_422(
    client: Client, hooks: dict[str, str], change: dict[str, Any]
) -> None:
    created = await _create(client, hooks)

    response = await client.patch(f"/v1/webhooks/{created['id']}", json=change, headers=hooks)

    assert_problem(response, 422, "validation-error")


async def test_rotating_shows_the_new_secret_once_and_the_previous_one_signs_until_the_grace_ends(
    client: Client, hooks: dict[str, str]
) -> None:
    created = await _create(client, hooks)

    response = await client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=hooks)

    rotated = response.json()
    assert response.status_code == 200, response.text
    assert rotated["secret"] != created["secret"]
    assert rotated["secret"].startswith("whsec_")
    assert rotated["previousSecretExpiresAt"] is not None
    read = (await client.get(f"/v1/webhooks/{created['id']}", headers=hooks)).json()
    assert read["previousSecretExpiresAt"] == rotated["previousSecretExpiresAt"]
    assert "secret" not in read


async def test_deleting_a_subscription_makes_it_gone(client: Client, hooks: dict[str, str]) -> None:
    created = await _create(client, hooks)

    deleted = await client.delete(f"/v1/webhooks/{created['id']}", headers=hooks)

    assert deleted.status_code == 204
    assert_problem(await client.get(f"/v1/webhooks/{created['id']}", headers=hooks), 404, "not-found")


async def test_deliveries_are_listed_with_their_attempts_and_filtered_by_status(
    client: Client, hooks: dict[str, str], db: Db
) -> None:
    created = await _create(client, hooks)
    event = await an_event(db, "order.created")
    dead = await a_delivery(db, created["id"], event, status="DEAD", attempts=8, code=503, response="unavailable")
    await a_delivery(db, created["id"], event, status="DELIVERED", attempts=1, code=200)
    path = f"/v1/webhooks/{created['id']}/deliveries"

    everything = (await client.get(path, headers=hooks)).json()
    only_dead = (await client.get(path, params={"status": "DEAD"}, headers=hooks)).json()

    assert [d["status"] for d in everything["data"]] == ["DELIVERED", "DEAD"]
    [shown] = only_dead["data"]
    assert shown["id"] == str(dead)
    assert (shown["eventId"], shown["eventType"], shown["attempts"]) == (str(event["id"]), "order.created", 8)
    assert (shown["lastStatusCode"], shown["lastResponse"], shown["deliveredAt"]) == (503, "unavailable", None)


async def test_a_bad_delivery_cursor_or_status_is_a_422(client: Client, hooks: dict[str, str]) -> None:
    created = await _create(client, hooks)
    path = f"/v1/webhooks/{created['id']}/deliveries"

    assert_problem(
        await client.get(path, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=hooks), 422, "validation-error"
    )
    assert_problem(await client.get(path, params={"status": "LOST"}, headers=hooks), 422, "validation-error")


async def test_replaying_a_delivery_makes_it_pending_and_due_with_its_attempts_reset(
    client: Client, hooks: dict[str, str], db: Db
) -> None:
    created = await _create(client, hooks)
    dead = await a_delivery(db, created["id"], await an_event(db), status="DEAD", attempts=8)

    response = await client.post(f"/v1/webhooks/{created['id']}/deliveries/{dead}/replay", headers=hooks)

    replayed = response.json()
    assert response.status_code == 202, response.text
    assert (replayed["status"], replayed["attempts"]) == ("PENDING", 0)
    assert replayed["nextAttemptAt"] is not None
    listed = (await client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=hooks)).json()
    assert listed["data"] == [replayed]


async def test_replaying_an_unknown_delivery_is_a_404(client: Client, hooks: dict[str, str]) -> None:
    created = await _create(client, hooks)

    response = await client.post(
        f"/v1/webhooks/{created['id']}/deliveries/01a22b12-973b-74a6-856d-0acafa48fb01/replay", headers=hooks
    )

    assert_problem(response, 404, "not-found")


async def test_replay_since_makes_a_delivery_of_each_matching_event_since_then(
    client: Client, hooks: dict[str, str], db: Db
) -> None:
    created = await _create(client, hooks)
    await an_event(db, "order.created", at=START - timedelta(days=1))
    await an_event(db, "order.cancelled", at=START)
    await an_event(db, "payment.succeeded", at=START)
    await an_event(db, "refund.failed", at=START)

    response = await client.post(
        f"/v1/webhooks/{created['id']}/replay", json={"since": START.isoformat()}, headers=hooks
    )

    assert response.status_code == 202, response.text
    assert response.json() == {"deliveries": 2, "nextSince": None}
    deliveries = (await client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=hooks)).json()["data"]
    assert sorted(d["eventType"] for d in deliveries) == ["order.cancelled", "payment.succeeded"]


async def test_a_test_ping_writes_exactly_one_outbox_event_and_answers_its_id(
    client: Client, hooks: dict[str, str], db: Db
) -> None:
    created = await _create(client, hooks)

    response = await client.post(f"/v1/webhooks/{created['id']}/test", headers=hooks)

    assert response.status_code == 202, response.text
    [row] = await outbox_rows(db, created["id"])
    assert row["payload"] == {
        "eventId": response.json()["eventId"],
        "eventType": "ping",
        "timestamp": row["payload"]["timestamp"],
        "data": {"webhookId": created["id"]},
    }


async def test_an_inactive_subscription_is_not_pinged(client: Client, hooks: dict[str, str], db: Db) -> None:
    created = await _create(client, hooks, active=False)

    response = await client.post(f"/v1/webhooks/{created['id']}/test", headers=hooks)

    assert assert_problem(response, 409, "webhook-inactive")["id"] == created["id"]
    assert await outbox_rows(db, created["id"]) == []


@pytest.fixture
async def guarded_client(settings: Settings, clock: SteppingClock) -> AsyncIterator[tuple[Client, dict[str, str]]]:
    """The app as production runs it (private destinations refused), and an admin's headers for it."""
    guarded = msgspec.structs.replace(settings, webhooks_allow_private=False)
    application = create_app(guarded, lambda: build(guarded, clock=clock, hasher=FAST_HASHER))
    async with lifespan_of(application):
        headers = await _key(application.state.use_cases, Scope.ADMIN)
        transport = httpx.ASGITransport(app=application)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://orderline.test") as http:
            yield http, headers


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9000/", "http://169.254.169.254/latest/meta-data", "http://192.168.1.1/", "http://localhost/"],
)
async def test_a_url_whose_host_is_not_public_is_refused_naming_it(
    guarded_client: tuple[Client, dict[str, str]], url: str
) -> None:
    client, admin = guarded_client

    response = await client.post("/v1/webhooks", json={**BODY, "url": url}, headers=admin)

    problem = assert_problem(response, 400, "invalid-webhook")
    assert (problem["field"], problem["url"], problem["reason"]) == ("url", url, "not-public")
    assert (await client.get("/v1/webhooks", headers=admin)).json()["data"] == []


async def test_a_patch_to_a_url_whose_host_is_not_public_is_refused(
    guarded_client: tuple[Client, dict[str, str]],
) -> None:
    client, admin = guarded_client
    created = await _create(client, admin, url="https://93.184.216.34/in")

    response = await client.patch(f"/v1/webhooks/{created['id']}", json={"url": "http://10.0.0.1/"}, headers=admin)

    assert assert_problem(response, 400, "invalid-webhook")["url"] == "http://10.0.0.1/"
    assert (await client.get(f"/v1/webhooks/{created['id']}", headers=admin)).json()[
        "url"
    ] == "https://93.184.216.34/in"
