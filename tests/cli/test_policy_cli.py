"""``thresher policy`` in a subprocess: fit -> validate -> apply -> diff, and bad files."""

import json
import subprocess
import sys

import pyarrow.parquet as pq

from thresher.examples import path as example_path
from thresher.policy import Policy

CREDIT = str(example_path())


def cli(*args):
    return subprocess.run([sys.executable, "-m", "thresher.cli.main", "policy", *args], capture_output=True, text=True,
                          timeout=300)


def test_fit_validate_apply_diff(tmp_path):
    by_student, global_ = tmp_path / "by-student.yaml", tmp_path / "global.json"
    fit = cli("fit", CREDIT, "--label", "default", "--score", "score", "--by", "student", "--objective",
              "max-precision recall>=0.5", "--tier", "review=budget rate<=0.08", "--name", "credit", "--version", "2",
              "--out", str(by_student))
    assert fit.returncode == 0, fit.stderr
    assert "student=yes" in fit.stdout and "review" in fit.stdout
    assert cli("fit", CREDIT, "--label", "default", "--score", "score", "--objective", "fixed 0.5", "--name", "credit",
               "--out", str(global_)).returncode == 0
    policy = Policy.load(by_student)
    assert policy.version == 2 and [r.name for r in policy.rules] == ["student=no", "student=yes", "default"]

    validate = cli("validate", str(by_student))
    assert validate.returncode == 0 and "0 warning(s)" in validate.stdout

    decisions = tmp_path / "d.parquet"
    apply = cli("apply", str(by_student), CREDIT, "--out", str(decisions))
    assert apply.returncode == 0, apply.stderr
    table = pq.read_table(decisions)
    assert table.num_rows == 10_000
    assert table.column("action").to_pylist() == policy.decide(CREDIT).column("action").to_pylist()

    diff = cli("diff", str(global_), str(by_student), "--data", CREDIT, "--label", "default", "--cost", "fn=10 fp=1",
               "--json", "-")
    assert diff.returncode == 0, diff.stderr
    document = json.loads(diff.stdout)
    old = Policy.load(global_).decide(CREDIT).column("action").to_pylist()
    new = policy.decide(CREDIT).column("action").to_pylist()
    assert document["impact"]["flipped"] == sum(a != b for a, b in zip(old, new))
    assert set(document["impact"]["deltas"]) == {"precision", "recall", "alerts", "cost"}


def test_bad_policy_file_exits_2_with_the_field_path(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: p\nversion: 1\nscore: s\nactions: [block, allow]\n"
                   "rules: [{name: d, tiers: [{action: block, threshold: '0.5'}]}]\n")
    for args in (("validate", str(bad)), ("apply", str(bad), CREDIT, "--out", str(tmp_path / "x.parquet"))):
        proc = cli(*args)
        assert proc.returncode == 2
        assert "rules[0].tiers[0].threshold" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_strict_validate_fails_on_lint_warnings(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nversion: 1\nscore: score\nactions: [block, review, allow]\n"
                    "rules: [{name: d, tiers: [{action: review, threshold: 0.3}, {action: block, threshold: 0.8}]}]\n")
    proc = cli("validate", str(path), "--strict")
    assert proc.returncode == 1 and "tiers out of order" in proc.stdout
