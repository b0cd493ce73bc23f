"""Prometheus metrics in the text exposition format (version 0.0.4), without a client library.

Counters live in one process: with ``--workers N`` each worker reports its own, as Prometheus
expects of separate targets.
"""

from __future__ import annotations

import bisect
import threading

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Histogram:
    def __init__(self, buckets=LATENCY_BUCKETS):
        self.bounds = list(buckets)
        self.counts = [0] * (len(self.bounds) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.total += seconds
        self.n += 1

    def lines(self, name: str, labels: str = "") -> list[str]:
        out, running = [], 0
        sep = "," if labels else ""
        for bound, count in zip(self.bounds, self.counts):
            running += count
            out.append(f'{name}_bucket{{{labels}{sep}le="{bound:g}"}} {running}')
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.n}')
        braces = f"{{{labels}}}" if labels else ""
        out += [f"{name}_sum{braces} {self.total:.9g}", f"{name}_count{braces} {self.n}"]
        return out


class Metrics:
    """What ``GET /metrics`` reports. Updated on the event loop, except the audit figures (writer thread)."""

    def __init__(self):
        self.decisions: dict[tuple[str, str], int] = {}
        self.requests: dict[tuple[str, int], int] = {}
        self.latency = {"single": Histogram(), "batch": Histogram()}
        self.audit_seconds = Histogram()
        self.audit_rows = 0
        self.audit_transactions = 0
        self.audit_failures = 0
        self.reloads: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def decided(self, counts, kind: str, seconds: float) -> None:
        for action, segment, n in counts:
            key = (action, segment)
            self.decisions[key] = self.decisions.get(key, 0) + n
        self.latency[kind].observe(seconds)

    def request(self, endpoint: str, status: int) -> None:
        key = (endpoint, status)
        self.requests[key] = self.requests.get(key, 0) + 1

    def reloaded(self, source: str, result: str) -> None:
        key = (source, result)
        self.reloads[key] = self.reloads.get(key, 0) + 1

    def audit_committed(self, batches: int, rows: int, seconds: float) -> None:
        with self._lock:
            self.audit_rows += rows
            self.audit_transactions += 1
            self.audit_seconds.observe(seconds)

    def audit_failed(self, rows: int) -> None:
        with self._lock:
            self.audit_failures += rows

    def render(self, *, backlog: int, policy_name: str, policy_version: int) -> str:
        lines = ["# HELP thresher_decisions_total Decisions returned, by action and matched segment rule.",
                 "# TYPE thresher_decisions_total counter"]
        for (action, segment), n in sorted(self.decisions.items()):
            lines.append(f'thresher_decisions_total{{action="{_label(action)}",segment="{_label(segment)}"}} {n}')
        lines += ["# HELP thresher_requests_total HTTP requests by endpoint and status.",
                  "# TYPE thresher_requests_total counter"]
        for (endpoint, status), n in sorted(self.requests.items()):
            lines.append(f'thresher_requests_total{{endpoint="{_label(endpoint)}",status="{status}"}} {n}')
        lines += ["# HELP thresher_decide_latency_seconds Time in POST /v1/decide, body read to response, "
                  "audit commit included.", "# TYPE thresher_decide_latency_seconds histogram"]
        for kind, histogram in self.latency.items():
            lines += histogram.lines("thresher_decide_latency_seconds", f'kind="{kind}"')
        with self._lock:
            lines += ["# HELP thresher_audit_backlog_decisions Decisions waiting to be committed to the audit log.",
                      "# TYPE thresher_audit_backlog_decisions gauge", f"thresher_audit_backlog_decisions {backlog}",
                      "# HELP thresher_audit_decisions_total Decisions committed to the audit log.",
                      "# TYPE thresher_audit_decisions_total counter",
                      f"thresher_audit_decisions_total {self.audit_rows}",
                      "# HELP thresher_audit_transactions_total Audit commits (each shared by a group of requests).",
                      "# TYPE thresher_audit_transactions_total counter",
                      f"thresher_audit_transactions_total {self.audit_transactions}",
                      "# HELP thresher_audit_failed_decisions_total Decisions whose audit write failed (answered 503).",
                      "# TYPE thresher_audit_failed_decisions_total counter",
                      f"thresher_audit_failed_decisions_total {self.audit_failures}",
                      "# HELP thresher_audit_commit_seconds Time to write and commit one audit group.",
                      "# TYPE thresher_audit_commit_seconds histogram"]
            lines += self.audit_seconds.lines("thresher_audit_commit_seconds")
        lines += ["# HELP thresher_policy_reloads_total Policy reloads by source and result.",
                  "# TYPE thresher_policy_reloads_total counter"]
        for (source, result), n in sorted(self.reloads.items()):
            lines.append(f'thresher_policy_reloads_total{{source="{source}",result="{result}"}} {n}')
        lines += ["# HELP thresher_policy_info The policy being served.", "# TYPE thresher_policy_info gauge",
                  f'thresher_policy_info{{name="{_label(policy_name)}",version="{policy_version}"}} 1']
        return "\n".join(lines) + "\n"
