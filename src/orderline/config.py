"""Settings: one class, read from ORDERLINE_* environment variables, with CLI flags on top."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

PREFIX = "ORDERLINE_"

# Requests per window for each route group: sign-in and sign-up (`auth`), other writes, the rest.
# Generous enough for one busy client and a test suite from one address; tighten in production.
RATE_LIMIT_GROUPS = {"default": (1200, 60), "write": (300, 60), "auth": (30, 60)}
_RATE = re.compile(r"(?P<group>\w+)\s*=\s*(?P<requests>\d{1,9})\s*/\s*(?P<window>\d{1,9})", re.ASCII)


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
    # which proxies and clients give up themselves: see ADR 0014.
    db_statement_timeout: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    # RFC 9457 "type" URIs are this base + the problem's slug; the default follows the Pet Store's.
    problem_base_uri: str = "https://petstoreapi.com/errors/"
    # Our tokens: signed with this secret, or (unset) with one generated once and kept in the database.
    jwt_secret: str | None = None
    token_lifetime_seconds: Annotated[int, msgspec.Meta(ge=60, le=30 * 86400)] = 86400
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
    # Payments: the gateway adapter ("test": the built-in test gateway, whose cards choose the outcome).
    payment_gateway: Literal["test"] = "test"
    # Seconds after which the test gateway settles an asynchronous refund (cards ...3220 and ...5126).
    test_gateway_refund_delay: Annotated[float, msgspec.Meta(ge=0, le=86400)] = 2.0
    # Standard Webhooks secret (whsec_...) the test gateway signs its callbacks with; unset, one is
    # generated once and kept in the database.
    test_gateway_secret: str | None = None
    # How often to ask the gateway about pending refunds (seconds); 0 turns the poller off.
    refund_poll_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 1.0

    def __post_init__(self) -> None:
        parse_rate_limits(self.rate_limits)
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("redis_url: expected redis://HOST[:PORT][/DB], rediss://... or unix://PATH")

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Environment first, then explicit overrides (CLI flags) that are not None."""
        env = os.environ if environ is None else environ
        fields = set(cls.__struct_fields__)
        values: dict[str, Any] = {
            name.removeprefix(PREFIX).lower(): value
            for name, value in env.items()
            if name.startswith(PREFIX) and name.removeprefix(PREFIX).lower() in fields
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(f"invalid setting: {exc}") from None


def parse_rate_limits(text: str) -> dict[str, tuple[int, int]]:
    """Each group's (requests, window in seconds): the defaults with ``text``'s entries on top."""
    limits = dict(RATE_LIMIT_GROUPS)
    named: set[str] = set()
    for entry in filter(None, (part.strip() for part in text.split(","))):
        match = _RATE.fullmatch(entry)
        if match is None or not (int(match["requests"]) > 0 and 0 < int(match["window"]) <= 86400):
            raise SettingsError(f"rate_limits: {entry!r} is not GROUP=REQUESTS/SECONDS (each > 0, at most a day)")
        group = match["group"]
        if group not in RATE_LIMIT_GROUPS:
            raise SettingsError(f"rate_limits: no group {group!r}; the groups are {', '.join(RATE_LIMIT_GROUPS)}")
        if group in named:
            raise SettingsError(f"rate_limits: {group!r} is given twice")
        named.add(group)
        limits[group] = (int(match["requests"]), int(match["window"]))
    return limits
