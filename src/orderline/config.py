"""Settings: one class, read from ORDERLINE_* environment variables, with CLI flags on top."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec

PREFIX = "ORDERLINE_"

# Requests per window for each route group: sign-in and sign-up (`auth`), other writes, the rest.
# Generous enough for one busy client and a test suite from one address; tighten in production.
RATE_LIMIT_GROUPS = {"default": (1200, 60), "write": (300, 60), "auth": (30, 60)}
_RATE = re.compile(r"(?P<group>\w+)\s*=\s*(?P<requests>\d{1,9})\s*/\s*(?P<window>\d{1,9})", re.ASCII)
# The other order APIs orderline can speak beside its own (ADR 0021).
DIALECTS = ("shoplazza", "sfox", "drf")
# Every secret that keys an HMAC-SHA256 (our HS256 tokens, the gateway's callbacks) is at least as long as
# the hash output, as RFC 7518 section 3.2 requires of HS256 keys.
MIN_SECRET_BYTES = 32


class SettingsError(ValueError):
    """An ORDERLINE_* variable holds something unusable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    database_url: str = "sqlite:///./orderline.db"
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"
    db_pool_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
    # Seconds any wait on the database may last (a statement, a lock, a free connection) before the
    # request is answered 503. Far above a healthy statement (milliseconds), below the 30-60 s after
    # which proxies and clients give up themselves: see ADR 0019.
    db_statement_timeout: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    # RFC 9457 "type" URIs are this base + the problem's slug; the default follows the Pet Store's.
    problem_base_uri: str = "https://petstoreapi.com/errors/"
    # Our tokens are signed with this secret; unset, with the key file's current key. Never in the database.
    jwt_secret: str | None = None
    # Comma-separated earlier values of jwt_secret: their tokens are still accepted until they expire.
    jwt_previous_secrets: str = ""
    # The key file (signing keys, the test gateway's secret). Unset: beside an SQLite database, created on
    # first start; none for PostgreSQL, which then needs the secrets in the environment.
    keys_file: str | None = None
    token_lifetime_seconds: Annotated[int, msgspec.Meta(ge=60, le=30 * 86400)] = 86400
    # How long a refresh token lasts (the DRF dialect's /api/v1/auth/token/); 3 days, as the original (ADR 0026).
    refresh_token_lifetime_seconds: Annotated[int, msgspec.Meta(ge=60, le=90 * 86400)] = 3 * 86400
    # Optionally also accept RS256/ES256 tokens of one external issuer, checked against its JWKS.
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # May customers hard-delete (erase) their own orders? Admins always may.
    customer_erasure: bool = False
    # "group=requests/window-seconds,...": groups not named keep their default (RATE_LIMIT_GROUPS).
    rate_limits: str = ""
    # Unset: counters in this process's memory. Set (redis://...): shared by every process using it.
    redis_url: str | None = None
    redis_key_prefix: str = "orderline:"
    # Seconds a request waits for Redis to answer (connecting included). A same-datacentre Redis answers
    # in about a millisecond; 50 ms leaves room for a slow moment without letting a sick Redis slow the
    # service (ADR 0009).
    redis_timeout: Annotated[float, msgspec.Meta(gt=0, le=10)] = 0.05
    # After Redis fails, seconds during which requests pass uncounted without asking it; then one trial.
    redis_cooldown: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    # Several web processes and no Redis: the counters live in PostgreSQL (ADR 0035), asked with the same care
    # as Redis: seconds a request waits for them, and seconds they are skipped after they failed.
    rate_limit_db_timeout: Annotated[float, msgspec.Meta(gt=0, le=10)] = 0.05
    rate_limit_db_cooldown: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    # Payments: the gateway adapter ("test": the built-in test gateway, whose cards choose the outcome).
    payment_gateway: Literal["test"] = "test"
    # Seconds after which the test gateway settles an asynchronous refund (cards ...3220 and ...5126).
    test_gateway_refund_delay: Annotated[float, msgspec.Meta(ge=0, le=86400)] = 2.0
    # Standard Webhooks secret (whsec_...) the test gateway signs its callbacks with; unset, the key file's.
    test_gateway_secret: str | None = None
    # How often to ask the gateway about pending refunds and interrupted payments (seconds); 0 turns it off.
    refund_poll_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 1.0
    # A payment still PROCESSING after this many seconds lost its request (the process died): ask the gateway
    # again, with the same idempotency key, and record its answer.
    payment_recovery_after: Annotated[float, msgspec.Meta(ge=0, le=86400)] = 30.0
    # The test gateway's card 4000000000000259 is charged, but answers only after this many seconds.
    test_gateway_slow_charge: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 5.0
    # `serve` protecting itself (orderline/server, ADR 0016). Seconds a connection has to send a complete
    # request, headers and body; a silent or trickling client is closed then.
    request_timeout: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 10.0
    # Open connections at most; unset: what the file-descriptor limit allows after the database's and logs' share.
    max_connections: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] | None = None
    # Seconds SIGTERM waits for requests in flight before cutting them off and exiting.
    shutdown_grace: Annotated[int, msgspec.Meta(ge=0, le=3600)] = 30
    # `serve`'s web processes, sharing one listening socket (ADR 0035). More than one needs PostgreSQL.
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    # "IP or network, ...": the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed. None by default.
    trusted_proxies: str = ""
    # GET /metrics answers only a bearer of this secret (ADR 0018); unset, /metrics is refused.
    metrics_token: Annotated[str, msgspec.Meta(min_length=16)] | None = None
    # "name,...": the other order APIs served beside the native one, each under its own mount (docs/dialects.md).
    dialects: str = ",".join(DIALECTS)
    # Where clients reach this service: the base of links it hands out, such as a payment's receiptUrl (ADR 0027).
    public_url: Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")] = "http://127.0.0.1:8000"
    # Webhooks may be sent to hosts that are, or resolve to, loopback, private, link-local or other non-public
    # addresses. Off: such URLs are refused (server-side request forgery). For development and tests only.
    webhooks_allow_private: bool = False
    # Seconds a webhook's previous secret still signs, beside the new one, after POST .../rotate-secret.
    webhook_secret_grace_seconds: Annotated[int, msgspec.Meta(ge=0, le=30 * 86400)] = 86400
    # Live event streams (GET /v1/orders/{id}/events, GET /v1/admin/events; ADR 0030): open at once in this
    # process, and per principal; past either, a new stream is refused with 429 and Retry-After.
    stream_limit: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 500
    stream_limit_per_principal: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 5
    # Seconds between keep-alive comments on a quiet stream, so proxies do not close it as idle.
    stream_heartbeat_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 15.0
    # Seconds a stream waits for a wake-up (NOTIFY, Redis, this process's commits) before it reads the outbox
    # anyway: a lost notification only delays an event by this much.
    stream_poll_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    # Seconds a stream lasts at most; then it ends and the client resumes with Last-Event-ID (0: no limit).
    stream_max_seconds: Annotated[float, msgspec.Meta(ge=0, le=86400)] = 3600.0
    # Standard Webhooks secret (whsec_...) signing order callbacks (POST /v1/orders/{id}); unset, derived from
    # the test gateway's (`orderline webhooks callback-secret` prints it either way).
    callback_secret: str | None = None
    # Webhook delivery by the worker (ADR 0029). Attempts before a delivery is DEAD; with the default backoff,
    # 8 attempts spread over about a day.
    webhook_max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 8
    # Retry n waits a random time (full jitter) up to min(cap, base * 2^(n-1)) seconds.
    webhook_backoff_base: Annotated[float, msgspec.Meta(gt=0, le=86400)] = 1360.0
    webhook_backoff_cap: Annotated[float, msgspec.Meta(gt=0, le=7 * 86400)] = 86400.0
    # Seconds to connect to a receiver, to send it the request, to wait for each read of its answer, and to
    # wait for a free connection; one attempt never outlasts their sum.
    webhook_connect_timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 5.0
    webhook_write_timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    webhook_read_timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    webhook_pool_timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 5.0
    # Deliveries a worker sends at once, and at most per subscription (across workers): a receiver that never
    # answers holds that many, and every other subscription's deliveries go on.
    webhook_concurrency: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 32
    webhook_per_subscription: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 4
    # Seconds the worker waits before looking at the outbox again when it found nothing to do.
    worker_poll_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 0.5
    # This deployment is production: refuses what is only for development and tests (sandbox controls).
    production: bool = False
    # Sandbox controls under /v1/sandbox (docs/sandbox.md, ADR 0041): tenants made and thrown away, a test clock
    # per tenant, injected faults. Off, those routes do not exist; never with production on.
    sandbox: bool = False

    def __post_init__(self) -> None:
        parse_rate_limits(self.rate_limits)
        parse_dialects(self.dialects)
        parse_trusted_proxies(self.trusted_proxies)
        check_secrets(self)
        if self.sandbox and self.production:
            raise SettingsError(
                "ORDERLINE_SANDBOX=true is refused in production (ORDERLINE_PRODUCTION=true): sandbox controls let"
                " anyone make tenants, move their clocks and inject faults; turn one of the two off"
            )
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("ORDERLINE_REDIS_URL: expected redis://HOST[:PORT][/DB], rediss://... or unix://PATH")

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Environment first (an empty variable counts as unset), then explicit overrides (CLI flags) that
        are not None. A refusal names the variable or the flag, and says what it accepts."""
        values = {**from_environment(os.environ if environ is None else environ), **flags(overrides)}
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(_explain(str(exc), values, flags(overrides))) from None


def variable(field: str) -> str:
    return PREFIX + field.upper()


def from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings the environment sets, by field name."""
    fields = set(Settings.__struct_fields__)
    return {
        name.removeprefix(PREFIX).lower(): value
        for name, value in environ.items()
        if name.startswith(PREFIX) and name.removeprefix(PREFIX).lower() in fields and value != ""
    }


def flags(overrides: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in overrides.items() if value is not None}


# Values never shown, in messages or in `orderline config show`; URLs are shown without their password.
SECRETS = frozenset({"jwt_secret", "jwt_previous_secrets", "test_gateway_secret", "metrics_token", "callback_secret"})
URLS = frozenset({"database_url", "redis_url", "jwt_jwks_url"})
_AT_FIELD = re.compile(r"(?P<problem>.*) - at `\$\.(?P<field>\w+)`")


def _explain(message: str, values: Mapping[str, Any], from_flags: Mapping[str, Any]) -> str:
    """msgspec's refusal (``Expected `int` <= 65535 - at `$.port```) as one line an operator can act on."""
    found = _AT_FIELD.fullmatch(message)
    if found is None:  # a check of our own, which already names the variable
        return message
    field = found["field"]
    name = f"--{field.replace('_', '-')}" if field in from_flags else variable(field)
    given = "" if field in SECRETS else f"={values.get(field)!s}"
    return f"{name}{given} is not accepted: expected {accepted(field)}"


def shown(field: str, value: Any) -> str:
    """A setting's value as `orderline config show` prints it: secrets masked, URLs without their password."""
    if value is None or value == "":
        return "(unset)"
    if field in SECRETS:
        return "******** (set)"
    if field in URLS:
        return _without_password(str(value))
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def accepted(field: str) -> str:
    """What a setting accepts, in words, from its declared type and bounds."""
    info = msgspec.inspect.type_info(Settings)
    assert isinstance(info, msgspec.inspect.StructType)
    [declared] = [f for f in info.fields if f.name == field]
    return _words(declared.type)


def _words(kind: msgspec.inspect.Type) -> str:
    if isinstance(kind, msgspec.inspect.UnionType):
        known = [_words(t) for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
        return " or ".join(known) + ", or nothing (unset)"
    if isinstance(kind, msgspec.inspect.BoolType):
        return "true or false (or 1 or 0)"
    if isinstance(kind, msgspec.inspect.LiteralType):
        return "one of " + ", ".join(map(str, kind.values))
    if isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        number = "a whole number" if isinstance(kind, msgspec.inspect.IntType) else "a number"
        if kind.ge is not None and kind.le is not None:
            return f"{number} from {kind.ge} to {kind.le}"
        low = f"above {kind.gt}" if kind.gt is not None else f"at least {kind.ge}" if kind.ge is not None else ""
        high = f"at most {kind.le}" if kind.le is not None else ""
        return f"{number} " + ", ".join(filter(None, [low, high]))
    if isinstance(kind, msgspec.inspect.StrType) and kind.min_length:
        return f"text of at least {kind.min_length} characters"
    return "text"


def check_secrets(settings: Settings) -> None:
    """Refuse signing secrets too short to resist guessing, naming the variable that holds them."""
    if settings.jwt_previous_secrets.strip() and not settings.jwt_secret:
        raise SettingsError("ORDERLINE_JWT_PREVIOUS_SECRETS needs ORDERLINE_JWT_SECRET, the key that signs from now on")
    if settings.jwt_secret:  # empty means unset, as for every variable
        check_secret_length("ORDERLINE_JWT_SECRET", settings.jwt_secret.encode())
    for secret in previous_secrets(settings):
        check_secret_length("ORDERLINE_JWT_PREVIOUS_SECRETS", secret.encode())
    if settings.test_gateway_secret:
        check_secret_length("ORDERLINE_TEST_GATEWAY_SECRET", webhook_secret_bytes(settings.test_gateway_secret))
    if settings.callback_secret:
        check_secret_length("ORDERLINE_CALLBACK_SECRET", webhook_secret_bytes(settings.callback_secret))


def previous_secrets(settings: Settings) -> list[str]:
    return [part.strip() for part in settings.jwt_previous_secrets.split(",") if part.strip()]


def check_secret_length(variable: str, secret: bytes) -> None:
    if len(secret) < MIN_SECRET_BYTES:
        raise SettingsError(
            f"{variable}: a secret of {len(secret)} bytes is too short to sign with; use at least"
            f" {MIN_SECRET_BYTES} random bytes, e.g. the output of `openssl rand -base64 32`"
        )


def webhook_secret_bytes(secret: str) -> bytes:
    """The key of a Standard Webhooks secret: base64 after an optional ``whsec_`` prefix."""
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise SettingsError(
            "ORDERLINE_TEST_GATEWAY_SECRET: expected whsec_ followed by base64, e.g. whsec_$(openssl rand -base64 32)"
        ) from None


def parse_rate_limits(text: str) -> dict[str, tuple[int, int]]:
    """Each group's (requests, window in seconds): the defaults with ``text``'s entries on top."""
    limits = dict(RATE_LIMIT_GROUPS)
    named: set[str] = set()
    for entry in filter(None, (part.strip() for part in text.split(","))):
        match = _RATE.fullmatch(entry)
        if match is None or not (int(match["requests"]) > 0 and 0 < int(match["window"]) <= 86400):
            raise SettingsError(
                f"ORDERLINE_RATE_LIMITS: {entry!r} is not GROUP=REQUESTS/SECONDS (each > 0, at most a day)"
            )
        group = match["group"]
        if group not in RATE_LIMIT_GROUPS:
            raise SettingsError(
                f"ORDERLINE_RATE_LIMITS: no group {group!r}; the groups are {', '.join(RATE_LIMIT_GROUPS)}"
            )
        if group in named:
            raise SettingsError(f"ORDERLINE_RATE_LIMITS: {group!r} is given twice")
        named.add(group)
        limits[group] = (int(match["requests"]), int(match["window"]))
    return limits


def parse_dialects(text: str) -> list[str]:
    """The dialects to mount, in the order given, each once."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in DIALECTS]
    if unknown:
        raise SettingsError(
            f"ORDERLINE_DIALECTS: no dialect {unknown[0]!r}; the dialects are {', '.join(DIALECTS)} (or empty for none)"
        )
    return list(dict.fromkeys(names))


def parse_trusted_proxies(text: str) -> list[str]:
    """The trusted proxies' addresses and networks, normalised (``10.0.0.0/8``, ``::1``)."""
    proxies = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        try:
            network = ipaddress.ip_network(entry)  # strict: 10.0.0.1/8 is a typo, not a network
        except ValueError:
            raise SettingsError(
                f"ORDERLINE_TRUSTED_PROXIES: {entry!r} is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/8)"
            ) from None
        proxies.append(str(network.network_address) if network.num_addresses == 1 else str(network))
    return proxies
