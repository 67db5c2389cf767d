"""What an offset-paged order search may cover: the caller's visible orders, in time bounds that are exact."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from orderline.application.errors import InvalidInput
from orderline.application.ownership import visible_to
from orderline.application.pagination import MAX_SEQ
from orderline.application.principal import Principal
from orderline.application.queries import OrderSearch, Owner

SEQ_BATCH = 500  # seq lookups ask in batches, well within every engine's limit on bound parameters


def visible_search(principal: Principal, where: OrderSearch) -> OrderSearch | None:
    """``where`` within the orders ``principal`` may see (``visible_to``); None when that leaves none.

    ``where.owner`` may narrow a principal who sees every order (an admin: one customer's orders); for
    anyone else, a narrowing to orders that are not theirs finds nothing, as their ids would.
    """
    _check_aware(where)
    visible = visible_to(principal)
    if visible == Owner():
        return where
    if where.owner in (Owner(), visible):
        return replace(where, owner=visible)
    return None


def seq_batches(seqs: Sequence[int]) -> Iterator[list[int]]:
    """The distinct seqs an order can have (1 to the column's maximum), in batches of SEQ_BATCH."""
    wanted = sorted({seq for seq in seqs if 1 <= seq <= MAX_SEQ})
    for start in range(0, len(wanted), SEQ_BATCH):
        yield wanted[start : start + SEQ_BATCH]


def _check_aware(where: OrderSearch) -> None:
    # A time without an offset means different moments to the two engines; the adapters convert their
    # clients' times to aware ones, so a naive one here is refused rather than guessed at.
    bounds = {
        "created_after": where.created_after,
        "created_before": where.created_before,
        "updated_after": where.updated_after,
        "updated_before": where.updated_before,
    }
    for name, moment in bounds.items():
        if moment is not None and moment.utcoffset() is None:
            raise InvalidInput(name, "give the time with its UTC offset", "pattern")
