"""A shop to look at: a running `orderline serve` with staff and customers, and orders made through its API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.process import Server

PASSWORD = "keep the shop running"
PAID_AT_ONCE = {"object": "card", "name": "Alice Liddell", "number": "4242424242424242", "cvc": "123",
                "expMonth": 12, "expYear": 2030}  # fmt: skip


@dataclass(frozen=True)
class Shop:
    """The server, where its command line runs, and what every command needs to reach its database."""

    server: Server
    cwd: Path
    env: dict[str, str]

    @property
    def base(self) -> str:
        return self.server.base

    def register(self, username: str) -> None:
        """A customer, registered through the API."""
        answer = httpx.post(f"{self.base}/v1/users", json={"username": username, "email": f"{username}@example.com",
                                                           "password": PASSWORD})  # fmt: skip
        assert answer.status_code == 201, answer.text

    def token(self, username: str) -> dict[str, str]:
        answer = httpx.post(f"{self.base}/v1/auth/tokens", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def api(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        answer = httpx.request(method, f"{self.base}{path}", headers=headers, json=body, timeout=10)
        assert answer.is_success, answer.text
        return answer.json() if answer.content else None

    def shipped_paid_order(self, customer: dict[str, str], staff: dict[str, str]) -> dict[str, Any]:
        """A customer's order for one fish, paid at once and shipped: only a force-cancel takes it back."""
        fish = self.api("GET", "/v1/pets?species=FISH&limit=1", customer)["data"][0]  # the demo has 20
        order = self.api("POST", "/v1/orders", customer, {"petId": fish["id"]})
        payment = {"amount": order["totalAmount"], "currency": order["currency"], "source": PAID_AT_ONCE}
        self.api("POST", f"/v1/orders/{order['id']}/payment", customer, payment)
        shipped: dict[str, Any] = self.api("POST", f"/v1/admin/orders/{order['id']}/ship", staff)
        return shipped
