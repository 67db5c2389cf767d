"""Nothing on the request path runs in Litestar's thread pool: a sync guard, hook, dependency or handler
would cost a thread hand-off on every request (issue 11 measured 254 µs of a no-op's 455 µs)."""

from __future__ import annotations

import inspect
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler


def _handlers(app: Litestar) -> list[HTTPRouteHandler]:
    return [h for route in app.routes for h in getattr(route, "route_handlers", ()) if isinstance(h, HTTPRouteHandler)]


def _in_a_thread(provider: Any) -> bool:
    return bool(getattr(provider, "has_sync_callable", False) and getattr(provider, "sync_to_thread", True))


def test_every_guard_is_a_coroutine_function(app: Litestar) -> None:
    guards = {guard for handler in _handlers(app) for guard in handler.resolve_guards()}

    assert [guard for guard in guards if not inspect.iscoroutinefunction(guard)] == []


def test_no_handler_or_dependency_is_sent_to_the_thread_pool(app: Litestar) -> None:
    handlers = _handlers(app)

    threaded: list[Any] = [h for h in handlers if _in_a_thread(h)]
    threaded += [p for h in handlers for p in h.resolve_dependencies().values() if _in_a_thread(p)]

    assert threaded == []


def test_every_request_hook_is_a_coroutine_function(app: Litestar) -> None:
    hooks = [*app.before_send, *(h.resolve_before_request() for h in _handlers(app))]

    assert [hook for hook in hooks if hook is not None and not inspect.iscoroutinefunction(hook)] == []
