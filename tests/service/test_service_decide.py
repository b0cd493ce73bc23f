"""POST /v1/decide against the library, every bad input, and the read-only endpoints."""

import json
import random

import pyarrow as pa
import pytest
from service_harness import cli

from thresher.policy import Policy

BOUNDARIES = [0.7, 0.3, 0.6, 0.25, 0.4, 0.55, 0.5, 0.2]


def random_cases(n, seed, *, mixed_types):
    rng = random.Random(seed)
    students = ["yes", "no", None, "maybe"] + ([True, 1] if mixed_types else [])
    regions = ["north", "south", "east", "west", None, "zz"] + ([7, "7", 7.0, False] if mixed_types else ["7"])
    cases = []
    for i in range(n):
        score = rng.choice([rng.random(), rng.choice(BOUNDARIES), rng.choice([0, 1, -0.5, 3])])
        cases.append({"id": i if i % 3 else f"case-{i}", "score": score, "student": rng.choice(students),
                      "region": rng.choice(regions), "ignored": "extra fields are allowed"})
    return cases


def expected(policy, case):
    d = policy.decide_one(case["score"], student=case["student"], region=case["region"])
    return {"id": case["id"], "action": d["action"], "tier": d["tier"], "threshold": d["threshold"],
            "segment": d["segment"]}


def test_decisions_match_the_library_and_are_audited(serve, policy_path, tmp_path):
    policy = Policy.load(policy_path)
    db = tmp_path / "audit.db"
    server = serve(policy_path, f"sqlite:///{db}")

    plain = random_cases(3000, 1, mixed_types=False)  # one type per column: decide_table takes it as is
    r = server.decide({"cases": plain})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["policy"], doc["policy_version"], doc["count"]) == ("credit", 1, 3000)
    assert r.headers["x-request-id"] == doc["request_id"] and len(doc["request_id"]) == 32
    table = pa.table({"score": pa.array([c["score"] for c in plain], pa.float64()),
                      "student": pa.array([c["student"] for c in plain], pa.string()),
                      "region": pa.array([c["region"] for c in plain], pa.string())})
    lib = policy.decide_table(table).to_pylist()
    assert [{k: d[k] for k in ("action", "tier", "threshold", "segment")} for d in doc["decisions"]] == \
           [{k: d[k] for k in ("action", "tier", "threshold", "segment")} for d in lib]
    assert [d["id"] for d in doc["decisions"]] == [c["id"] for c in plain]
    assert {d["segment"] for d in doc["decisions"]} == {r.name for r in policy.rules}

    mixed = random_cases(2000, 2, mixed_types=True)  # 7, "7" and 7.0 are one value to a rule, as in the library
    r = server.decide({"cases": mixed})
    assert r.status_code == 200, r.text
    assert r.json()["decisions"] == [expected(policy, c) for c in mixed]
    answered = {(doc["request_id"], k): d for k, d in enumerate(doc["decisions"])}
    answered.update({(r.json()["request_id"], k): d for k, d in enumerate(r.json()["decisions"])})

    singles = random_cases(60, 3, mixed_types=True)
    for case in singles:
        r = server.decide(case)
        assert r.status_code == 200, r.text
        answered[(r.json()["request_id"], 0)] = r.json()
        assert r.json() == {**expected(policy, case), "request_id": r.json()["request_id"], "policy": "credit",
                            "policy_version": 1}

    # an unknown segment value is no error: the default rule decides it
    r = server.decide({"id": "new", "score": 0.45, "student": "graduate", "region": "mars"})
    assert r.status_code == 200 and r.json()["segment"] == "default" and r.json()["action"] == "review"

    # every decision answered is in the audit log, as sent and as decided
    proc = cli("audit", "query", "--audit", f"sqlite:///{db}", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    logged = json.loads(proc.stdout)
    assert len(logged) == 3000 + 2000 + 60 + 1
    for row in logged:  # the decision logged is the decision answered, for every case
        if (row["request_id"], row["seq"]) in answered:
            d = answered.pop((row["request_id"], row["seq"]))
            assert (str(d["id"]), d["action"], d["tier"], d["threshold"], d["segment"]) == \
                   (row["case_id"], row["action"], row["tier"], row["threshold"], row["segment"])
    assert not answered
    by_request = {}
    for row in logged:
        by_request.setdefault(row["request_id"], []).append(row)
    first = sorted(by_request[doc["request_id"]], key=lambda row: row["seq"])
    for row, case, lib_row in zip(first, plain, lib):
        assert row["case_id"] == str(case["id"]) and row["score"] == case["score"]
        assert row["segments"] == {"student": case["student"], "region": case["region"]}
        assert (row["action"], row["tier"], row["threshold"], row["segment"]) == \
               (lib_row["action"], lib_row["tier"], lib_row["threshold"], lib_row["segment"])
        assert (row["policy_name"], row["policy_version"]) == ("credit", 1)
    assert {json.dumps(r["segments"]["region"]) for r in logged} >= {"7", '"7"', "7.0", "false", "null"}
    assert all(r["decided_at"].endswith("Z") for r in logged)
    table = cli("audit", "query", "--audit", f"sqlite:///{db}", "--case-id", "case-0")
    assert table.returncode == 0 and "3 decision(s)" in table.stdout and "case-0" in table.stdout


BAD_BODIES = [
    # (body, status, path or None, words in the message)
    (b"{not json", 422, "(body)", "not valid JSON"),
    (b"[1, 2]", 422, "(body)", "must be a JSON object"),
    (b'{"cases": {"id": 1}}', 422, "cases", "must be an array"),
    (b'{"cases": []}', 422, "cases", "at least one case"),
    (b'{"id": 1, "score": NaN, "student": "yes", "region": "north"}', 422, "score", "NaN is not a finite number"),
    (b'{"id": 1, "score": Infinity, "student": "yes", "region": "north"}', 422, "score", "Infinity"),
    (b'{"cases": [{"id": 1, "score": 0.5, "student": "no", "region": null},'
     b' {"id": 2, "score": -Infinity, "student": "no", "region": null}]}', 422, "cases[1].score", "-Infinity"),
    (b'{"id": 1, "score": 1e400, "student": "yes", "region": "north"}', 422, "score", "not a finite number"),
    (b'{"id": 1, "score": "0.5", "student": "yes", "region": "north"}', 422, "score", "must be a number"),
    (b'{"id": 1, "score": true, "student": "yes", "region": "north"}', 422, "score", "must be a number"),
    (b'{"id": 1, "student": "yes", "region": "north"}', 422, "score", "missing"),
    (b'{"score": 0.5, "student": "yes", "region": "north"}', 422, "id", "missing"),
    (b'{"id": [1], "score": 0.5, "student": "yes", "region": "north"}', 422, "id", "string or an integer"),
    (b'{"id": 1, "score": 0.5, "student": "yes"}', 422, "region", "segment field 'region' is required"),
    (b'{"cases": [{"id": 1, "score": 0.5, "student": "yes", "region": "n"},'
     b' {"id": 2, "score": 0.5, "student": {"x": 1}, "region": "n"}]}', 422, "cases[1].student",
     "string, number, boolean or null"),
    (b'{"cases": [{"id": 1, "score": 0.5, "student": "yes", "region": "n"}, 7]}', 422, "cases[1]",
     "must be a JSON object"),
]


def test_bad_input_is_refused_with_the_field_path(serve, policy_path, tmp_path):
    server = serve(policy_path, f"sqlite:///{tmp_path / 'audit.db'}", "--max-batch", "50")
    for body, status, path, words in BAD_BODIES:
        r = server.decide(body)
        assert r.status_code == status, (body, r.text)
        detail = r.json()["detail"]
        assert detail[0]["path"] == path, (body, detail)
        assert words in detail[0]["msg"], (body, detail)
        assert detail[0]["loc"][0] == "body"

    # several bad cases: each named, and the good ones are not decided
    cases = [{"id": i, "score": 0.5, "student": "no", "region": None} for i in range(5)]
    cases[1]["score"], cases[3]["id"] = "high", None
    detail = server.decide({"cases": cases}).json()["detail"]
    assert [d["path"] for d in detail] == ["cases[1].score", "cases[3].id"]

    over = [{"id": i, "score": 0.5, "student": "no", "region": None} for i in range(51)]
    r = server.decide({"cases": over})
    assert r.status_code == 413 and "51 cases" in r.json()["detail"] and "at most 50" in r.json()["detail"]
    r = server.decide(b'{"cases": [' + b"0," * 100_000 + b"0]}")  # over the byte limit before parsing
    assert r.status_code == 413 and "over" in r.json()["detail"] and "bytes" in r.json()["detail"]
    assert server.decide({"cases": over[:50]}).status_code == 200

    # refused requests are not in the audit log
    proc = cli("audit", "query", "--audit", f"sqlite:///{tmp_path / 'audit.db'}", "--json", "-")
    assert len(json.loads(proc.stdout)) == 50
    assert 'thresher_requests_total{endpoint="decide",status="422"}' in server.metrics()


def test_policy_health_readiness_metrics_and_docs(serve, policy_path, tmp_path):
    server = serve(policy_path, f"sqlite:///{tmp_path / 'audit.db'}")
    assert server.client.get("/healthz").json() == {"status": "ok"}
    ready = server.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["policy_version"] == 1 and ready["audit_backlog"] == 0

    info = server.policy()
    assert (info["name"], info["version"], info["segments"]) == ("credit", 1, ["student", "region"])
    assert info["policy"] == Policy.load(policy_path).to_dict() and len(info["sha256"]) == 64
    assert info["last_reload_error"] is None

    server.decide({"cases": [{"id": i, "score": s, "student": "yes", "region": "north"}
                             for i, s in enumerate([0.9, 0.8, 0.5, 0.1])]})
    server.decide({"id": "x", "score": 0.9, "student": "no", "region": "south"})
    text = server.metrics()
    assert 'thresher_decisions_total{action="block",segment="student-north"} 2' in text
    assert 'thresher_decisions_total{action="review",segment="student-north"} 1' in text
    assert 'thresher_decisions_total{action="allow",segment="student-north"} 1' in text
    assert 'thresher_decisions_total{action="block",segment="south-east"} 1' in text
    assert 'thresher_decide_latency_seconds_count{kind="batch"} 1' in text
    assert 'thresher_decide_latency_seconds_bucket{kind="single",le="+Inf"} 1' in text
    assert "# TYPE thresher_decide_latency_seconds histogram" in text
    assert "thresher_audit_backlog_decisions 0" in text and "thresher_audit_decisions_total 5" in text
    assert 'thresher_policy_info{name="credit",version="1"} 1' in text

    spec = server.client.get("/openapi.json").json()
    assert {"/v1/decide", "/v1/policy", "/healthz", "/readyz", "/metrics"} <= set(spec["paths"])
    decide = spec["paths"]["/v1/decide"]["post"]
    assert "batch" in decide["requestBody"]["content"]["application/json"]["examples"]
    assert {"200", "413", "422", "503"} <= set(decide["responses"])
    assert server.client.get("/docs").status_code == 200


@pytest.mark.parametrize("args, words", [
    (["--audit", "mysql://x"], "Unknown audit URL"),
    (["--audit", "sqlite:///a.db?synchronous=off"], "synchronous=normal"),
    (["--audit", "sqlite:////no/such/folder/a.db"], "does not exist"),
    (["--max-batch", "0"], "--max-batch must be at least 1"),
])
def test_serve_refuses_bad_options_before_starting(policy_path, args, words):
    proc = cli("serve", str(policy_path), *args)
    assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr


def test_serve_refuses_an_invalid_policy_with_the_field_path(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: p\nversion: 1\nscore: s\nactions: [block, allow]\n"
                   "rules: [{name: d, tiers: [{action: blok, threshold: 0.5}]}]\n")
    proc = cli("serve", str(bad), "--audit", f"sqlite:///{tmp_path / 'a.db'}")
    assert proc.returncode == 2 and "rules[0].tiers[0].action" in proc.stderr and "unknown action" in proc.stderr
