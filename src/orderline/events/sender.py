"""Sending one delivery: resolve and check the receiver, POST the signed body to that address, read the answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import httpx

from orderline import __version__
from orderline.application.errors import UnsafeDestination
from orderline.application.ports import Destinations, DueDelivery
from orderline.application.principal import PUBLIC
from orderline.application.sandbox import Call, Fault, Faults
from orderline.events.signatures import signed_headers

# Of the receiver's answer we read this much, and keep it for the deliveries list: enough to see the error.
EXCERPT_BYTES = 500
USER_AGENT = f"orderline-webhooks/{__version__}"


@dataclass(frozen=True, slots=True)
class Answer:
    """The receiver's status code (None: there was no answer) and the first bytes of its body, or the error."""

    status_code: int | None
    excerpt: str


class Sender:
    """POSTs deliveries with one shared client; no attempt outlasts ``deadline`` seconds, however the
    receiver behaves (silent, trickling, or answering an endless body)."""

    def __init__(
        self, client: httpx.AsyncClient, destinations: Destinations, *, deadline: float, faults: Faults | None = None
    ) -> None:
        self._client = client
        self._destinations = destinations
        self._deadline = deadline
        self._faults = faults  # the sandbox's (ADR 0041); None outside it, where nothing is asked

    async def send(self, delivery: DueDelivery, secrets: list[str], at: datetime) -> Answer:
        """One attempt, signed at ``at`` with ``secrets``: never raises for anything the network or the
        receiver does."""
        if self._faults is not None and delivery.tenant != PUBLIC:
            fault = await self._faults.take_fault(delivery.tenant, Call.WEBHOOK)
            if fault is Fault.FAIL:
                return Answer(500, "not sent: a sandbox fault was injected (taken as an answer 500)")
            if fault is Fault.TIMEOUT:
                return Answer(None, "not sent: a sandbox fault was injected (taken as no answer in time)")
        headers = signed_headers(secrets, delivery.event_id, at, delivery.body)
        try:
            async with asyncio.timeout(self._deadline):
                return await self._post(delivery, headers)
        except UnsafeDestination as exc:
            return Answer(None, f"destination refused: {exc}")
        except TimeoutError:
            return Answer(None, f"no complete answer within {self._deadline:g} s")
        except httpx.TimeoutException as exc:
            return Answer(None, f"timed out: {type(exc).__name__}")
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            return Answer(None, f"could not deliver: {type(exc).__name__}: {exc}"[:EXCERPT_BYTES])

    async def _post(self, delivery: DueDelivery, headers: dict[str, str]) -> Answer:
        # The name is resolved and checked again at every attempt (it may point elsewhere since the URL was
        # registered: DNS rebinding), and the request goes to the address just checked, not to whatever the
        # name resolves to a moment later; the Host header and TLS (SNI, the certificate check) keep the name.
        address = (await self._destinations.safe_addresses(delivery.url))[0]
        url = httpx.URL(delivery.url)
        host = url.host
        pinned = url.copy_with(host=str(address))
        extensions = {"sni_hostname": host} if url.scheme == "https" else {}
        request = self._client.build_request(
            "POST",
            pinned,
            content=delivery.body,
            headers={
                **headers,
                "Host": url.netloc.decode("ascii"),
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
            extensions=extensions,
        )
        response = await self._client.send(request, stream=True)
        try:
            excerpt = b""
            async for chunk in response.aiter_raw():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
        finally:
            await response.aclose()
        return Answer(response.status_code, excerpt[:EXCERPT_BYTES].decode("utf-8", errors="replace"))
