"""Small helpers for the HTTP tests: make pets and orders through the API, check problem bodies."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient, Response

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance"}

Client = AsyncClient


async def make_pet(client: Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "Whiskers", "species": "CAT", "adoptionFee": "150.00", **fields}
    response = await client.post("/v1/pets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    pet: dict[str, Any] = response.json()
    return pet


async def place(
    client: Client, pet_id: str, quantity: int = 1, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.post("/v1/orders", json={"petId": pet_id, "quantity": quantity}, headers=headers)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def assert_problem(response: Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_MEMBERS, body
    assert body["type"].endswith("/" + slug), body
    assert body["status"] == status
    assert body["code"] == slug, body
    assert body["instance"] == response.request.url.path
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_owner(order: dict[str, Any]) -> dict[str, str]:
    """The headers of whoever holds an anonymous order's token."""
    return bearer(order["orderToken"])


async def register(client: Client, username: str, password: str = "correct horse battery") -> dict[str, str]:
    """Register a customer and log in; return its Authorization header."""
    created = await client.post(
        "/v1/users", json={"username": username, "email": f"{username}@example.com", "password": password}
    )
    assert created.status_code == 201, created.text
    token = await client.post("/v1/auth/tokens", json={"username": username, "password": password})
    assert token.status_code == 200, token.text
    return bearer(token.json()["token"])
