"""If-Match on changes to an order: the ETag of a read guards the change; a stale one is a 412."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.http import Client, as_owner, assert_problem, make_pet, place


async def _read(client: Client, order: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    response = await client.get(f"/v1/orders/{order['id']}", headers=as_owner(order))
    return response.headers["etag"], response.json()


async def test_a_cancel_with_the_current_etag_goes_through(client: Client, admin: dict[str, str]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])
    etag, _ = await _read(client, order)

    response = await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order) | {"If-Match": etag})

    assert response.status_code == 204


@pytest.mark.parametrize("sent", ['"{id}.2"', '"{id}.0"', '"019b4139-1234-7abc-8def-123456789abc.1"', "garbage"])
async def test_a_cancel_with_another_etag_is_a_412_and_changes_nothing(
    client: Client, admin: dict[str, str], sent: str
) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])

    response = await client.post(
        f"/v1/orders/{order['id']}/cancel",
        json={"reason": "OTHER"},
        headers=as_owner(order) | {"If-Match": sent.format(id=order["id"])},
    )

    assert assert_problem(response, 412, "precondition-failed")["currentVersion"] == 1
    assert (await _read(client, order))[1]["status"] == "PLACED"


async def test_an_etag_read_before_someone_elses_change_is_stale(client: Client, admin: dict[str, str]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])
    etag, _ = await _read(client, order)
    await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "OTHER"}, headers=as_owner(order))

    late = await client.post(
        f"/v1/admin/orders/{order['id']}/force-cancel", json={"reason": "FRAUD"}, headers=admin | {"If-Match": etag}
    )

    assert assert_problem(late, 412, "precondition-failed")["currentVersion"] == 2


async def test_if_match_star_matches_any_version(client: Client, admin: dict[str, str]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])

    response = await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order) | {"If-Match": "*"})

    assert response.status_code == 204


async def test_admin_transitions_honour_if_match(client: Client, admin: dict[str, str]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])

    ship = await client.post(f"/v1/admin/orders/{order['id']}/ship", headers=admin | {"If-Match": f'"{order["id"]}.9"'})
    deliver = await client.post(
        f"/v1/admin/orders/{order['id']}/deliver", headers=admin | {"If-Match": f'"{order["id"]}.9"'}
    )

    assert_problem(ship, 412, "precondition-failed")
    assert_problem(deliver, 412, "precondition-failed")
