"""A gate run as a rich table (the CLI, ``thresher runs show``) or as plain text (test failure messages)."""

from __future__ import annotations

import io
import math
import re

from rich.console import Console
from rich.table import Table

from thresher.gate.result import FAIL, PASS, SKIP, CheckResult, GateResult

VERDICT_STYLE = {PASS: "[green]PASS[/green]", FAIL: "[bold red]FAIL[/bold red]", SKIP: "[yellow]SKIP[/yellow]"}
MAX_SEGMENT_ROWS = 20


def _value(c: CheckResult) -> str:
    if math.isnan(c.value):
        return "undefined" if c.verdict != SKIP else ""
    # a baseline check's value is a difference: always signed
    return f"{c.value:+.4f}" if "delta" in c.details else f"{c.value:.4f}"


def _bound(c: CheckResult) -> str:
    return f"{c.op} {c.bound:g}"


def checks_table(result: GateResult, *, title: str | None = None) -> Table:
    """One row per check (and per segment of 'per segment:' checks): value, bound, verdict and why."""
    several = len(result.datasets) > 1
    table = Table(title=title or f"thresher check: {result.gate}", title_justify="left", show_lines=False)
    if several:
        table.add_column("dataset", no_wrap=True)
    table.add_column("check", overflow="fold", min_width=16)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("bound", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("why", overflow="fold", ratio=1)
    for c in result.checks:
        cells = [c.dataset] if several else []
        # a per-segment check: the count here, each segment's reason on its own row
        why = re.split(r"[:;]", c.why)[0] if c.segments else c.why
        table.add_row(*cells, c.title, _value(c), _bound(c), VERDICT_STYLE[c.verdict], why)
        shown = c.segments if len(c.segments) <= MAX_SEGMENT_ROWS else \
            [s for s in c.segments if s.verdict == FAIL][:MAX_SEGMENT_ROWS]
        for s in shown:
            table.add_row(*([""] if several else []), f"  └ {s.segment}", _value(s), _bound(s),
                          VERDICT_STYLE[s.verdict], s.why)
        if len(shown) < len(c.segments):
            table.add_row(*([""] if several else []), f"  └ ... {len(c.segments) - len(shown)} more", "", "", "", "")
    return table


def summary_line(result: GateResult) -> str:
    n = result.counts()
    verdict = "[green]passed[/green]" if result.passed else "[bold red]FAILED[/bold red]"
    parts = [f"{n[PASS]} passed", f"{n[FAIL]} failed"] + ([f"{n[SKIP]} skipped"] if n[SKIP] else [])
    return f"gate {result.gate} {verdict}: {n['total']} checks, " + ", ".join(parts)


def dataset_lines(result: GateResult) -> list[str]:
    lines = []
    for name, d in result.datasets.items():
        pos = d.positives
        line = f"dataset {name}: {d.n:,} rows, {pos:g} positives"
        if d.baseline_run:
            line += f", baseline run {d.baseline_run}"
        lines.append(line)
        lines.append(f"  fingerprint {d.fingerprint}")
        lines.append(f"  rows_fingerprint {d.rows_fingerprint}")
    return lines


def print_result(result: GateResult, console: Console) -> None:
    for line in dataset_lines(result):
        console.print(f"[dim]{line}[/dim]", soft_wrap=True)
    console.print(checks_table(result))
    console.print(summary_line(result))
    meta = [f"run {result.run_id}"]
    if result.recorded_in:
        meta.append(f"recorded in {result.recorded_in}")
    if result.git_commit:
        meta.append(f"commit {result.git_commit[:12]}" + (" (dirty)" if result.git_dirty else ""))
    console.print("[dim]" + ", ".join(meta) + "[/dim]")


def render_text(result: GateResult, width: int = 140) -> str:
    """The table and summary as plain text (no colours): for failure messages and JUnit system-out."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False, force_terminal=False,
                      emoji=False)
    console.print(checks_table(result))
    console.print(summary_line(result))
    return buffer.getvalue()
