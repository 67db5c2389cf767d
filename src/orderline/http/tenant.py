"""The tenant a native API request names in ``X-Tenant-ID`` (ADR 0040); the principal's resolution asks here."""

from __future__ import annotations

from uuid import UUID

from litestar.types import Scope as AsgiScope

from orderline.application.principal import PUBLIC, Principal, parse_tenant

TENANT_HEADER = "X-Tenant-ID"
_HEADER_KEY = TENANT_HEADER.lower().encode("latin-1")
# The native API's paths: the dialects read no tenant header of their own yet; their credentials carry theirs.
_NATIVE_PREFIX = "/v1/"


def requested_tenant(scope: AsgiScope) -> UUID:
    """The tenant the request names: PUBLIC without the header (or outside the native API); InvalidTenant for a
    value that is not a UUID of version 4 or 7, and for the nil UUID."""
    if not scope["path"].startswith(_NATIVE_PREFIX):
        return PUBLIC
    raw = next((value for name, value in scope["headers"] if name == _HEADER_KEY), None)
    return PUBLIC if raw is None else parse_tenant(raw.decode("latin-1"), TENANT_HEADER)


def acting_tenant(outcome: object) -> UUID:
    """The tenant a resolved principal acts in; PUBLIC for anything else (a refused credential)."""
    return outcome.tenant if isinstance(outcome, Principal) else PUBLIC
