"""How the DRF shop's clients send their token: simplejwt's ``Authorization: Bearer <token>``."""

from __future__ import annotations

from litestar.datastructures import Headers

from orderline.http.dialects.drf.errors import BadAuthorizationHeader


def jwt_credential(headers: Headers) -> str | None:
    """The token, as simplejwt's JWTAuthentication finds it: another scheme is no credential at all (the
    request is anonymous), and ``Bearer`` with other than one value is refused."""
    header = headers.get("authorization")
    parts = (header or "").split()
    if not parts or parts[0].lower() != "bearer":
        return None
    if len(parts) != 2:  # the scheme and the token
        raise BadAuthorizationHeader("Authorization header must contain two space-delimited values")
    return parts[1]
