"""SQLite audit log: WAL mode, ``synchronous=FULL`` (every commit is fsynced), one writer connection.
``sqlite:///path.db?synchronous=normal`` skips the fsync: still safe from a crash of the server.

Each request's decisions arrive as one JSON array and are exploded into rows by ``json_each`` inside
SQLite: no per-row binding in Python, and the GIL is released while SQLite works. What is the same
for a whole request (its id, time, policy, segment field names) is stored once in
``thresher_requests``; each decision keeps its segment values as a JSON array and its outcome as a
code into ``thresher_outcomes`` (action, tier, threshold, rule), which keeps the rows, and the JSON
SQLite parses per row, small. The view ``thresher_decisions`` joins them back into the flat columns of
:data:`COLUMNS` (segments as a JSON object), the same columns the PostgreSQL store has, and is what
``thresher audit`` reads.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from thresher.service.audit.store import (COLUMNS, AuditBusy, AuditError, AuditLocked, Filters, version_conflict,
                                          where_clause)

SCHEMA = """
CREATE TABLE IF NOT EXISTS thresher_requests (
    id INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    segment_fields TEXT NOT NULL,
    decisions INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS thresher_request_decisions (
    request INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    case_id TEXT NOT NULL,
    score REAL NOT NULL,
    segment_values TEXT NOT NULL,
    outcome INTEGER NOT NULL,
    bucket INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS thresher_outcomes (
    policy_name TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    code INTEGER NOT NULL,
    action TEXT NOT NULL,
    tier TEXT NOT NULL,
    threshold REAL,
    segment TEXT NOT NULL,
    PRIMARY KEY (policy_name, policy_version, code)
);
CREATE VIEW IF NOT EXISTS thresher_decisions AS
SELECT r.request_id, d.seq, r.decided_at, d.case_id, d.score,
       (SELECT json_group_object(f.value, json(d.segment_values -> f.key)) FROM json_each(r.segment_fields) f)
           AS segments,
       o.action, o.tier, o.threshold, o.segment, r.policy_name, r.policy_version
FROM thresher_request_decisions d
JOIN thresher_requests r ON r.id = d.request
LEFT JOIN thresher_outcomes o
    ON o.policy_name = r.policy_name AND o.policy_version = r.policy_version AND o.code = d.outcome;
CREATE TABLE IF NOT EXISTS thresher_policies (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    document TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
"""
INSERT_REQUEST = ("INSERT INTO thresher_requests (request_id, decided_at, policy_name, policy_version, segment_fields, "
                  "decisions) VALUES (?, ?, ?, ?, ?, ?)")
_DECISION_COLUMNS = "thresher_request_decisions (request, seq, case_id, score, segment_values, outcome, bucket)"
INSERT_DECISION = f"INSERT INTO {_DECISION_COLUMNS} VALUES (?, 0, ?, ?, ?, ?, ?)"  # a one-case request
INSERT_DECISIONS = (f"INSERT INTO {_DECISION_COLUMNS} SELECT ?, key, value->>0, value->>1, value->2, value->>3, ? "
                    "FROM json_each(?)")
CHECKPOINT_COMMITS, CHECKPOINT_ROWS = 500, 50_000  # about SQLite's own 1,000 WAL pages, a few MB

# Looking a case up. A plain index on case_id takes each decision's id at a random place in one
# B-tree as large as the log: a batch of 10,000 then dirties up to 10,000 pages, and inserting it
# took 5-9x longer once the log held a million decisions. So the index leads with a bucket, the
# log's row count when the decision was written >> BUCKET_BITS: inserts land in the current
# bucket's small subtree (at most ~2x the unindexed insert, however large the log), and a lookup
# by case_id alone is a skip-scan, one seek per bucket (30,000 seeks for a billion decisions).
# SQLite skip-scans only when its statistics say a bucket holds many rows; ANALYZE measures that,
# and until someone runs it the row below says so.
BUCKET_BITS = 15
CASE_INDEX = ("CREATE INDEX IF NOT EXISTS thresher_request_decisions_case_id "
              "ON thresher_request_decisions (bucket, case_id)")
CASE_INDEX_STATS = f"""
ANALYZE sqlite_schema;  -- creates sqlite_stat1 if need be
INSERT INTO sqlite_stat1 (tbl, idx, stat)
SELECT 'thresher_request_decisions', 'thresher_request_decisions_case_id', '1000000000 {1 << BUCKET_BITS} 1'
WHERE NOT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE idx = 'thresher_request_decisions_case_id');
ANALYZE sqlite_schema;  -- this connection reloads the statistics
"""


class SQLiteAuditStore:
    kind = "sqlite"

    def __init__(self, path: str, *, synchronous: str = "full", busy_timeout: float = 30.0):
        self.path = path
        self.url = f"sqlite:///{path}"
        self.synchronous = synchronous
        self.quick_commit = synchronous == "normal"  # no fsync: the writer may commit on the caller's thread
        self._since_checkpoint = [0, 0]  # commits, decisions
        self._checkpointer: sqlite3.Connection | None = None
        self._busy_ms = int(busy_timeout * 1000)
        if not Path(path).parent.exists():
            raise AuditError(f"Cannot open the audit log '{path}': the folder '{Path(path).parent}' does not exist. "
                             "Create it or point --audit elsewhere.")
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout)
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            # FULL: the WAL is fsynced at every commit, so a decision survives a power cut; NORMAL (opt-in):
            # written to the OS at every commit, so it survives a crash of the server but not of the machine
            self._db.execute(f"PRAGMA synchronous={'NORMAL' if synchronous == 'normal' else 'FULL'}")
            if self.quick_commit:  # a commit may run on the event loop: checkpoints go to the writer thread
                self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._db.executescript(SCHEMA)
            self._upgrade()
            self._index_case_ids()
        except sqlite3.Error as exc:
            raise AuditError(f"Cannot open the audit log '{path}': {exc}. Check the path and its permissions.") \
                from None
        if mode.lower() != "wal":
            raise AuditError(f"The audit log '{path}' cannot use WAL mode (got '{mode}'): put it on a local "
                             "filesystem.")

    def _upgrade(self) -> None:
        """Add the bucket column to a log written before it existed (its decisions: bucket 0)."""
        db = self._db
        if "bucket" in {row[1] for row in db.execute("PRAGMA table_info(thresher_request_decisions)")}:
            return
        db.execute("BEGIN IMMEDIATE")  # another worker may be upgrading the same file
        if "bucket" not in {row[1] for row in db.execute("PRAGMA table_info(thresher_request_decisions)")}:
            db.execute("ALTER TABLE thresher_request_decisions ADD COLUMN bucket INTEGER NOT NULL DEFAULT 0")
        db.execute("COMMIT")

    def _index_case_ids(self) -> None:
        """The case index and its planner statistics (see BUCKET_BITS); only reads when both exist."""
        db = self._db
        db.execute(CASE_INDEX)
        if db.execute("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").fetchone() and \
                db.execute("SELECT 1 FROM sqlite_stat1 WHERE idx = 'thresher_request_decisions_case_id'").fetchone():
            return
        db.executescript(CASE_INDEX_STATS)

    # writing (one thread) -------------------------------------------------------------------
    def write(self, batches, *, wait: bool = True) -> None:
        """All batches in one transaction, committed (fsynced) before returning. ``wait=False``: if
        another connection holds the write lock, raise :class:`AuditBusy` at once instead of waiting
        up to the busy timeout (the event loop's inline commits must never stall the loop)."""
        db = self._db
        try:
            if not wait:
                db.execute("PRAGMA busy_timeout=0")
            try:
                db.execute("BEGIN IMMEDIATE")
            finally:
                if not wait:
                    db.execute(f"PRAGMA busy_timeout={self._busy_ms}")
            # the bucket of this transaction's rows, read under the write lock: never smaller than any
            # earlier transaction's, whichever worker wrote it, so a case's rows stay in commit order
            bucket = db.execute("SELECT ifnull(max(rowid), 0) FROM thresher_request_decisions"
                                ).fetchone()[0] >> BUCKET_BITS
            for b in batches:
                request = db.execute(INSERT_REQUEST, (b.request_id, b.decided_at, b.policy_name, b.policy_version,
                                                      b.segment_fields, b.count)).lastrowid
                if b.row is not None:  # binding one row beats parsing a one-element JSON array
                    db.execute(INSERT_DECISION, (request, *b.row, bucket))
                else:
                    db.execute(INSERT_DECISIONS, (request, bucket, b.rows.decode()))
            db.execute("COMMIT")
        except Exception as exc:  # any failure (a bad value too) leaves no transaction open behind it
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                if not wait:
                    raise AuditBusy(f"The audit log '{self.path}' is locked by another writer.") from None
                raise AuditLocked(f"Writing the audit log '{self.path}' failed: another writer held it locked for "
                                  f"the whole busy timeout ({self._busy_ms / 1000:g}s); the decisions were not "
                                  "recorded. Retry.") from None
            raise AuditError(f"Writing the audit log '{self.path}' failed: {exc}.") from None
        rows = sum(b.count for b in batches)
        self._since_checkpoint[0] += 1
        self._since_checkpoint[1] += rows

    @property
    def checkpoint_due(self) -> bool:
        """With ``quick_commit`` SQLite does not checkpoint by itself: true when :meth:`checkpoint` should run."""
        commits, rows = self._since_checkpoint
        return self.quick_commit and (commits >= CHECKPOINT_COMMITS or rows >= CHECKPOINT_ROWS)

    def checkpoint(self, *, beside: bool = False) -> None:
        """Copy the WAL back into the database file, as SQLite's automatic checkpoint does (PASSIVE: it
        waits for no reader or writer). On the writing connection by default; ``beside``: on a second
        connection, so that commits can go on meanwhile (but then the WAL cannot start over: a short
        checkpoint on the writing connection should follow)."""
        try:
            if beside:
                self._since_checkpoint = [0, 0]
                if self._checkpointer is None:
                    self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            else:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            raise AuditError(f"Checkpointing the audit log '{self.path}' failed: {exc}.") from None

    def register_policy(self, entry) -> None:
        """Record a policy version and its outcome table (once); refuse a version taken by other rules."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")  # the write lock first: workers starting together see one another
            known = db.execute("SELECT sha256 FROM thresher_policies WHERE name = ? AND version = ?",
                               (entry.name, entry.version)).fetchone()
            if known is None:
                db.execute("INSERT INTO thresher_policies VALUES (?, ?, ?, ?, ?)",
                           (entry.name, entry.version, entry.sha256, entry.document, entry.first_seen))
                db.executemany("INSERT INTO thresher_outcomes VALUES (?, ?, ?, ?, ?, ?, ?)",
                               [(entry.name, entry.version, *outcome) for outcome in entry.outcomes])
            db.execute("COMMIT")
        except Exception as exc:  # any failure leaves no transaction open behind it
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise AuditError(f"Recording the policy in the audit log '{self.path}' failed: {exc}.") from None
        if known is not None and (conflict := version_conflict(entry.name, entry.version, known[0], entry.sha256)):
            raise conflict

    def ping(self) -> None:
        try:
            self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise AuditError(f"The audit log '{self.path}' does not answer: {exc}.") from None

    def recover(self) -> None:
        """After a failed write: nothing to do, the connection stays usable."""

    # reading ----------------------------------------------------------------------------------
    def query(self, filters: Filters, *, chunk: int = 50_000):
        """Decisions matching ``filters`` in the order they were written, as dicts."""
        where, params = where_clause(filters, "?")
        sql = f"SELECT {', '.join(COLUMNS)} FROM thresher_decisions" + where
        # no ORDER BY: the only plan scans the decisions in the order they were committed, and sorting a
        # large log would not fit in memory
        if filters.limit is not None:
            sql += f" LIMIT {int(filters.limit)}"
        try:
            cursor = self._db.execute(sql, params)
            while rows := cursor.fetchmany(chunk):
                for row in rows:
                    record = dict(zip(COLUMNS, row))
                    record["segments"] = json.loads(record["segments"])
                    yield record
        except sqlite3.Error as exc:
            raise AuditError(f"Reading the audit log '{self.path}' failed: {exc}.") from None

    def policies(self) -> list[dict]:
        rows = self._db.execute("SELECT name, version, sha256, document, first_seen FROM thresher_policies "
                                "ORDER BY first_seen").fetchall()
        return [{"name": n, "version": v, "sha256": s, "document": json.loads(d), "first_seen": f}
                for n, v, s, d, f in rows]

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._db.close()
