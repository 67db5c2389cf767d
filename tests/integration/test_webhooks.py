"""The Webhooks use case on a real database, on SQLite and PostgreSQL: subscriptions, their secrets, deliveries,
replays and pings, each refusal changing nothing."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import msgspec
import pytest

from orderline.application import webhooks as webhooks_module
from orderline.application.audit import Action, EntityType
from orderline.application.errors import (
    Forbidden,
    InvalidInput,
    InvalidWebhook,
    NotFound,
    UnsafeDestination,
    WebhookInactive,
)
from orderline.application.ports import DeliveryStatus
from orderline.application.principal import Scope
from orderline.application.queries import AuditQuery
from orderline.application.use_cases import UseCases
from orderline.application.webhooks import WebhookChange, WebhookDraft
from orderline.bootstrap import build
from orderline.config import Settings
from tests.support import ADMIN, CLERK, FAST_HASHER, START, Db, SteppingClock, a_principal
from tests.webhook_rows import a_delivery, an_event, an_order_callback, outbox_rows

HOOKS = a_principal(Scope.WRITE_WEBHOOKS)
DRAFT = WebhookDraft("http://127.0.0.1:9000/hooks", ["order.*"], "fulfilment")


@pytest.fixture
async def guarded(settings: Settings, clock: SteppingClock) -> AsyncIterator[UseCases]:
    """The use cases as production runs them: private addresses refused."""
    wired = await build(msgspec.structs.replace(settings, webhooks_allow_private=False), clock=clock,
                        hasher=FAST_HASHER)  # fmt: skip
    try:
        yield wired
    finally:
        await wired.close()


async def _audit(use_cases: UseCases, entity_id: object) -> list[Action]:
    query = AuditQuery(entity_type=EntityType.WEBHOOK, entity_id=str(entity_id), limit=50)
    return [entry.action for entry in reversed((await use_cases.audit_log.list(ADMIN, query)).items)]


async def test_a_new_subscription_is_stored_with_a_standard_webhooks_secret_and_audited(use_cases: UseCases) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)

    stored = await use_cases.webhooks.get(HOOKS, created.id)
    assert stored == created
    assert (stored.url, stored.events, stored.description, stored.active) == (DRAFT.url, ("order.*",), "fulfilment",
                                                                              True)  # fmt: skip
    assert len(base64.b64decode(stored.secret.removeprefix("whsec_"))) == 32
    assert await _audit(use_cases, created.id) == [Action.WEBHOOK_CREATED]


async def test_an_unknown_event_pattern_is_refused_and_nothing_is_stored(use_cases: UseCases) -> None:
    with pytest.raises(InvalidWebhook) as refused:
        await use_cases.webhooks.create(HOOKS, WebhookDraft(DRAFT.url, ["order.*", "order.shipped"]))

    assert refused.value.details["pattern"] == "order.shipped"
    assert (await use_cases.webhooks.list(HOOKS, limit=10)).items == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/", "http://169.254.169.254/latest", "http://10.0.0.7/",
                                 "http://100.64.0.1/", "http://0.0.0.0/"])  # fmt: skip
async def test_a_private_destination_is_refused_unless_allowed_and_nothing_is_stored(
    guarded: UseCases, url: str
) -> None:
    with pytest.raises(UnsafeDestination) as refused:
        await guarded.webhooks.create(HOOKS, WebhookDraft(url, ["*"]))

    assert refused.value.details["url"] == url
    assert (await guarded.webhooks.list(HOOKS, limit=10)).items == []


async def test_changing_the_url_to_a_private_one_is_refused_and_changes_nothing(guarded: UseCases) -> None:
    created = await guarded.webhooks.create(HOOKS, WebhookDraft("http://93.184.216.34/in", ["*"]))

    with pytest.raises(UnsafeDestination):
        await guarded.webhooks.update(HOOKS, created.id, WebhookChange(url="http://192.168.0.1/in", active=False))

    assert await guarded.webhooks.get(HOOKS, created.id) == created


async def test_a_caller_without_write_webhooks_is_forbidden(use_cases: UseCases) -> None:
    with pytest.raises(Forbidden):
        await use_cases.webhooks.create(CLERK, DRAFT)


async def test_a_change_sets_what_it_names_and_keeps_the_rest(use_cases: UseCases) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)

    changed = await use_cases.webhooks.update(HOOKS, created.id, WebhookChange(description=None, active=False))

    assert (changed.url, changed.events, changed.description, changed.active) == (DRAFT.url, ("order.*",), None, False)
    assert changed.secret == created.secret
    assert changed.updated_at > created.updated_at
    assert await use_cases.webhooks.get(HOOKS, created.id) == changed
    assert await _audit(use_cases, created.id) == [Action.WEBHOOK_CREATED, Action.WEBHOOK_UPDATED]


async def test_a_change_that_changes_nothing_records_nothing(use_cases: UseCases) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)

    same = await use_cases.webhooks.update(HOOKS, created.id, WebhookChange(events=["order.*"]))

    assert same == created
    assert await _audit(use_cases, created.id) == [Action.WEBHOOK_CREATED]


async def test_rotation_shows_a_new_secret_and_keeps_the_old_one_signing_for_the_grace_period(
    use_cases: UseCases, clock: SteppingClock
) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)

    rotated = await use_cases.webhooks.rotate_secret(HOOKS, created.id)

    assert rotated.secret != created.secret
    assert rotated.secret.startswith("whsec_")
    assert rotated.previous_secret == created.secret
    assert rotated.previous_secret_expires_at is not None
    assert rotated.previous_secret_expires_at - rotated.updated_at == timedelta(days=1)
    assert (await use_cases.webhooks.get(HOOKS, created.id)).previous_secret == created.secret
    clock.advance(timedelta(days=1))
    assert (await use_cases.webhooks.get(HOOKS, created.id)).previous_secret is None
    assert await _audit(use_cases, created.id) == [Action.WEBHOOK_CREATED, Action.WEBHOOK_SECRET_ROTATED]


async def test_a_list_pages_oldest_first_and_a_foreign_cursor_is_refused(use_cases: UseCases) -> None:
    made = [await use_cases.webhooks.create(HOOKS, DRAFT) for _ in range(3)]

    first = await use_cases.webhooks.list(HOOKS, limit=2)
    second = await use_cases.webhooks.list(HOOKS, limit=2, cursor=first.next_cursor)

    assert [s.id for s in first.items + second.items] == [s.id for s in made]
    assert second.next_cursor is None
    with pytest.raises(InvalidInput):
        await use_cases.webhooks.list(HOOKS, limit=2, cursor="bm90LWEtY3Vyc29y")


async def test_order_callbacks_are_never_listed_or_reachable(use_cases: UseCases, db: Db) -> None:
    callback = await an_order_callback(db)

    assert (await use_cases.webhooks.list(HOOKS, limit=10)).items == []
    for reach in (use_cases.webhooks.get, use_cases.webhooks.delete, use_cases.webhooks.rotate_secret,
                  use_cases.webhooks.ping):  # fmt: skip
        with pytest.raises(NotFound):
            await reach(HOOKS, callback)


async def test_deleting_removes_the_subscription_and_its_deliveries(use_cases: UseCases, db: Db) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)
    await a_delivery(db, created.id, await an_event(db))

    await use_cases.webhooks.delete(HOOKS, created.id)

    with pytest.raises(NotFound):
        await use_cases.webhooks.deliveries(HOOKS, created.id, limit=10)
    async with db.snapshot() as uow:
        assert await uow.connection.fetch_all("SELECT id FROM webhook_deliveries") == []
    assert await _audit(use_cases, created.id) == [Action.WEBHOOK_CREATED, Action.WEBHOOK_DELETED]


async def test_deliveries_are_listed_newest_first_and_filtered_by_status(use_cases: UseCases, db: Db) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)
    event = await an_event(db, "order.created")
    dead = await a_delivery(db, created.id, event, status="DEAD", attempts=8, code=500, response="boom")
    pending = await a_delivery(db, created.id, event)
    delivered = await a_delivery(db, created.id, event, status="DELIVERED", attempts=1, code=204)

    first = await use_cases.webhooks.deliveries(HOOKS, created.id, limit=2)
    rest = await use_cases.webhooks.deliveries(HOOKS, created.id, limit=2, cursor=first.next_cursor)
    only_dead = await use_cases.webhooks.deliveries(HOOKS, created.id, status=DeliveryStatus.DEAD, limit=10)

    assert [d.id for d in first.items + rest.items] == [delivered, pending, dead]
    assert [(d.id, d.attempts, d.last_status_code, d.last_response, d.event_type) for d in only_dead.items] == [
        (dead, 8, 500, "boom", "order.created")
    ]


async def test_replaying_a_dead_delivery_makes_it_due_now_with_a_new_round_of_attempts(
    use_cases: UseCases, db: Db
) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)
    dead = await a_delivery(db, created.id, await an_event(db), status="DEAD", attempts=8, code=500)

    replayed = await use_cases.webhooks.replay_delivery(HOOKS, created.id, dead)

    [stored] = (await use_cases.webhooks.deliveries(HOOKS, created.id, limit=10)).items
    assert stored == replayed
    assert (stored.status, stored.attempts, stored.last_status_code) == (DeliveryStatus.PENDING, 0, 500)
    assert stored.next_attempt_at is not None
    assert stored.next_attempt_at > START


async def test_a_delivery_of_another_subscription_is_not_found(use_cases: UseCases, db: Db) -> None:
    mine = await use_cases.webhooks.create(HOOKS, DRAFT)
    theirs = await use_cases.webhooks.create(HOOKS, DRAFT)
    delivery = await a_delivery(db, theirs.id, await an_event(db))

    with pytest.raises(NotFound):
        await use_cases.webhooks.replay_delivery(HOOKS, mine.id, delivery)


async def test_a_replay_since_makes_deliveries_of_the_matching_events_since_then_only(
    use_cases: UseCases, db: Db
) -> None:
    created = await use_cases.webhooks.create(HOOKS, WebhookDraft(DRAFT.url, ["order.*", "refund.failed"]))
    other = await use_cases.webhooks.create(HOOKS, DRAFT)
    await an_event(db, "order.created", at=START - timedelta(hours=1))
    wanted = [await an_event(db, "order.created", at=START), await an_event(db, "refund.failed", at=START)]
    await an_event(db, "payment.succeeded", at=START)
    await an_event(db, "ping", at=START, subscription_id=other.id)
    wanted.append(await an_event(db, "ping", at=START, subscription_id=created.id))

    replay = await use_cases.webhooks.replay_since(HOOKS, created.id, START)

    deliveries = (await use_cases.webhooks.deliveries(HOOKS, created.id, limit=10)).items
    assert (replay.deliveries, replay.next_since) == (3, None)
    assert sorted(d.event_seq for d in deliveries) == [event["seq"] for event in wanted]
    assert {(d.status, d.attempts) for d in deliveries} == {(DeliveryStatus.PENDING, 0)}


async def test_a_replay_since_stops_at_its_bound_and_says_where_to_continue(
    use_cases: UseCases, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks_module, "MAX_REPLAY", 2)
    created = await use_cases.webhooks.create(HOOKS, WebhookDraft(DRAFT.url, ["*"]))
    for minute in range(3):
        await an_event(db, "order.created", at=START + timedelta(minutes=minute))

    replay = await use_cases.webhooks.replay_since(HOOKS, created.id, START)

    assert (replay.deliveries, replay.next_since) == (2, START + timedelta(minutes=2))


async def test_a_ping_writes_exactly_one_outbox_event_for_this_subscription_alone(use_cases: UseCases, db: Db) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)

    event_id = await use_cases.webhooks.ping(HOOKS, created.id)

    [row] = await outbox_rows(db, created.id)
    assert uuid.UUID(str(row["id"])) == event_id
    assert (row["event_type"], row["order_id"]) == ("ping", None)
    assert row["payload"]["eventId"] == str(event_id)
    assert row["payload"]["eventType"] == "ping"
    assert row["payload"]["data"] == {"webhookId": str(created.id)}
    assert row["payload"]["timestamp"].endswith("Z")


@pytest.mark.parametrize("act", ["ping", "replay_since"])
async def test_an_inactive_subscription_is_neither_pinged_nor_replayed(use_cases: UseCases, db: Db, act: str) -> None:
    created = await use_cases.webhooks.create(HOOKS, WebhookDraft(DRAFT.url, ["*"], active=False))
    await an_event(db)

    attempt = (
        use_cases.webhooks.ping(HOOKS, created.id)
        if act == "ping"
        else use_cases.webhooks.replay_since(HOOKS, created.id, START)
    )

    with pytest.raises(WebhookInactive):
        await attempt

    assert await outbox_rows(db, created.id) == []
    assert (await use_cases.webhooks.deliveries(HOOKS, created.id, limit=10)).items == []


async def test_turning_on_a_subscription_the_service_turned_off_clears_why(use_cases: UseCases, db: Db) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)
    async with db.transaction() as uow:
        await uow.connection.execute(
            "UPDATE webhook_subscriptions SET active = :off, disabled_reason = 'the receiver answered 410 Gone'"
            " WHERE id = :id",
            {"id": created.id, "off": False},
        )
        await uow.commit()

    changed = await use_cases.webhooks.update(HOOKS, created.id, WebhookChange(active=True))

    assert (changed.active, changed.disabled_reason) == (True, None)
    query = AuditQuery(entity_type=EntityType.WEBHOOK, entity_id=str(created.id), action=Action.WEBHOOK_UPDATED)
    [entry] = (await use_cases.audit_log.list(ADMIN, query)).items
    assert entry.changes["disabledReason"] == {"before": "the receiver answered 410 Gone", "after": None}


async def test_the_audit_log_never_records_a_secret(use_cases: UseCases) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)
    rotated = await use_cases.webhooks.rotate_secret(HOOKS, created.id)
    await use_cases.webhooks.update(HOOKS, created.id, WebhookChange(url="http://127.0.0.1:9001/"))
    await use_cases.webhooks.delete(HOOKS, created.id)

    query = AuditQuery(entity_type=EntityType.WEBHOOK, entity_id=str(created.id), limit=50)
    recorded = str([entry.changes for entry in (await use_cases.audit_log.list(ADMIN, query)).items])
    assert created.secret.removeprefix("whsec_") not in recorded
    assert rotated.secret.removeprefix("whsec_") not in recorded
    assert "whsec_" not in recorded


async def test_two_rotations_at_once_take_turns_and_lose_no_secret_in_between(use_cases: UseCases) -> None:
    created = await use_cases.webhooks.create(HOOKS, DRAFT)

    first, second = await asyncio.gather(
        use_cases.webhooks.rotate_secret(HOOKS, created.id), use_cases.webhooks.rotate_secret(HOOKS, created.id)
    )

    stored = await use_cases.webhooks.get(HOOKS, created.id)
    earlier, later = sorted(
        (first, second), key=lambda rotated: rotated.previous_secret == created.secret, reverse=True
    )
    assert earlier.previous_secret == created.secret
    assert later.previous_secret == earlier.secret
    assert (stored.secret, stored.previous_secret) == (later.secret, earlier.secret)
