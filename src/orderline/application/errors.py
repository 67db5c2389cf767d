"""Application errors: what a use case refuses that is not a business rule."""

from __future__ import annotations

import math
from typing import Any, ClassVar


class ApplicationError(Exception):
    code: ClassVar[str] = "application-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidTenant(ApplicationError):
    """An X-Tenant-ID that names no tenant: not a UUID, not of version 4 or 7, or the nil UUID (ADR 0040)."""

    code = "invalid-tenant"

    def __init__(self, message: str, header: str) -> None:
        super().__init__(message, header=header)


class NotFound(ApplicationError):
    code = "not-found"

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"{entity} {entity_id} was not found", entity=entity, id=str(entity_id))


class PetNotFound(NotFound):
    """A pet named in a command does not exist: a not-found of its own, so clients can tell."""

    code = "pet-not-found"

    def __init__(self, pet_id: object) -> None:
        super().__init__("pet", pet_id)


class Unauthenticated(ApplicationError):
    code = "unauthorized"


# Why a credential was refused, for the APIs whose bodies tell these apart (the DRF dialect's simplejwt
# texts, ADR 0026); each is still the one 401 `unauthorized` problem of the native API.
class CredentialsRequired(Unauthenticated):
    """The operation needs a principal and the request carried no credential."""


class WrongCredentials(Unauthenticated):
    """A sign-in with an unknown username, a wrong password, or an account that is not active."""


class WrongTokenType(Unauthenticated):
    """A refresh token where an access token belongs, or the reverse."""


class AccountInactive(Unauthenticated):
    """A sound token whose account is suspended, closed or gone."""


class Forbidden(ApplicationError):
    code = "forbidden"

    def __init__(self, scope: str) -> None:
        super().__init__(f"this operation needs the scope {scope!r}", required_scope=scope)


class StaleVersion(ApplicationError):
    """Someone else changed the record between our read and our write."""

    code = "concurrent-modification"


class PreconditionFailed(ApplicationError):
    """The caller expected a version of the record that it no longer has."""

    code = "precondition-failed"

    def __init__(self, entity: str, current_version: int) -> None:
        super().__init__(
            f"the {entity} has changed (it is at version {current_version}); read it again before changing it",
            current_version=current_version,
        )


class InvalidInput(ApplicationError):
    """Input that passed the wire schema but is still unusable (a bad cursor, an unknown scope)."""

    code = "validation-error"

    def __init__(self, field: str, message: str, kind: str = "invalid") -> None:
        super().__init__(message, field=field, kind=kind)
        self.field = field
        self.kind = kind


class DuplicateUser(ApplicationError):
    """The username or the email already belongs to an account."""

    code = "user-exists"

    def __init__(self, field: str) -> None:
        super().__init__(f"that {field} is already taken", field=field)


class DatabaseUnavailable(ApplicationError):
    """The database did not answer within the statement timeout, or could not be reached: try again later.

    The storage adapters raise it for every driver failure of that kind (a lock wait, a stalled server,
    no free connection), so every route answers 503 instead of waiting without end.
    """

    code = "service-unavailable"

    def __init__(self, message: str, retry_after: int = 1, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after  # whole seconds a client should wait before asking again

    @classmethod
    def timed_out(cls, seconds: float, cause: str | None = None) -> DatabaseUnavailable:
        """Waited ``seconds`` (the statement timeout) for the database; ``cause`` says for what, when known."""
        message = f"the database did not answer within {seconds:g} s" + (f" ({cause})" if cause else "")
        return cls(message, retry_after=max(1, math.ceil(seconds)))

    @classmethod
    def unreachable(cls) -> DatabaseUnavailable:
        # The driver's own words (addresses, file paths) stay in the chained exception, out of API answers.
        return cls("the database is not reachable")


class SchemaNotCurrent(DatabaseUnavailable):
    """The database is not at the schema this version of orderline was built for."""

    def __init__(self, current: str | None, newest: str) -> None:
        super().__init__(
            f"the database is at schema {current or 'none'}, but this orderline needs {newest}:"
            " migrate it (`orderline migrate`), or run the version that matches it",
            schema=current,
            needed_schema=newest,
        )


class DuplicateVoucher(ApplicationError):
    """A voucher with that code exists already (codes are unique whatever their case)."""

    code = "voucher-exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"a voucher with the code {code} exists already", field="code")


class InvalidWebhook(ApplicationError):
    """A webhook subscription the service will not keep: a URL that is not http(s) with a host, or an event
    pattern naming no event type or family."""

    code = "invalid-webhook"

    def __init__(self, field: str, message: str, **details: Any) -> None:
        super().__init__(message, field=field, **details)


class UnsafeDestination(InvalidWebhook):
    """A webhook URL whose host is, or resolves to, an address the service must not call (loopback, private,
    link-local...), or does not resolve at all: refused so that webhooks cannot reach inside the network."""

    def __init__(self, url: str, reason: str, address: str | None = None) -> None:
        why = {
            "unresolvable": "its host does not resolve",
            "not-http": "it is not an http or https URL with a host",
            "not-public": f"its host is or resolves to {address}, which is not a public address",
        }[reason]
        extra = {"address": address} if address is not None else {}
        super().__init__("url", f"webhooks cannot be sent to {url}: {why}", url=url, reason=reason, **extra)


class WebhookInactive(ApplicationError):
    """A replay or a test ping of a subscription that is not active: nothing would be sent to it."""

    code = "webhook-inactive"

    def __init__(self, subscription_id: object) -> None:
        super().__init__(
            f"webhook {subscription_id} is not active, so nothing is sent to it: set active to true first",
            id=str(subscription_id),
        )
