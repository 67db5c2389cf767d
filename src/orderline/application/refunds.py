"""Refunds: ask the gateway to return money, and settle what it answers — once, however often it is told.

A refund is recorded PENDING in the same transaction as the cancel that needs it, before the gateway
is asked, so a crash or an unreachable gateway leaves a record the poller finishes. It settles by
three roads — the gateway's answer to the request, its signed callback, the poller asking — and
whichever comes first wins under the order's row lock; the others find it settled and do nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from orderline.application.audit import Action, EntityType, Record
from orderline.application.errors import NotFound
from orderline.application.gateway import GatewayUnavailable, PaymentGateway, RefundOutcome
from orderline.application.idempotency import KeyClaim
from orderline.application.ports import Clock, Database, IdGenerator, RefundDue, UnitOfWork
from orderline.application.principal import PUBLIC, SYSTEM, Principal
from orderline.application.stock import give_back
from orderline.application.use_case import UseCase
from orderline.domain.order import Order
from orderline.domain.payment import Payment, Refund, RefundStatus, payment_summary
from orderline.domain.status import OrderStatus

log = structlog.get_logger("orderline.refunds")

POLL_BATCH = 100
# A refund the gateway never acknowledged (unreachable, or a crash before its answer was kept) is sent
# again once this has passed since it was recorded; earlier, the first request may still be running.
RESEND_AFTER = timedelta(seconds=30)


class Refunds(UseCase):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        ids: IdGenerator,
        gateway: PaymentGateway,
        acting_for: Callable[[UUID], AbstractAsyncContextManager[object]] | None = None,
    ) -> None:
        super().__init__(db, clock, ids)
        self._gateway = gateway
        # The sandbox's (ADR 0041): each pending refund is asked about in its tenant's time. Else real time.
        self._acting_for = acting_for or (lambda _tenant: nullcontext())

    async def carry_out(self, actor: Principal, due: RefundDue, claim: KeyClaim[Order] | None = None) -> Order | None:
        """Ask the gateway for the refund and settle its answer; the order as it then is (None if erased).

        ``claim``: the key of the request that asked, completed with the order as the settlement leaves it.
        """
        refund = due.refund
        try:
            outcome = await self._gateway.refund(refund.id, due.charge_reference, refund.amount)
        except GatewayUnavailable as exc:
            log.warning("refund not sent; the poller will ask again", refund_id=str(refund.id), error=str(exc))
            async with self._db.snapshot(actor.tenant) as uow:
                return await uow.orders.get(refund.order_id)
        return await self.settle(actor, refund.id, outcome, claim)

    async def settle(
        self, actor: Principal, refund_id: UUID, outcome: RefundOutcome, claim: KeyClaim[Order] | None = None
    ) -> Order | None:
        """Apply the gateway's answer: a settled refund completes or rolls back the order's cancel.

        Exactly once: a refund already settled is left as it is, whoever reports it again.
        """
        async with self._db.transaction(actor.tenant) as uow:
            refund = await uow.payments.get_refund(refund_id)
            if refund is None:
                raise NotFound("refund", refund_id)
            order = await uow.orders.get(refund.order_id, for_update=True)  # the order's lock first, always
            refund = await uow.payments.get_refund(refund_id, for_update=True)
            assert refund is not None, "refunds are never deleted"
            if refund.settled or (outcome.status is RefundStatus.PENDING and refund.reference is not None):
                return order  # settled already, or nothing new: the first reference the gateway gave stays
            now = self._clock.now()
            if outcome.status is RefundStatus.PENDING:
                refund.reference = outcome.reference
            elif outcome.status is RefundStatus.SUCCEEDED:
                refund.succeed(outcome.reference, now)
            else:
                refund.fail(outcome.message or "the gateway refused the refund", now, outcome.reference)
            await uow.payments.save_refund(refund)
            if order is not None and refund.settled:
                await self._settle_order(uow, actor, order, refund)
                if claim is not None:
                    await claim.complete(uow, order)
            elif refund.settled:  # its order was erased: no cancel to settle, but whether the money went back is kept
                await self._record(uow, actor, _settled_alone(refund))
            await uow.commit()
        return order

    async def _settle_order(self, uow: UnitOfWork, actor: Principal, order: Order, refund: Refund) -> None:
        before, before_payment = order.status, order.payment_status
        now = self._clock.now()
        succeeded = refund.status is RefundStatus.SUCCEEDED
        # Only a cancel's own refund settles the cancel; a partial one (removed lines) moves no status (ADR 0022).
        settles_cancel = before is OrderStatus.CANCEL_PENDING and not refund.partial
        if settles_cancel and succeeded:
            order.complete_cancel(now)
            await give_back(uow, order, now)
            action = Action.ORDER_CANCELLED
        elif settles_cancel:
            order.roll_back_cancel(now)
            action = Action.ORDER_CANCEL_FAILED
        else:  # removed lines' money, or a charge that raced a cancel (returned to an order already cancelled)
            action = Action.REFUND_SUCCEEDED if succeeded else Action.REFUND_FAILED
        await track_payment_status(uow, order, now)
        await uow.orders.save(order)
        changed = {
            "status": {"before": str(before), "after": str(order.status)},
            "paymentStatus": {"before": str(before_payment), "after": str(order.payment_status)},
            "refundId": {"before": None, "after": str(refund.id)},
        }
        # A completed cancel records why the order was cancelled, as every ORDER_CANCELLED entry does.
        reason = order.cancel_reason if action is Action.ORDER_CANCELLED else refund.failure_message
        await self._record(uow, actor, Record(action, EntityType.ORDER, order.id, changed, reason))

    async def on_callback(self, headers: Mapping[str, str], body: bytes) -> Refund:
        """A signed gateway callback about a refund: ask the gateway how it stands and settle it."""
        reference = self._gateway.callback_reference(headers, body)
        async with self._db.snapshot(PUBLIC) as uow:  # by reference, across tenants: the row names its tenant
            due = await uow.payments.refund_by_reference(reference)
        if due is None:
            raise NotFound("refund", reference)
        refund, actor = due.refund, replace(SYSTEM, tenant=due.tenant)
        if not refund.settled:
            await self.settle(actor, refund.id, await self._gateway.refund_status(reference))
        async with self._db.snapshot(due.tenant) as uow:
            settled = await uow.payments.get_refund(refund.id)
        assert settled is not None
        return settled

    async def settle_pending(self, limit: int = POLL_BATCH) -> int:
        """Ask the gateway about every PENDING refund (sending those it never received); how many settled."""
        async with self._db.snapshot(PUBLIC) as uow:  # every tenant's; each is settled in its own
            pending = await uow.payments.pending_refunds(limit)
        settled = 0
        for due in pending:
            async with self._acting_for(due.tenant):
                settled += await self._ask_about(due)
        return settled

    async def _ask_about(self, due: RefundDue) -> bool:
        """Send a refund the gateway never got, or ask how one stands; whether it settled now."""
        refund = due.refund
        if refund.reference is None and self._clock.now() - refund.requested_at < RESEND_AFTER:
            return False  # its request may still be on its way to the gateway
        try:
            if refund.reference is None:
                outcome = await self._gateway.refund(refund.id, due.charge_reference, refund.amount)
            else:
                outcome = await self._gateway.refund_status(refund.reference)
        except GatewayUnavailable as exc:
            log.warning("refund status unknown; asking again later", refund_id=str(refund.id), error=str(exc))
            return False
        if outcome.status is not RefundStatus.PENDING or refund.reference is None:
            await self.settle(replace(SYSTEM, tenant=due.tenant), refund.id, outcome)
        return outcome.status is not RefundStatus.PENDING


def _settled_alone(refund: Refund) -> Record:
    """The audit entry of a refund settled after its order was erased (the order's entry, as its id still names it):
    the money went back, or the gateway's reason it did not. Its money facts stay with the order's payments."""
    succeeded = refund.status is RefundStatus.SUCCEEDED
    action = Action.REFUND_SUCCEEDED if succeeded else Action.REFUND_FAILED
    changed = {"refundId": {"before": None, "after": str(refund.id)}}
    return Record(action, EntityType.ORDER, refund.order_id, changed, None if succeeded else refund.failure_message)


async def track_payment_status(
    uow: UnitOfWork, order: Order, now: datetime, payments: Sequence[Payment] | None = None
) -> None:
    """Show on the order what its stored payments and refunds give: payment status, captured, refunded.
    ``payments``: the order's payments as this transaction already holds them (read under the order's lock)."""
    payments = await uow.payments.of_order(order.id) if payments is None else payments
    refunds = await uow.payments.refunds_of(order.id)
    order.track_payment(payment_summary(payments, refunds, order.currency), now)
