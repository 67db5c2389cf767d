"""Writes queued on a PostgreSQL connection, sent together as one statement of data-modifying CTEs (ADR 0034)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from orderline.storage.driver import Row, Write

PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")

# What a queued write's SQL becomes inside the statement: its CTE and what the final SELECT reads of it.
_Shape = tuple[str, str, str]  # sql, returning, summary


@lru_cache(maxsize=256)
def _statement(shapes: tuple[_Shape, ...]) -> str:
    """``WITH w0 AS (… RETURNING 1), w1 AS (…) SELECT (SELECT count(*) FROM w0) AS n0, …``; each write's
    ``:name`` becomes ``:w<n>_name``. Every CTE runs to completion whether read or not, all on one snapshot,
    and foreign keys are checked at the end of the statement, so an order and its lines may share one."""
    ctes, results = [], []
    for n, (sql, returning, summary) in enumerate(shapes):
        ctes.append(f"w{n} AS ({PLACEHOLDER.sub(lambda match: f':w{n}_{match[1]}', sql)} RETURNING {returning})")  # noqa: B023
        results.append(f"(SELECT {summary} FROM w{n}) AS n{n}")  # noqa: S608
    return f"WITH {', '.join(ctes)} SELECT {', '.join(results)}"


class Writes:
    def __init__(self) -> None:
        self._queued: list[Write] = []

    def __bool__(self) -> bool:
        return bool(self._queued)

    def touches(self, row: tuple[str, Any] | None) -> bool:
        return row is not None and any(write.row == row for write in self._queued)

    def add(self, write: Write) -> None:
        self._queued.append(write)

    def clear(self) -> None:
        self._queued.clear()

    def statement(self) -> tuple[str, dict[str, Any]]:
        """The queued writes as one statement, and its parameters."""
        sql = _statement(tuple((write.sql, write.returning, write.summary) for write in self._queued))
        params = {f"w{n}_{name}": value for n, write in enumerate(self._queued) for name, value in write.params.items()}
        return sql, params

    def answered(self, row: Row | None) -> None:
        """Tell each write's check how many rows it changed; the queue is empty afterwards, whatever they raise."""
        queued, self._queued = self._queued, []
        assert row is not None, "a SELECT without FROM returns one row"
        for n, write in enumerate(queued):
            if write.check is not None:
                write.check(int(row[f"n{n}"] or 0))
