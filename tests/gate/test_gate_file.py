"""Gate files: what a valid one becomes, and malformed ones reported with the exact field path."""

import pytest
import yaml

from thresher.errors import GateError
from thresher.gate import Gate

DATASET = {"path": "golden.csv", "label": "y", "score": "score"}


def load(tmp_path, text: str) -> Gate:
    path = tmp_path / "gate.yaml"
    path.write_text(text)
    return Gate.load(path)


def test_a_valid_gate(tmp_path):
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump({
        "name": "p", "version": 3, "score": "score", "actions": ["block", "allow"],
        "rules": [{"name": "default", "tiers": [{"action": "block", "threshold": 0.5}]}]}))
    gate = load(tmp_path, """
name: fraud
confidence: 0.9
bootstrap: 500
policy: policy.yaml
datasets:
  recent: {path: data/recent.csv, label: y, score: p, segments: "country, tier"}
  old: {path: old.parquet, label: y, score: p, pos_label: "Yes", weight: w}
checks:
  - roc_auc >= 0.9
  - check: "per segment: recall >= 0.8 at threshold 0.5"
    dataset: recent
  - check: precision >= 0.5 at policy action=block
    dataset: old
    name: block precision
""")
    assert gate.name == "fraud" and gate.confidence == 0.9 and gate.bootstrap == 500
    assert gate.datasets["recent"].path == tmp_path / "data" / "recent.csv"  # relative to the gate file
    assert gate.datasets["recent"].segments == ("country", "tier")
    assert gate.datasets["old"].pos_label == "Yes" and gate.datasets["old"].weight == "w"
    assert gate.policy.version == 3
    # a check without a dataset runs on each; one naming a dataset only there
    assert [(c.check.spec(), c.dataset) for c in gate.checks] == [
        ("roc_auc >= 0.9", "recent"), ("roc_auc >= 0.9", "old"),
        ("per segment: recall >= 0.8 at threshold 0.5", "recent"),
        ("precision >= 0.5 at policy action=block", "old")]
    assert gate.checks[-1].title == "block precision"


def test_the_name_defaults_to_the_file_name(tmp_path):
    path = tmp_path / "nightly.yaml"
    path.write_text(yaml.safe_dump({"datasets": {"d": DATASET}, "checks": ["roc_auc >= 0.5"]}))
    assert Gate.load(path).name == "nightly"


@pytest.mark.parametrize("text, expected", [
    # a wrong type, deep in a dataset
    ("datasets: {d: {path: x.csv, label: 3}}\nchecks: [roc_auc >= 0.5]",
     ["datasets.d.label: Input should be a valid string (got 3)"]),
    # a misspelled field, with the fields that exist there
    ("datasets: {d: {path: x.csv, scroe: p}}\nchecks: [roc_auc >= 0.5]",
     ["datasets.d.scroe: unknown field 'scroe'. Did you mean 'score'?"]),
    ("datasets: {d: {path: x.csv}}\nchecks: [roc_auc >= 0.5]\nconfidnce: 0.9",
     ["confidnce: unknown field 'confidnce'. Did you mean 'confidence'?"]),
    # missing sections
    ("checks: [roc_auc >= 0.5]", ["datasets: required field is missing"]),
    ("datasets: {d: {label: y}}\nchecks: []",
     ["datasets.d.path: required field is missing", "checks: List should have at least 1 item"]),
    # out of range and quoted numbers
    ("confidence: 1.5\ndatasets: {d: {path: x.csv}}\nchecks: [roc_auc >= 0.5]",
     ["confidence: Input should be less than 1"]),
    ("confidence: '0.9'\ndatasets: {d: {path: x.csv}}\nchecks: [roc_auc >= 0.5]",
     ["confidence: must be a number, not str"]),
    ("bootstrap: 10\ndatasets: {d: {path: x.csv}}\nchecks: [roc_auc >= 0.5]",
     ["bootstrap: Input should be greater than or equal to 100"]),
    # a malformed pin
    ("datasets: {d: {path: x.csv, fingerprint: abc}}\nchecks: [roc_auc >= 0.5]",
     ["datasets.d.fingerprint: must look like sha256:<64 hex digits>"]),
    # the check language, with the item's index (a plain string has no 'check' field to name)
    ("datasets: {d: {path: x.csv}}\nchecks: [roc_auc >= 0.5, recal >= 0.9 at threshold 0.5]",
     ["checks[1]: Unknown metric 'recal'", "Did you mean 'recall'?"]),
    ("datasets: {d: {path: x.csv}}\nchecks: [{check: roc_auc >= 2}]", ["checks[0].check: roc_auc lies in [0, 1]"]),
    ("datasets: {d: {path: x.csv}}\nchecks: [{check: roc_auc >= 0.5, dataset: e}]",
     ["checks[0].dataset: unknown dataset 'e'; the gate's datasets are d"]),
    ("datasets: {d: {path: x.csv}}\nchecks: [{check: roc_auc >= 0.5, threshold: 1}]",
     ["checks[0].threshold: unknown field 'threshold'. Fields here: check, dataset, name"]),
    # cross-field rules
    ("datasets: {d: {path: x.csv}}\nchecks: [recall >= 0.9 at policy]",
     ["checks[0]: 'recall >= 0.9 at policy' is measured at the policy, but the gate has none"]),
    ("datasets: {d: {path: x.csv}}\nchecks: ['per segment: recall >= 0.9 at threshold 0.5']",
     ["checks[0]: 'per segment:' needs segment columns on dataset 'd'"]),
    ("policy: missing.yaml\ndatasets: {d: {path: x.csv}}\nchecks: [roc_auc >= 0.5]",
     ["policy: Policy file not found"]),
    ("datasets: {'bad name': {path: x.csv}}\nchecks: [roc_auc >= 0.5]",
     ["datasets.bad name: 'bad name' is not a valid dataset name"]),
])
def test_malformed_gate_files_name_the_field(tmp_path, text, expected):
    with pytest.raises(GateError) as info:
        load(tmp_path, text)
    message = str(info.value)
    assert message.startswith("Invalid gate file")
    assert "docs/gate.md" in message
    for part in expected:
        assert part in message, message


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(GateError) as info:
        load(tmp_path, "datasets: {d: {path: x.csv}}\nchecks: [roc_auc >= 2, recall >= 0.9, {check: auc >= 0.5}]")
    message = str(info.value)
    assert "checks[0]:" in message and "checks[1]:" in message and "checks[2].check:" in message


def test_unquoted_per_segment_reads_as_a_check(tmp_path):
    # YAML reads `- per segment: recall >= 0.9 ...` as a mapping; the gate file accepts it as the check
    gate = load(tmp_path, "datasets: {d: {path: x.csv, segments: [r]}}\nchecks:\n"
                          "  - per segment: recall >= 0.9 at threshold 0.5\n")
    assert gate.checks[0].check.per_segment


def test_not_yaml_not_a_mapping_not_a_file(tmp_path):
    with pytest.raises(GateError, match="not valid YAML at line 3, column 1"):
        load(tmp_path, "datasets:\n  - [unclosed\n")
    with pytest.raises(GateError, match="top level must be a mapping"):
        load(tmp_path, "- roc_auc >= 0.5\n")
    with pytest.raises(GateError, match="Gate file not found"):
        Gate.load(tmp_path / "nope.yaml")


def test_unknown_policy_action(tmp_path):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({
        "name": "p", "version": 1, "score": "score", "actions": ["block", "allow"],
        "rules": [{"name": "default", "tiers": [{"action": "block", "threshold": 0.5}]}]}))
    with pytest.raises(GateError, match=r"checks\[0\]: 'blok' is not an action of policy 'p' \(actions: block, al"):
        load(tmp_path, "policy: p.yaml\ndatasets: {d: {path: x.csv}}\nchecks: [recall >= 0.5 at policy action=blok]")
