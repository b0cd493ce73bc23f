"""Diff two policies: what changed per segment, and, on labelled data, what it does to decisions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from thresher.data.read import read_table
from thresher.data.validate import clean_label
from thresher.policy.policy import Policy


@dataclass(frozen=True)
class Change:
    rule: str
    what: str
    old: object = None
    new: object = None

    def __str__(self) -> str:
        if self.old is None:
            return f"{self.rule}: {self.what} added: {self.new}"
        if self.new is None:
            return f"{self.rule}: {self.what} removed (was {self.old})"
        return f"{self.rule}: {self.what} {self.old} -> {self.new}"


def structural_changes(old: Policy, new: Policy) -> list[Change]:
    changes = []
    for key in ("name", "score", "segments", "actions"):
        a, b = getattr(old.model, key), getattr(new.model, key)
        if a != b:
            changes.append(Change("(policy)", key, a, b))
    old_rules = {r.name: r for r in old.rules}
    new_rules = {r.name: r for r in new.rules}
    for name in old_rules.keys() - new_rules.keys():
        changes.append(Change(name, "rule", old_rules[name].match or "default", None))
    for name in [r.name for r in new.rules]:
        if name not in old_rules:
            changes.append(Change(name, "rule", None, new_rules[name].match or "default"))
            continue
        a, b = old_rules[name], new_rules[name]
        if a.match != b.match:
            changes.append(Change(name, "match", a.match, b.match))
        if a.otherwise != b.otherwise:
            changes.append(Change(name, "otherwise", a.otherwise, b.otherwise))
        ta = {t.action: t.threshold for t in a.tiers}
        tb = {t.action: t.threshold for t in b.tiers}
        for action in ta.keys() - tb.keys():
            changes.append(Change(name, f"tier '{action}'", ta[action], None))
        for action in tb:
            if action not in ta:
                changes.append(Change(name, f"tier '{action}'", None, tb[action]))
            elif ta[action] != tb[action]:
                changes.append(Change(name, f"tier '{action}' threshold", ta[action], tb[action]))
        if [t.action for t in a.tiers if t.action in tb] != [t.action for t in b.tiers if t.action in ta]:
            changes.append(Change(name, "tier order", [t.action for t in a.tiers], [t.action for t in b.tiers]))
    common = [n for n in [r.name for r in old.rules] if n in new_rules]
    if common != [n for n in [r.name for r in new.rules] if n in old_rules]:
        changes.append(Change("(policy)", "rule order", [r.name for r in old.rules], [r.name for r in new.rules]))
    return changes


# cells of the paired 2x2x2 table: (old flagged, new flagged, label)
_CELLS = [(a, b, y) for a in (0, 1) for b in (0, 1) for y in (0, 1)]


def _metrics(cells: np.ndarray, costs: tuple[float, float] | None) -> dict[str, np.ndarray]:
    """Flagged-case metrics for the old and new policy from cell counts (last axis = the 8 cells)."""
    c = {cell: cells[..., i] for i, cell in enumerate(_CELLS)}
    out = {}
    for side, pick in (("old", 0), ("new", 1)):
        tp = sum(v for k, v in c.items() if k[pick] == 1 and k[2] == 1)
        fp = sum(v for k, v in c.items() if k[pick] == 1 and k[2] == 0)
        fn = sum(v for k, v in c.items() if k[pick] == 0 and k[2] == 1)
        with np.errstate(all="ignore"):
            out[f"{side}_precision"] = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-300), np.nan)
            out[f"{side}_recall"] = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1e-300), np.nan)
        out[f"{side}_alerts"] = tp + fp
        if costs is not None:
            out[f"{side}_cost"] = costs[0] * fn + costs[1] * fp
    return out


@dataclass(frozen=True)
class DataImpact:
    rows: int
    flips: dict[tuple[str, str], int]
    flips_by_segment: dict[str, int]
    metrics: dict[str, float]
    deltas: dict[str, dict]  # metric -> {"delta", "interval": [lo, hi]}
    confidence: float

    @property
    def flipped(self) -> int:
        return sum(v for (a, b), v in self.flips.items() if a != b)

    def to_dict(self) -> dict:
        return {"rows": self.rows, "flipped": self.flipped,
                "flips": [{"old": a, "new": b, "count": v} for (a, b), v in sorted(self.flips.items())],
                "flips_by_segment": self.flips_by_segment, "metrics": self.metrics, "deltas": self.deltas,
                "confidence": self.confidence}


@dataclass(frozen=True)
class PolicyDiff:
    old: str
    new: str
    changes: list[Change]
    impact: DataImpact | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"old": self.old, "new": self.new,
                "changes": [{"rule": c.rule, "what": c.what, "old": c.old, "new": c.new} for c in self.changes],
                "impact": self.impact.to_dict() if self.impact else None}


def data_impact(old: Policy, new: Policy, data, *, label: str, pos_label=None, costs=None, n_resamples: int = 1000,
                seed: int = 0, confidence: float = 0.95) -> DataImpact:
    """Decide ``data`` under both policies: flipped decisions and the change in precision, recall,
    alert volume (and cost) of flagged cases (any tier reached), with paired bootstrap intervals."""
    columns = list(dict.fromkeys([label, old.score, new.score, *old.segments, *new.segments]))
    table = read_table(data, columns)
    y, _ = clean_label(table.column(label), label, pos_label)
    a = old.decide_table(table)
    b = new.decide_table(table)
    act_a = a.column("action").to_numpy(zero_copy_only=False).astype(str)
    act_b = b.column("action").to_numpy(zero_copy_only=False).astype(str)
    pairs, counts = np.unique(np.stack([act_a, act_b]), axis=1, return_counts=True)
    flips = {(str(p[0]), str(p[1])): int(n) for p, n in zip(pairs.T, counts)}
    segment = b.column("segment").to_numpy(zero_copy_only=False).astype(str)
    changed = act_a != act_b
    names, per = np.unique(segment[changed], return_counts=True)
    flips_by_segment = {str(n): int(v) for n, v in zip(names, per)}
    flag_a = (a.column("tier").to_numpy(zero_copy_only=False).astype(str) != "otherwise").astype(int)
    flag_b = (b.column("tier").to_numpy(zero_copy_only=False).astype(str) != "otherwise").astype(int)
    cell_index = flag_a * 4 + flag_b * 2 + y.astype(int)
    cells = np.bincount(cell_index, minlength=8).astype(float)
    point = _metrics(cells, costs)
    rng = np.random.default_rng(seed)
    samples = _metrics(rng.multinomial(int(cells.sum()), cells / cells.sum(), size=n_resamples).astype(float), costs)
    tail = (1 - confidence) / 2
    deltas = {}
    for metric in ("precision", "recall", "alerts", "cost"):
        if f"new_{metric}" not in point:
            continue
        d = samples[f"new_{metric}"] - samples[f"old_{metric}"]
        d = d[np.isfinite(d)]
        delta = float(point[f"new_{metric}"] - point[f"old_{metric}"])
        interval = [float(np.quantile(d, tail)), float(np.quantile(d, 1 - tail))] if d.size else [None, None]
        deltas[metric] = {"old": float(point[f"old_{metric}"]), "new": float(point[f"new_{metric}"]),
                          "delta": delta, "interval": interval}
    metrics = {k: float(v) for k, v in point.items()}
    return DataImpact(int(cells.sum()), flips, flips_by_segment, metrics, deltas, confidence)


def diff_policies(old: Policy, new: Policy, data=None, **impact_options) -> PolicyDiff:
    """Structural changes, plus the decision impact on labelled ``data`` when given (needs ``label=``)."""
    impact = data_impact(old, new, data, **impact_options) if data is not None else None
    return PolicyDiff(f"{old.name} v{old.version}", f"{new.name} v{new.version}", structural_changes(old, new), impact)
