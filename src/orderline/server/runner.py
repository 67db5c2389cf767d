"""Run an ASGI app under uvicorn (uvloop + httptools) with the limits in Settings; return when it has stopped."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
import uvicorn

from orderline import logs
from orderline.config import Settings, parse_trusted_proxies
from orderline.server.descriptors import connections_room, raise_open_files_limit
from orderline.server.log_budget import LogBudget
from orderline.server.loop_errors import log_loop_errors_within
from orderline.server.protocol import ConnectionGuard, guarded_protocol

log = structlog.get_logger("orderline.server")

# One line per kind of repeated trouble (a full connection table, a failing accept()) every this many seconds.
LOG_INTERVAL_SECONDS = 10.0


class _Server(uvicorn.Server):
    """uvicorn's server, saying where it listens once the socket is bound (the port may have been 0)."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Sequence[Callable[[], None]] = (), **started: Any) -> None:
        super().__init__(config)
        self._started = started
        self._on_shutdown = tuple(on_shutdown)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn waits for every response to finish before the lifespan ends: long-lived ones (live event
        # streams) are told first, so they end cleanly at once instead of being cut off when the grace runs out.
        for stop in self._on_shutdown:
            stop()
        await super().shutdown(sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            frozen = settle_the_heap()
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            address = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
            log.info("listening", address=address, frozen_objects=frozen, **self._started)


def settle_the_heap() -> int:
    """Keep what start-up built (modules, routes, the OpenAPI document, pools: some 250,000 objects) out of
    the garbage collector's full collections, which otherwise walk all of it every so often and stop every
    request in flight for 100-200 ms: the p99 of the reads was that pause (ADR 0033). Frozen objects are never
    collected; nothing built at start-up is garbage. Once per server process, when its app has started: the
    process lives as long as what it froze. How many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def serve(
    app: Callable[..., Awaitable[None]],
    settings: Settings,
    on_shutdown: Sequence[Callable[[], None]] = (),
    sockets: Sequence[socket.socket] | None = None,
) -> bool:
    """Serve ``app`` until SIGINT or SIGTERM, then drain requests in flight for ``settings.shutdown_grace``;
    ``on_shutdown`` is called first, to end long-lived responses. ``sockets``: listen there (a socket bound by
    the parent of several web processes) instead of binding ``settings.host`` and ``settings.port``.
    False if it never started serving (its app's startup failed)."""
    open_files = raise_open_files_limit()
    room = connections_room(open_files, settings.db_pool_size)
    max_connections = settings.max_connections or room
    if max_connections > room:
        log.warning(
            "ORDERLINE_MAX_CONNECTIONS is more than the file-descriptor limit leaves room for: past the limit,"
            " new connections are dropped as they arrive",
            max_connections=max_connections,
            room=room,
            open_files_limit=open_files,
        )
    budget = LogBudget(LOG_INTERVAL_SECONDS)
    trusted_proxies = parse_trusted_proxies(settings.trusted_proxies)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=guarded_protocol(ConnectionGuard(settings.request_timeout, max_connections, budget)),
        ws="none",
        lifespan="on",
        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise; we believe no one unless listed.
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies,
        timeout_graceful_shutdown=settings.shutdown_grace,
        log_level=settings.log_level,
        # uvicorn's own lines in our format (JSON with ORDERLINE_LOG_FORMAT=json); the access line is ours
        # (http/access_log.py), with the request id, so uvicorn's is off.
        log_config=logs.uvicorn_log_config(settings.log_level, settings.log_format, pid=settings.workers > 1),
        access_log=False,
    )
    server = _Server(
        config,
        on_shutdown,
        max_connections=max_connections,
        open_files_limit=open_files,
        request_timeout=settings.request_timeout,
        shutdown_grace=settings.shutdown_grace,
        trusted_proxies=",".join(trusted_proxies) or "none",
    )

    async def run() -> None:
        log_loop_errors_within(budget, asyncio.get_running_loop())
        await server.serve(list(sockets) if sockets is not None else None)

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(run())
    return server.started
