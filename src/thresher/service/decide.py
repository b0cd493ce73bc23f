"""One active policy, ready to decide requests: the response document and the audit rows.

A :class:`Decider` is immutable and built once per policy version; a request takes the current one
once (one attribute read) and uses only it, so a hot reload never mixes two versions in a response.
Batches go through :meth:`Policy.decide_table` (the Arrow / numba path); a single case through
:meth:`Policy.decide_one`; both are the library's own functions, so the service decides exactly as
``thresher policy apply`` does.
"""

from __future__ import annotations

import hashlib
import time
import itertools
import os
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import orjson
import pyarrow as pa

from thresher.policy.policy import Policy
from thresher.service.audit.store import PolicyEntry
from thresher.service.cases import RequestError, batch_columns, check_case, parse_json, problem


_PROCESS = os.urandom(8).hex()  # unique per process (and worker); a counter within it: no syscall per request
_SEQUENCE = itertools.count(1)


def request_id() -> str:
    """32 hex digits, unique across processes and restarts: a random process prefix and a counter."""
    return f"{_PROCESS}{next(_SEQUENCE):016x}"


_SECOND = (0, "1970-01-01T00:00:00")  # the last whole second formatted: strftime once a second, not per request


def utc_now() -> str:
    """Fixed-width ISO-8601 UTC time (sorts as text): ``2026-01-31T12:00:00.000000Z``."""
    global _SECOND
    micros = time.time_ns() // 1000
    second, fraction = divmod(micros, 1_000_000)
    if second != _SECOND[0]:
        _SECOND = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_SECOND[1]}.{fraction:06d}Z"


def policy_entry(decider: "Decider") -> PolicyEntry:
    return PolicyEntry(decider.name, decider.version, decider.digest, orjson.dumps(decider.document).decode(),
                       decider.outcomes, utc_now())


def policy_digest(policy: Policy) -> str:
    return hashlib.sha256(orjson.dumps(policy.to_dict(), option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class AuditBatch:
    """The decisions of one request as the audit log stores them. ``rows`` is a JSON array of
    ``[case_id, score, [segment values in segment_fields order], outcome code]``: serialised once,
    exploded into rows by the database itself (``json_each`` / ``json_array_elements``), never bound
    row by row. The code names the action, tier, threshold and rule in the policy's outcome table
    (:attr:`Decider.outcomes`), recorded with the policy before any decision under it."""

    request_id: str
    decided_at: str
    policy_name: str
    policy_version: int
    segment_fields: str  # JSON array of the policy's segment field names
    rows: bytes
    count: int
    row: tuple | None = None  # a one-case request's row as bound values: (case_id text, score, segments JSON, code)


@dataclass
class Outcome:
    body: bytes  # the JSON response
    kind: str  # "single" or "batch"
    audit: AuditBatch
    counts: list[tuple[str, str, int]]  # (action, segment rule, decisions)


class Decider:
    """Decide request bodies under one policy (see the module docstring)."""

    def __init__(self, policy: Policy, *, source: str, max_batch: int):
        self.policy = policy
        self.name = policy.name
        self.version = policy.version
        self.digest = policy_digest(policy)
        self.document = policy.to_dict()
        self.source = source
        self.loaded_at = utc_now()
        self.max_batch = max_batch
        self.fields = list(policy.segments)
        self.fields_json = orjson.dumps(self.fields).decode()
        self.score_keys = ("score",) if policy.score == "score" else ("score", policy.score)
        self._n_actions = len(policy.model.actions)
        self._rule_index = {r.name: i for i, r in enumerate(policy.rules)}
        self._tier_index = {t: i for i, t in enumerate([*policy.model.actions, "otherwise"])}
        self.outcomes = outcome_table(policy)
        self._outcome_of = [None] * (len(policy.rules) * (self._n_actions + 1))  # code -> (action, rule)
        self._json_of = [b""] * len(self._outcome_of)  # code -> the decision's JSON after its id
        for code, action, tier, threshold, rule in self.outcomes:
            self._outcome_of[code] = (action, rule)
            self._json_of[code] = b"," + orjson.dumps({"action": action, "tier": tier, "threshold": threshold,
                                                       "segment": rule})[1:-1]
        self.describe = {"name": self.name, "version": self.version, "sha256": self.digest,
                         "score": policy.score, "segments": self.fields, "actions": list(policy.model.actions),
                         "loaded_at": self.loaded_at, "source": source, "policy": self.document}

    def decide(self, body: bytes) -> Outcome:
        """A single case ``{id, score, <segments>}`` or a batch ``{"cases": [...]}``."""
        data = parse_json(body)
        if isinstance(data, dict) and "cases" in data:
            cases = data["cases"]
            if not isinstance(cases, list):
                raise RequestError(422, [problem(("cases",), "must be an array of cases", "list_type")])
            if len(cases) > self.max_batch:
                raise RequestError(413, f"The batch has {len(cases):,} cases; this server takes at most "
                                        f"{self.max_batch:,} per request (--max-batch). Split it into smaller "
                                        "batches.")
            if not cases:
                raise RequestError(422, [problem(("cases",), "is empty: send at least one case", "too_short")])
            return self.decide_batch(cases)
        if not isinstance(data, dict):
            raise RequestError(422, [problem((), "the body must be a JSON object: one case {id, score, ...} "
                                                 "or a batch {\"cases\": [...]}", "dict_type")])
        return self.decide_single(data)

    def decide_single(self, case: dict) -> Outcome:
        check_case(case, self.score_keys, self.fields)
        score = case["score"] if "score" in case else case[self.score_keys[1]]
        segments = {f: case[f] for f in self.fields}
        d = self.policy.decide_one(float(score), **segments)
        rid = request_id()
        threshold = d["threshold"]
        document = {"request_id": rid, "id": case["id"], "action": d["action"], "tier": d["tier"],
                    "threshold": threshold, "segment": d["segment"], "policy": self.name,
                    "policy_version": self.version}
        code = self._rule_index[d["segment"]] * (self._n_actions + 1) + self._tier_index[d["tier"]]
        values = list(segments.values())
        row = [case["id"], score, values, code]
        audit = AuditBatch(rid, utc_now(), self.name, self.version, self.fields_json, orjson.dumps([row]), 1,
                           (str(case["id"]), float(score), orjson.dumps(values).decode(), code))
        return Outcome(orjson.dumps(document), "single", audit, [(d["action"], d["segment"], 1)])

    def decide_batch(self, cases: list) -> Outcome:
        columns = batch_columns(cases, self.score_keys, self.fields)
        table = pa.table({self.policy.score: columns.score_array,
                          **dict(zip(self.fields, columns.segment_arrays))})
        out = self.policy.decide_table(table)
        rule_codes = out.column("segment").chunk(0).indices.to_numpy()
        tier_codes = out.column("tier").chunk(0).indices.to_numpy()
        # the outcome code names action, tier, threshold and rule at once: each decision's JSON is its
        # id and the code's ready-made text (no dict per case), and the audit row stores the code
        code_array = rule_codes.astype(np.int64) * (self._n_actions + 1) + tier_codes
        codes = code_array.tolist()
        n = len(codes)
        rid = request_id()
        head = orjson.dumps({"request_id": rid, "policy": self.name, "policy_version": self.version, "count": n})
        decisions = b"},{".join(map(b"".join, zip(repeat(b'"id":', n), map(orjson.dumps, columns.ids),
                                                    map(self._json_of.__getitem__, codes))))
        body = b"".join((head[:-1], b',"decisions":[{', decisions, b"}]}"))
        per_row = zip(*columns.segments) if self.fields else repeat((), n)
        # ids as text, as the single path stores them: a JSON integer beyond int64 would turn into a REAL
        audit_ids = [i if type(i) is str else str(i) for i in columns.ids]
        rows = orjson.dumps(list(zip(audit_ids, columns.scores, per_row, codes)))
        audit = AuditBatch(rid, utc_now(), self.name, self.version, self.fields_json, rows, n)
        tally = np.bincount(code_array)
        counts = [(*self._outcome_of[code], int(tally[code])) for code in np.flatnonzero(tally)]
        return Outcome(body, "batch", audit, counts)


def outcome_table(policy: Policy) -> tuple:
    """Every decision ``policy`` can make: ``(code, action, tier, threshold, rule)`` with
    ``code = rule index * (actions + 1) + tier`` (the tier's action index; ``actions`` for otherwise).
    Tier actions are unique within a rule, so the code is unique."""
    actions = list(policy.model.actions)
    width = len(actions) + 1
    table = []
    for i, rule in enumerate(policy.rules):
        for tier in rule.tiers:
            table.append((i * width + actions.index(tier.action), tier.action, tier.action, tier.threshold, rule.name))
        lowest = rule.tiers[-1].threshold if rule.tiers else None
        table.append((i * width + len(actions), rule.otherwise, "otherwise", lowest, rule.name))
    return tuple(table)


def warm_up(decider: Decider) -> float:
    """Decide one synthetic row through the batch path so the first request pays no JIT load."""
    start = time.perf_counter()
    table = pa.table({decider.policy.score: np.zeros(1), **{f: pa.nulls(1, pa.string()) for f in decider.fields}})
    decider.policy.decide_table(table)
    return time.perf_counter() - start
