"""The run history in both backends: SQLite (a file) and the real PostgreSQL (the postgres_url fixture)."""

import json
import sqlite3
import uuid

import numpy as np
import pytest
import yaml
from gate_data import write_gate, write_scores

from thresher.errors import GateError
from thresher.gate import Gate, check_gate, open_store
from thresher.gate.run import _stored, load_golden
from thresher.gate.store import display_url

TABLES = ("thresher_runs", "thresher_run_datasets", "thresher_run_metrics", "thresher_run_checks")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "history" / "runs.db")
    import psycopg

    base = request.getfixturevalue("postgres_url")
    name = f"gate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def gate(tmp_path, rows):
    """A gate with weights, segments and a policy, so every stored column is exercised."""
    policy = {"name": "p", "version": 1, "score": "score", "actions": ["block", "allow"],
              "rules": [{"name": "default", "tiers": [{"action": "block", "threshold": 1.0}]}]}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(policy))
    write_scores(tmp_path / "golden.csv", rows, "baseline", w=np.where(rows["y"] == 1, 2.0, 1.0))
    path = write_gate(tmp_path, ["roc_auc >= 0.5", "per segment: recall >= 0.3 at policy",
                                 "recall vs baseline >= -0.05 at policy", "average_precision >= 0.99"],
                      policy="p.yaml")
    data = yaml.safe_load(path.read_text())
    data["datasets"]["golden"]["weight"] = "w"
    path.write_text(yaml.safe_dump(data))
    return path


def count(store, table: str, run_id: str) -> int:
    key = "id" if table == "thresher_runs" else "run_id"
    return store._execute(f"SELECT COUNT(*) FROM {table} WHERE {key} = %s", (run_id,)).fetchone()[0]


def test_record_list_show_and_read_back(store_url, gate, rows):
    first = check_gate(gate, store=store_url)
    second = check_gate(gate, store=store_url, baseline="latest")
    assert not first.passed  # average_precision >= 0.99 fails: the run is recorded all the same
    with open_store(store_url) as store:
        listed = store.runs()
        assert [r["run_id"] for r in listed] == [second.run_id, first.run_id]
        assert listed[0]["gate"] == "synthetic" and listed[0]["passed"] is False
        assert (listed[1]["checks"], listed[1]["failed"], listed[1]["skipped"]) == (4, 1, 1)
        assert store.runs(gate="other") == []
        assert store.resolve("latest") == second.run_id
        assert store.resolve(first.run_id[:5]) == first.run_id
        # the stored document is the JSON document of the run
        assert store.document(first.run_id) == json.loads(json.dumps(first.to_dict()))
        stored = store.dataset(first.run_id, "golden")
        np.testing.assert_array_equal(stored.scores, rows["baseline"])
        np.testing.assert_array_equal(stored.y, rows["y"])
        np.testing.assert_array_equal(stored.weight, np.where(rows["y"] == 1, 2.0, 1.0))
        assert stored.segments.names == ("region",) and stored.actions == ("block", "allow")
        np.testing.assert_array_equal(stored.decisions == 0, rows["baseline"] >= 1.0)
        metrics = store.metrics(first.run_id)
        assert metrics[("golden", "")]["roc_auc"] == pytest.approx(first.datasets["golden"].metrics["roc_auc"])
        assert set(metrics) == {("golden", ""), ("golden", "region=north"), ("golden", "region=south")}
        # one row per check and per segment of the per-segment check
        assert count(store, "thresher_run_checks", first.run_id) == 4 + 2
        # latest passing: none passed, so there is no baseline to compare with
        assert store.latest_passing("synthetic", "golden", stored.rows_fingerprint) is None
    assert second.checks[2].verdict == "skip" and "no baseline yet" in second.checks[2].why


def test_a_failed_write_keeps_earlier_runs_and_leaves_nothing_behind(store_url, gate):
    first = check_gate(gate, store=store_url)
    second = check_gate(gate, store=None)
    loaded = Gate.load(gate)
    g = load_golden(loaded, loaded.datasets["golden"])
    with open_store(store_url) as store:
        # the second dataset row collides with the first (same run, same name) after the run row and
        # the first dataset are written: the whole run must roll back
        with pytest.raises(GateError, match="was rolled back; earlier runs are intact"):
            store.save(second, [_stored(g), _stored(g)])
        for table in TABLES:
            assert count(store, table, second.run_id) == 0, table
        assert [r["run_id"] for r in store.runs()] == [first.run_id]
        assert store.document(first.run_id)["run_id"] == first.run_id
        store.save(second, [_stored(g)])  # and the store still takes writes
        assert len(store.runs()) == 2
        # a duplicate run id is refused the same way
        with pytest.raises(GateError, match="rolled back"):
            store.save(second, [_stored(g)])
        assert len(store.runs()) == 2


def test_run_ids_and_prefixes(store_url, gate):
    with open_store(store_url) as store:
        with pytest.raises(GateError, match="has no runs yet"):
            store.resolve("latest")
        with pytest.raises(GateError, match="not a run id"):
            store.resolve("x; DROP TABLE thresher_runs")
        with pytest.raises(GateError, match="No run 'abcd'"):
            store.resolve("abcd")


def test_sqlite_store_errors(tmp_path):
    not_a_db = tmp_path / "runs.db"
    not_a_db.write_text("hello, I am a text file" * 100)
    with pytest.raises(GateError, match="Cannot open the run store|not usable as a thresher run store"):
        open_store(str(not_a_db))
    with pytest.raises(GateError, match="Unknown run store 'mysql://u:\\*\\*\\*@h/db'"):
        open_store("mysql://u:secret@h/db")
    # a store written by a newer thresher is refused, not misread
    newer = tmp_path / "newer.db"
    open_store(str(newer)).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE thresher_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(GateError, match="written by a newer thresher"):
        open_store(f"sqlite:///{newer}")
    assert display_url("postgresql://me:pw@db:5432/x") == "postgresql://me:***@db:5432/x"


def test_postgres_connection_errors_are_input_errors():
    with pytest.raises(GateError, match="Cannot connect to the run store 'postgresql://u:\\*\\*\\*@127.0.0.1:9/x'"):
        open_store("postgresql://u:pw@127.0.0.1:9/x")
