"""Test support: engine parameters, a stepping clock, builders for pets and orders, principals."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from argon2 import PasswordHasher

from orderline.application.catalogue import PetDraft
from orderline.application.gateway import ChargeOutcome, PaymentGateway, RefundOutcome
from orderline.application.orders import CancelOrder, LineRequest, PlaceOrder
from orderline.application.payments import PayOrder
from orderline.application.principal import Principal, PrincipalKind, Scope
from orderline.application.use_cases import UseCases
from orderline.config import Settings
from orderline.domain.money import Money
from orderline.domain.order import Order
from orderline.domain.payment import CardDetails, CardInput
from orderline.domain.pet import Pet, PetProfile, Species
from orderline.gateways.testmode import SUCCEEDS
from orderline.security.passwords import Argon2Hasher
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.sqlite import SqliteDatabase

# argon2 as cheap as it goes: tests hash many passwords and need not resist cracking.
FAST_HASHER = Argon2Hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))

# A database opened by a test beside the service's own, to inspect what was stored (the `db` fixture).
Db = SqliteDatabase | PostgresDatabase

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

# The test gateway's callback-signing secret in test settings, so tests can sign callbacks too.
TEST_GATEWAY_SECRET = "whsec_" + "dGVzdC1nYXRld2F5LXNlY3JldC0zMi1ieXRlcy0tLS0="
# What an operator of PostgreSQL puts in ORDERLINE_JWT_SECRET: PostgreSQL keeps no key file beside it.
TEST_JWT_SECRET = "test-jwt-secret-for-postgresql-at-least-32-bytes"


def engine_settings(database_url: str, **fields: Any) -> Settings:
    """Settings for a test database. On PostgreSQL the secrets come from the settings, as they must there;
    on SQLite (unless ``fields`` name them) from the key file beside the database, as by default."""
    if database_url.startswith("postgresql"):
        fields = {"jwt_secret": TEST_JWT_SECRET, "test_gateway_secret": TEST_GATEWAY_SECRET} | fields
    return Settings(database_url=database_url, **fields)


class SteppingClock:
    """Each reading is one millisecond after the last, so timestamps are distinct and ordered."""

    def __init__(self, start: datetime = START) -> None:
        self._next = start

    def now(self) -> datetime:
        moment, self._next = self._next, self._next + timedelta(milliseconds=1)
        return moment

    def advance(self, by: timedelta) -> None:
        self._next += by


def a_principal(*scopes: Scope, kind: PrincipalKind = PrincipalKind.API_KEY) -> Principal:
    return Principal(kind, uuid.uuid4(), frozenset(scopes))


ADMIN = a_principal(Scope.ADMIN)
CLERK = a_principal(Scope.READ_ORDERS, Scope.WRITE_ORDERS)
ANYONE = Principal(PrincipalKind.ANONYMOUS)


def a_pet_draft(
    name: str = "Whiskers",
    *,
    stock: int = 1,
    fee: str = "150.00",
    currency: str = "USD",
    species: Species = Species.CAT,
) -> PetDraft:
    return PetDraft(PetProfile(name, species, Money.parse(fee, currency)), stock)


async def a_pet(use_cases: UseCases, name: str = "Whiskers", **kwargs: object) -> Pet:
    return await use_cases.catalogue.add_pet(ADMIN, a_pet_draft(name, **kwargs))  # type: ignore[arg-type]


async def an_order(use_cases: UseCases, *pets: Pet, quantity: int = 1, by: Principal = ANYONE) -> Order:
    lines = [LineRequest(pet.id, quantity) for pet in pets]
    return (await use_cases.orders.place(by, PlaceOrder(lines))).order


def a_card(number: str = SUCCEEDS) -> CardDetails:
    """A test gateway card (default: charged, and refunded at once), valid until 2099, as checked."""
    return a_card_input(number).check(START)


def a_card_input(number: str = SUCCEEDS) -> CardInput:
    """The same card as a client sends it to Pay Order."""
    return CardInput(number, "123", 12, 2099)


async def approve(use_cases: UseCases, order: Order, card: str = SUCCEEDS) -> Order:
    """Pay a PLACED order in full through the payment use case, which moves it to APPROVED."""
    command = PayOrder(order.id, str(order.total), order.currency, a_card_input(card))
    await use_cases.payments.pay(ADMIN, command)
    return await use_cases.orders.get(ADMIN, order.id)


async def in_status(use_cases: UseCases, pet: Pet, status: str) -> Order:
    """An order for ``pet`` brought to ``status`` by the same use cases production uses."""
    order = await an_order(use_cases, pet)
    if status == "PLACED":
        return order
    if status == "CANCELLED":
        return await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))
    order = await approve(use_cases, order)
    if status == "APPROVED":
        return order
    order = await use_cases.orders.ship(ADMIN, order.id)
    if status == "SHIPPED":
        return order
    assert status == "DELIVERED", status
    return await use_cases.orders.deliver(ADMIN, order.id)


class GatewayInFront:
    """A payment gateway that asks the one behind it everything: a test's stand-in overrides what it watches or
    breaks (``build(..., gateway=lambda behind: Sub(behind))``)."""

    def __init__(self, gateway: PaymentGateway) -> None:
        self._gateway = gateway

    @property
    def name(self) -> str:
        return self._gateway.name

    async def card_token(self, card: CardDetails) -> str:
        return await self._gateway.card_token(card)

    async def charge(self, payment_id: UUID, amount: Money, card_token: str) -> ChargeOutcome:
        return await self._gateway.charge(payment_id, amount, card_token)

    async def refund(self, refund_id: UUID, charge_reference: str, amount: Money) -> RefundOutcome:
        return await self._gateway.refund(refund_id, charge_reference, amount)

    async def refund_status(self, reference: str) -> RefundOutcome:
        return await self._gateway.refund_status(reference)

    def callback_reference(self, headers: Mapping[str, str], body: bytes) -> str:
        return self._gateway.callback_reference(headers, body)
