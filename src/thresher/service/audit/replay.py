"""Replay: decide logged cases again under another policy and count what would change.

The logged score and segment values go through :meth:`Policy.decide_table`, exactly as the
service decides; the logged action is the "old" side of each flip.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from thresher.errors import InputError
from thresher.policy.policy import Policy
from thresher.policy.schema import match_text


@dataclass
class ReplayResult:
    policy: str
    rows: int = 0
    changed: int = 0
    flips: Counter = field(default_factory=Counter)  # (old action, new action) -> decisions
    by_version: Counter = field(default_factory=Counter)  # logged policy version -> decisions
    changed_by_segment: Counter = field(default_factory=Counter)  # new rule -> changed decisions

    def to_dict(self) -> dict:
        return {"policy": self.policy, "rows": self.rows, "changed": self.changed,
                "changed_fraction": self.changed / self.rows if self.rows else None,
                "flips": [{"old": a, "new": b, "decisions": n} for (a, b), n in sorted(self.flips.items())],
                "logged_policy_versions": {str(v): n for v, n in sorted(self.by_version.items())},
                "changed_by_segment": dict(sorted(self.changed_by_segment.items()))}


def _decide_chunk(policy: Policy, records: list[dict], result: ReplayResult) -> None:
    columns = {policy.score: np.array([r["score"] for r in records], np.float64)}
    for name in policy.segments:
        values = []
        for r in records:
            segments = r["segments"]
            if name not in segments:
                raise InputError(f"Logged decision {r['request_id']}/{r['seq']} (case '{r['case_id']}', policy "
                                 f"v{r['policy_version']}) has no value for segment '{name}', which policy "
                                 f"'{policy.name}' v{policy.version} needs (logged segments: "
                                 f"{', '.join(segments) or 'none'}). Replay only the versions that recorded it "
                                 "(--policy-version, --since).")
            value = segments[name]
            values.append(None if value is None else match_text(value))  # rules compare values as text
        columns[name] = pa.array(values, pa.string())
    out = policy.decide_table(pa.table(columns))
    new = out.column("action").to_pylist()
    rules = out.column("segment").to_pylist()
    for record, action, rule in zip(records, new, rules):
        result.flips[(record["action"], action)] += 1
        result.by_version[record["policy_version"]] += 1
        if action != record["action"]:
            result.changed += 1
            result.changed_by_segment[rule] += 1
    result.rows += len(records)


def replay(store, policy: Policy, filters, *, chunk: int = 100_000) -> ReplayResult:
    """Re-decide every logged decision that ``filters`` selects under ``policy``."""
    result = ReplayResult(policy=f"{policy.name} v{policy.version}")
    records = []
    for record in store.query(filters):
        records.append(record)
        if len(records) >= chunk:
            _decide_chunk(policy, records, result)
            records = []
    if records:
        _decide_chunk(policy, records, result)
    return result
