"""Order callbacks (the Pet Store's Callback Example, ``orderProcessed``): a client asks to be called back at a URL
when its order is processed; the callback is a webhook subscription bound to that order, for ``order.processed``,
delivered, signed and retried by the same worker as every webhook (ADR 0030)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID

from orderline.application.audit import Action, EntityType, Record
from orderline.application.errors import InvalidInput, InvalidWebhook, NotFound, UnsafeDestination
from orderline.application.ownership import can_see
from orderline.application.ports import (
    Clock,
    Database,
    Destinations,
    IdGenerator,
    OrderCallback,
    OrderCallbackStore,
)
from orderline.application.principal import Principal, Scope
from orderline.application.use_case import UseCase

CALLBACK_EVENTS = ("order.processed",)
MAX_URL_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class RegisterCallback:
    """What the client sends: the amount, currency and time it expects, and where to call it back."""

    amount: str
    currency: str
    timestamp: datetime
    callback_url: str


def check_callback_url(url: str) -> str:
    """An absolute http(s) URL with a host, no credentials and no fragment; InvalidInput otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput("callbackUrl", f"a callback URL has at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("callbackUrl", "not a URL: expected https://host/path") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput("callbackUrl", "expected an absolute http or https URL, e.g. https://example.com/callback")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("callbackUrl", "a callback URL may not carry credentials (user:password@)")
    if parts.fragment or "#" in url:
        raise InvalidInput("callbackUrl", "a callback URL may not have a fragment (#...)")
    if port == 0 or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise InvalidInput("callbackUrl", "not a URL: expected https://host/path")
    return url


class OrderCallbacks(UseCase):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        ids: IdGenerator,
        store: OrderCallbackStore,
        secret: str,
        destinations: Destinations,
    ) -> None:
        super().__init__(db, clock, ids)
        self._store = store
        self._secret = secret  # the shop's callback secret: every callback is signed with it
        self._destinations = destinations

    async def register(self, principal: Principal, order_id: UUID, request: RegisterCallback) -> OrderCallback:
        """Register ``request.callback_url`` for ``order.processed`` of an order the caller may see (else NotFound)."""
        principal.require(Scope.WRITE_ORDERS)
        url = check_callback_url(request.callback_url)
        await self._visible(principal, order_id)  # someone else's order is 404 before its URL is looked at
        await self._safe(url)  # before the transaction: a slow resolver holds no lock
        async with self._db.transaction(principal.tenant) as uow:
            if await uow.orders.get(order_id) is None:  # erased meanwhile
                raise NotFound("order", order_id)
            callback = OrderCallback(
                id=self._ids.new_id(),
                order_id=order_id,
                url=url,
                events=CALLBACK_EVENTS,
                secret=self._secret,
                created_at=self._clock.now(),
            )
            await self._store.add(uow, callback)
            await self._record(uow, principal, _registered(callback, request))
            await uow.commit()
        return callback

    async def of_order(self, principal: Principal, order_id: UUID) -> list[OrderCallback]:
        """The order's callbacks, for its owner or an admin (NotFound for anyone else)."""
        principal.require(Scope.READ_ORDERS)
        await self._visible(principal, order_id)
        return await self._store.of_order(order_id)

    async def _visible(self, principal: Principal, order_id: UUID) -> None:
        async with self._db.snapshot(principal.tenant) as uow:
            order = await uow.orders.get(order_id)
        if order is None or not can_see(principal, order):
            raise NotFound("order", order_id)

    async def _safe(self, url: str) -> None:
        """The webhooks' rule against server-side request forgery, answered on the field the client sent."""
        try:
            await self._destinations.check(url)
        except UnsafeDestination as exc:
            raise InvalidWebhook("callbackUrl", exc.message, url=url, reason=exc.details["reason"]) from None


def _registered(callback: OrderCallback, request: RegisterCallback) -> Record:
    """The audit entry: what the client said it expects (amount, currency, time) and where it will be called."""
    after = {
        "amount": request.amount,
        "currency": request.currency,
        "timestamp": request.timestamp.isoformat(),
        "callbackUrl": callback.url,
        "callbackId": str(callback.id),
    }
    changed = {"callback": {"before": None, "after": after}}
    return Record(Action.ORDER_CALLBACK_REGISTERED, EntityType.ORDER, callback.order_id, changed)
