"""The result of a gate run: one verdict per check, the datasets it ran on, and the JSON document.

The JSON document (``thresher check --json``) is also what the run history stores, so a stored
run renders exactly as it did when it ran.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PASS, FAIL, SKIP = "pass", "fail", "skip"


def number(value):
    """JSON-friendly float: NaN and None as None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _float(value) -> float:
    return float("nan") if value is None else float(value)


@dataclass
class CheckResult:
    """The verdict of one check on one dataset (``segments``: one result per segment for 'per segment:')."""

    check: str
    dataset: str
    verdict: str
    value: float
    op: str
    bound: float
    why: str
    name: str | None = None
    segment: str | None = None
    details: dict = field(default_factory=dict)
    segments: list["CheckResult"] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True unless the verdict is a failure (a skipped check does not fail the gate)."""
        return self.verdict != FAIL

    @property
    def title(self) -> str:
        return self.name or self.check

    def to_dict(self) -> dict:
        out = {"check": self.check, "name": self.name, "dataset": self.dataset, "verdict": self.verdict,
               "value": number(self.value), "op": self.op, "bound": number(self.bound), "why": self.why,
               "details": self.details, "seconds": round(self.seconds, 6)}
        if self.segment is not None:
            out["segment"] = self.segment
        if self.segments:
            out["segments"] = [s.to_dict() for s in self.segments]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "CheckResult":
        return cls(d["check"], d["dataset"], d["verdict"], _float(d.get("value")), d["op"], _float(d.get("bound")),
                   d["why"], d.get("name"), d.get("segment"), d.get("details") or {},
                   [cls.from_dict(s) for s in d.get("segments", [])], d.get("seconds", 0.0))


@dataclass
class DatasetSummary:
    """What a golden dataset looked like in this run."""

    name: str
    path: str
    n: int
    positives: float
    negatives: float
    fingerprint: str
    rows_fingerprint: str
    metrics: dict = field(default_factory=dict)
    segments: dict = field(default_factory=dict)
    baseline_run: str | None = None
    policy: str | None = None

    def to_dict(self) -> dict:
        return {"path": self.path, "n": self.n, "positives": number(self.positives),
                "negatives": number(self.negatives), "fingerprint": self.fingerprint,
                "rows_fingerprint": self.rows_fingerprint,
                "metrics": {k: number(v) for k, v in self.metrics.items()},
                "segments": {s: {k: number(v) for k, v in m.items()} for s, m in self.segments.items()},
                "baseline_run": self.baseline_run, "policy": self.policy}

    @classmethod
    def from_dict(cls, name: str, d: dict) -> "DatasetSummary":
        return cls(name, d["path"], d["n"], _float(d["positives"]), _float(d["negatives"]), d["fingerprint"],
                   d["rows_fingerprint"], {k: _float(v) for k, v in d.get("metrics", {}).items()},
                   {s: {k: _float(v) for k, v in m.items()} for s, m in d.get("segments", {}).items()},
                   d.get("baseline_run"), d.get("policy"))


@dataclass
class GateResult:
    """A gate run: ``passed`` when no check failed. ``to_dict()`` is the JSON document."""

    run_id: str
    gate: str
    created_at: str
    checks: list[CheckResult]
    datasets: dict[str, DatasetSummary]
    confidence: float = 0.95
    gate_file: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    baseline: str | None = None
    thresher_version: str = ""
    seconds: float = 0.0
    recorded_in: str | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.verdict == FAIL]

    def counts(self) -> dict[str, int]:
        out = {"total": len(self.checks), PASS: 0, FAIL: 0, SKIP: 0}
        for c in self.checks:
            out[c.verdict] += 1
        return out

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "gate": self.gate, "gate_file": self.gate_file, "created_at": self.created_at,
                "git_commit": self.git_commit, "git_dirty": self.git_dirty, "passed": self.passed,
                "summary": self.counts(), "confidence": self.confidence, "baseline": self.baseline,
                "thresher_version": self.thresher_version, "seconds": round(self.seconds, 3),
                "datasets": {name: d.to_dict() for name, d in self.datasets.items()},
                "checks": [c.to_dict() for c in self.checks]}

    @classmethod
    def from_dict(cls, d: dict) -> "GateResult":
        return cls(d["run_id"], d["gate"], d["created_at"], [CheckResult.from_dict(c) for c in d["checks"]],
                   {name: DatasetSummary.from_dict(name, v) for name, v in d["datasets"].items()},
                   d.get("confidence", 0.95), d.get("gate_file"), d.get("git_commit"), d.get("git_dirty"),
                   d.get("baseline"), d.get("thresher_version", ""), d.get("seconds", 0.0))
