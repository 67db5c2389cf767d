"""Facts about the machine and the code, printed beside the numbers so a result can be read later."""

from __future__ import annotations

import importlib.util
import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def machine() -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    return f"nproc {usable} (of {cpus}), {_cpu_model()}, {platform.system()} {platform.release()}"


def python() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}"


def server_stack() -> str:
    """What uvicorn will pick: its fast parser and loop only when they are installed."""
    http = "httptools" if importlib.util.find_spec("httptools") else "h11 (httptools not installed)"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio (uvloop not installed)"
    return f"uvicorn, 1 process, HTTP parser {http}, event loop {loop}"


def commit() -> str:
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load() -> str:
    """`uptime`'s load averages: how busy the shared machine was."""
    try:
        one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    except (OSError, ValueError):
        return "unknown"
    return f"load average {one}, {five}, {fifteen} (1, 5, 15 min)"
