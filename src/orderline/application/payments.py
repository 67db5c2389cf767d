"""Pay Order: charge the card through the gateway; success approves the order, a decline leaves it PLACED.

Two short transactions around the gateway call, never a lock held across it: the first records the
payment PROCESSING with the gateway's token for the card (a second payment of the order is refused
while one is processing), the second records the gateway's answer. A cancel may win in between; then
the charge is refunded at once, so money is conserved: nothing is kept for an order that was cancelled.

A process that dies between the two leaves the payment PROCESSING. Recovery asks the gateway again
with the same payment id (its idempotency key) and token, gets the first answer, and records it as the
request would have: nothing stays stuck, nothing is charged twice.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from orderline.application.audit import Action, EntityType, Record
from orderline.application.errors import NotFound
from orderline.application.events import ReceiptLinks
from orderline.application.gateway import ChargeOutcome, GatewayUnavailable, PaymentGateway
from orderline.application.idempotency import KeyClaim
from orderline.application.ownership import can_see, locked_order
from orderline.application.pagination import DEFAULT_LIMIT, Page, decode_id_cursor, page_of
from orderline.application.ports import Clock, Database, IdGenerator, RefundDue, UnitOfWork
from orderline.application.principal import PUBLIC, SYSTEM, Principal, Scope
from orderline.application.refunds import Refunds, track_payment_status
from orderline.application.use_case import UseCase
from orderline.domain.errors import OrderNotPayable, PaymentDeclined, PaymentInProgress
from orderline.domain.money import Money
from orderline.domain.order import Order
from orderline.domain.payment import Card, CardInput, Payment, PaymentStatus, Refund
from orderline.domain.status import OrderStatus

log = structlog.get_logger("orderline.payments")

GATEWAY_UNAVAILABLE = "gateway_unavailable"
UNREACHABLE = ChargeOutcome(False, None, GATEWAY_UNAVAILABLE, "the payment gateway could not be reached")
RECOVERY_BATCH = 100
_CURSOR = "payments"


@dataclass(frozen=True, slots=True)
class PayOrder:
    order_id: UUID
    amount: str  # a decimal string, e.g. "150.00"
    currency: str
    card: CardInput
    expected_version: int | None = None  # refuse unless the order is at this version


@dataclass(frozen=True, slots=True)
class _Finished:
    """A payment's answer as recorded, and what is left to do or to tell. ``due``: the charge to refund now, its
    order no longer PLACED. ``refund``: the refund the other finisher (recovery, or the request) recorded when it
    found the order so, and ``order`` as this finish read it (None: erased): the request answers as it would have
    had it recorded the answer itself."""

    payment: Payment
    due: RefundDue | None = None
    refund: Refund | None = None
    order: Order | None = None


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    payment: Payment
    refunds: tuple[Refund, ...] = ()


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a successful payment's receipt shows: the payment and, unless it was erased, its order's number."""

    receipt_id: str
    url: str
    generated_at: datetime  # when the payment succeeded
    payment: Payment
    order_number: str | None


class Payments(UseCase):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        ids: IdGenerator,
        gateway: PaymentGateway,
        refunds: Refunds,
        *,
        recover_after: timedelta = timedelta(seconds=30),
        receipts: ReceiptLinks | None = None,
        acting_for: Callable[[UUID], AbstractAsyncContextManager[object]] | None = None,
    ) -> None:
        super().__init__(db, clock, ids)
        self._gateway = gateway
        self._refunds = refunds
        self._receipts = receipts or ReceiptLinks()
        # A payment PROCESSING for longer than this lost its request (the process died): recovery asks again.
        # Asking while the request still runs is harmless too (same key, same answer, recorded once).
        self._recover_after = recover_after
        # The sandbox's (ADR 0041): each stuck payment is judged, and finished, in its tenant's time. Else real time.
        self._acting_for = acting_for or (lambda _tenant: nullcontext())
        self._sandboxed = acting_for is not None

    async def pay(self, principal: Principal, command: PayOrder, *, claim: KeyClaim[Payment] | None = None) -> Payment:
        """Charge the order's total. SUCCEEDED approves the order; a decline raises PaymentDeclined."""
        principal.require(Scope.WRITE_ORDERS)
        amount = Money.parse(command.amount, command.currency)
        card = command.card.check(self._clock.now())
        try:
            token: str | None = await self._gateway.card_token(card)
        except GatewayUnavailable as exc:
            log.warning("card not tokenised: gateway unavailable", error=str(exc))
            token = None
        payment = await self._start(principal, command, amount, card.card, token)
        outcome = UNREACHABLE if token is None else await self._charge(payment, token)
        finished = await self._finish(principal, payment, outcome, claim)
        payment, refund, order = finished.payment, finished.refund, finished.order
        if finished.due is not None:
            refund, order = finished.due.refund, await self._refunds.carry_out(principal, finished.due)
        if refund is not None:  # the order was no longer PLACED when the charge was recorded, here or by recovery
            if order is None:
                raise NotFound("order", command.order_id)  # erased meanwhile; the charge is refunded all the same
            raise OrderNotPayable(
                f"the order was {order.status} while the card was charged; the charge is refunded",
                current_status=str(order.status),
                payment_id=str(payment.id),
                refund_id=str(refund.id),
            )
        if payment.status is PaymentStatus.FAILED:
            raise PaymentDeclined(
                payment.failure_message or "the card was declined",
                payment_id=str(payment.id),
                decline_code=payment.failure_code,
            )
        return payment

    async def of_order(
        self, principal: Principal, order_id: UUID, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[PaymentRecord]:
        """A page of the order's payments, oldest first, each with its refunds."""
        principal.require(Scope.READ_ORDERS)
        after = decode_id_cursor(_CURSOR, cursor) if cursor else None
        async with self._db.snapshot(principal.tenant) as uow:
            order = await uow.orders.get(order_id)
            if order is None or not can_see(principal, order):
                raise NotFound("order", order_id)
            payments, refunds = await uow.payments.find(order_id, limit, after), await uow.payments.refunds_of(order_id)
        page = page_of(payments, limit, _CURSOR, lambda payment: str(payment.id))
        return Page([PaymentRecord(p, tuple(r for r in refunds if r.payment_id == p.id)) for p in page.items],
                    page.next_cursor)  # fmt: skip

    async def receipt(self, principal: Principal, receipt_id: str) -> Receipt:
        """The receipt a payment.succeeded event points to: its order's owner or an admin may read it (an erased
        order's, an admin only); anyone else, and any id that names no successful payment, gets NotFound."""
        principal.require(Scope.READ_ORDERS)
        payment_id = self._receipts.payment_id(receipt_id)
        if payment_id is None:
            raise NotFound("receipt", receipt_id)
        async with self._db.snapshot(principal.tenant) as uow:
            payment = await uow.payments.get(payment_id)
            order = None if payment is None else await uow.orders.get(payment.order_id)
        if payment is None or payment.status is not PaymentStatus.SUCCEEDED:
            raise NotFound("receipt", receipt_id)
        if not (can_see(principal, order) if order is not None else principal.acts_for_shop):
            raise NotFound("receipt", receipt_id)
        number = None if order is None else order.number
        return Receipt(receipt_id, self._receipts.url(receipt_id), payment.updated_at, payment, number)

    async def recover(self, limit: int = RECOVERY_BATCH) -> int:
        """Finish payments whose request died while the gateway was asked; how many were recorded.

        The charge is asked again with the payment's id as the idempotency key and the stored card token:
        the gateway answers what it did the first time (or does it now, once), and the answer is recorded
        exactly as the request would have recorded it — approving the order, or refunding the charge if
        the order was cancelled meanwhile.
        """
        # Outside the sandbox every tenant's time is real time, and the age is judged in the statement. In it, a
        # tenant's clock may run ahead of real time: every PROCESSING payment is read, and each judged in its own.
        started_before = None if self._sandboxed else self._clock.now() - self._recover_after
        async with self._db.snapshot(PUBLIC) as uow:  # every tenant's; each is finished in its own
            stuck = await uow.payments.processing(started_before, limit)
        recorded = 0
        for tenant, payment in stuck:
            async with self._acting_for(tenant):
                recorded += await self._recover_one(replace(SYSTEM, tenant=tenant), payment)
        return recorded

    async def _recover_one(self, system: Principal, payment: Payment) -> bool:
        """Ask the gateway again about one stuck payment and record its answer; whether it was recorded."""
        if self._clock.now() - payment.created_at < self._recover_after:
            return False  # its request may still be running (by its tenant's clock)
        outcome = UNREACHABLE if payment.card_token is None else await self._charge(payment, payment.card_token)
        if outcome is UNREACHABLE and payment.card_token is not None:
            return False  # the gateway is still unreachable: ask again next time, the charge may have happened
        finished = await self._finish(system, payment, outcome, None)
        if finished.due is not None:
            await self._refunds.carry_out(system, finished.due)
        log.info("payment recovered", payment_id=str(payment.id), status=str(finished.payment.status))
        return True

    async def _charge(self, payment: Payment, token: str) -> ChargeOutcome:
        try:
            return await self._gateway.charge(payment.id, payment.amount, token)
        except GatewayUnavailable as exc:
            log.warning("payment not charged: gateway unavailable", payment_id=str(payment.id), error=str(exc))
            return UNREACHABLE

    async def _start(
        self, principal: Principal, command: PayOrder, amount: Money, card: Card, card_token: str | None
    ) -> Payment:
        async with self._db.transaction(principal.tenant) as uow:
            order = await locked_order(uow, principal, command.order_id, command.expected_version)
            order.ensure_payable(amount)
            if any(p.status is PaymentStatus.PROCESSING for p in await uow.payments.of_order(order.id)):
                raise PaymentInProgress("another payment of this order is being processed; wait for its answer")
            now = self._clock.now()
            payment = Payment.start(
                id=self._ids.new_id(),
                order_id=order.id,
                amount=amount,
                card=card,
                card_token=card_token,
                gateway=self._gateway.name,
                now=now,
            )
            await uow.payments.add(payment)
            await uow.commit()
        return payment

    async def _finish(
        self, principal: Principal, started: Payment, outcome: ChargeOutcome, claim: KeyClaim[Payment] | None
    ) -> _Finished:
        """Record the gateway's answer — once: whoever comes second (the request or recovery) finds it recorded.
        Approve the order, or — if it was cancelled or erased meanwhile — refund."""
        async with self._db.transaction(principal.tenant) as uow:
            order = await uow.orders.get(started.order_id, for_update=True)
            if order is None:  # erased: no order row to lock, so the payment's own row keeps the other finisher out
                await uow.payments.get(started.id, for_update=True)
            # Read again under the lock, with the order's other payments: its payment status needs them.
            payments = await uow.payments.of_order(started.order_id)
            payment = next(p for p in payments if p.id == started.id)  # payments are never deleted
            if payment.settled:
                return _Finished(payment, refund=await _refund_of_a_charge_kept_from(uow, order, payment), order=order)
            now = self._clock.now()
            before = None if order is None else order.status
            if not outcome.succeeded:
                payment.fail(outcome.decline_code or "declined", outcome.message or "the card was declined", now,
                              outcome.reference)  # fmt: skip
                await uow.payments.save(payment)
                await self._record_payment(uow, principal, payment, before, order, Action.PAYMENT_FAILED)
                await uow.commit()
                return _Finished(payment)
            assert outcome.reference is not None, "a charge that succeeded has the gateway's reference"
            payment.succeed(outcome.reference, now)
            await uow.payments.save(payment)
            due = None
            if order is None or order.status is not OrderStatus.PLACED:
                refunds = [] if order is None else await uow.payments.refunds_of(order.id)
                refund = Refund.request(id=self._ids.new_id(), payment=payment, refunds=refunds, now=now)
                await uow.payments.add_refund(refund)
                due = RefundDue(refund, outcome.reference, uow.tenant)
            if order is not None:
                if order.status is OrderStatus.PLACED:
                    order.pay(now)
                await track_payment_status(uow, order, now, payments)
                await uow.orders.save(order)
            await self._record_payment(uow, principal, payment, before, order, Action.PAYMENT_SUCCEEDED)
            if claim is not None and due is None:
                await claim.complete(uow, payment)
            await uow.commit()
        return _Finished(payment, due)

    async def _record_payment(
        self,
        uow: UnitOfWork,
        principal: Principal,
        payment: Payment,
        before: OrderStatus | None,
        order: Order | None,
        action: Action,
    ) -> None:
        changed = {
            "paymentId": {"before": None, "after": str(payment.id)},
            "amount": {"before": None, "after": f"{payment.amount} {payment.amount.currency}"},
        }
        if order is not None and order.status is not before:
            changed["status"] = {"before": str(before), "after": str(order.status)}
        await self._record(uow, principal, Record(action, EntityType.ORDER, payment.order_id, changed,
                                                  payment.failure_message))  # fmt: skip


async def _refund_of_a_charge_kept_from(uow: UnitOfWork, order: Order | None, payment: Payment) -> Refund | None:
    """The refund recorded with a charge whose order was then gone or no longer PLACED; None for a charge that paid
    its order (which set its ``paid_at``: only a PLACED order takes a payment) or a payment that failed."""
    if payment.status is not PaymentStatus.SUCCEEDED or (order is not None and order.paid_at is not None):
        return None
    return next((r for r in await uow.payments.refunds_of(payment.order_id) if r.payment_id == payment.id), None)
