"""Shoplazza's credential: an orderline API key in the ``Access-Token`` header, and the scope each route needs."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import Headers
from litestar.openapi.spec import SecurityScheme

from orderline.application.credentials import API_KEY_PREFIX
from orderline.application.errors import Unauthenticated
from orderline.application.principal import Scope
from orderline.http.access import needs as native_needs

HEADER = "Access-Token"
SECURITY_SCHEME = "accessToken"
SCHEME = SecurityScheme(
    type="apiKey",
    name=HEADER,
    security_scheme_in="header",
    description="an orderline API key (olk_...) with the scopes read_order and/or write_order "
    "(`orderline keys create --scopes read_order,write_order`)",
)


def access_token(headers: Headers) -> str | None:
    """The API key of ``Access-Token``; None without the header, Unauthenticated for anything but an API key."""
    sent = headers.get(HEADER)
    if sent is None:
        return None
    token = sent.strip()
    if not token.startswith(API_KEY_PREFIX):
        raise Unauthenticated(f"send an orderline API key ({API_KEY_PREFIX}...) as the {HEADER} header")
    return token


def needs(scope: Scope) -> dict[str, Any]:
    """The native guard's decision for ``scope``, stated in the document under the Access-Token scheme."""
    return {**native_needs(scope), "security": [{SECURITY_SCHEME: [str(scope)]}]}
