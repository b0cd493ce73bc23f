"""PostgreSQL audit log (psycopg 3): the production store.

Like SQLite, each request's decisions arrive as one JSON array that PostgreSQL explodes itself
(``json_array_elements``); a group of concurrent requests shares one transaction and one commit.
"""

from __future__ import annotations

import json

from thresher.errors import require
from thresher.service.audit.store import COLUMNS, AuditError, Filters, redact, version_conflict, where_clause

SCHEMA = """
CREATE TABLE IF NOT EXISTS thresher_decisions (
    request_id text NOT NULL,
    seq integer NOT NULL,
    decided_at timestamptz NOT NULL,
    case_id text NOT NULL,
    score double precision NOT NULL,
    segments jsonb NOT NULL,
    action text NOT NULL,
    tier text NOT NULL,
    threshold double precision,
    segment text NOT NULL,
    policy_name text NOT NULL,
    policy_version integer NOT NULL
);
CREATE TABLE IF NOT EXISTS thresher_outcomes (
    policy_name text NOT NULL,
    policy_version integer NOT NULL,
    code integer NOT NULL,
    action text NOT NULL,
    tier text NOT NULL,
    threshold double precision,
    segment text NOT NULL,
    PRIMARY KEY (policy_name, policy_version, code)
);
CREATE INDEX IF NOT EXISTS thresher_decisions_case_id ON thresher_decisions (case_id);
CREATE INDEX IF NOT EXISTS thresher_decisions_decided_at ON thresher_decisions (decided_at);
CREATE TABLE IF NOT EXISTS thresher_policies (
    name text NOT NULL,
    version integer NOT NULL,
    sha256 text NOT NULL,
    document jsonb NOT NULL,
    first_seen timestamptz NOT NULL,
    PRIMARY KEY (name, version)
);
"""
_TIME = """to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


class PostgresAuditStore:
    kind = "postgresql"
    quick_commit = False  # a commit is a network round trip: always on the writer thread

    def __init__(self, url: str):
        self.url = url
        self._shown = redact(url)
        self._psycopg = require("psycopg", "postgres", "The PostgreSQL audit log")
        self._conn = None
        self._connect()
        self._insert_sql: dict[int, str] = {}

    def _connect(self) -> None:
        psycopg = self._psycopg
        try:
            self._conn = psycopg.connect(self.url, connect_timeout=10)
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(hashtext('thresher_audit_schema'))")
                self._conn.execute(SCHEMA)
        except psycopg.Error as exc:
            reason = " ".join(str(exc).split())
            raise AuditError(f"Cannot open the audit log {self._shown} ({reason}). Check that the server is "
                             "running and the URL (user, host, port, database) is right.") from None

    def _insert(self, n_fields: int) -> str:
        if n_fields not in self._insert_sql:
            segs = ", ".join(f"%(f{k})s::text, e.v->2->{k}" for k in range(n_fields))
            # LEFT JOIN: an unknown outcome code leaves action NULL and fails the NOT NULL check (503), never
            # drops the row
            self._insert_sql[n_fields] = (
                f"INSERT INTO thresher_decisions ({', '.join(COLUMNS)}) "
                f"SELECT %(rid)s, e.n - 1, %(at)s::timestamptz, e.v->>0, (e.v->>1)::float8, "
                f"jsonb_build_object({segs}), o.action, o.tier, o.threshold, o.segment, %(name)s, %(version)s "
                "FROM json_array_elements(%(rows)s::json) WITH ORDINALITY AS e(v, n) "
                "LEFT JOIN thresher_outcomes o ON o.policy_name = %(name)s AND o.policy_version = %(version)s "
                "AND o.code = (e.v->>3)::int")
        return self._insert_sql[n_fields]

    # writing (one thread) ---------------------------------------------------------------------
    def write(self, batches) -> None:
        psycopg = self._psycopg
        try:
            with self._conn.cursor() as cur:
                for b in batches:
                    fields = json.loads(b.segment_fields)
                    params = {"rid": b.request_id, "at": b.decided_at, "name": b.policy_name,
                              "version": b.policy_version, "rows": b.rows.decode(),
                              **{f"f{k}": field for k, field in enumerate(fields)}}
                    cur.execute(self._insert(len(fields)), params)
            self._conn.commit()
        except psycopg.Error as exc:
            self.recover()
            raise AuditError(f"Writing the audit log {self._shown} failed: {str(exc).strip()}.") from None

    def register_policy(self, entry) -> None:
        """Record a policy version and its outcome table (once); refuse a version taken by other rules."""
        psycopg = self._psycopg
        try:
            with self._conn.transaction():
                inserted = self._conn.execute(
                    "INSERT INTO thresher_policies VALUES (%s, %s, %s, %s::jsonb, %s::timestamptz) "
                    "ON CONFLICT DO NOTHING", (entry.name, entry.version, entry.sha256, entry.document,
                                               entry.first_seen)).rowcount
                if inserted:
                    with self._conn.cursor() as cur:
                        cur.executemany("INSERT INTO thresher_outcomes VALUES (%s, %s, %s, %s, %s, %s, %s)",
                                        [(entry.name, entry.version, *outcome) for outcome in entry.outcomes])
                known = self._conn.execute("SELECT sha256 FROM thresher_policies WHERE name = %s AND version = %s",
                                           (entry.name, entry.version)).fetchone()
        except psycopg.Error as exc:
            self.recover()
            raise AuditError(f"Recording the policy in the audit log {self._shown} failed: "
                             f"{str(exc).strip()}.") from None
        if conflict := version_conflict(entry.name, entry.version, known[0], entry.sha256):
            raise conflict

    def ping(self) -> None:
        try:
            self._conn.execute("SELECT 1").fetchone()
            self._conn.rollback()
        except self._psycopg.Error as exc:
            self.recover()
            raise AuditError(f"The audit log {self._shown} does not answer: {str(exc).strip()}.") from None

    def recover(self) -> None:
        """Roll back a failed transaction; reconnect if the connection itself is gone."""
        try:
            if not self._conn.closed:
                self._conn.rollback()
                return
        except self._psycopg.Error:
            pass
        try:
            self._conn.close()
            self._connect()
        except AuditError:
            pass  # the next write tries again and fails with the reason

    # reading ----------------------------------------------------------------------------------
    def query(self, filters: Filters, *, chunk: int = 50_000):
        where, params = where_clause(filters, "%s", "::timestamptz")
        columns = [(_TIME if c == "decided_at" else c) for c in COLUMNS]
        sql = f"SELECT {', '.join(columns)} FROM thresher_decisions" + where
        sql += " ORDER BY decided_at, request_id, seq"
        if filters.limit is not None:
            sql += f" LIMIT {int(filters.limit)}"
        try:
            with self._conn.transaction(), self._conn.cursor(name="thresher_audit_query") as cur:
                cur.itersize = chunk
                cur.execute(sql, params)
                for row in cur:
                    yield dict(zip(COLUMNS, row))
        except self._psycopg.Error as exc:
            raise AuditError(f"Reading the audit log {self._shown} failed: {str(exc).strip()}.") from None

    def policies(self) -> list[dict]:
        rows = self._conn.execute("SELECT name, version, sha256, document, "
                                  f"{_TIME.replace('decided_at', 'first_seen')} FROM thresher_policies "
                                  "ORDER BY first_seen").fetchall()
        self._conn.rollback()
        return [{"name": n, "version": v, "sha256": s, "document": d, "first_seen": f} for n, v, s, d, f in rows]

    def close(self) -> None:
        self._conn.close()
