"""The results table: markdown, one section per engine, each endpoint beside the no-op of the same run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.loadgen import Result


@dataclass(frozen=True)
class EngineRun:
    engine: str  # e.g. "SQLite 3.45.1"
    results: Sequence[Result] = ()  # the no-op first
    skipped: str | None = None


def render(title: str, facts: Sequence[tuple[str, str]], runs: Sequence[EngineRun]) -> str:
    lines = [f"# {title}", "", "| fact | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in facts]
    for run in runs:
        lines += ["", f"## {run.engine}", ""]
        lines += [f"Skipped: {run.skipped}"] if run.skipped else _table(run.results)
    return "\n".join(lines) + "\n"


def _table(results: Sequence[Result]) -> list[str]:
    noop = results[0]
    lines = [
        "| endpoint | ok | errors | req/s | p50 ms | p99 ms | req/s ÷ no-op | client CPU |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        ratio = result.rate / noop.rate if noop.rate else float("nan")
        lines.append(
            f"| {result.name} | {result.ok} | {_errors(result)} | {result.rate:,.0f} "
            f"| {result.percentile_ms(50):.1f} | {result.percentile_ms(99):.1f} "
            f"| {ratio:.2f} | {result.client_cpu_share:.0%} |"
        )
    create = next((r for r in results if r.name.startswith("create")), None)
    if create is not None and noop.rate:
        lines += ["", f"**create-order req/s ÷ no-op req/s = {create.rate / noop.rate:.2f}**"]
    return lines


def _errors(result: Result) -> str:
    if not result.errors:
        return "0"
    detail = ", ".join(f"{kind} ×{count}" for kind, count in result.errors.most_common())
    return f"{result.errors.total()} ({detail})"
