"""PostgreSQL: a creation window's seq bounds as two PL/pgSQL functions with generic plans (ADR 0036, 2026-12-01).

A list with a creation window carried its two exact seq bounds (the largest seq created before its end, the smallest
created from its start) as recursive subqueries. Beside a million orders PostgreSQL estimated the generic plan of
that statement dearer than the plans made for each request's values, so it planned every such list anew: 1.5 to 3.2
ms a request. Here the bounds are the same queries inside functions whose plans are kept generic
(``SET plan_cache_mode = force_generic_plan``, which holds only while the function runs): the list's own statement
is a plain walk of a seq index, cheap to plan; it calls each function in a scalar subquery, which no planner runs
to estimate it. Each step of a function's loose scan over days (and hours) is one index probe: the row before (after)
the current day in ``(tenant_id, created_day, seq)`` order is that day's largest (smallest) seq too. SQLite keeps
the subqueries of two probes a step (``storage/order_filters.py``): it has no LATERAL, and plans without values
anyway. The parameters are the ones ``order_filters.Where.seq_window`` computes.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HIGHEST_SEQ_BEFORE = """
CREATE FUNCTION orders_highest_seq_before(
    p_tenant uuid, p_below timestamptz, p_before_day date, p_first_day date,
    p_before_midnight timestamptz, p_before_hour timestamptz
) RETURNS bigint LANGUAGE plpgsql STABLE PARALLEL SAFE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN (
        WITH RECURSIVE earlier_day(day, top) AS (
            (SELECT created_day, seq FROM orders
             WHERE tenant_id = p_tenant AND created_day < p_before_day AND created_day >= p_first_day
             ORDER BY created_day DESC, seq DESC LIMIT 1)
            UNION ALL
            SELECT previous.created_day, previous.seq FROM earlier_day, LATERAL (
                SELECT created_day, seq FROM orders
                WHERE tenant_id = p_tenant AND created_day < earlier_day.day AND created_day >= p_first_day
                ORDER BY created_day DESC, seq DESC LIMIT 1) AS previous
        ), earlier_hour(hour, top) AS (
            (SELECT created_hour, seq FROM orders
             WHERE tenant_id = p_tenant AND created_hour >= p_before_midnight AND created_hour < p_before_hour
             ORDER BY created_hour DESC, seq DESC LIMIT 1)
            UNION ALL
            SELECT previous.created_hour, previous.seq FROM earlier_hour, LATERAL (
                SELECT created_hour, seq FROM orders
                WHERE tenant_id = p_tenant AND created_hour >= p_before_midnight AND created_hour < earlier_hour.hour
                ORDER BY created_hour DESC, seq DESC LIMIT 1) AS previous
        )
        SELECT max(top) FROM (
            SELECT top FROM earlier_day
            UNION ALL
            SELECT top FROM earlier_hour
            UNION ALL
            SELECT max(seq + 0) FROM orders
            WHERE tenant_id = p_tenant AND created_at >= p_before_hour AND created_at < p_below
        ) AS tops
    );
END
$$
"""

_LOWEST_SEQ_FROM = """
CREATE FUNCTION orders_lowest_seq_from(
    p_tenant uuid, p_from timestamptz, p_from_day date, p_last_day date,
    p_from_hour timestamptz, p_from_next_hour timestamptz, p_from_next_midnight timestamptz
) RETURNS bigint LANGUAGE plpgsql STABLE PARALLEL SAFE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN (
        WITH RECURSIVE later_day(day, low) AS (
            (SELECT created_day, seq FROM orders
             WHERE tenant_id = p_tenant AND created_day > p_from_day AND created_day <= p_last_day
             ORDER BY created_day, seq LIMIT 1)
            UNION ALL
            SELECT next.created_day, next.seq FROM later_day, LATERAL (
                SELECT created_day, seq FROM orders
                WHERE tenant_id = p_tenant AND created_day > later_day.day AND created_day <= p_last_day
                ORDER BY created_day, seq LIMIT 1) AS next
        ), later_hour(hour, low) AS (
            (SELECT created_hour, seq FROM orders
             WHERE tenant_id = p_tenant AND created_hour > p_from_hour AND created_hour < p_from_next_midnight
             ORDER BY created_hour, seq LIMIT 1)
            UNION ALL
            SELECT next.created_hour, next.seq FROM later_hour, LATERAL (
                SELECT created_hour, seq FROM orders
                WHERE tenant_id = p_tenant AND created_hour > later_hour.hour AND created_hour < p_from_next_midnight
                ORDER BY created_hour, seq LIMIT 1) AS next
        )
        SELECT min(low) FROM (
            SELECT low FROM later_day
            UNION ALL
            SELECT low FROM later_hour
            UNION ALL
            SELECT min(seq + 0) FROM orders
            WHERE tenant_id = p_tenant AND created_at >= p_from AND created_at < p_from_next_hour
        ) AS lows
    );
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_HIGHEST_SEQ_BEFORE)
        op.execute(_LOWEST_SEQ_FROM)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION orders_lowest_seq_from(uuid, timestamptz, date, date, timestamptz, timestamptz, timestamptz)"
        )
        op.execute("DROP FUNCTION orders_highest_seq_before(uuid, timestamptz, date, date, timestamptz, timestamptz)")
