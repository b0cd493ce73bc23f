"""The objective spec language: one line of text per objective, usable on the CLI and in files.

::

    max-f1                          max-fbeta beta=2              youden             fixed 0.5
    min-cost fn=10 fp=1             min-cost fn=amount fp=1 tp=0  (fn/fp costs, tp/tn gains; a word is a column)
    max-precision recall>=0.95      max-recall precision>=0.90    max-specificity sensitivity>=0.9
    max-precision recall>=0.95 confidence=0.95                    (the bound, not the point, meets the target)
    budget rate<=0.02               budget count<=500             budget count<=500 per=day time=ts [stat=max]
"""

from __future__ import annotations

import difflib
import re

from thresher.errors import SpecError
from thresher.metrics.rates import ALIASES, METRICS

KINDS = ("max-f1", "max-fbeta", "youden", "fixed", "min-cost", "max-METRIC", "min-METRIC", "budget")
_CONSTRAINT = re.compile(r"^([a-z_][a-z0-9_]*)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)$")
_OPTION = re.compile(r"^([a-z_]+)=(\S+)$")


def metric_name(name: str, spec: str) -> str:
    """The canonical metric name (aliases resolved), or a SpecError with the known names."""
    canonical = ALIASES.get(name, name)
    if canonical not in METRICS:
        known = sorted([*METRICS, *ALIASES])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise SpecError(f"Unknown metric '{name}' in '{spec}'.{hint} Known metrics: {', '.join(known)}.")
    return canonical


def number(text: str, what: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SpecError(f"'{text}' is not a number ({what} in '{spec}'). Write it like 0.95 or 10.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise SpecError(f"{what} must be a finite number in '{spec}'; got {text}.")
    return value


def tokens(spec: str) -> tuple[str, dict[str, str], list[tuple[str, str, float]], list[str]]:
    """Split a spec into (kind, options, constraints, bare words)."""
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError(f"An objective spec must be a non-empty string such as 'max-f1'; got {spec!r}.")
    # allow "recall >= 0.9" with spaces around the operator
    text = re.sub(r"\s*(>=|<=|(?<![<>=])>(?!=)|(?<![<>=])<(?!=))\s*", r"\1", spec.strip())
    parts = text.split()
    kind, rest = parts[0].lower(), parts[1:]
    options: dict[str, str] = {}
    constraints: list[tuple[str, str, float]] = []
    words: list[str] = []
    for part in rest:
        c = _CONSTRAINT.match(part)
        o = _OPTION.match(part)
        if c:
            constraints.append((c.group(1), c.group(2), number(c.group(3), c.group(1), spec)))
        elif o:
            if o.group(1) in options:
                raise SpecError(f"'{o.group(1)}=' is given twice in '{spec}'.")
            options[o.group(1)] = o.group(2)
        else:
            words.append(part)
    return kind, options, constraints, words


def unknown_kind(kind: str, spec: str) -> SpecError:
    close = difflib.get_close_matches(kind, ["max-f1", "max-fbeta", "youden", "fixed", "min-cost", "budget",
                                             "max-precision", "max-recall", "max-specificity"], n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return SpecError(
        f"Unknown objective '{kind}' in '{spec}'.{hint} Objectives: max-f1, max-fbeta beta=B, youden, fixed T, "
        "min-cost fn=C fp=C, max-METRIC METRIC>=X (e.g. max-precision recall>=0.95), budget rate<=R, "
        "budget count<=N [per=day time=COLUMN]."
    )
