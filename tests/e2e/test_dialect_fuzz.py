"""No request to a dialect reaches a 5xx, each refusal is in the dialect's own error body, and a refusal changes
nothing: Hypothesis draws requests of every shape the three dialects' clients could send, on each engine.

Paths of every route (ids that are orders of each status, another customer's, UUIDs of nothing, non-UUIDs, huge
numbers, Unicode, percent-encodings; trailing slash or not; unknown routes and methods), query strings (each
route's parameters and others, repeated, with odd values), headers (each dialect's credential and the others,
Authorization in other forms, Idempotency-Key, If-Match, X-Tenant-ID, Host, Content-Type) and bodies (JSON of every
type with huge numbers, NUL characters, lone surrogates and deep nesting; not JSON, not UTF-8, empty). The app is
the real one, its fast routes included, on a real database, started once per engine; an example's orders are
placed for it.

The error bodies are those of docs/dialects.md: Shoplazza's ``{"errors": ["..."]}`` with ``Request-Id``, sFOX's
``{"error": "..."}``, DRF's ``{"detail": "..."}`` (simplejwt adds ``code`` and ``messages``) or its field errors
``{"field": ["..."]}``, nested for a nested serializer. ``ORDERLINE_DIALECT_FUZZ_EXAMPLES`` sets how many requests
each engine is sent: a few dozen by default, thousands for a campaign (``--hypothesis-show-statistics`` shows how
far they got, by dialect and status).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from orderline.application.principal import Scope
from orderline.application.queries import AuditQuery, OrderSearch
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.domain.order import NUMBER_OFFSET
from orderline.http.app import create_app
from tests.e2e.http import bearer
from tests.e2e.lifespan import lifespan_of
from tests.support import ADMIN, FAST_HASHER, SteppingClock

T = TypeVar("T")
EXAMPLES = int(os.environ.get("ORDERLINE_DIALECT_FUZZ_EXAMPLES", "40"))
UNLIMITED = "default=100000000/60,write=100000000/60,auth=100000000/60"
# A server's address with a port, as uvicorn gives it: Litestar reads a request's URL from it without a Host.
BASE_URL = "http://orderline.test:8000"
PASSWORD = "correct horse battery"
CARD = {"object": "card", "name": "Ada Lovelace", "cvc": "7319", "expMonth": 12, "expYear": 2099,
        "number": "4242424242424242"}  # fmt: skip


# A drawn request: its parts, each order id left as the kind of order it names, placed when the example runs.


@dataclass(frozen=True)
class Order:
    kind: str  # one of ORDER_KINDS


ORDER_KINDS = ("placed", "paid", "shipped", "cancelled", "someone else's")
ANY = "{any}"  # a path part of any value
Segment = Order | str


@dataclass(frozen=True)
class Drawn:
    dialect: str
    method: str
    segments: tuple[Segment, ...]
    trailing_slash: bool
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, bytes], ...]
    body: bytes | None
    credential: str  # a key of Shop.credentials


# Each dialect's routes (the methods they answer, their path with an order where ``Order`` stands), and paths of none.

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "BREW"]
ROUTES: dict[str, list[tuple[tuple[str, ...], tuple[Segment, ...]]]] = {
    "shoplazza": [
        (("GET",), ("orders",)),
        (("GET",), ("orders", "count")),
        (("GET", "DELETE"), ("orders", Order("placed"))),
        (("POST",), ("orders", Order("placed"), "cancel")),
        (tuple(METHODS), (ANY,)),
        (tuple(METHODS), ("orders", Order("placed"), ANY)),
    ],
    "sfox": [
        (("GET", "DELETE"), ("orders",)),
        (("GET", "DELETE"), ("orders", Order("placed"))),
        (tuple(METHODS), (ANY,)),
        (tuple(METHODS), (ANY, ANY)),
    ],
    "drf": [
        (("POST",), ("auth", "token")),
        (("POST",), ("auth", "token", "refresh")),
        (("GET",), ("i", "orders")),
        (("GET", "PUT", "DELETE"), ("i", "orders", Order("placed"))),
        (("DELETE",), ("i", "orders", Order("placed"), "items", "1")),
        (tuple(METHODS), (ANY,)),
        (tuple(METHODS), ("i", ANY, ANY)),
        (tuple(METHODS), ("auth", ANY)),
    ],
}
PREFIXES = {"shoplazza": "/openapi/2022-01", "sfox": "/sfox/v1", "drf": "/api/v1"}
PARAMETERS = {
    "shoplazza": ["limit", "page", "status", "financial_status", "fulfillment_status", "created_at_min",
                  "created_at_max", "updated_at_min", "updated_at_max"],
    "sfox": ["limit", "offset", "ids"],
    "drf": ["limit", "offset", "status"],
}  # fmt: skip
# The credential of each dialect's clients that sees the orders (alice's, but for someone else's).
OWN_CREDENTIAL = {"shoplazza": "merchant", "sfox": "admin", "drf": "alice"}
CREDENTIALS = ["admin", "trader", "alice", "bob", "merchant", "admin's access token", "alice's refresh token", "nobody"]


# The odd values each part can take.

_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_NUMBERS = st.integers(-(2**70), 2**70).map(str) | st.sampled_from(
    ["0", "-1", "00001", "1e3", "1.0", "1.5", " 1", "+1", "0x10", "9" * 400, "NaN", "Infinity", "٣", "¹"]
)
_ENCODED = st.sampled_from(["%00", "%2F", "%ff", "%25", "%C3%A9", "%u0041", "%", "%zz", "%2e%2e", "%0A", "%20"])
_UUIDS = st.uuids().flatmap(
    lambda u: st.sampled_from([str(u), u.hex, str(u).upper(), f"{{{u}}}", f"urn:uuid:{u}", str(u)[:-1]])
)
ODD = _TEXT | _NUMBERS | _ENCODED | _UUIDS | st.just("")
_TIMES = st.sampled_from(
    ["2026-01-01T12:00:00Z", "2026-01-01T12:00:00+14:00", "2026-01-01", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
     "2026-13-45T25:61:61Z", "1767268800", "2026-01-01T12:00:00.123456789Z", "2026-01-01T12:00:00-23:59"]
)  # fmt: skip
_VALUES = ODD | _TIMES | st.sampled_from(["opened", "placed", "paid", "cancelled", "finished", "waiting", "1,2,3"])

FIELDS = [
    "reason", "billing_address", "address", "street_address", "postal_code", "city", "state", "country",
    "username", "password", "refresh", "access", "ids", "status", "", "\x00", "\ud800",
]  # fmt: skip
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS) | _TEXT, inner, max_size=4),
    max_leaves=8,
)
_LONG = st.text(st.characters(codec="utf-8", exclude_characters="\x00") | st.sampled_from("İß\U0001f600"), max_size=210)
_ADDRESS = st.fixed_dictionaries(
    {"street_address": _LONG | _JSON, "postal_code": st.integers(-(2**40), 2**40) | _LONG | _JSON,
     "city": _LONG | _JSON, "state": _LONG | _JSON,
     "country": st.sampled_from(["GB", "US", "gb", "ZZ", "GBR", "", "\x00"]) | _JSON}
)  # fmt: skip
_SHAPED = st.fixed_dictionaries(
    {},
    optional={"reason": _JSON | _TEXT, "billing_address": _ADDRESS | _JSON, "address": _ADDRESS | _JSON,
              "username": _TEXT | _JSON, "password": _TEXT | _JSON, "refresh": _TEXT | _JSON},
)  # fmt: skip


def _encoded(value: Any) -> st.SearchStrategy[bytes]:
    """``value`` as JSON: escaped (lone surrogates as ``\\ud800``), or raw UTF-8 (lone surrogates not UTF-8)."""
    return st.sampled_from(
        [json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")]
    )


BODIES = st.one_of(
    (_SHAPED | _JSON).flatmap(_encoded),
    st.sampled_from(
        [b"", b"{", b"null", b"[]", b"{}", b'{"reason": "\\u0000"}', b'{"reason": "\\ud800"}', b"\xff\xfe",
         b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000, b'{"reason": 1e999}',
         b'{"reason": "a", "reason": "b"}', b"not json", b"\x00"]
    ),
    st.binary(max_size=16),
)  # fmt: skip
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/json; charset=latin-1", "text/plain", "application/merge-patch+json",
     "multipart/form-data", "application/x-www-form-urlencoded", "", "application/json, text/plain", "*/*"]
)  # fmt: skip
HEADERS = ["idempotency-key", "if-match", "x-tenant-id", "authorization", "access-token", "x-request-id"]
_HEADER_VALUES = st.sampled_from(
    [b"", b" ", b"*", b'W/"1"', b'"1"', b"Bearer", b"Bearer ", b"Bearer a b", b"bearer olk_x", b"Basic YTpi",
     b"olk_", b"olk_" + b"x" * 300, b"eyJ.eyJ.x", b"00000000-0000-0000-0000-000000000000",
     b"00000000-0000-4000-8000-000000000000", b"\xff\xfe", b"\xc3\xa9", b"a" * 5000, b"a:b", b"localhost:99999",
     b"[::1"]
)  # fmt: skip


def _mostly(usual: st.SearchStrategy[T], odd: st.SearchStrategy[T], one_in: int = 8) -> st.SearchStrategy[T]:
    """``usual``, but ``odd`` about once in ``one_in`` draws: most requests get as far as their route's work."""
    return st.integers(1, one_in).flatmap(lambda n: odd if n == 1 else usual)


@st.composite
def _segments(draw: st.DrawFn, template: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """The route's path, each order an order of some kind or an odd value, and now and then one more part."""
    orders: st.SearchStrategy[Segment] = st.sampled_from(ORDER_KINDS).map(Order)
    segments: list[Segment] = []
    for part in template:
        if isinstance(part, Order):
            segments.append(draw(_mostly(orders, ODD, one_in=4)))
        elif part == ANY:
            segments.append(draw(ODD))
        else:
            segments.append(draw(_mostly(st.just(part), _NUMBERS)) if part.isdigit() else part)
    return (*segments, *draw(_mostly(st.just(()), st.tuples(ODD), one_in=12)))


@st.composite
def requests(draw: st.DrawFn) -> Drawn:
    dialect = draw(st.sampled_from(sorted(ROUTES)))
    methods, template = draw(st.sampled_from(ROUTES[dialect]))
    method = draw(_mostly(st.sampled_from(methods), st.sampled_from(METHODS)))
    names = _mostly(st.sampled_from(PARAMETERS[dialect]), _TEXT, one_in=4)
    query = draw(st.lists(st.tuples(names, _VALUES), max_size=4))
    headers = draw(st.lists(st.tuples(st.sampled_from(HEADERS), st.binary(max_size=8) | _HEADER_VALUES), max_size=3))
    headers += draw(_mostly(st.just([]), st.lists(st.tuples(st.just("host"), _HEADER_VALUES), max_size=1), one_in=12))
    body = draw(st.none() | BODIES) if method in ("POST", "PUT", "PATCH") else draw(_mostly(st.none(), BODIES))
    if body is not None and draw(st.booleans()):
        headers.append(("content-type", draw(CONTENT_TYPES).encode()))
    credential = draw(_mostly(st.just(OWN_CREDENTIAL[dialect]), st.sampled_from(CREDENTIALS), one_in=4))
    segments = draw(_segments(template))
    return Drawn(dialect, method, segments, draw(st.booleans()), tuple(query), tuple(headers), body, credential)


# The error bodies of docs/dialects.md.


def _shoplazza_error(body: Any) -> bool:
    messages = body.get("errors") if isinstance(body, dict) else None
    return list(body) == ["errors"] and isinstance(messages, list) and _texts(messages)


def _sfox_error(body: Any) -> bool:
    return isinstance(body, dict) and list(body) == ["error"] and _texts([body["error"]])


def _drf_error(body: Any) -> bool:
    if isinstance(body, dict) and "detail" in body:
        return _texts([body["detail"]]) and set(body) <= {"detail", "code", "messages"}
    return _drf_field_errors(body)


def _drf_field_errors(body: Any) -> bool:
    """``{"field": ["..."]}``, nested under a nested serializer's field."""
    return (
        isinstance(body, dict)
        and bool(body)
        and all(
            _drf_field_errors(value) if isinstance(value, dict) else isinstance(value, list) and _texts(value)
            for value in body.values()
        )
    )


def _texts(values: list[Any]) -> bool:
    return bool(values) and all(isinstance(value, str) and value for value in values)


ERROR_SHAPES: dict[str, Callable[[Any], bool]] = {"shoplazza": _shoplazza_error, "sfox": _sfox_error, "drf": _drf_error}


class Shop:
    """The app on the test's database, started in an event loop of its own and driven from Hypothesis's examples;
    orders of each kind placed through the native API by a customer, and the credentials each dialect reads."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        clock = SteppingClock()
        self.app = create_app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))
        self._lifespan = lifespan_of(self.app)
        self.run(self._lifespan.__aenter__())
        asgi: Any = self.app
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
        self.http = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        self.credentials: dict[str, dict[str, str]] = {}
        self.pet = ""
        self.run(self._open())

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    @property
    def use_cases(self) -> UseCases:
        use_cases: UseCases = self.app.state.use_cases
        return use_cases

    async def _open(self) -> None:
        admin = await self._key(Scope.ADMIN)
        merchant = await self._key(Scope.READ_ORDER, Scope.WRITE_ORDER)
        alice = await self._customer("alice")
        self.credentials = {
            "admin": admin,
            "trader": await self._key(Scope.READ_ORDERS, Scope.WRITE_ORDERS),
            "alice": bearer(alice["access"]),
            "bob": bearer((await self._customer("bob"))["access"]),
            "merchant": {"Access-Token": merchant["Authorization"].removeprefix("Bearer ")},
            "admin's access token": {"Access-Token": admin["Authorization"].removeprefix("Bearer ")},
            "alice's refresh token": bearer(alice["refresh"]),
            "nobody": {},
        }
        pet = {"name": "Whiskers", "species": "CAT", "adoptionFee": "150.00", "stock": 100000}
        response = await self.http.post("/v1/pets", json=pet, headers=admin)
        assert response.status_code == 201, response.text
        self.pet = response.json()["id"]

    async def _key(self, *scopes: Scope) -> dict[str, str]:
        _row, secret = await self.use_cases.api_keys.create("fuzz", frozenset(scopes))
        return bearer(secret)

    async def _customer(self, username: str) -> dict[str, str]:
        """A registered customer's simplejwt pair."""
        body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        assert (await self.http.post("/v1/users", json=body)).status_code == 201
        pair = await self.http.post("/api/v1/auth/token/", json={"username": username, "password": PASSWORD})
        assert pair.status_code == 200, pair.text
        tokens: dict[str, str] = pair.json()
        return tokens

    async def order(self, kind: str, dialect: str) -> str:
        """An order of ``kind`` (alice's, but for someone else's: bob's), by the id ``dialect`` names it with."""
        owner = self.credentials["bob" if kind == "someone else's" else "alice"]
        response = await self.http.post("/v1/orders", json={"petId": self.pet, "quantity": 1}, headers=owner)
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        path = f"/v1/orders/{order['id']}"
        if kind in ("paid", "shipped"):
            payment = {"amount": order["totalAmount"], "currency": order["currency"], "source": CARD}
            assert (await self.http.post(f"{path}/payment", json=payment, headers=owner)).status_code == 200
        if kind == "shipped":
            ship = await self.http.post(f"/v1/admin/orders/{order['id']}/ship", headers=self.credentials["admin"])
            assert ship.status_code == 200, ship.text
        if kind == "cancelled":
            assert (await self.http.delete(path, headers=owner)).status_code == 204
        return str(int(order["number"]) - NUMBER_OFFSET) if dialect == "sfox" else str(order["id"])

    async def fingerprint(self) -> tuple[Any, ...]:
        """What a refusal must leave as it was: the newest orders' versions and statuses, and the newest audit entry."""
        orders = await self.use_cases.orders.search(ADMIN, OrderSearch(), offset=0, limit=250)
        newest = await self.use_cases.audit_log.list(ADMIN, AuditQuery(limit=1))
        return tuple((order.id, order.version, order.status) for order in orders), [e.id for e in newest.items]

    async def path_of(self, drawn: Drawn) -> list[str]:
        """The drawn path's parts, each order placed now and named by its id in the dialect."""
        return [await self.order(s.kind, drawn.dialect) if isinstance(s, Order) else s for s in drawn.segments]

    async def send(self, drawn: Drawn, segments: list[str]) -> httpx.Response:
        path = "/".join([PREFIXES[drawn.dialect], *(quote(segment, safe="%") for segment in segments)])
        query = "&".join(f"{quote(name, safe='%')}={quote(value, safe='%,')}" for name, value in drawn.query)
        raw_path = path + ("/" if drawn.trailing_slash else "") + (f"?{query}" if query else "")
        url = httpx.URL(BASE_URL).copy_with(raw_path=raw_path.encode())
        headers = [(name.encode(), value.encode()) for name, value in self.credentials[drawn.credential].items()]
        headers += [(name.encode(), value) for name, value in drawn.headers]
        note(f"{drawn.method} {url.raw_path!r} headers={headers!r} body={(drawn.body or b'')[:200]!r}")
        return await self.http.request(drawn.method, url, headers=headers, content=drawn.body)

    def close(self) -> None:
        self.run(self.http.aclose())
        self.run(self._lifespan.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture
def shop(settings: Settings) -> Iterator[Shop]:
    running = Shop(msgspec.structs.replace(settings, rate_limits=UNLIMITED))
    try:
        yield running
    finally:
        running.close()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(drawn=requests())
def test_no_request_to_a_dialect_is_a_5xx_and_each_refusal_is_in_its_own_body_and_changes_nothing(
    shop: Shop, drawn: Drawn
) -> None:
    async def example() -> tuple[httpx.Response, bool]:
        path = await shop.path_of(drawn)
        before = await shop.fingerprint()
        response = await shop.send(drawn, path)
        return response, before == await shop.fingerprint()

    response, unchanged = shop.run(example())

    note(f"-> {response.status_code} {response.headers.get('content-type')} {response.content[:600]!r}")
    event(f"{drawn.dialect} {response.status_code}")
    assert response.status_code < 500
    if response.status_code >= 400 and drawn.method != "HEAD":
        assert response.headers["content-type"] == "application/json"
        assert ERROR_SHAPES[drawn.dialect](response.json())
        assert unchanged
    if drawn.dialect == "shoplazza" and response.status_code >= 400:
        assert response.headers.get("request-id") == response.headers["x-request-id"]
