"""The front (http/front.py), the request's header facts (http/facts.py) and the hot routes' JSON answer
(http/answer.py): read once, written once, and the same bytes as Litestar's way."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from litestar.datastructures import Cookie
from litestar.response import Response
from litestar.response.base import ASGIResponse

from orderline import logs
from orderline.http.access_log import observe
from orderline.http.answer import JsonAnswer
from orderline.http.api.examples import ORDER_EXAMPLE
from orderline.http.api.order_wire import OrderOut
from orderline.http.facts import facts_of
from orderline.http.front import _with_headers
from orderline.http.metrics import Metrics


def a_scope(*headers: tuple[bytes, bytes]) -> Any:
    return {"type": "http", "method": "GET", "path": "/v1/livez", "headers": list(headers), "state": {}}


def test_the_last_request_id_sent_is_the_one_kept() -> None:
    scope = a_scope((b"x-request-id", b"first"), (b"x-request-id", b"second"))

    assert facts_of(scope).request_id == "second"


def test_an_insane_request_id_is_replaced_by_a_new_one() -> None:
    scope = a_scope((b"x-request-id", b"has spaces"))

    assert facts_of(scope).request_id not in {"", "has spaces"}


def test_the_first_authorization_header_is_the_credential_as_litestar_reads_it() -> None:
    scope = a_scope((b"authorization", b"Bearer first"), (b"authorization", b"Bearer second"))

    assert facts_of(scope).authorization == "Bearer first"


def test_the_facts_are_read_once_and_keep_the_id_already_chosen() -> None:
    scope = a_scope((b"x-request-id", b"sent"))
    scope["state"]["request_id"] = "chosen-before"

    assert facts_of(scope) is facts_of(scope)
    assert facts_of(scope).request_id == "chosen-before"


@pytest.mark.parametrize(
    "host", [None, b"", b"orderline.test", b"orderline.test:8000", b"127.0.0.1:65535", b"[::1]:80", b"xn--bcher-kva.ch"]
)
def test_a_host_with_a_port_from_0_to_65535_or_none_is_readable(host: bytes | None) -> None:
    scope = a_scope() if host is None else a_scope((b"host", host))

    assert facts_of(scope).host_readable


@pytest.mark.parametrize(
    "host", [b"a:b", b"localhost:99999", b"a@b:c", b"orderline.test:-1", b"[::1", b"\x00", b"bad host", b"a/b"]
)
def test_a_host_no_url_can_be_made_of_is_not_readable(host: bytes) -> None:
    assert not facts_of(a_scope((b"host", host))).host_readable


def test_the_first_host_header_is_the_one_read_as_litestar_reads_it() -> None:
    scope = a_scope((b"host", b"a:b"), (b"host", b"orderline.test"))

    assert not facts_of(scope).host_readable


def test_a_header_the_front_sets_replaces_one_of_the_same_name() -> None:
    headers = [(b"content-type", b"application/json"), (b"X-Request-Id", b"old")]

    written = _with_headers(headers, [(b"x-request-id", b"new")])

    assert written == [(b"content-type", b"application/json"), (b"x-request-id", b"new")]


@pytest.mark.parametrize(("level", "lines"), [("info", 1), ("warning", 0)])
def test_the_access_line_is_written_only_at_info_but_every_request_is_counted(
    capsys: pytest.CaptureFixture[str], level: str, lines: int
) -> None:
    metrics = Metrics()
    logs.configure(level, "json")
    try:
        observe(metrics, a_scope(), "/v1/livez", 200, 0.001)
    finally:
        logs.configure("info", "console")

    written = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in written] == ["request"] * lines
    counted = metrics.registry.get_sample_value(
        "orderline_http_requests_total", {"method": "GET", "route": "unmatched", "status": "200"}
    )
    assert counted == 1


async def _messages(response: Any, **handler_arguments: Any) -> list[dict[str, Any]]:
    """What a response sends, turned into an ASGI app as Litestar's response handler does it."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asgi = response.to_asgi_response(None, None, **handler_arguments)
    await asgi({"type": "http"}, None, send)
    return sent


# Arguments Litestar's response handler passes for a route with no headers, cookies or encoders of its own.
ROUTE = {"headers": {}, "cookies": [], "media_type": "application/json", "status_code": 200, "type_encoders": None}


@pytest.mark.parametrize("status", [200, 201, 202])
async def test_a_json_answer_sends_what_litestar_would_send(status: int) -> None:
    content = msgspec.convert(ORDER_EXAMPLE, OrderOut)

    fast = await _messages(
        JsonAnswer(content, status_code=status, headers={"ETag": '"x.1"', "Location": "/v1/o"}), **ROUTE
    )
    usual = await _messages(
        Response(content, status_code=status, headers={"ETag": '"x.1"', "Location": "/v1/o"}), **ROUTE
    )

    assert fast == usual


@pytest.mark.parametrize(
    "answer",
    [
        JsonAnswer(None, status_code=204),
        JsonAnswer("text", media_type="text/plain"),
        JsonAnswer({"a": 1}, cookies=[Cookie("k", "v")]),
    ],
)
async def test_anything_but_plain_json_goes_litestars_way(answer: JsonAnswer[Any]) -> None:
    usual = Response(
        answer.content, status_code=answer.status_code, media_type=answer.media_type, cookies=answer.cookies
    )

    assert await _messages(answer, **ROUTE) == await _messages(usual, **ROUTE)


class _Tag:
    """A type only a type encoder can write, as pydantic's are to Litestar's pydantic plugin."""

    def __init__(self, name: str) -> None:
        self.name = name


# What every route of the app is given: Litestar's pydantic plugin registers type encoders for all of them.
WITH_ENCODERS = {**ROUTE, "type_encoders": {_Tag: lambda tag: f"tag:{tag.name}"}}


async def test_a_json_answer_of_a_route_with_type_encoders_is_still_sent_as_it_is() -> None:
    answer = JsonAnswer(msgspec.convert(ORDER_EXAMPLE, OrderOut), headers={"ETag": '"x.1"'})

    asgi = answer.to_asgi_response(None, None, **WITH_ENCODERS)  # type: ignore[arg-type]

    assert not isinstance(asgi, ASGIResponse)


@pytest.mark.parametrize("own", [None, {_Tag: lambda tag: f"own:{tag.name}"}])
async def test_a_json_answer_writes_with_the_routes_and_its_own_type_encoders_as_litestar_does(own: Any) -> None:
    content = {"tag": _Tag("a"), "order": msgspec.convert(ORDER_EXAMPLE, OrderOut)}

    fast = await _messages(JsonAnswer(content, type_encoders=own), **WITH_ENCODERS)
    usual = await _messages(Response(content, type_encoders=own), **WITH_ENCODERS)

    assert fast == usual
