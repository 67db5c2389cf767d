"""The README's curl session, run in bash against a real `orderline serve`: it prints what it shows.

The session is the README's ``sh`` blocks between the two markers, run in order in one bash. The
``json`` blocks after a ``sh`` block show the JSON documents it prints, in order; its ``# -> …``
comments show the other lines it prints, in order. Both are compared: the JSON documents by shape
(same keys at every level, same value types, the same UPPER_CASE values, ids and timestamps by form
only), the lines exactly but for ids and timestamps.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.markdown import ROOT, fenced_blocks
from tests.shapes import json_documents, normalised, printed, shape_differences

BEGIN, END = "<!-- readme-session: begin -->", "<!-- readme-session: end -->"
SERVER_LINE = "B=http://localhost:8000"
# What the README says the session runs with: the defaults, written out so that nothing else leaks in.
ENVIRONMENT = {"ORDERLINE_TEST_GATEWAY_REFUND_DELAY": "2", "ORDERLINE_REFUND_POLL_SECONDS": "1"}
STEP_MARK = "@@readme-step@@"  # printed between steps, on a line of its own, to split the output


@dataclass
class Step:
    script: str
    shows: list[Any] = field(default_factory=list)  # the JSON documents of the json blocks after it


def session(readme: str) -> list[Step]:
    steps: list[Step] = []
    for region in re.findall(re.escape(BEGIN) + "(.*?)" + re.escape(END), readme, re.S):
        for block in fenced_blocks(region):
            if block.info == "sh":
                steps.append(Step(block.body))
            elif block.info == "json":
                assert steps, "a json block before any sh block of the session"
                steps[-1].shows += json_documents(block.body)
    return steps


STEPS = session((ROOT / "README.md").read_text())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment(database_url: str) -> dict[str, str]:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ORDERLINE_")}
    return inherited | ENVIRONMENT | {"ORDERLINE_DATABASE_URL": database_url}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    """`orderline serve --demo` on a free port and a new SQLite file, as ./scripts/serve starts it."""
    folder = tmp_path_factory.mktemp("readme")
    environment = _environment("sqlite:///./orderline.db")  # ./scripts/serve's default, in the session's folder
    port = _free_port()
    command = [sys.executable, "-m", "orderline", "serve", "--demo", "--port", str(port)]
    log = (folder / "serve.log").open("w")  # a file, not a pipe nobody reads: its log cannot stall the server
    process = subprocess.Popen(command, cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, f"serve exited: {(folder / 'serve.log').read_text()}"
            try:
                if httpx.get(f"{base}/v1/livez", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("serve did not answer within 60 s")
        yield base, environment, folder
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@dataclass(frozen=True)
class Run:
    returncode: int
    stderr: str
    outputs: list[str]  # what each step printed


@pytest.fixture(scope="module")
def run(server: tuple[str, dict[str, str], Path]) -> Run:
    """The whole session in one bash, at a folder whose .venv/bin/orderline is this orderline."""
    base, environment, folder = server
    bin_folder = folder / ".venv" / "bin"
    bin_folder.mkdir(parents=True)
    (bin_folder / "orderline").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m orderline "$@"\n')
    (bin_folder / "orderline").chmod(0o755)
    script = ["set -euo pipefail"]
    for step in STEPS:
        script += [f"printf '\\n%s\\n' '{STEP_MARK}'", step.script.replace(SERVER_LINE, f"B={base}")]
    finished = subprocess.run(["bash", "-c", "\n".join(script)], cwd=folder, env=environment, capture_output=True,
                              text=True, timeout=180, check=False)  # fmt: skip
    outputs = finished.stdout.split(f"\n{STEP_MARK}\n")[1:]
    return Run(finished.returncode, finished.stderr, outputs)


def test_the_session_is_marked_in_the_readme_and_shows_json() -> None:
    assert len(STEPS) >= 8
    assert sum(1 for step in STEPS if step.script.count(SERVER_LINE)) == 1
    assert sum(len(step.shows) for step in STEPS) >= 8


def test_the_readme_session_runs_to_its_end(run: Run) -> None:
    assert run.returncode == 0, run.stderr
    assert len(run.outputs) == len(STEPS)


@pytest.mark.parametrize("number", range(len(STEPS)), ids=[f"step-{n}" for n in range(len(STEPS))])
def test_each_step_prints_the_json_the_readme_shows(run: Run, number: int) -> None:
    step = STEPS[number]
    documents, _ = printed(run.outputs[number] if number < len(run.outputs) else "")

    assert len(documents) == len(step.shows), (step.script, run.outputs[number : number + 1], run.stderr)
    for shown, got in zip(step.shows, documents, strict=True):
        assert shape_differences(shown, got) == [], (step.script, got)


@pytest.mark.parametrize("number", range(len(STEPS)), ids=[f"step-{n}" for n in range(len(STEPS))])
def test_each_step_prints_the_lines_its_comments_show(run: Run, number: int) -> None:
    step = STEPS[number]
    _, lines = printed(run.outputs[number] if number < len(run.outputs) else "")

    assert normalised(lines) == normalised(re.findall(r"# -> (.*)$", step.script, re.M)), (step.script, run.stderr)
