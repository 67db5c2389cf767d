"""Who is asking: a principal with scopes, and the one check every use case makes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from orderline.application.errors import Forbidden, Unauthenticated


class Scope(StrEnum):
    READ_ORDERS = "read:orders"
    WRITE_ORDERS = "write:orders"
    READ_PETS = "read:pets"
    WRITE_PETS = "write:pets"
    READ_USER = "read:user"
    WRITE_USER = "write:user"
    ADMIN = "admin"


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    API_KEY = "api_key"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    id: UUID | None = None
    scopes: frozenset[Scope] = frozenset()

    @property
    def is_anonymous(self) -> bool:
        return self.kind is PrincipalKind.ANONYMOUS

    def has(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes

    def require(self, scope: Scope) -> None:
        """401 for nobody, 403 for somebody without the scope."""
        if self.has(scope):
            return
        if self.is_anonymous:
            raise Unauthenticated("this operation needs credentials", required_scope=str(scope))
        raise Forbidden(str(scope))


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)
SYSTEM = Principal(PrincipalKind.SYSTEM, scopes=frozenset({Scope.ADMIN}))
