"""`orderline serve` and `orderline migrate`: run the service, and bring its database to the newest schema."""

from __future__ import annotations

import socket
from functools import partial
from typing import Annotated

import typer

from orderline import __version__, bootstrap, logs
from orderline.application.demo import DEMO_PETS
from orderline.application.principal import SYSTEM
from orderline.application.use_cases import UseCases
from orderline.cli.common import DatabaseOption, database_of, fail, log, settings_of, with_use_cases
from orderline.config import Settings
from orderline.http.app import create_app, end_streams
from orderline.server import runner, supervisor
from orderline.storage.migrate import upgrade


def serve_epilog() -> str:
    defaults = Settings()
    return (
        "Also from the environment, with their defaults:"
        f" ORDERLINE_REQUEST_TIMEOUT={defaults.request_timeout:g} (seconds a client has to send a complete request),"
        " ORDERLINE_MAX_CONNECTIONS unset (as many as the file-descriptor limit leaves room for),"
        f" ORDERLINE_SHUTDOWN_GRACE={defaults.shutdown_grace} (seconds SIGTERM waits for requests in flight),"
        " ORDERLINE_TRUSTED_PROXIES unset (no proxy's X-Forwarded-For is believed)."
        " `orderline config show` prints every setting in effect; the README lists them all."
    )


def serve(
    host: Annotated[
        str | None, typer.Option(help="address to listen on", show_default="$ORDERLINE_HOST or 127.0.0.1")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on", show_default="$ORDERLINE_PORT or 8000")] = None,
    database_url: DatabaseOption = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="add a demo catalogue to an empty shop", show_default="off")
    ] = False,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="on SQLite, also run the worker (webhooks, recovery) in this process; PostgreSQL never does",
        ),
    ] = True,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="web processes sharing the listening socket; more than 1 needs PostgreSQL",
            show_default="$ORDERLINE_WORKERS or 1",
        ),
    ] = None,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="serve the sandbox controls under /v1/sandbox (tenants, test clocks, faults); never in production",
            show_default="$ORDERLINE_SANDBOX or off",
        ),
    ] = False,
) -> None:
    """Run the HTTP service. An embedded SQLite database is migrated first; PostgreSQL must be."""
    settings = settings_of(
        host=host, port=port, database_url=database_url, workers=workers, sandbox=True if sandbox else None
    )
    if settings.workers > 1 and database_of(settings).dialect == "sqlite":
        fail(
            f"--workers {settings.workers} needs PostgreSQL: SQLite has one writer, which one process already"
            " keeps busy (ADR 0031). Run one process on SQLite, or use ORDERLINE_DATABASE_URL=postgresql://..."
        )

    if settings.workers > 1:
        logs.configure(settings.log_level, settings.log_format, pid=True)  # which process wrote each line

    async def prepare(use_cases: UseCases) -> None:
        # Once for the whole service, before any web process starts: migrations (SQLite), the key file, the demo.
        if demo:
            added = await use_cases.catalogue.add_unless_stocked(SYSTEM, DEMO_PETS)
            log.info("demo catalogue", pets_added=added)

    with_use_cases(settings, prepare)
    in_process = bootstrap.runs_worker_in_serve(settings, worker)
    log.info(
        "starting",
        version=__version__,
        database=str(database_of(settings)),
        worker=in_process,
        workers=settings.workers,
    )
    if settings.sandbox:
        log.warning("sandbox controls are on: anyone who reaches /v1/sandbox can make tenants and inject faults")
    if not in_process and worker:
        message = "this process runs no worker on PostgreSQL: run `orderline worker` beside it to deliver webhooks"
        log.warning(message + " and finish interrupted payments and refunds")
    if settings.workers == 1:
        serve_on(settings, None, in_process=in_process)
        return
    try:
        sock = supervisor.bind(settings.host, settings.port)
    except OSError as exc:
        fail(f"cannot listen on {settings.host}:{settings.port}: {exc}")
    status = supervisor.Supervisor(partial(serve_on, settings), sock, settings.workers, settings.shutdown_grace).run()
    if status != 0:
        raise typer.Exit(code=status)


def serve_on(settings: Settings, sock: socket.socket | None, *, in_process: bool = False) -> bool:
    """One web process: the app on ``sock`` (a child of several) or on the settings' address; False if it never
    started. ``in_process``: the worker runs beside the app (SQLite, one process)."""
    if sock is not None:
        logs.configure(settings.log_level, settings.log_format, pid=True)
    background = partial(bootstrap.worker_beside, settings) if in_process else None
    app = create_app(settings, partial(bootstrap.build, settings, serving=True), background)
    return runner.serve(app, settings, [partial(end_streams, app)], sockets=None if sock is None else [sock])


def migrate(database_url: DatabaseOption = None) -> None:
    """Bring the database to the newest schema."""
    settings = settings_of(database_url=database_url)
    url = database_of(settings)
    try:
        upgrade(url)
    except OSError as exc:
        fail(f"cannot use the database {url}: {exc}")
    typer.echo(f"{url} is at the newest schema")
