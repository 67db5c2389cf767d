"""Idempotency-Key on the routes that must not act twice: claim the key, act, keep the answer, replay it."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter

from orderline.application.idempotency import MAX_KEY_LENGTH, KeyClaim
from orderline.application.ports import StoredResponse
from orderline.application.use_cases import UseCases
from orderline.http.auth import identity_of, outcome_of
from orderline.http.tenant import acting_tenant

T = TypeVar("T")

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description="any unique string (a UUID is good); a retry with the same key and request replays the answer",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        # What application.idempotency.check_key takes: printable characters (str.isprintable) of Latin-1,
        # the charset a header value is read in.
        pattern="^[\\x20-\\x7e\\xa1-\\xac\\xae-\\xff]+$",
    ),
]
REPLAYED = "Idempotent-Replayed"
_KEPT_HEADERS = ("location", "etag")


async def idempotent(
    request: Request[Any, Any, Any],
    use_cases: UseCases,
    key: str | None,
    act: Callable[[KeyClaim[T] | None], Awaitable[T]],
    answer: Callable[[T], Response[Any]],
    *,
    fingerprint: bytes | None = None,
) -> Response[Any]:
    """Run ``act`` once per key and answer its outcome; a repeat of the same request gets the first answer.

    ``act`` hands the claim to its use case, which keeps ``answer(outcome)`` in the transaction of its
    work. Two requests are the same when method, path and ``fingerprint`` (default: the body) agree.
    Only answers are kept: a refusal raised by ``act`` frees the key, so a retry is judged afresh (and,
    nothing having changed, refused the same way).
    """
    if key is None:
        return answer(await act(None))
    owner = identity_of(request.scope)
    # The key is the tenant's (ADR 0040): the caller's, in whose unit of work the use case completes the claim.
    tenant = acting_tenant(outcome_of(request.scope))
    same = await request.body() if fingerprint is None else fingerprint
    digest = hashlib.sha256(b"\n".join([request.method.encode(), request.url.path.encode(), same])).hexdigest()
    stored = await use_cases.idempotency.claim(tenant, owner, key, digest)
    if stored is not None:
        body = stored.body.encode() if stored.body else None
        return Response(body, status_code=stored.status, headers={**stored.headers, REPLAYED: "true"},
                        media_type="application/json")  # fmt: skip
    claim: KeyClaim[T] = KeyClaim(owner, key, lambda outcome: _kept(answer(outcome)))
    try:
        outcome = await act(claim)
    except BaseException:
        await use_cases.idempotency.release(tenant, owner, key)
        raise
    response = answer(outcome)
    if not claim.completed:  # the work committed nothing (e.g. a cancel that was already pending)
        await use_cases.idempotency.complete(tenant, owner, key, _kept(response))
    return response


def _kept(response: Response[Any]) -> StoredResponse:
    content = "" if response.content is None else msgspec.json.encode(response.content).decode()
    headers = {name: value for name, value in response.headers.items() if name.lower() in _KEPT_HEADERS}
    return StoredResponse(response.status_code or 200, headers, content)
