"""docs/sandbox.md's example, run as its reader would: pytest on the block, against a real `orderline serve --sandbox`.

The block between the ``sandbox-example`` markers is written to a file of its own and run by pytest in a process
of its own (with no configuration of this repository's), with ORDERLINE_URL naming a server started for it —
with the worker beside it (SQLite) or in a process of its own (PostgreSQL).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

from tests.e2e.process import serving, working
from tests.markdown import ROOT, fenced_blocks
from tests.support import TEST_GATEWAY_SECRET, TEST_JWT_SECRET

BEGIN, END = "<!-- sandbox-example: begin -->", "<!-- sandbox-example: end -->"


def example() -> str:
    text = (ROOT / "docs" / "sandbox.md").read_text()
    [region] = re.findall(re.escape(BEGIN) + "(.*?)" + re.escape(END), text, re.S)
    [block] = fenced_blocks(region)
    assert block.info == "python"
    return block.body


def test_the_sandbox_example_is_one_complete_pytest_module() -> None:
    source = example()

    compile(source, "docs/sandbox.md", "exec")
    assert "def test_" in source


def test_the_sandbox_example_passes_against_a_real_server(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "test_refund_failure.py").write_text(example())
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # the reader's project: none of this repository's settings
    settings = {
        "ORDERLINE_DATABASE_URL": database_url,
        "ORDERLINE_SANDBOX": "true",
        "ORDERLINE_WEBHOOKS_ALLOW_PRIVATE": "true",
        "ORDERLINE_JWT_SECRET": TEST_JWT_SECRET,
        "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET,
    }
    environment = {name: value for name, value in os.environ.items() if not name.startswith("ORDERLINE_")} | settings
    worker = working(cwd=tmp_path, env=settings) if database_url.startswith("postgresql") else nullcontext()

    with serving(cwd=tmp_path, env=settings) as server, worker:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_refund_failure.py"],
            cwd=tmp_path, env=environment | {"ORDERLINE_URL": server.base}, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
