"""The event loop's exception handler, on a budget: a flood of one error must not flood the log."""

from __future__ import annotations

import asyncio
from typing import Any

from orderline.server.log_budget import LogBudget


def log_loop_errors_within(budget: LogBudget, loop: asyncio.AbstractEventLoop) -> None:
    """Route ``loop``'s unhandled errors (e.g. asyncio's ``accept()`` failing with EMFILE) through ``budget``.

    asyncio reports every failed ``accept()`` with a traceback; with its file descriptors exhausted, a busy
    server wrote 35 MB of them in 20 s. Each kind (the handler's message) now gets one line per interval.
    """

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", "unhandled error in the event loop"))
        held_back = budget.allow(message)
        if held_back is None:
            return
        if held_back:
            context = context | {
                "message": f"{message} ({held_back} more like this in the last {budget.interval:.0f} s, not logged)"
            }
        loop.default_exception_handler(context)

    loop.set_exception_handler(handle)
