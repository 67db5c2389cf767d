"""`orderline keys create --tenant ID` (ADR 0040): a key bound to a tenant acts there whatever header it sends."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.process import run, serving

TENANT = "5b0e4c1e-9a1f-4d2b-8c3e-0000000000b4"
OTHER = "0190f5c2-7d3e-7a1b-8c2d-0000000000a7"


def test_a_key_created_for_a_tenant_acts_only_in_that_tenant(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    created = run("keys", "create", "--scopes", "admin", "--tenant", TENANT, "--database-url", url, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {secret}"}
    pet = {"name": "Rex", "species": "DOG", "adoptionFee": "10.00"}

    with serving("--database-url", url, cwd=tmp_path) as server:
        made = httpx.post(f"{server.base}/v1/pets", json=pet, headers={**auth, "X-Tenant-ID": OTHER})
        in_tenant = httpx.get(f"{server.base}/v1/pets", headers={"X-Tenant-ID": TENANT}).json()["data"]
        in_other = httpx.get(f"{server.base}/v1/pets", headers={"X-Tenant-ID": OTHER}).json()["data"]
    listed = run("keys", "list", "--tenant", TENANT, "--database-url", url, cwd=tmp_path)

    assert made.status_code == 201, made.text
    assert f"bound to tenant {TENANT}" in created.stdout
    assert [p["id"] for p in in_tenant] == [made.json()["id"]]
    assert in_other == []
    assert " unnamed " in listed.stdout


@pytest.mark.parametrize("tenant", ["shop-1", "00000000-0000-0000-0000-000000000000"])
def test_a_tenant_that_is_not_a_v4_or_v7_uuid_is_refused_with_a_clear_message(tmp_path: Path, tenant: str) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"

    result = run("keys", "create", "--scopes", "admin", "--tenant", tenant, "--database-url", url, cwd=tmp_path)

    assert result.returncode == 1
    assert "--tenant" in result.stderr
