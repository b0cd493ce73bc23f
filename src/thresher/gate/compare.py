"""``thresher runs compare A B``: metric deltas between two recorded runs, with paired significance.

For each dataset the two runs share (by name), it compares ROC AUC, average precision and what every
check of either run measures (``recall at threshold 0.5``, ...), recomputed from the stored per-case
scores. When both runs scored the same rows (same rows fingerprint) the difference B - A comes
with a paired test (DeLong for ROC AUC, the paired bootstrap otherwise) at the confidence of run A;
on different rows the values are shown without a test, since no pairing exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from thresher.data.columns import Columns
from thresher.errors import SpecError
from thresher.gate.measure import Sample, measure
from thresher.gate.paired import paired_difference
from thresher.gate.result import number
from thresher.gate.spec import AtObjective, AtPolicy, Check, parse
from thresher.gate.store import RunStore, StoredDataset

STANDARD = ("roc_auc", "average_precision")


@dataclass
class Row:
    dataset: str
    measure: str
    a: float
    b: float
    delta: float
    low: float = float("nan")
    high: float = float("nan")
    p_value: float = float("nan")
    method: str = ""
    significant: bool | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "measure": self.measure, "a": number(self.a), "b": number(self.b),
                "delta": number(self.delta), "interval": [number(self.low), number(self.high)],
                "p_value": number(self.p_value), "method": self.method, "significant": self.significant,
                "note": self.note}


@dataclass
class Comparison:
    a: dict
    b: dict
    confidence: float
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        def head(doc):
            return {k: doc.get(k) for k in ("run_id", "gate", "created_at", "git_commit", "passed")}

        return {"a": head(self.a), "b": head(self.b), "confidence": self.confidence,
                "rows": [r.to_dict() for r in self.rows], "notes": self.notes}


def _measures(doc: dict, dataset: str) -> list[Check]:
    out = []
    for c in doc.get("checks", []):
        if c["dataset"] != dataset:
            continue
        try:
            check = parse(c["check"])
        except SpecError:
            continue
        out.append(Check(check.metric, ">=", 0.0, check.at))
    return out


def _sample(stored: StoredDataset, rows: StoredDataset) -> Sample:
    cols = Columns(rows.y, stored.scores, rows.weight, rows.segments)
    return Sample(cols, stored.decisions, stored.actions)


def compare_runs(store: RunStore, a: str, b: str, *, n_resamples: int = 1000, seed: int = 0) -> Comparison:
    """Compare run ``b`` against run ``a`` (``delta = b - a``)."""
    doc_a, doc_b = store.document(a), store.document(b)
    confidence = float(doc_a.get("confidence", 0.95))
    out = Comparison(doc_a, doc_b, confidence)
    names_a, names_b = list(doc_a["datasets"]), list(doc_b["datasets"])
    for name in [n for n in names_a + names_b if (n in names_a) != (n in names_b)]:
        out.notes.append(f"dataset '{name}' is only in run {doc_a['run_id'] if name in names_a else doc_b['run_id']}")
    for name in [n for n in names_a if n in names_b]:
        sa = store.dataset(doc_a["run_id"], name)
        sb = store.dataset(doc_b["run_id"], name)
        paired = sa.rows_fingerprint == sb.rows_fingerprint
        if not paired:
            out.notes.append(f"dataset '{name}': the runs scored different rows (rows fingerprints differ), so the "
                             "differences have no paired test")
        sample_a, sample_b = _sample(sa, sa), _sample(sb, sb if not paired else sa)
        checks = [Check(m, ">=", 0.0) for m in STANDARD] + _measures(doc_a, name) + _measures(doc_b, name)
        seen = set()
        for check in checks:
            if check.measure in seen:
                continue
            seen.add(check.measure)
            row = _compare(check, name, sample_a, sample_b, paired, confidence, n_resamples, seed)
            out.rows.append(row)
    return out


def _compare(check: Check, name: str, a: Sample, b: Sample, paired: bool, confidence: float, n_resamples: int,
             seed: int) -> Row:
    nan = float("nan")
    if isinstance(check.at, AtObjective) and check.at.objective.columns():
        return Row(name, check.measure, nan, nan, nan, note="needs data columns the run history does not keep")
    if isinstance(check.at, AtPolicy) and (a.decisions is None or b.decisions is None):
        return Row(name, check.measure, nan, nan, nan, note="a run has no policy decisions")
    if not paired:
        va, vb = measure(check, a).value, measure(check, b).value
        return Row(name, check.measure, va, vb, vb - va, note="different rows: no paired test")
    d = paired_difference(check, b, a, level=confidence, margin=0.0, n_resamples=n_resamples, seed=seed)
    significant = None if math.isnan(d.p_value) else bool(d.p_value < 1 - confidence)
    return Row(name, check.measure, d.baseline, d.current, d.delta, d.low, d.high, d.p_value, d.method, significant)
