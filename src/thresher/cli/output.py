"""Shared CLI output: the rich console, number formatting and JSON writing."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def fmt(value, digits: int = 4) -> str:
    """A metric for a table: NaN shows as 'undefined', integral counts without decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "[dim]undefined[/dim]"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def write_json(document: dict, target: str) -> None:
    """Write ``document`` to a path, or to stdout for ``-``; NaN must already be None (strict JSON)."""
    text = json.dumps(document, indent=2, allow_nan=False, default=str)
    if target == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(target).write_text(text + "\n")
        err_console.print(f"[dim]wrote {target}[/dim]")
