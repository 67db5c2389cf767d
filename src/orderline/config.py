"""Settings: one class, read from ORDERLINE_* environment variables, with CLI flags on top."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

PREFIX = "ORDERLINE_"


class SettingsError(ValueError):
    """An ORDERLINE_* variable holds something unusable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    database_url: str = "sqlite:///./orderline.db"
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"
    db_pool_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
    # RFC 9457 "type" URIs are this base + the problem's slug; the default follows the Pet Store's.
    problem_base_uri: str = "https://petstoreapi.com/errors/"
    # Our tokens: signed with this secret, or (unset) with one generated once and kept in the database.
    jwt_secret: str | None = None
    token_lifetime_seconds: Annotated[int, msgspec.Meta(ge=60, le=30 * 86400)] = 86400
    # Optionally also accept RS256/ES256 tokens of one external issuer, checked against its JWKS.
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None

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
