"""The audit log's storage contract and URL parsing.

One row per decision, in the table (PostgreSQL) or view (SQLite) ``thresher_decisions``::

    request_id  seq  decided_at (UTC)  case_id  score  segments (JSON object)
    action  tier  threshold  segment (the rule that matched)  policy_name  policy_version

one row per policy version ever served in ``thresher_policies`` (name, version, sha256, document,
first_seen), so a version number in the log always names one set of rules, and in
``thresher_outcomes`` every decision each version can make (code, action, tier, threshold, segment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from thresher.errors import PolicyError, ThresherError

COLUMNS = ("request_id", "seq", "decided_at", "case_id", "score", "segments", "action", "tier", "threshold",
           "segment", "policy_name", "policy_version")


@dataclass(frozen=True)
class PolicyEntry:
    """A policy version as the log records it. ``outcomes`` lists every decision the policy can make,
    ``(code, action, tier, threshold, segment rule)``: the log stores the code per decision."""

    name: str
    version: int
    sha256: str
    document: str  # JSON
    outcomes: tuple
    first_seen: str


class AuditError(ThresherError):
    """The audit log cannot be opened, written or read."""


class AuditBusy(AuditError):
    """Another writer holds the audit log's write lock (raised only by a write asked not to wait)."""


class AuditLocked(AuditError):
    """Another writer held the audit log's write lock for the whole busy timeout: nothing was written.
    Not the fault of any batch, so the writer fails the whole group instead of retrying it batch by batch."""


@dataclass(frozen=True)
class Filters:
    """What ``thresher audit query`` / ``replay`` select; ``since`` inclusive, ``until`` exclusive."""

    since: str | None = None
    until: str | None = None
    case_id: str | None = None
    policy_version: int | None = None
    request_id: str | None = None
    limit: int | None = None


def where_clause(filters: Filters, placeholder: str, time_cast: str = "") -> tuple[str, list]:
    """``(" WHERE ...", params)`` selecting ``filters`` (empty when there is nothing to select)."""
    where, params = [], []
    for column, op, value in (("decided_at", ">=", filters.since), ("decided_at", "<", filters.until),
                              ("case_id", "=", filters.case_id), ("policy_version", "=", filters.policy_version),
                              ("request_id", "=", filters.request_id)):
        if value is not None:
            where.append(f"{column} {op} {placeholder}" + (time_cast if column == "decided_at" else ""))
            params.append(value)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def parse_time(text: str | None, option: str) -> str | None:
    """An ISO-8601 date or time as the log's fixed-width UTC text (naive times are UTC)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AuditError(f"{option} '{text}' is not an ISO-8601 date or time; write e.g. 2026-01-31 or "
                         "2026-01-31T12:00:00Z.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_conflict(name: str, version: int, known_digest: str, digest: str) -> PolicyError | None:
    if known_digest == digest:
        return None
    return PolicyError(f"Policy '{name}' v{version} is already in the audit log with different rules "
                       f"(sha256 {known_digest[:12]}..., this one {digest[:12]}...). A version number must name one "
                       "set of rules: bump 'version' in the policy file.")


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return re.sub(r"://([^:@/]+):[^@/]*@", r"://\1:***@", url)


def open_store(url: str):
    """``sqlite:///path.db`` (``sqlite:////abs/path.db``, ``?synchronous=normal`` to skip the fsync per
    commit) or ``postgresql://user@host:port/db``."""
    if url.startswith("sqlite:///"):
        from thresher.service.audit.sqlite import SQLiteAuditStore

        path, _, query = url[len("sqlite:///"):].partition("?")
        if not path:
            raise AuditError(f"Audit URL '{url}' names no file; write sqlite:///audit.db (relative) or "
                             "sqlite:////var/lib/thresher/audit.db (absolute).")
        options = dict(item.partition("=")[::2] for item in query.split("&") if item)
        synchronous = options.pop("synchronous", "full").lower()
        if options or synchronous not in ("full", "normal"):
            raise AuditError(f"Audit URL '{url}': the only SQLite option is synchronous=full (the default: every "
                             "commit is fsynced) or synchronous=normal (survives a crash of the server, not of "
                             "the machine).")
        return SQLiteAuditStore(path, synchronous=synchronous)
    if url.startswith(("postgresql://", "postgres://")):
        from thresher.service.audit.postgres import PostgresAuditStore

        return PostgresAuditStore(url)
    raise AuditError(f"Unknown audit URL '{url}': use sqlite:///path.db (embedded, the default) or "
                     "postgresql://user@host:5432/db.")
