"""The results table: markdown, one section per engine, each endpoint beside the no-op of the same run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

from bench.loadgen import Result
from bench.workload import NOOP

# Beyond this spread between the first and last no-op, the machine's speed changed too much mid-run.
NOOP_DRIFT_LIMIT = 0.2


@dataclass(frozen=True)
class EngineRun:
    engine: str  # e.g. "SQLite 3.45.1"
    results: Sequence[Result] = ()
    skipped: str | None = None
    stopped: str | None = None  # why the phases ended early, when they did


def render(title: str, facts: Sequence[tuple[str, str]], runs: Sequence[EngineRun]) -> str:
    lines = [f"# {title}", "", "| fact | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in facts]
    for run in runs:
        lines += ["", f"## {run.engine}", ""]
        if run.skipped:
            lines.append(f"Skipped: {run.skipped}")
            continue
        if run.results:
            lines += _table(run.results)
        if run.stopped:
            lines += ["", f"**Stopped early: {run.stopped}.** The phases after it were not run."]
    return "\n".join(lines) + "\n"


def _table(results: Sequence[Result]) -> list[str]:
    noops = [result.rate for result in results if result.name.startswith(NOOP)]
    baseline = fmean(noops) if noops else 0.0
    lines = [
        "| endpoint | ok | errors | req/s | p50 ms | p99 ms | req/s ÷ no-op | client CPU |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {result.ok} | {_errors(result)} | {result.rate:,.0f} "
            f"| {result.percentile_ms(50):.1f} | {result.percentile_ms(99):.1f} "
            f"| {_ratio(result.rate, baseline)} | {result.client_cpu_share:.0%} |"
        )
    lines += ["", "Ratios divide by the mean of the no-op rows."]
    create = next((result for result in results if result.name.startswith("create")), None)
    if create is not None:
        lines += ["", f"**create-order req/s ÷ no-op req/s = {_ratio(create.rate, baseline)}**"]
    fastest = max(noops, default=0.0)
    drift = (fastest - min(noops, default=0.0)) / fastest if fastest else 0.0
    if drift > NOOP_DRIFT_LIMIT:
        lines += ["", f"Warning: the no-op's req/s moved {drift:.0%} during this run; the machine was busy."]
    return lines


def _ratio(rate: float, baseline: float) -> str:
    return f"{rate / baseline:.2f}" if baseline else "n/a"


def _errors(result: Result) -> str:
    if not result.errors:
        return "0"
    detail = ", ".join(f"{kind} ×{count}" for kind, count in result.errors.most_common())
    return f"{result.errors.total()} ({detail})"
