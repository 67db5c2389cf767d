"""Structured logging: one renderer, console lines or JSON, for our lines and the standard library's (uvicorn's).

Our lines go through structlog; uvicorn and other libraries log through the standard library, whose
records the same processors render. With ``json`` every line on stderr is one JSON object.
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys
import threading
from typing import Any, TextIO

import structlog

# Before rendering, for our events and for the standard library's records alike.
_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes each record to sys.stderr as it is then, as our structlog lines do (a test may swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _StderrLogger:
    """structlog's PrintLogger, but to sys.stderr as it is at each line, not as it was when the logger was built:
    whoever redirects it later (a test) still gets the lines, and one instance serves every logger."""

    _lock = threading.Lock()

    def msg(self, message: str) -> None:
        with self._lock:
            print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = err = error = critical = exception = failure = fatal = msg


_STDERR = _StderrLogger()


def _stderr_logger(*_args: Any) -> _StderrLogger:
    return _STDERR


class CachedLogger:
    """A structlog logger for a line written at every request: built once, and again after each configuration.

    structlog's lazy proxy (``structlog.get_logger``) builds a logger for every line, since its loggers are not
    cached on first use (``configure``): a cached proxy would keep the level and processors it first saw, and tests
    configure the logging again (``configure``, ``structlog.configure``). This one keeps what it built while
    structlog's configuration is the same objects; ``capture_logs`` changes the processors' list in place, which
    the logger built holds.
    """

    __slots__ = ("_built", "_config", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._config: tuple[object, ...] = ()
        self._built: Any = None

    def get(self) -> Any:
        """The logger, as ``structlog.get_logger(name).bind()`` would build it now."""
        config = structlog.get_config()
        built = self._config
        if (
            not built
            or config["processors"] is not built[0]
            or config["wrapper_class"] is not built[1]
            or config["logger_factory"] is not built[2]
            or config["context_class"] is not built[3]
        ):
            self._built = structlog.get_logger(self._name).bind()
            self._config = (
                config["processors"],
                config["wrapper_class"],
                config["logger_factory"],
                config["context_class"],
            )
        return self._built


def _renderer(fmt: str) -> structlog.types.Processor:
    return structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)


def _add_pid(_logger: Any, _method: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
    event.setdefault("pid", os.getpid())
    return event


def _shared(pid: bool) -> list[structlog.types.Processor]:
    # With several web processes (`serve --workers N`) every line says which process wrote it.
    return [*_SHARED, _add_pid] if pid else _SHARED


def configure(level: str = "info", fmt: str = "console", *, pid: bool = False) -> None:
    """Our lines at ``level`` and up; libraries' warnings and errors in the same format; ``pid``: each line
    names its process."""
    structlog.configure(
        processors=[*_shared(pid), structlog.processors.format_exc_info, _renderer(fmt)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stderr_logger,
        # Not cached: a test configures again, and a cached proxy would keep what it first saw. A line written at
        # every request takes a CachedLogger instead.
        cache_logger_on_first_use=False,
    )
    logging.config.dictConfig(uvicorn_log_config(level, fmt, pid=pid))
    # A warning printed by the warnings module would be a line of plain text among the JSON ones.
    logging.captureWarnings(fmt == "json")


def uvicorn_log_config(level: str = "info", fmt: str = "console", *, pid: bool = False) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` that ``uvicorn.run(log_config=...)`` takes.

    uvicorn's own lines (startup, shutdown, errors) at ``level``, any other library's from warnings up,
    all rendered like ours. Run uvicorn with ``access_log=False``: the access line is ours
    (http/access_log.py), with the request id.
    """
    formatter = {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": [*_shared(pid), structlog.stdlib.add_logger_name],
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(fmt),
        ],
    }
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"orderline": formatter},
        "handlers": {"stderr": {"class": f"{__name__}.StderrHandler", "formatter": "orderline"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
