"""Who is asking: a principal with scopes, and the one check every use case makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from orderline.application.errors import CredentialsRequired, Forbidden, InvalidTenant

# The shared public pool (ADR 0040): requests without X-Tenant-ID, and every row from before tenants. Stored as
# the nil UUID so every equality and every index treats it like any other tenant; the API shows it as null.
PUBLIC = UUID(int=0)
TENANT_VERSIONS = frozenset({4, 7})  # the Pet Store contract's X-Tenant-ID: "a uuid, v4 or v7"


def parse_tenant(text: str, source: str) -> UUID:
    """The tenant ``text`` names; InvalidTenant (naming ``source``) unless it is a UUID of version 4 or 7. The
    nil UUID is refused too: it is the public pool's own id, which is asked for by naming no tenant."""
    try:
        tenant = UUID(text.strip())
    except ValueError:
        raise InvalidTenant(f"{source} must be a UUID (version 4 or 7), not {text[:64]!r}", source) from None
    if tenant == PUBLIC:
        raise InvalidTenant(f"{source} must not be the nil UUID: name no tenant for the public pool", source)
    if tenant.version not in TENANT_VERSIONS:
        raise InvalidTenant(f"{source} must be a UUID of version 4 or 7, not {tenant.version}", source)
    return tenant


class Scope(StrEnum):
    """A permission a principal holds: an OAuth scope of its token or key. (ASGI's connection scope is
    ``AsgiScope`` wherever this package names it, so ``Scope`` means this one thing.)"""

    READ_ORDERS = "read:orders"
    WRITE_ORDERS = "write:orders"
    READ_PETS = "read:pets"
    WRITE_PETS = "write:pets"
    READ_USER = "read:user"
    WRITE_USER = "write:user"
    ADMIN = "admin"
    WRITE_WEBHOOKS = "write:webhooks"  # manage webhook subscriptions (/v1/webhooks); admin implies it
    # The shop's support staff (issue 12): every order to read, cancel or force-cancel, ship and deliver, and the
    # audit log and figures around them; admin implies it. Never erasure, users, keys, stock or webhooks.
    SUPPORT = "support"
    # Shoplazza's access scopes, held by a merchant's key: the shop's orders, every one of them (ADR 0024).
    READ_ORDER = "read_order"
    WRITE_ORDER = "write_order"


# A shop scope carries the native order scope it stands for, so every use case that needs read:orders or
# write:orders accepts a merchant's key without knowing of it.
IMPLIED: Mapping[Scope, Scope] = {Scope.READ_ORDER: Scope.READ_ORDERS, Scope.WRITE_ORDER: Scope.WRITE_ORDERS}
MERCHANT_SCOPES = frozenset(IMPLIED)


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"  # a customer or administrator, by a token we issued or a trusted issuer's
    API_KEY = "api_key"  # a machine client
    ORDER_TOKEN = "order_token"  # noqa: S105 - the bearer of one anonymous order's token
    SYSTEM = "system"  # the service itself: the CLI, the demo catalogue


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    id: UUID | None = None
    scopes: frozenset[Scope] = frozenset()
    tenant: UUID = PUBLIC  # the tenant every unit of work of this principal is opened for (ADR 0040)

    @property
    def is_anonymous(self) -> bool:
        return self.kind is PrincipalKind.ANONYMOUS

    @property
    def is_admin(self) -> bool:
        return Scope.ADMIN in self.scopes

    @property
    def is_support(self) -> bool:
        """Support staff and no more: they act on every order, but erase none (only an admin, or the order's
        owner where the shop allows it, may)."""
        return Scope.SUPPORT in self.scopes and not self.is_admin

    @property
    def acts_for_shop(self) -> bool:
        """An admin, support staff, or a merchant (a shop scope): staff of the shop, who see every order of it."""
        return self.is_admin or Scope.SUPPORT in self.scopes or not self.scopes.isdisjoint(MERCHANT_SCOPES)

    def has(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes or any(IMPLIED.get(s) is scope for s in self.scopes)

    def require(self, scope: Scope) -> None:
        """401 for nobody, 403 for somebody without the scope."""
        if self.has(scope):
            return
        if self.is_anonymous:
            raise CredentialsRequired("this operation needs credentials", required_scope=str(scope))
        raise Forbidden(str(scope))


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)
SYSTEM = Principal(PrincipalKind.SYSTEM, scopes=frozenset({Scope.ADMIN}))

CUSTOMER_SCOPES = frozenset({Scope.READ_ORDERS, Scope.WRITE_ORDERS, Scope.READ_PETS, Scope.READ_USER, Scope.WRITE_USER})
ADMIN_SCOPES = frozenset({Scope.ADMIN})
SUPPORT_SCOPES = frozenset({Scope.SUPPORT, Scope.READ_ORDERS, Scope.WRITE_ORDERS, Scope.READ_PETS, Scope.READ_USER})
ORDER_TOKEN_SCOPES = frozenset({Scope.READ_ORDERS, Scope.WRITE_ORDERS})
