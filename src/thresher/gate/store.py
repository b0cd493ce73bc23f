"""The run history: every gate run, its metrics and verdicts, and the per-case scores of its golden rows.

Two backends share one schema: an embedded SQLite file (the default, ``.thresher/runs.db``) and
PostgreSQL (``postgresql://user@host/db``, psycopg 3). Tables, all prefixed ``thresher_``:

=====================  ====================================================================
``runs``               one row per run: id, gate, time, git commit, verdict, the JSON document
``run_datasets``       per run and dataset: fingerprints, per-case scores (zlib float32) and
                       the policy's decisions (uint8 codes), for paired tests later
``rows``               golden rows once per rows fingerprint: labels (bits), weights, segments
``run_metrics``        per run, dataset and segment: n, positives, roc_auc, average_precision ...
``run_checks``         per run: every check (and segment) with value, bound, verdict and why
``meta``               the schema version
=====================  ====================================================================

A run is written in one transaction: it lands whole or not at all, and earlier runs are never
touched. SQLite takes the write lock up front (``BEGIN IMMEDIATE``) and waits up to 30 s for a
concurrent writer; PostgreSQL serialises schema creation with an advisory lock.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thresher.data.columns import Segments
from thresher.errors import GateError
from thresher.gate import rows as blobs

SCHEMA_VERSION = 1
DEFAULT_URL = ".thresher/runs.db"
ENV = "THRESHER_STORE"

_TABLES = """
CREATE TABLE IF NOT EXISTS thresher_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS thresher_runs (
  id TEXT PRIMARY KEY, gate TEXT NOT NULL, created_at TEXT NOT NULL, git_commit TEXT, git_dirty {bool},
  passed {bool} NOT NULL, checks INTEGER NOT NULL, failed INTEGER NOT NULL, skipped INTEGER NOT NULL,
  baseline TEXT, gate_file TEXT, document TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS thresher_runs_by_gate ON thresher_runs (gate, created_at);
CREATE TABLE IF NOT EXISTS thresher_rows (
  rows_fingerprint TEXT PRIMARY KEY, n BIGINT NOT NULL, labels {blob} NOT NULL, weights {blob},
  segments TEXT, segment_codes {blob});
CREATE TABLE IF NOT EXISTS thresher_run_datasets (
  run_id TEXT NOT NULL REFERENCES thresher_runs (id) ON DELETE CASCADE, dataset TEXT NOT NULL,
  fingerprint TEXT NOT NULL, rows_fingerprint TEXT NOT NULL REFERENCES thresher_rows (rows_fingerprint),
  n BIGINT NOT NULL, scores {blob} NOT NULL, decisions {blob}, actions TEXT, PRIMARY KEY (run_id, dataset));
CREATE INDEX IF NOT EXISTS thresher_run_datasets_by_rows ON thresher_run_datasets (rows_fingerprint);
CREATE TABLE IF NOT EXISTS thresher_run_metrics (
  run_id TEXT NOT NULL REFERENCES thresher_runs (id) ON DELETE CASCADE, dataset TEXT NOT NULL,
  segment TEXT NOT NULL, metric TEXT NOT NULL, value {float}, PRIMARY KEY (run_id, dataset, segment, metric));
CREATE TABLE IF NOT EXISTS thresher_run_checks (
  run_id TEXT NOT NULL REFERENCES thresher_runs (id) ON DELETE CASCADE, position INTEGER NOT NULL,
  dataset TEXT NOT NULL, segment TEXT, check_text TEXT NOT NULL, verdict TEXT NOT NULL, value {float},
  bound {float}, why TEXT NOT NULL, PRIMARY KEY (run_id, position));
"""


@dataclass
class StoredDataset:
    """One dataset of one run, as stored: enough to rebuild its rows and its scores."""

    name: str
    fingerprint: str
    rows_fingerprint: str
    scores: np.ndarray
    y: np.ndarray | None = None
    weight: np.ndarray | None = None
    segments: Segments | None = None
    decisions: np.ndarray | None = None
    actions: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return int(self.scores.shape[0])


def default_url() -> str:
    """``$THRESHER_STORE`` if set, else ``.thresher/runs.db`` (relative to the current directory)."""
    return os.environ.get(ENV) or DEFAULT_URL


def display_url(url: str) -> str:
    """The URL with any password masked."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def open_store(url: str | None = None) -> "RunStore":
    """Open (creating if needed) the run history at ``url``: a path or ``sqlite:///path`` for SQLite,
    ``postgresql://...`` for PostgreSQL. ``None``: :func:`default_url`."""
    url = url or default_url()
    if url.startswith(("postgresql://", "postgres://")):
        return RunStore._postgres(url)
    if "://" in url and not url.startswith("sqlite://"):
        raise GateError(f"Unknown run store '{display_url(url)}'. Use a file path (.thresher/runs.db), "
                        "sqlite:///path/to/runs.db, or postgresql://user@host/database.")
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url.removeprefix("sqlite://")
    return RunStore._sqlite(Path(path))


class RunStore:
    """The run history in SQLite or PostgreSQL (see the module docstring for the tables)."""

    def __init__(self, conn, dialect: str, url: str):
        self.conn = conn
        self.dialect = dialect
        self.url = url
        self._create_schema()

    # opening ------------------------------------------------------------------------------------
    @classmethod
    def _sqlite(cls, path: Path) -> "RunStore":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = ON")
        except (OSError, sqlite3.Error) as exc:
            raise GateError(f"Cannot open the run store '{path}': {exc}. Check the path and its permissions, or "
                            "pass --store.") from None
        return cls(conn, "sqlite", str(path))

    @classmethod
    def _postgres(cls, url: str) -> "RunStore":
        from thresher.errors import require

        psycopg = require("psycopg", "postgres", "A PostgreSQL run store")
        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise GateError(f"Cannot connect to the run store '{display_url(url)}': {exc}".strip()
                            + " Check the URL, the server and the credentials.") from None
        return cls(conn, "postgres", url)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({display_url(self.url)!r})"

    # plumbing -----------------------------------------------------------------------------------
    def _sql(self, query: str) -> str:
        return query.replace("%s", "?") if self.dialect == "sqlite" else query

    def _execute(self, query: str, params=()):
        return self.conn.execute(self._sql(query), params)

    def _executemany(self, query: str, rows) -> None:
        if self.dialect == "sqlite":
            self.conn.executemany(self._sql(query), rows)
        else:
            with self.conn.cursor() as cur:
                cur.executemany(query, rows)

    @contextmanager
    def transaction(self):
        """All or nothing: commit at the end, roll back on any error."""
        if self.dialect == "postgres":
            with self.conn.transaction():
                yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _errors(self) -> tuple:
        """The database errors of this backend (caught to say which store failed and how)."""
        if self.dialect == "sqlite":
            return (sqlite3.Error,)
        import psycopg

        return (psycopg.Error,)

    def _create_schema(self) -> None:
        types = ({"blob": "BLOB", "float": "REAL", "bool": "INTEGER"} if self.dialect == "sqlite"
                 else {"blob": "BYTEA", "float": "DOUBLE PRECISION", "bool": "BOOLEAN"})
        statements = [s.strip() for s in _TABLES.format(**types).split(";") if s.strip()]
        try:
            with self.transaction():
                if self.dialect == "postgres":
                    self._execute("SELECT pg_advisory_xact_lock(727274)")
                for statement in statements:
                    self._execute(statement)
                self._execute("INSERT INTO thresher_meta (key, value) VALUES ('schema_version', %s) "
                              "ON CONFLICT (key) DO NOTHING", (str(SCHEMA_VERSION),))
            version = int(self._execute("SELECT value FROM thresher_meta WHERE key = 'schema_version'").fetchone()[0])
        except (*self._errors(), ValueError, TypeError) as exc:
            raise GateError(f"'{display_url(self.url)}' is not usable as a thresher run store ({exc}). Pass another "
                            "--store.") from None
        if version > SCHEMA_VERSION:
            raise GateError(f"The run store '{display_url(self.url)}' was written by a newer thresher (schema "
                            f"{version}, this one reads {SCHEMA_VERSION}). Upgrade thresher.")

    # writing ------------------------------------------------------------------------------------
    def save(self, result, datasets: list[StoredDataset]) -> None:
        """Record a run (a :class:`~thresher.gate.result.GateResult`) and its datasets, in one transaction."""
        try:
            self._save(result, datasets)
        except self._errors() as exc:
            raise GateError(f"Could not record run {result.run_id} in '{display_url(self.url)}': {exc}. The write "
                            "was rolled back; earlier runs are intact. Retry, or pass --no-record.") from None

    def _save(self, result, datasets: list[StoredDataset]) -> None:
        doc = result.to_dict()
        counts = doc["summary"]
        document = json.dumps(doc, allow_nan=False)  # before the transaction: a bad document writes nothing
        with self.transaction():
            self._execute(
                "INSERT INTO thresher_runs (id, gate, created_at, git_commit, git_dirty, passed, checks, failed, "
                "skipped, baseline, gate_file, document) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (result.run_id, result.gate, result.created_at, result.git_commit, result.git_dirty, result.passed,
                 counts["total"], counts["fail"], counts["skip"], result.baseline, result.gate_file, document))
            for d in datasets:
                labels = blobs.pack_labels(d.y)
                weights = None if d.weight is None else blobs.pack_array(d.weight, "<f8")
                seg_text, seg_codes = blobs.pack_segments(d.segments)
                self._execute("INSERT INTO thresher_rows (rows_fingerprint, n, labels, weights, segments, "
                              "segment_codes) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (rows_fingerprint) "
                              "DO NOTHING", (d.rows_fingerprint, d.n, labels, weights, seg_text, seg_codes))
                decisions = None if d.decisions is None else blobs.pack_array(d.decisions, "u1")
                self._execute("INSERT INTO thresher_run_datasets (run_id, dataset, fingerprint, rows_fingerprint, n, "
                              "scores, decisions, actions) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                              (result.run_id, d.name, d.fingerprint, d.rows_fingerprint, d.n,
                               blobs.pack_array(d.scores, "<f4"), decisions,
                               json.dumps(list(d.actions)) if d.decisions is not None else None))
            metrics = []
            for name, summary in result.datasets.items():
                metrics += [(result.run_id, name, "", k, _num(v)) for k, v in summary.metrics.items()]
                for segment, values in summary.segments.items():
                    metrics += [(result.run_id, name, segment, k, _num(v)) for k, v in values.items()]
            if metrics:
                self._executemany("INSERT INTO thresher_run_metrics (run_id, dataset, segment, metric, value) "
                                  "VALUES (%s, %s, %s, %s, %s)", metrics)
            checks = []
            for c in result.checks:
                for part in [c, *c.segments]:
                    checks.append((result.run_id, len(checks), c.dataset, part.segment, c.check, part.verdict,
                                   _num(part.value), _num(part.bound), part.why))
            if checks:
                self._executemany("INSERT INTO thresher_run_checks (run_id, position, dataset, segment, check_text, "
                                  "verdict, value, bound, why) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", checks)

    # reading ------------------------------------------------------------------------------------
    def resolve(self, run: str) -> str:
        """The full run id of ``run``: an id, a unique prefix of one (4 characters or more), or ``latest``."""
        if run == "latest":
            row = self._execute("SELECT id FROM thresher_runs ORDER BY created_at DESC, id DESC LIMIT 1").fetchone()
            if row is None:
                raise GateError(f"The run store '{display_url(self.url)}' has no runs yet.")
            return row[0]
        if not re.fullmatch(r"[0-9a-f]{4,32}", run or ""):
            raise GateError(f"'{run}' is not a run id: use the id (or its first 4+ characters) that "
                            "`thresher runs list` shows, or 'latest'.")
        ids = [r[0] for r in self._execute("SELECT id FROM thresher_runs WHERE id LIKE %s ORDER BY id LIMIT 3",
                                           (run + "%",)).fetchall()]
        if not ids:
            raise GateError(f"No run '{run}' in the run store '{display_url(self.url)}'. `thresher runs list` "
                            "shows the recorded runs (is --store the same as when it ran?).")
        if len(ids) > 1:
            raise GateError(f"'{run}' matches several runs ({', '.join(ids[:2])}, ...); give more characters.")
        return ids[0]

    def runs(self, gate: str | None = None, limit: int = 20) -> list[dict]:
        """The most recent runs, newest first (optionally of one gate)."""
        where, params = ("WHERE gate = %s", (gate,)) if gate else ("", ())
        rows = self._execute(
            f"SELECT id, gate, created_at, git_commit, git_dirty, passed, checks, failed, skipped, baseline "
            f"FROM thresher_runs {where} ORDER BY created_at DESC, id DESC LIMIT {int(limit)}", params).fetchall()
        keys = ("run_id", "gate", "created_at", "git_commit", "git_dirty", "passed", "checks", "failed", "skipped",
                "baseline")
        out = []
        for row in rows:
            d = dict(zip(keys, row))
            d["passed"] = bool(d["passed"])
            d["git_dirty"] = None if d["git_dirty"] is None else bool(d["git_dirty"])
            out.append(d)
        return out

    def document(self, run: str) -> dict:
        """The JSON document of a run (as ``thresher check --json`` wrote it)."""
        run_id = self.resolve(run)
        row = self._execute("SELECT document FROM thresher_runs WHERE id = %s", (run_id,)).fetchone()
        return json.loads(row[0])

    def latest_passing(self, gate: str, dataset: str, rows_fingerprint: str) -> str | None:
        """The most recent run of ``gate`` that passed and scored the same rows of ``dataset``."""
        row = self._execute(
            "SELECT r.id FROM thresher_runs r JOIN thresher_run_datasets d ON d.run_id = r.id "
            "WHERE r.gate = %s AND r.passed = %s AND d.dataset = %s AND d.rows_fingerprint = %s "
            "ORDER BY r.created_at DESC, r.id DESC LIMIT 1", (gate, True, dataset, rows_fingerprint)).fetchone()
        return None if row is None else row[0]

    def datasets(self, run: str) -> list[str]:
        run_id = self.resolve(run)
        return [r[0] for r in self._execute("SELECT dataset FROM thresher_run_datasets WHERE run_id = %s "
                                            "ORDER BY dataset", (run_id,)).fetchall()]

    def dataset(self, run: str, dataset: str, *, with_rows: bool = True) -> StoredDataset:
        """The stored scores (and, ``with_rows``, the labels, weights and segments) of one dataset of a run."""
        run_id = self.resolve(run)
        row = self._execute("SELECT fingerprint, rows_fingerprint, n, scores, decisions, actions FROM "
                            "thresher_run_datasets WHERE run_id = %s AND dataset = %s", (run_id, dataset)).fetchone()
        if row is None:
            raise GateError(f"Run {run_id} has no dataset '{dataset}' (it has: "
                            f"{', '.join(self.datasets(run_id)) or 'none'}).")
        fingerprint, rows_fp, n, scores, decisions, actions = row
        out = StoredDataset(dataset, fingerprint, rows_fp, blobs.unpack_array(scores, "<f4", n))
        if decisions is not None:
            out.decisions = blobs.unpack_array(decisions, "u1", n)
            out.actions = tuple(json.loads(actions))
        if with_rows:
            n_rows, labels, weights, seg_text, seg_codes = self._execute(
                "SELECT n, labels, weights, segments, segment_codes FROM thresher_rows WHERE rows_fingerprint = %s",
                (rows_fp,)).fetchone()
            out.y = blobs.unpack_labels(labels, n_rows)
            out.weight = None if weights is None else blobs.unpack_array(weights, "<f8", n_rows)
            out.segments = blobs.unpack_segments(seg_text, seg_codes, n_rows)
        return out

    def metrics(self, run: str) -> dict[tuple[str, str], dict[str, float]]:
        """``{(dataset, segment): {metric: value}}`` of a run (segment ``""`` is the whole dataset)."""
        run_id = self.resolve(run)
        out: dict[tuple[str, str], dict[str, float]] = {}
        for dataset, segment, metric, value in self._execute(
                "SELECT dataset, segment, metric, value FROM thresher_run_metrics WHERE run_id = %s", (run_id,)):
            out.setdefault((dataset, segment), {})[metric] = float("nan") if value is None else float(value)
        return out


def _num(value):
    if value is None:
        return None
    value = float(value)
    return None if value != value or value in (float("inf"), float("-inf")) else value
