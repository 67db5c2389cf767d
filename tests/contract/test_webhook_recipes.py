"""The verification recipes of docs/webhooks.md, run as written: the shell one with openssl, the Python one."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orderline.events.signatures import signed_headers
from tests.markdown import ROOT, fenced_blocks
from tests.webhooks import OTHER_SECRET, SECRET

SECTION = (ROOT / "docs" / "webhooks.md").read_text().split("## Delivery and verification", 1)[1].split("\n## ", 1)[0]
BODY = b'{"eventId":"e","eventType":"order.created","data":{"note":"h\\u00e9llo \\u2603"}}'


def _recipe(info: str) -> str:
    [block] = [block.body for block in fenced_blocks(SECTION) if block.info == info]
    return block


def _shell(tmp_path: Path, headers: dict[str, str], secret: str, body: bytes) -> str:
    (tmp_path / "body.json").write_bytes(body)
    environment = {
        "PATH": "/usr/bin:/bin",
        "WEBHOOK_ID": headers["webhook-id"],
        "WEBHOOK_TIMESTAMP": headers["webhook-timestamp"],
        "WEBHOOK_SIGNATURE": headers["webhook-signature"],
        "WEBHOOK_SECRET": secret,
    }
    done = subprocess.run(
        ["sh", "-c", _recipe("sh")], cwd=tmp_path, env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


@pytest.mark.parametrize("secret", [SECRET, OTHER_SECRET])
def test_the_shell_recipe_accepts_a_delivery_signed_with_either_secret_during_a_rotation(
    tmp_path: Path, secret: str
) -> None:
    headers = signed_headers([SECRET, OTHER_SECRET], uuid.uuid4(), datetime.now(UTC), BODY)

    assert _shell(tmp_path, headers, secret, BODY) == "valid"


def test_the_shell_recipe_refuses_a_changed_body_and_an_old_timestamp(tmp_path: Path) -> None:
    fresh = signed_headers([SECRET], uuid.uuid4(), datetime.now(UTC), BODY)
    old = signed_headers([SECRET], uuid.uuid4(), datetime.now(UTC) - timedelta(minutes=10), BODY)

    assert _shell(tmp_path, fresh, SECRET, BODY.replace(b"created", b"erased")) == "invalid signature"
    assert _shell(tmp_path, old, SECRET, BODY) == "too old or too new"


def test_the_python_recipe_returns_the_event_and_refuses_a_forgery() -> None:
    scope: dict[str, Any] = {}
    exec(_recipe("python"), scope)
    headers = signed_headers([SECRET], uuid.uuid4(), datetime.now(UTC), BODY)

    assert scope["verified_event"](SECRET, BODY, headers)["eventType"] == "order.created"
    with pytest.raises(PermissionError):
        scope["verified_event"](OTHER_SECRET, BODY, headers)
