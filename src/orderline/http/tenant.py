"""The tenant a native API request names (``X-Tenant-ID``, ADR 0040), and the tenant its principal acts in."""

from __future__ import annotations

from uuid import UUID

from litestar.types import Scope as AsgiScope

from orderline.application.errors import InvalidTenant
from orderline.application.principal import PUBLIC, Principal

TENANT_HEADER = "X-Tenant-ID"
_HEADER_KEY = TENANT_HEADER.lower().encode("latin-1")
# The native API's paths: the dialects read no tenant header of their own yet; their credentials carry theirs.
_NATIVE_PREFIX = "/v1/"


def requested_tenant(scope: AsgiScope) -> UUID:
    """The tenant the request names: PUBLIC without the header (or outside the native API); InvalidTenant for a
    value that is not a UUID of version 4 or 7, and for the nil UUID, which is the public pool's own id."""
    if not scope["path"].startswith(_NATIVE_PREFIX):
        return PUBLIC
    raw = next((value for name, value in scope["headers"] if name == _HEADER_KEY), None)
    if raw is None:
        return PUBLIC
    text = raw.decode("latin-1").strip()
    try:
        tenant = UUID(text)
    except ValueError:
        raise InvalidTenant(
            f"{TENANT_HEADER} must be a UUID (version 4 or 7), not {text[:64]!r}", TENANT_HEADER
        ) from None
    if tenant == PUBLIC:
        raise InvalidTenant(
            f"{TENANT_HEADER} must not be the nil UUID: omit the header for the public pool", TENANT_HEADER
        )
    if tenant.version not in {4, 7}:
        raise InvalidTenant(f"{TENANT_HEADER} must be a UUID of version 4 or 7, not {tenant.version}", TENANT_HEADER)
    return tenant


def acting_tenant(outcome: object) -> UUID:
    """The tenant a resolved principal acts in; PUBLIC for anything else (a refused credential)."""
    return outcome.tenant if isinstance(outcome, Principal) else PUBLIC
