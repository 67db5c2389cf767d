"""`orderline users create --tenant ID` (ADR 0040): an account made for a tenant signs in there, and only there."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.e2e.process import run, serving
from tests.support import TEST_GATEWAY_SECRET, TEST_JWT_SECRET

TENANT = "5b0e4c1e-9a1f-4d2b-8c3e-0000000000b4"
SECRETS = {"ORDERLINE_JWT_SECRET": TEST_JWT_SECRET, "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET}
ENV = os.environ | SECRETS  # PostgreSQL keeps no signing keys: every process is given them
PASSWORD = "a long support passphrase"


def _create(url: str, cwd: Path, *extra: str) -> list[str]:
    return ["users", "create", "--username", "helpdesk", "--email", "help@example.com", "--database-url", url,
            "--role", "support", "--password-stdin", *extra]  # fmt: skip


def test_a_user_created_for_a_tenant_signs_in_with_its_header_and_not_without(
    database_url: str, tmp_path: Path
) -> None:
    made = run(*_create(database_url, tmp_path, "--tenant", TENANT), cwd=tmp_path, env=ENV, stdin=f"{PASSWORD}\n")
    credentials = {"username": "helpdesk", "password": PASSWORD}

    with serving("--database-url", database_url, cwd=tmp_path, env=SECRETS) as server:
        in_tenant = httpx.post(f"{server.base}/v1/auth/tokens", json=credentials, headers={"X-Tenant-ID": TENANT})
        in_public = httpx.post(f"{server.base}/v1/auth/tokens", json=credentials)
        orders = httpx.get(
            f"{server.base}/v1/orders", headers={"Authorization": f"Bearer {in_tenant.json().get('token')}"}
        )
    listed = run("users", "list", "--database-url", database_url, cwd=tmp_path, env=ENV)

    assert made.returncode == 0, made.stderr
    assert "support helpdesk" in made.stdout
    assert f"of tenant {TENANT}" in made.stdout
    assert in_tenant.status_code == 200, in_tenant.text
    assert in_public.status_code == 401, in_public.text
    assert orders.status_code == 200, orders.text
    assert "helpdesk" not in listed.stdout  # the CLI's list is the public pool's


def test_the_same_username_is_free_in_another_tenant(database_url: str, tmp_path: Path) -> None:
    public = run(*_create(database_url, tmp_path), cwd=tmp_path, env=ENV, stdin=f"{PASSWORD}\n")

    tenant = run(*_create(database_url, tmp_path, "--tenant", TENANT), cwd=tmp_path, env=ENV, stdin=f"{PASSWORD}\n")

    assert public.returncode == 0, public.stderr
    assert tenant.returncode == 0, tenant.stderr


@pytest.mark.parametrize(
    "tenant", ["shop-1", "00000000-0000-0000-0000-000000000000", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"]
)
def test_a_tenant_that_is_not_a_v4_or_v7_uuid_is_refused_with_a_clear_message(tmp_path: Path, tenant: str) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"

    result = run(*_create(url, tmp_path, "--tenant", tenant), cwd=tmp_path, env=ENV, stdin=f"{PASSWORD}\n")

    assert result.returncode == 1
    assert "--tenant" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_tenants_users_are_listed_and_given_a_new_password_with_its_tenant_named(
    database_url: str, tmp_path: Path
) -> None:
    run(*_create(database_url, tmp_path, "--tenant", TENANT), cwd=tmp_path, env=ENV, stdin=f"{PASSWORD}\n")
    new_password = "another long passphrase"

    listed = run("users", "list", "--tenant", TENANT, "--database-url", database_url, cwd=tmp_path, env=ENV)
    elsewhere = run("users", "set-password", "helpdesk", "--password-stdin", "--database-url", database_url,
                    cwd=tmp_path, env=ENV, stdin=f"{new_password}\n")  # fmt: skip
    reset = run("users", "set-password", "helpdesk", "--password-stdin", "--tenant", TENANT, "--database-url",
                database_url, cwd=tmp_path, env=ENV, stdin=f"{new_password}\n")  # fmt: skip
    with serving("--database-url", database_url, cwd=tmp_path, env=SECRETS) as server:
        signed_in = httpx.post(
            f"{server.base}/v1/auth/tokens",
            json={"username": "helpdesk", "password": new_password},
            headers={"X-Tenant-ID": TENANT},
        )

    assert listed.returncode == 0, listed.stderr
    assert "helpdesk" in listed.stdout
    assert elsewhere.returncode == 1  # the public pool has no helpdesk
    assert "user helpdesk was not found" in elsewhere.stderr
    assert reset.returncode == 0, reset.stderr
    assert f"of tenant {TENANT}" in reset.stdout
    assert signed_in.status_code == 200, signed_in.text
