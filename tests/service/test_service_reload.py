"""Hot reload: PUT /v1/policy with a bearer token, or a changed file; bad policies never replace good ones."""

import json
import threading
import time

import yaml
from service_harness import cli, policy_text

from thresher.policy import Policy

TOKEN = "s3cret-admin-token"
CASE = {"id": "c1", "score": 0.45, "student": "no", "region": "north"}  # thresholds -0.1: block; as v1 or +0.1: review


def wait_for(predicate, seconds=10.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_put_policy_needs_the_token_validates_and_swaps(serve, policy_path, tmp_path):
    db = tmp_path / "audit.db"
    server = serve(policy_path, f"sqlite:///{db}", env={"THRESHER_ADMIN_TOKEN": TOKEN})
    auth = {"Authorization": f"Bearer {TOKEN}"}
    v2 = yaml.safe_load(policy_text(2, shift=-0.1))
    assert server.decide(CASE).json()["action"] == "review"

    r = server.client.put("/v1/policy", json=v2)
    assert r.status_code == 401 and "bearer token" in r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"
    r = server.client.put("/v1/policy", json=v2, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and "not the admin token" in r.json()["detail"]
    r = server.client.put("/v1/policy", json=v2, headers={"Authorization": f"Basic {TOKEN}"})
    assert r.status_code == 401

    invalid = json.loads(json.dumps(v2))
    invalid["rules"][1]["tiers"][0]["threshold"] = "0.6"
    r = server.client.put("/v1/policy", json=invalid, headers=auth)
    assert r.status_code == 422
    assert "rules[1].tiers[0].threshold: must be a number" in r.json()["detail"]
    assert r.json()["active"] == {"name": "credit", "version": 1}
    invalid["rules"][1]["tiers"][0]["threshold"] = 0.6
    invalid["rules"][2]["tiers"][0]["action"] = "blok"
    r = server.client.put("/v1/policy", json=invalid, headers=auth)
    assert r.status_code == 422 and "rules[2].tiers[0].action: unknown action 'blok'" in r.json()["detail"]
    r = server.client.put("/v1/policy", content=b"rules: [", headers={**auth, "Content-Type": "application/yaml"})
    assert r.status_code == 422 and "not valid YAML" in r.json()["detail"]
    # the same version number with other rules would make the audit log ambiguous
    same_version = yaml.safe_load(policy_text(1, shift=-0.1))
    r = server.client.put("/v1/policy", json=same_version, headers=auth)
    assert r.status_code == 409 and "bump 'version'" in r.json()["detail"]
    assert server.policy()["version"] == 1 and server.decide(CASE).json()["policy_version"] == 1
    assert "PUT /v1/policy" in server.policy()["last_reload_error"]["source"]

    r = server.client.put("/v1/policy", json=v2, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["previous"] == {"name": "credit", "version": 1}
    decided = server.decide(CASE).json()
    assert (decided["policy_version"], decided["action"]) == (2, "block")
    assert Policy.load(policy_path) == Policy.from_dict(v2)  # written through: other workers and restarts agree
    time.sleep(0.3)  # the file poller sees the file it wrote, and must not count it as a new change
    assert server.policy()["version"] == 2 and server.policy()["source"] == "PUT /v1/policy"

    # rolling back to v1 (the same rules as logged) is allowed
    r = server.client.put("/v1/policy", content=policy_text(1), headers={**auth, "Content-Type": "application/yaml"})
    assert r.status_code == 200 and server.decide(CASE).json()["policy_version"] == 1
    text = server.metrics()
    assert 'thresher_policy_reloads_total{source="api",result="ok"} 2' in text
    assert 'thresher_policy_reloads_total{source="api",result="rejected"} 4' in text

    logged = json.loads(cli("audit", "query", "--audit", f"sqlite:///{db}", "--json", "-").stdout)
    assert [r["policy_version"] for r in logged] == [1, 1, 2, 1]


def test_put_policy_is_disabled_without_a_token(serve, policy_path, tmp_path):
    server = serve(policy_path, f"sqlite:///{tmp_path / 'audit.db'}", env={"THRESHER_ADMIN_TOKEN": ""})
    r = server.client.put("/v1/policy", content=policy_text(2), headers={"Authorization": "Bearer anything"})
    assert r.status_code == 403 and "disabled" in r.json()["detail"] and "THRESHER_ADMIN_TOKEN" in r.json()["detail"]
    assert server.policy()["version"] == 1


def test_a_changed_file_is_reloaded_and_a_bad_one_is_not(serve, policy_path, tmp_path):
    server = serve(policy_path, f"sqlite:///{tmp_path / 'audit.db'}")
    policy_path.write_text(policy_text(3, shift=-0.1))
    assert wait_for(lambda: server.decide(CASE).json()["policy_version"] == 3)
    assert server.decide(CASE).json()["action"] == "block"

    policy_path.write_text(policy_text(4).replace("threshold: 0.7", "threshold: high"))
    assert wait_for(lambda: server.policy()["last_reload_error"] is not None)
    error = server.policy()["last_reload_error"]
    assert "rules[0].tiers[0].threshold" in error["detail"] and "must be a number" in error["detail"]
    assert server.decide(CASE).json()["policy_version"] == 3  # the old one keeps serving

    policy_path.write_text(policy_text(3, shift=+0.1))  # v3 again but other rules: refused, v3 keeps serving
    assert wait_for(lambda: "bump 'version'" in (server.policy()["last_reload_error"] or {}).get("detail", ""))
    assert server.decide(CASE).json()["action"] == "block"

    policy_path.write_text(policy_text(5, shift=+0.1))
    assert wait_for(lambda: server.policy()["version"] == 5)
    assert server.policy()["last_reload_error"] is None
    assert 'thresher_policy_reloads_total{source="file",result="rejected"} 2' in server.metrics()


def test_no_response_mixes_two_versions(serve, policy_path, tmp_path):
    """Batches in flight while the policy flips between two versions: each response is wholly one."""
    server = serve(policy_path, f"sqlite:///{tmp_path / 'audit.db'}", env={"THRESHER_ADMIN_TOKEN": TOKEN})
    policies = {1: Policy.load(policy_path), 2: Policy.from_dict(yaml.safe_load(policy_text(2, shift=-0.1)))}
    cases = [{"id": i, "score": round(0.2 + 0.6 * i / 2000, 6), "student": ("yes", "no")[i % 2],
              "region": ("north", "south", "west")[i % 3]} for i in range(2000)]
    expected = {v: [p.decide_one(c["score"], student=c["student"], region=c["region"])["action"] for c in cases]
                for v, p in policies.items()}
    assert expected[1] != expected[2]
    stop, seen, failures = threading.Event(), set(), []

    def load():
        import httpx

        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                doc = client.post("/v1/decide", json={"cases": cases}).json()
                seen.add(doc["policy_version"])
                if [d["action"] for d in doc["decisions"]] != expected[doc["policy_version"]]:
                    failures.append(doc["request_id"])

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/yaml"}
    try:
        for k in range(6):
            version = 2 if k % 2 == 0 else 1
            text = policy_text(2, shift=-0.1) if version == 2 else policy_text(1)
            assert server.client.put("/v1/policy", content=text, headers=auth).status_code == 200
            time.sleep(0.15)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert seen == {1, 2} and not failures
