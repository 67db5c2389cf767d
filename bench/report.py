"""The results table: markdown, one section per engine, every scenario as a ratio to the bare Litestar reference."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

from bench.wrkgen import Figure

REFERENCE = "reference:"
# Beyond this spread between the first and last reference, the machine's speed changed too much mid-run.
DRIFT_LIMIT = 0.2
# The figures for the DRF shop's comparison: orderline's rate ÷ the shop's, at least.
DRF_FACTORS = {"detail": 15.0, "list of 10": 20.0, "erase": 4.0}


@dataclass(frozen=True)
class EngineRun:
    engine: str  # e.g. "SQLite 3.45.1"
    figures: Sequence[Figure] = ()
    skipped: str | None = None
    stopped: str | None = None  # why the scenarios ended early, when they did
    counts: str | None = None  # the round-trip / thread-hop table
    workers: str = ""  # 1 vs 2 processes, or its placeholder


def render(title: str, facts: Sequence[tuple[str, str]], runs: Sequence[EngineRun]) -> str:
    lines = [f"# {title}", "", "| fact | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in facts]
    for run in runs:
        lines += ["", f"## {run.engine}", ""]
        if run.skipped:
            lines.append(f"Skipped: {run.skipped}")
            continue
        if run.figures:
            lines += _table(run.figures)
        if run.stopped:
            lines += ["", f"**Stopped early: {run.stopped}.**"]
        if run.counts:
            lines += ["", "### Round trips and thread hops per request", "", run.counts]
        if run.workers:
            lines += ["", "### 1 vs 2 `orderline serve` processes", "", run.workers]
    return "\n".join(lines) + "\n"


def _table(figures: Sequence[Figure]) -> list[str]:
    references = [f.rate for f in figures if f.name.startswith(REFERENCE) and f.rate]
    baseline = fmean(references) if references else 0.0
    lines = [
        "| scenario | generator | ok | errors | req/s | ÷ reference | p50 ms | p99 ms | p99/p50 |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        note = f" ({f.note})" if f.note else ""
        lines.append(
            f"| {f.name}{note} | {f.generator} | {f.ok} | {_errors(f)} | {f.rate:,.0f} | {_ratio(f.rate, baseline)} "
            f"| {_ms(f.p50_ms)} | {_ms(f.p99_ms)} | {_ms(f.tail)} |"
        )
    lines += ["", "÷ reference: req/s over the mean req/s of the two reference rows of this run."]
    fastest = max(references, default=0.0)
    drift = (fastest - min(references, default=0.0)) / fastest if fastest else 0.0
    if drift > DRIFT_LIMIT:
        lines += ["", f"**Warning: the reference's req/s moved {drift:.0%} during this run; the machine was busy.**"]
    lines += _drf(figures)
    return lines


def _drf(figures: Sequence[Figure]) -> list[str]:
    """orderline's DRF dialect beside the shop: how many times the shop's req/s."""
    rows = []
    for kind, wanted in DRF_FACTORS.items():
        ours = next((f for f in figures if f.name.startswith("orderline DRF") and kind in f.name), None)
        shop = next((f for f in figures if f.name.startswith("shop DRF") and kind in f.name), None)
        if ours and shop and shop.rate:
            rows.append(
                f"| {kind} | {ours.rate:,.0f} | {shop.rate:,.0f} | {ours.rate / shop.rate:.1f}× | ≥ {wanted:g}× |"
            )
    if not rows:
        return []
    header = [
        "",
        "| DRF scenario | orderline req/s | shop req/s | orderline ÷ shop | issue 11 asks |",
        "|---|---:|---:|---:|---:|",
    ]
    return header + rows


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f}"


def _ratio(rate: float, baseline: float) -> str:
    return f"{rate / baseline:.3f}" if baseline else "n/a"


def _errors(f: Figure) -> str:
    if not f.errors:
        return "0"
    detail = ", ".join(f"{kind} ×{count}" for kind, count in f.errors.most_common())
    return f"{f.errors.total()} ({detail})"
