"""The rules of webhook delivery that need no database: patterns, routing, backoff, signatures, the sender."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from orderline.application.deliveries import RetryPolicy, matches, route
from orderline.application.ports import DueDelivery, OutboxEvent, Subscriber
from orderline.events.destinations import PublicDestinations
from orderline.events.sender import Sender
from orderline.events.signatures import signed_headers
from tests.webhooks import OTHER_SECRET, SECRET

ORDER = uuid.uuid4()


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("*", "order.created", True),
        ("*", "ping", True),
        ("order.*", "order.statusChanged", True),
        ("order.*", "payment.succeeded", False),
        ("order.*", "orderly.created", False),
        ("payment.succeeded", "payment.succeeded", True),
        ("payment.succeeded", "payment.failed", False),
        ("order", "order.created", False),
    ],
)
def test_a_pattern_matches_its_exact_type_a_family_with_a_trailing_star_or_everything(
    pattern: str, event_type: str, expected: bool
) -> None:
    assert matches(pattern, event_type) is expected


def test_an_event_goes_to_matching_subscribers_and_an_order_callback_only_gets_its_own_order() -> None:
    everyone = Subscriber(uuid.uuid4(), ("*",), None)
    payments = Subscriber(uuid.uuid4(), ("payment.*",), None)
    callback = Subscriber(uuid.uuid4(), ("order.processed",), ORDER)
    other_callback = Subscriber(uuid.uuid4(), ("order.processed",), uuid.uuid4())
    event = OutboxEvent(1, uuid.uuid4(), "order.processed", ORDER, None)

    chosen = route(event, [everyone, payments, callback, other_callback])

    assert chosen == [everyone.id, callback.id]


def test_a_ping_goes_only_to_the_subscription_it_names() -> None:
    named, other = Subscriber(uuid.uuid4(), ("order.*",), None), Subscriber(uuid.uuid4(), ("*",), None)

    chosen = route(OutboxEvent(1, uuid.uuid4(), "ping", None, named.id), [named, other])

    assert chosen == [named.id]


def test_the_default_backoff_spreads_eight_attempts_over_about_a_day() -> None:
    policy = RetryPolicy()

    ceilings = [policy.ceiling(attempt) for attempt in range(1, policy.max_attempts)]

    # The last ceiling is capped at a day: at most 1.99 days in all, and half that, about a day, on average.
    assert sum(ceilings, timedelta()) == timedelta(seconds=1360 * 63 + 86400)
    assert ceilings[0] == timedelta(seconds=1360)
    assert ceilings == sorted(ceilings)


def test_a_wait_is_full_jitter_below_its_ceiling_and_never_beyond_the_cap() -> None:
    policy = RetryPolicy(base=timedelta(seconds=10), cap=timedelta(seconds=60))
    jitter = random.Random(7)

    waits = [policy.wait(attempt, jitter) for attempt in range(1, 30) for _ in range(20)]

    assert all(timedelta(0) <= wait <= timedelta(seconds=60) for wait in waits)
    assert policy.ceiling(29) == timedelta(seconds=60)
    assert min(waits) < timedelta(seconds=5) < max(waits)


def test_the_signature_headers_verify_with_the_library_and_by_hand() -> None:
    event_id, at, body = uuid.uuid4(), datetime.now(UTC), b'{"eventId":"x","data":{"note":"h\xc3\xa9llo"}}'

    headers = signed_headers([SECRET, OTHER_SECRET], event_id, at, body)

    assert headers["webhook-id"] == str(event_id)
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))
    for secret in (SECRET, OTHER_SECRET):
        Webhook(secret).verify(body, headers)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{event_id}.{headers['webhook-timestamp']}.".encode() + body
    assert (
        headers["webhook-signature"].split(" ")[0]
        == "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    )
    pet_store = hmac.new(key, f"{headers['webhook-timestamp']}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Webhook-Signature"].split(",")[:2] == [f"t={headers['webhook-timestamp']}", f"v1={pet_store}"]


async def test_an_attempt_goes_to_the_address_it_checked_with_the_name_kept_for_host_and_tls() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204, stream=httpx.ByteStream(b""))

    delivery = DueDelivery(
        id=uuid.uuid4(),
        subscription_id=uuid.uuid4(),
        url="https://localhost:8443/hook?x=1",
        secret=SECRET,
        previous_secret=None,
        previous_secret_expires_at=None,
        event_id=uuid.uuid4(),
        event_seq=1,
        order_id=None,
        body=b"{}",
        attempts=0,
        lease=datetime.now(UTC),
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        answered = await Sender(client, PublicDestinations(allow_private=True), deadline=5).send(
            delivery, [SECRET], datetime.now(UTC)
        )

    [request] = seen
    assert answered.status_code == 204
    assert request.url.host in {"127.0.0.1", "::1"}
    assert (request.url.port, request.url.path, request.url.query) == (8443, "/hook", b"x=1")
    assert request.headers["Host"] == "localhost:8443"
    assert request.extensions["sni_hostname"] == "localhost"
    Webhook(SECRET).verify(request.content, dict(request.headers))


async def test_an_attempt_to_a_refused_destination_is_an_answer_not_an_error() -> None:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _: httpx.Response(204, stream=httpx.ByteStream(b"")))
    ) as client:
        sender = Sender(client, PublicDestinations(allow_private=False), deadline=5)
        delivery = DueDelivery(
            uuid.uuid4(), uuid.uuid4(), "http://10.0.0.1/hook", SECRET, None, None, uuid.uuid4(), 1, None, b"{}", 0,
            datetime.now(UTC),
        )  # fmt: skip

        answered = await sender.send(delivery, [SECRET], datetime.now(UTC))

    assert answered.status_code is None
    assert answered.excerpt == (
        "destination refused: webhooks cannot be sent to http://10.0.0.1/hook:"
        " its host is or resolves to 10.0.0.1, which is not a public address"
    )
