"""The audit log: PostgreSQL and SQLite stores, failures that fail the request, query and replay,
and SIGKILL in the middle of a load: every decision answered 200 is in the log."""

import asyncio
import json
import sqlite3
import threading
import time
from collections import Counter

import httpx
import psycopg
import pytest
from service_harness import cli, policy_text

from thresher.policy import Policy
from thresher.service.audit.store import Filters, open_store, parse_time


def run_loop(coroutine):
    """``asyncio.run`` on a thread of its own: the session's headless browser (Playwright's sync API)
    keeps an event loop running on the main thread, where ``asyncio.run`` refuses to start."""
    out = {}

    def target():
        try:
            out["result"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed back to the test
            out["error"] = exc

    thread = threading.Thread(target=target, name="test-event-loop")
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["result"]


def cases(n, start=0, student="yes"):
    return [{"id": f"k{start + i}", "score": round((i * 37 % 100) / 100, 2), "student": student,
             "region": ("north", "south", "west", 7)[i % 4]} for i in range(n)]


def test_postgres_audit_query_and_replay(serve, policy_path, tmp_path, postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # a clean log for this test
        conn.execute("DROP TABLE IF EXISTS thresher_decisions, thresher_policies, thresher_outcomes")
    server = serve(policy_path, postgres_url)
    batch = cases(500)
    r = server.decide({"cases": batch})
    assert r.status_code == 200, r.text
    middle = time.time()
    time.sleep(0.05)
    single = server.decide({"id": 99, "score": 0.95, "student": None, "region": "east"})
    assert single.status_code == 200 and single.json()["action"] == "block"

    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT request_id, seq, case_id, score, segments, action, tier, threshold, segment, "
                            "policy_name, policy_version FROM thresher_decisions ORDER BY decided_at, seq").fetchall()
        (policy_doc,) = conn.execute("SELECT document FROM thresher_policies").fetchone()
    assert len(rows) == 501 and policy_doc == Policy.load(policy_path).to_dict()
    decisions = r.json()["decisions"]
    for row, case, d in zip(rows, batch, decisions):
        assert row[0] == r.json()["request_id"] and row[2] == case["id"] and row[3] == case["score"]
        assert row[4] == {"student": "yes", "region": case["region"]}
        assert row[5:11] == (d["action"], d["tier"], d["threshold"], d["segment"], "credit", 1)
    assert rows[-1][2] == "99" and rows[-1][4] == {"student": None, "region": "east"}

    url = postgres_url
    one = json.loads(cli("audit", "query", "--audit", url, "--case-id", "k7", "--json", "-").stdout)
    assert len(one) == 1 and one[0]["case_id"] == "k7" and one[0]["decided_at"].endswith("Z")
    store = open_store(url)  # the filters, in process (each CLI start costs a second)
    try:
        since = parse_time(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(middle)) + f".{int(middle % 1 * 1e6):06d}",
                           "--since")
        assert [row["case_id"] for row in store.query(Filters(since=since))] == ["99"]
        assert len(list(store.query(Filters(until=since)))) == 500
        assert list(store.query(Filters(policy_version=2))) == []
        assert len(list(store.query(Filters(request_id=r.json()["request_id"], limit=7)))) == 7
        assert [(p["name"], p["version"]) for p in store.policies()] == [("credit", 1)]
    finally:
        store.close()

    new_path = tmp_path / "v2.yaml"
    new_path.write_text(policy_text(2, shift=-0.1))
    new = Policy.load(new_path)
    replay = cli("audit", "replay", "--audit", url, "--policy", str(new_path), "--json", str(tmp_path / "r.json"))
    assert replay.returncode == 0, replay.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    want = Counter()
    for case, d in zip(batch, decisions):
        want[(d["action"], new.decide_one(case["score"], student="yes", region=case["region"])["action"])] += 1
    want[("block", new.decide_one(0.95, student=None, region="east")["action"])] += 1
    assert {(f["old"], f["new"]): f["decisions"] for f in report["flips"]} == dict(want)
    assert report["changed"] == sum(n for (a, b), n in want.items() if a != b) > 0
    assert report["rows"] == 501 and report["logged_policy_versions"] == {"1": 501}
    assert f"{report['changed']:,} decision(s) would change" in replay.stdout and "changes" in replay.stdout


@pytest.mark.parametrize("store", ["sqlite", "sqlite-normal", "postgres"])
def test_a_failed_audit_write_fails_the_request(serve, policy_path, tmp_path, request, store):
    """A real failure: the database refuses one case id (a trigger / a check constraint). With
    synchronous=normal small requests commit on the event loop: a failure there fails only its own."""
    if store.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'audit.db'}" + ("?synchronous=normal" if store == "sqlite-normal" else "")
        server = serve(policy_path, url)
        with sqlite3.connect(tmp_path / "audit.db") as db:
            db.execute("CREATE TRIGGER refuse BEFORE INSERT ON thresher_request_decisions WHEN NEW.case_id = 'poison' "
                       "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END")
    else:
        url = request.getfixturevalue("postgres_url")
        server = serve(policy_path, url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER TABLE thresher_decisions DROP CONSTRAINT IF EXISTS refuse")
            conn.execute("ALTER TABLE thresher_decisions ADD CONSTRAINT refuse CHECK (case_id <> 'poison') NOT VALID")
    try:
        results = {}

        def send(name, body):
            results[name] = httpx.post(f"{server.url}/v1/decide", json=body, timeout=30)

        bodies = {"poison": {"cases": cases(3) + [{"id": "poison", "score": 0.5, "student": "no", "region": None}]},
                  **{f"ok{i}": {"cases": cases(50, start=100 * i)} for i in range(4)}}
        threads = [threading.Thread(target=send, args=item) for item in bodies.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results["poison"].status_code == 503
        detail = results["poison"].json()["detail"]
        assert "could not be recorded in the audit log" in detail and "refuse" in detail and "Retry" in detail
        assert "decisions" not in results["poison"].json()
        assert all(results[f"ok{i}"].status_code == 200 for i in range(4))  # a bad batch fails only itself
        assert server.decide({"id": "after", "score": 0.1, "student": "no", "region": None}).status_code == 200
        alone = server.decide({"id": "poison", "score": 0.9, "student": "yes", "region": "north"})
        assert alone.status_code == 503 and "refuse" in alone.json()["detail"]
        assert server.decide({"id": "after2", "score": 0.9, "student": "yes", "region": "north"}).status_code == 200
        assert "thresher_audit_failed_decisions_total 5" in server.metrics()
        logged = json.loads(cli("audit", "query", "--audit", url, "--json", "-").stdout)
        ids = {row["case_id"] for row in logged}
        assert "poison" not in ids and {"k0", "after", "after2"} <= ids and len(logged) >= 202
    finally:
        if store == "postgres":
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("ALTER TABLE thresher_decisions DROP CONSTRAINT refuse")


@pytest.mark.parametrize("synchronous", ["full", "normal"])
def test_sigkill_mid_load_loses_no_answered_decision(serve, policy_path, tmp_path, synchronous):
    """synchronous=normal skips the fsync: still safe from a crash of the server (not of the machine)."""
    db = tmp_path / "audit.db"
    server = serve(policy_path, f"sqlite:///{db}?synchronous={synchronous}")
    answered, lock, stop = [], threading.Lock(), threading.Event()
    sent = Counter()

    def load(worker):
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for i in range(5000):  # far more than get answered before the kill, however fast the server
                if stop.is_set():
                    return
                body = ({"id": f"w{worker}-{i}", "score": (i % 150) / 150, "student": "yes", "region": "north"}
                        if i % 3 else {"cases": cases(20, start=1000 * worker + i)})
                sent[worker] += 1
                try:
                    r = client.post("/v1/decide", json=body)
                except httpx.TransportError:
                    return  # the server is gone
                if r.status_code == 200:
                    doc = r.json()
                    ids = [d["id"] for d in doc["decisions"]] if "decisions" in doc else [doc["id"]]
                    with lock:
                        answered.append((doc["request_id"], ids))

    threads = [threading.Thread(target=load, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    while len(answered) < 150:  # in the middle of the load
        time.sleep(0.01)
    server.proc.kill()  # SIGKILL: no shutdown, no flush
    stop.set()
    for t in threads:
        t.join()
    server.proc.wait()
    assert 150 <= len(answered) < sum(sent.values())

    with sqlite3.connect(db) as conn:  # reopening recovers the WAL
        logged = Counter(conn.execute("SELECT request_id, case_id FROM thresher_decisions").fetchall())
    missing = [(rid, cid) for rid, ids in answered for cid in ids if logged[(rid, str(cid))] != 1]
    assert not missing, f"{len(missing)} answered decisions are not in the audit log, e.g. {missing[:3]}"


def test_sqlite_normal_checkpoints_on_the_writer_thread(tmp_path):
    """With synchronous=normal a single decision commits on the event loop, so SQLite's automatic
    checkpoint (a few ms, with an fsync) is off there and the writer thread runs it instead."""
    from thresher.service.audit.sqlite import CHECKPOINT_COMMITS
    from thresher.service.audit.writer import AuditWriter
    from thresher.service.decide import Decider, policy_entry

    store = open_store(f"sqlite:///{tmp_path / 'audit.db'}?synchronous=normal")
    assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    checkpoints, commits = [], []
    checkpoint, write = store.checkpoint, store.write
    store.checkpoint = lambda **kw: (checkpoints.append(threading.current_thread().name), checkpoint(**kw))
    store.write = lambda batches, **kw: (commits.append(threading.current_thread().name), write(batches, **kw))
    decider = Decider(Policy.from_dict(__import__("yaml").safe_load(policy_text())), source="test", max_batch=10)
    loop_thread = "test-event-loop"

    async def load():
        writer = AuditWriter(store)
        await writer.call(lambda s: s.register_policy(policy_entry(decider)))
        for i in range(2 * CHECKPOINT_COMMITS + 10):
            body = json.dumps({"id": i, "score": 0.5, "student": "yes", "region": "north"}).encode()
            await writer.write(decider.decide(body).audit)
        await asyncio.sleep(0.2)  # the thread's last checkpoint
        writer.close()

    run_loop(load())
    assert commits.count(loop_thread) > CHECKPOINT_COMMITS  # most commits ran inline, on the loop's thread
    assert len(checkpoints) >= 2 and set(checkpoints) == {"thresher-audit-writer"}
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        assert conn.execute("SELECT count(*) FROM thresher_decisions").fetchone()[0] == 2 * CHECKPOINT_COMMITS + 10


def test_sqlite_case_lookup_seeks_an_index_and_old_logs_are_upgraded(tmp_path):
    """`audit query --case-id` seeks the (bucket, case_id) index instead of scanning the log, and a log
    written before the bucket column existed gets it (and the index) when it is opened."""
    from thresher.service.audit.sqlite import SCHEMA
    from thresher.service.decide import Decider, policy_entry

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the schema as it was, with one logged decision
        conn.executescript(SCHEMA.replace(",\n    bucket INTEGER NOT NULL DEFAULT 0", ""))
        conn.execute("INSERT INTO thresher_requests VALUES (1, 'r-old', '2026-01-01T00:00:00.000000Z', 'credit', 1, "
                     "'[\"student\", \"region\"]', 1)")
        conn.execute("INSERT INTO thresher_request_decisions VALUES (1, 0, 'k1', 0.5, '[\"yes\", \"north\"]', 0)")
    store = open_store(f"sqlite:///{path}")
    decider = Decider(Policy.from_dict(__import__("yaml").safe_load(policy_text())), source="test", max_batch=10)
    store.register_policy(policy_entry(decider))
    store.write([decider.decide(json.dumps({"cases": cases(3)}).encode()).audit,
                 decider.decide(json.dumps({"id": "k1", "score": 0.9, "student": "no", "region": 7}).encode()).audit])
    found = list(store.query(Filters(case_id="k1")))
    assert (found[0]["request_id"], found[0]["segments"]) == ("r-old", {"student": "yes", "region": "north"})
    assert len(found) == 3 and [r["segments"]["region"] for r in found[1:]] == ["south", 7]
    store.close()
    with sqlite3.connect(path) as conn:  # a fresh connection, as `thresher audit query` opens
        plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN SELECT * FROM thresher_decisions "
                                                        "WHERE case_id = ?", ("k1",)))
    assert "USING INDEX thresher_request_decisions_case_id" in plan and "SCAN d" not in plan


def _decider(version=1):
    import yaml

    from thresher.service.decide import Decider

    return Decider(Policy.from_dict(yaml.safe_load(policy_text(version=version))), source="t", max_batch=10_000)


def _one(decider, cid, score):
    return decider.decide(json.dumps({"id": cid, "score": score, "student": "no", "region": None}).encode()).audit


def _locked_run(path, decider, *, busy_timeout, timeout, n=6):
    """n concurrent small requests while another connection holds the write lock, then one after it is
    released: (each request's outcome, the longest gap in a 10 ms heartbeat of the loop)."""
    from thresher.service.audit.sqlite import SQLiteAuditStore
    from thresher.service.audit.writer import AuditWriter

    store = SQLiteAuditStore(str(path), synchronous="normal", busy_timeout=busy_timeout)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    async def main():
        writer = AuditWriter(store)
        gaps = []

        async def heartbeat():
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        beat = asyncio.create_task(heartbeat())
        await asyncio.sleep(0.05)
        other.execute("BEGIN IMMEDIATE")  # e.g. a second worker's large batch, or an ANALYZE

        async def one(i):
            try:
                await writer.write(_one(decider, f"locked{i}", 0.5), timeout=timeout)
                return "ok"
            except Exception as exc:
                return str(exc)

        results = await asyncio.gather(*(one(i) for i in range(n)))
        other.execute("ROLLBACK")
        await writer.write(_one(decider, "after", 0.5))
        beat.cancel()
        writer.close()
        return results, max(gaps)

    try:
        return run_loop(main())
    finally:
        other.close()


def test_a_log_locked_by_another_writer_never_stalls_the_event_loop(tmp_path):
    """Inline commits (synchronous=normal) try the lock once and hand over to the writer thread, which
    waits: requests time out like in FULL mode, the loop keeps serving, and the log takes them after."""
    from thresher.service.audit.sqlite import SQLiteAuditStore
    from thresher.service.decide import policy_entry

    path = tmp_path / "a.db"
    decider = _decider()
    SQLiteAuditStore(str(path)).register_policy(policy_entry(decider))
    # the writer would wait 10 s for the lock: every request gives up first, at its own 1 s timeout
    results, gap = _locked_run(path, decider, busy_timeout=10.0, timeout=1.0)
    assert all("did not commit within 1s" in r for r in results), results
    assert gap < 0.5  # the loop ran all along (it used to block for (2 + n) x the busy timeout)
    ids = [r["case_id"] for r in SQLiteAuditStore(str(path)).query(Filters())]
    # the lock was released after the requests gave up: the writer then logged them (a decision the
    # client never saw may be in the log, never the reverse), and the request after it
    assert sorted(ids) == sorted([f"locked{i}" for i in range(6)] + ["after"])


def test_a_log_locked_past_the_busy_timeout_fails_the_whole_group_at_once(tmp_path):
    """The lock outlasts the busy timeout: every waiting request fails with a message that says so,
    and the group is not retried batch by batch (that would wait one busy timeout per request)."""
    from thresher.service.audit.sqlite import SQLiteAuditStore
    from thresher.service.decide import policy_entry

    path = tmp_path / "a.db"
    decider = _decider()
    SQLiteAuditStore(str(path)).register_policy(policy_entry(decider))
    results, gap = _locked_run(path, decider, busy_timeout=0.3, timeout=60.0)
    assert all("another writer held it locked for the whole busy timeout (0.3s)" in r for r in results), results
    assert gap < 0.5
    ids = [r["case_id"] for r in SQLiteAuditStore(str(path)).query(Filters())]
    assert ids == ["after"]  # nothing half-written


def test_case_lookups_are_in_commit_order_across_workers(tmp_path):
    """Two workers on one SQLite file: a case's decisions come back oldest first, so --limit keeps the first."""
    from thresher.service.audit.sqlite import SQLiteAuditStore
    from thresher.service.decide import policy_entry

    path = str(tmp_path / "a.db")
    a, b = SQLiteAuditStore(path), SQLiteAuditStore(path)
    decider = _decider()
    a.register_policy(policy_entry(decider))
    batch = lambda ids: decider.decide(json.dumps(  # noqa: E731
        {"cases": [{"id": i, "score": 0.1, "student": "no", "region": None} for i in ids]}).encode()).audit
    a.write([_one(decider, "warm", 0.1)])
    for n in range(7):  # worker B moves the log into its next bucket
        b.write([batch([f"b{n}-{i}" for i in range(5000)])])
    b.write([batch(["k"] + [f"b7-{i}" for i in range(4999)])])  # k first, at score 0.1
    a.write([_one(decider, "k", 0.9)])  # then worker A writes k again
    a.close(), b.close()
    for extra, want in (([], [0.1, 0.9]), (["--limit", "1"], [0.1])):
        out = cli("audit", "query", "--audit", f"sqlite:///{path}", "--case-id", "k", "--json", "-", *extra)
        assert [row["score"] for row in json.loads(out.stdout)] == want


def test_a_failed_policy_registration_leaves_no_transaction_open(tmp_path):
    from dataclasses import replace

    from thresher.service.audit.sqlite import SQLiteAuditStore
    from thresher.service.audit.store import AuditError
    from thresher.service.decide import policy_entry

    store = SQLiteAuditStore(str(tmp_path / "a.db"), synchronous="normal")
    decider = _decider()
    store.register_policy(policy_entry(decider))
    with pytest.raises(AuditError, match="Recording the policy"):
        store.register_policy(replace(policy_entry(decider), version=2**64))  # no 64-bit integer holds it
    assert not store._db.in_transaction
    store.write([_one(decider, "innocent", 0.5)])  # the next, unrelated decision is recorded
    assert [r["case_id"] for r in store.query(Filters(case_id="innocent"))] == ["innocent"]
    with pytest.raises(Exception, match="less than or equal to 9223372036854775807"):
        _decider(version=2**63)  # and the schema refuses such a version in the first place


def test_integer_case_ids_are_stored_as_their_text_in_single_and_batch_requests(tmp_path):
    from thresher.service.audit.sqlite import SQLiteAuditStore
    from thresher.service.decide import policy_entry

    store = SQLiteAuditStore(str(tmp_path / "a.db"))
    decider = _decider()
    store.register_policy(policy_entry(decider))
    big = 2**63 + 5  # beyond int64: SQLite's JSON functions would read it as a float
    store.write([_one(decider, big, 0.5)])
    store.write([decider.decide(json.dumps({"cases": [{"id": big, "score": 0.9, "student": "no", "region": None},
                                                      {"id": 7, "score": 0.1, "student": "no", "region": None}]}
                                           ).encode()).audit])
    assert [r["score"] for r in store.query(Filters(case_id=str(big)))] == [0.5, 0.9]
    assert [r["case_id"] for r in store.query(Filters(case_id="7"))] == ["7"]
