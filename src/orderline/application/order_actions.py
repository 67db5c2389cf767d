"""What staff may do to an order now: the actions its status (and their scopes) allow, for a page to offer."""

from __future__ import annotations

from enum import StrEnum

from orderline.application.principal import Principal, Scope
from orderline.domain.order import Order
from orderline.domain.status import ALLOWED, CANCELLABLE, FORCE_CANCELLABLE, LINES_EDITABLE, OrderStatus


class OrderAction(StrEnum):
    CANCEL = "cancel"
    FORCE_CANCEL = "force-cancel"  # a shipped order too: staff only (admin or support)
    REMOVE_LINE = "remove-line"
    SHIP = "ship"
    DELIVER = "deliver"
    ERASE = "erase"


def allowed_actions(order: Order, principal: Principal) -> frozenset[OrderAction]:
    """The actions the status table allows this order now, of those ``principal``'s scopes reach.

    An offer, not a promise: the use case judges again when the action comes, and a refusal then (the order
    moved on meanwhile) is shown as the use case's own refusal.
    """
    status = order.status
    staff = principal.has(Scope.SUPPORT)  # admin or support: the same scopes the use cases require
    offered = {
        OrderAction.CANCEL: status in CANCELLABLE and principal.has(Scope.WRITE_ORDERS),
        OrderAction.FORCE_CANCEL: staff and status in FORCE_CANCELLABLE - CANCELLABLE,
        # Taking the last unit is a cancel, which CANCEL offers; a line edit leaves at least one unit.
        OrderAction.REMOVE_LINE: status in LINES_EDITABLE and order.units > 1 and principal.has(Scope.WRITE_ORDERS),
        # Order.ship moves only an APPROVED order (CANCEL_PENDING reaches SHIPPED only by a failed refund).
        OrderAction.SHIP: staff and status is OrderStatus.APPROVED,
        OrderAction.DELIVER: staff and OrderStatus.DELIVERED in ALLOWED[status],
        # Support staff never erase (Principal.is_support); Orders.erase refuses them too.
        OrderAction.ERASE: principal.has(Scope.ADMIN),
    }
    return frozenset(action for action, allowed in offered.items() if allowed)
