"""`orderline serve --sandbox`: the sandbox controls on, and refused in production in one line."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.e2e.process import run, serving


def _environment(**variables: str) -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("ORDERLINE_")} | variables


def test_serve_refuses_the_sandbox_in_production_in_one_line(tmp_path: Path) -> None:
    result = run("serve", "--sandbox", cwd=tmp_path, env=_environment(ORDERLINE_PRODUCTION="true"))

    assert result.returncode == 1
    assert result.stderr.startswith("orderline: ORDERLINE_SANDBOX=true is refused in production")
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_with_the_sandbox_flag_serves_the_sandbox_controls(tmp_path: Path) -> None:
    with serving("--sandbox", cwd=tmp_path, env=_environment()) as server:
        created = httpx.post(f"{server.base}/v1/sandbox/tenants")
        output = server.output()

    assert created.status_code == 201
    assert "sandbox controls are on" in output
