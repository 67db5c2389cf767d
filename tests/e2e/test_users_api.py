"""Accounts and credentials over HTTP: registration rules, tokens, and every way a credential is refused."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest

from orderline.application.use_cases import UseCases
from tests.e2e.http import Client, assert_problem, bearer, register
from tests.support import Db, SteppingClock

PASSWORD = "correct horse battery"


def _signup(username: str = "alice", **overrides: str) -> dict[str, str]:
    return {"username": username, "email": f"{username}@example.com", "password": PASSWORD} | overrides


async def test_registration_answers_the_account_without_any_password(client: Client) -> None:
    response = await client.post("/v1/users", json=_signup(firstName="Alice", phone="+44 20 7946 0958"))

    assert response.status_code == 201, response.text
    user = response.json()
    assert response.headers["location"] == f"/v1/users/{user['id']}"
    assert (user["username"], user["role"], user["status"], user["firstName"]) == (
        "alice",
        "CUSTOMER",
        "ACTIVE",
        "Alice",
    )
    assert "password" not in response.text.lower()


async def test_passwords_are_stored_as_argon2_hashes_only(client: Client, db: Db) -> None:
    await client.post("/v1/users", json=_signup())

    async with db.snapshot() as uow:
        user = await uow.users.get_by_username("alice")

    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    ("change", "slug", "field"),
    [
        ({"password": ""}, "weak-password", "password"),
        ({"password": "short"}, "weak-password", "password"),
        ({"password": "password12"}, "weak-password", "password"),
        ({"password": "alice-is-great"}, "weak-password", "password"),
        ({"email": "alice@"}, "invalid-user", "email"),
        ({"username": "a"}, "invalid-user", "username"),
        ({"phone": "call me"}, "invalid-user", "phone"),
    ],
)
async def test_a_registration_breaking_a_rule_is_a_422_naming_the_field(
    client: Client, change: dict[str, str], slug: str, field: str
) -> None:
    response = await client.post("/v1/users", json=_signup() | change)

    assert assert_problem(response, 422, slug)["field"] == field


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({"username": "ALICE", "email": "other@example.com"}, "username"),
        ({"username": "alice2", "email": "Alice@Example.com"}, "email"),
    ],
)
async def test_a_taken_username_or_email_is_a_409_whatever_its_case(
    client: Client, second: dict[str, str], field: str
) -> None:
    await client.post("/v1/users", json=_signup())

    response = await client.post("/v1/users", json=_signup() | second)

    assert assert_problem(response, 409, "user-exists")["field"] == field


async def test_a_token_is_a_bearer_jwt_with_the_user_and_scopes(client: Client) -> None:
    created = (await client.post("/v1/users", json=_signup())).json()

    response = await client.post("/v1/auth/tokens", json={"username": "alice", "password": PASSWORD})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tokenType"] == "Bearer"
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == created["id"]
    assert set(claims["scope"].split()) >= {"read:orders", "write:orders"}
    me = await client.get("/v1/users/me", headers=bearer(body["token"]))
    assert me.json()["id"] == created["id"]


async def test_wrong_credentials_get_the_same_401_whether_the_user_exists_or_not(client: Client) -> None:
    await client.post("/v1/users", json=_signup())

    wrong_password = await client.post("/v1/auth/tokens", json={"username": "alice", "password": "not the one!"})
    no_such_user = await client.post("/v1/auth/tokens", json={"username": "nobody", "password": PASSWORD})

    first = assert_problem(wrong_password, 401, "unauthorized")
    second = assert_problem(no_such_user, 401, "unauthorized")
    assert first == second


def _forge(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


async def test_a_token_with_alg_none_is_refused(client: Client, alice: dict[str, str]) -> None:
    claims = jwt.decode(alice["Authorization"].split()[1], options={"verify_signature": False})
    unsigned = jwt.encode(claims, key="", algorithm="none")

    response = await client.get("/v1/users/me", headers=bearer(unsigned))

    assert_problem(response, 401, "unauthorized")


async def test_a_token_with_a_wrong_signature_is_refused(client: Client, alice: dict[str, str]) -> None:
    claims = jwt.decode(alice["Authorization"].split()[1], options={"verify_signature": False})
    forged = jwt.encode(claims, "not our secret, but long enough to sign", algorithm="HS256")
    tampered = _forge(alice["Authorization"].split()[1], scope="admin")

    for token in (forged, tampered):
        response = await client.get("/v1/users/me", headers=bearer(token))

        assert_problem(response, 401, "unauthorized")


async def test_an_expired_token_is_refused(client: Client, alice: dict[str, str], clock: SteppingClock) -> None:
    clock.advance(timedelta(days=1, seconds=1))

    response = await client.get("/v1/users/me", headers=alice)

    assert "expired" in assert_problem(response, 401, "unauthorized")["detail"]


async def test_a_deleted_users_token_stops_working_at_once(client: Client, alice: dict[str, str]) -> None:
    me = (await client.get("/v1/users/me", headers=alice)).json()

    deleted = await client.delete(f"/v1/users/{me['id']}", headers=alice)
    after = await client.get("/v1/users/me", headers=alice)
    login = await client.post("/v1/auth/tokens", json={"username": "alice", "password": PASSWORD})

    assert deleted.status_code == 204
    assert_problem(after, 401, "unauthorized")
    assert_problem(login, 401, "unauthorized")


async def test_a_suspended_users_token_stops_working_on_the_next_request_and_comes_back(
    client: Client, alice: dict[str, str], admin: dict[str, str]
) -> None:
    me = (await client.get("/v1/users/me", headers=alice)).json()

    suspended = await client.patch(
        f"/v1/admin/users/{me['id']}/status", json={"status": "SUSPENDED", "reason": "chargebacks"}, headers=admin
    )
    refused = await client.get("/v1/users/me", headers=alice)
    await client.patch(f"/v1/admin/users/{me['id']}/status", json={"status": "ACTIVE"}, headers=admin)
    restored = await client.get("/v1/users/me", headers=alice)

    assert suspended.json()["status"] == "SUSPENDED"
    assert_problem(refused, 401, "unauthorized")
    assert restored.status_code == 200


async def test_a_revoked_api_key_is_refused(client: Client, app_use_cases: UseCases) -> None:
    key, secret = await app_use_cases.api_keys.create("ci", frozenset({"read:orders"}))  # type: ignore[arg-type]
    await app_use_cases.api_keys.revoke(key.id)

    response = await client.get("/v1/orders", headers=bearer(secret))

    assert_problem(response, 401, "unauthorized")


async def test_users_see_and_change_only_themselves(
    client: Client, alice: dict[str, str], bob: dict[str, str], admin: dict[str, str]
) -> None:
    alice_id = (await client.get("/v1/users/me", headers=alice)).json()["id"]

    by_bob = await client.get(f"/v1/users/{alice_id}", headers=bob)
    bob_edits = await client.put(f"/v1/users/{alice_id}", json={"firstName": "Mallory"}, headers=bob)
    by_admin = await client.get(f"/v1/users/{alice_id}", headers=admin)
    own_edit = await client.put(f"/v1/users/{alice_id}", json={"firstName": "Al"}, headers=alice)

    assert_problem(by_bob, 404, "not-found")
    assert_problem(bob_edits, 404, "not-found")
    assert by_admin.json()["username"] == "alice"
    assert own_edit.json()["firstName"] == "Al"


async def test_a_changed_password_is_the_one_that_logs_in(client: Client, alice: dict[str, str]) -> None:
    alice_id = (await client.get("/v1/users/me", headers=alice)).json()["id"]

    await client.put(f"/v1/users/{alice_id}", json={"password": "a much better passphrase"}, headers=alice)

    old = await client.post("/v1/auth/tokens", json={"username": "alice", "password": PASSWORD})
    new = await client.post("/v1/auth/tokens", json={"username": "alice", "password": "a much better passphrase"})
    assert (old.status_code, new.status_code) == (401, 200)


async def test_the_signing_key_is_kept_so_tokens_survive_a_restart(
    client: Client, alice: dict[str, str], settings: object, clock: SteppingClock
) -> None:
    from orderline.bootstrap import build
    from tests.support import FAST_HASHER

    restarted = await build(settings, clock=clock, hasher=FAST_HASHER)  # type: ignore[arg-type]
    try:
        principal = await restarted.authenticator.authenticate(alice["Authorization"].split()[1])
    finally:
        await restarted.close()

    assert principal.kind == "user"


async def test_register_helper_logs_in(client: Client) -> None:
    headers = await register(client, "carol")

    assert (await client.get("/v1/users/me", headers=headers)).json()["username"] == "carol"
