"""Prometheus metrics of one app, in a registry of its own: requests by route, business events, live state.

A registry per app, never prometheus-client's global one, so several apps in one process (the tests) keep
their own counts. Request metrics are labelled by the route's path *template*: ids in raw paths, and paths
no route matched, would make a new series per request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, GCCollector, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from orderline.application.business_events import EventName
from orderline.application.operations import Readings
from orderline.domain.order import CancelReason
from orderline.http.rate_limit import RateLimits

UNMATCHED = "unmatched"  # the route of a request no route matched (404, 405)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # others count as OTHER
CIRCUIT_STATES = ("closed", "open", "half-open")

CircuitReader = Callable[[], str | None]  # the Redis circuit's state, or None when there is no Redis


class Metrics:
    def __init__(self, circuit: CircuitReader = lambda: None) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "orderline_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "orderline_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route template",
            ["method", "route"],
            registry=self.registry,
        )
        # The labelled children, found once: prometheus-client's labels() costs more than the increment.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._refusals = Counter(
            "orderline_rate_limit_refusals", "Requests refused by a rate limit (429)", registry=self.registry
        )
        self._state = _StateCollector(circuit)
        self.registry.register(self._state)
        ProcessCollector(registry=self.registry)  # memory, CPU, open file descriptors against their limit
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        """Count one answered request; ``route`` is its path template, None when no route matched."""
        key = (method if method in METHODS else "OTHER", route or UNMATCHED, status)
        series = self._series.get(key)
        if series is None:  # bounded: known methods, route templates, status codes
            series = self._series[key] = (
                self._requests.labels(key[0], key[1], str(status)),
                self._duration.labels(key[0], key[1]),
            )
        requests, duration = series
        requests.inc()
        duration.observe(seconds)
        if status == 429:
            self._refusals.inc()

    def exposition(self, readings: Readings, accept: str | None) -> tuple[bytes, str]:
        """Everything in the Prometheus text format (or OpenMetrics, if asked for), and its content type."""
        encode, content_type = choose_encoder(accept or "")
        self._state.readings = readings
        try:
            return encode(self.registry), content_type
        finally:
            self._state.readings = None


class _StateCollector(Collector):
    """What the use cases read just before a scrape, and the Redis circuit, as metric families."""

    def __init__(self, circuit: CircuitReader) -> None:
        self.readings: Readings | None = None
        self._circuit = circuit

    def collect(self) -> Iterable[Metric]:
        if self.readings is not None:
            yield from _business(self.readings.events)
            yield from _database(self.readings)
        state = self._circuit()
        if state is not None:
            circuit = GaugeMetricFamily(
                "orderline_redis_circuit_state", "1 for the Redis circuit's current state", labels=["state"]
            )
            for name in CIRCUIT_STATES:
                circuit.add_metric([name], 1 if name == state else 0)
            yield circuit


def _business(events: dict[tuple[EventName, str], int]) -> Iterable[Metric]:
    def count(name: EventName, label: str = "") -> int:
        return events.get((name, label), 0)

    placed = CounterMetricFamily("orderline_orders_placed", "Orders placed (committed)")
    placed.add_metric([], count(EventName.ORDER_PLACED))
    cancelled = CounterMetricFamily("orderline_orders_cancelled", "Orders cancelled (committed)", labels=["reason"])
    for reason in CancelReason:
        cancelled.add_metric([reason.value], count(EventName.ORDER_CANCELLED, reason.value))
    refunds = CounterMetricFamily("orderline_refunds", "Refunds settled (committed), by outcome", labels=["outcome"])
    refunds.add_metric(["succeeded"], count(EventName.REFUND_SUCCEEDED))
    refunds.add_metric(["failed"], count(EventName.REFUND_FAILED))
    payments = CounterMetricFamily("orderline_payments", "Card payments (committed), by outcome", labels=["outcome"])
    payments.add_metric(["succeeded"], count(EventName.PAYMENT_SUCCEEDED))
    payments.add_metric(["failed"], count(EventName.PAYMENT_FAILED))
    return [placed, cancelled, refunds, payments]


def _database(readings: Readings) -> Iterable[Metric]:
    if readings.refunds_pending is not None:
        yield GaugeMetricFamily(
            "orderline_refunds_pending", "Refunds asked of the gateway and not settled yet", readings.refunds_pending
        )
    connections = GaugeMetricFamily(
        "orderline_db_connections",
        "Database connections of this process (PostgreSQL: the pool; SQLite: the readers), by state",
        labels=["state"],
    )
    connections.add_metric(["in_use"], readings.pool.in_use)
    connections.add_metric(["idle"], readings.pool.idle)
    yield connections
    yield GaugeMetricFamily(
        "orderline_db_connections_limit", "The most database connections this process opens", readings.pool.limit
    )


def redis_circuit(rate_limits: RateLimits) -> CircuitReader:
    """The state of the rate limits' Redis circuit ("closed", "open" or "half-open"), None when the counters
    live in memory."""

    def state() -> str | None:
        circuit = rate_limits.redis_circuit
        return None if circuit is None else str(circuit)

    return state
