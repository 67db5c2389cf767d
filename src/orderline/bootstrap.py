"""The composition root: the one module that knows every concrete class and wires them together."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
from litestar import Litestar
from uuid_utils.compat import uuid7

from orderline.application.ports import Clock, IdGenerator, PasswordHasher
from orderline.application.use_cases import UseCases
from orderline.config import Settings, SettingsError
from orderline.gateways import testmode
from orderline.http.app import create_app
from orderline.security.jwks import JwksTokens
from orderline.security.passwords import Argon2Hasher
from orderline.security.tokens import JwtTokens
from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.migrate import current_revision, head_revision, upgrade_async
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.sqlite import SqliteDatabase


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Uuid7Ids:
    def new_id(self) -> UUID:
        return uuid7()


class SchemaOutdated(RuntimeError):
    """The database is not at the schema this version needs, and we may not migrate it ourselves."""


async def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    hasher: PasswordHasher | None = None,
    http: httpx.AsyncClient | None = None,
) -> UseCases:
    """Open the database (migrating an embedded SQLite file first) and wire the use cases."""
    url = DatabaseUrl.parse(settings.database_url)
    if settings.jwt_jwks_url and not settings.jwt_issuer:
        raise SettingsError("ORDERLINE_JWT_JWKS_URL needs ORDERLINE_JWT_ISSUER too")
    if url.dialect == "sqlite":
        await upgrade_async(url)
    db = await open_database(url, pool_size=settings.db_pool_size, statement_timeout=settings.db_statement_timeout)
    clock = clock or SystemClock()
    try:
        await ensure_schema_current(db, url)
        secret = settings.jwt_secret or await _shared_secret(db, clock, "tokens", secrets.token_hex(32))
        gateway_secret = settings.test_gateway_secret or await _shared_secret(
            db, clock, "test-gateway-callbacks", testmode.new_secret()
        )
    except BaseException:
        await db.close()
        raise
    external: JwksTokens | None = None
    on_close: tuple[Callable[[], Awaitable[object]], ...] = ()
    if settings.jwt_jwks_url and settings.jwt_issuer:
        client = http or httpx.AsyncClient()
        external = JwksTokens(settings.jwt_jwks_url, settings.jwt_issuer, settings.jwt_audience, client, clock)
        on_close = () if http else (client.aclose,)
    return UseCases.wire(
        db,
        clock,
        ids or Uuid7Ids(),
        hasher=hasher or Argon2Hasher(),
        tokens=JwtTokens(secret, timedelta(seconds=settings.token_lifetime_seconds), clock),
        gateway=testmode.TestModeGateway(clock, timedelta(seconds=settings.test_gateway_refund_delay), gateway_secret),
        external=external,
        on_close=on_close,
        customer_erasure=settings.customer_erasure,
    )


async def _shared_secret(db: SqliteDatabase | PostgresDatabase, clock: Clock, name: str, candidate: str) -> str:
    """A secret every process of this database shares (token signing, callbacks), made by the first to start."""
    async with db.transaction() as uow:
        secret = await uow.signing_keys.get_or_create(name, candidate, clock.now())
        await uow.commit()
    return secret


async def ensure_schema_current(db: SqliteDatabase | PostgresDatabase, url: DatabaseUrl) -> None:
    async with db.snapshot() as uow:
        revision = await current_revision(uow.connection)
    if revision != head_revision():
        raise SchemaOutdated(
            f"the database {url} is at schema {revision or 'none'}, but this orderline needs"
            f" {head_revision()}: run `orderline migrate --database-url URL` first"
        )


def app(settings: Settings | None = None) -> Litestar:
    """The ASGI app for ``settings`` (default: the environment), e.g. ``uvicorn --factory orderline.bootstrap:app``."""
    settings = settings or Settings.load()
    return create_app(settings, lambda: build(settings))
