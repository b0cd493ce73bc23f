"""JUnit XML: one testsuite, one testcase per check, failures with a message; valid against tests/gate/junit.xsd."""

import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema
from gate_data import write_gate, write_scores

from thresher.gate import check_gate, junit_xml, write_junit

SCHEMA = Path(__file__).with_name("junit.xsd")


def test_junit_report_structure_and_schema(tmp_path, rows):
    write_scores(tmp_path / "golden.csv", rows, "baseline")
    gate = write_gate(tmp_path, [
        "roc_auc >= 0.7",
        {"check": "average_precision >= 0.99", "name": "AP & <friends>"},  # fails; XML-special characters
        "per segment: recall >= 0.9 at threshold 0.5",                    # fails in both segments
        "roc_auc vs baseline >= -0.01",                                   # skipped: no baseline
    ])
    result = check_gate(gate)
    target = tmp_path / "reports" / "gate.xml"
    write_junit(result, target)

    xmlschema.XMLSchema(SCHEMA).validate(target)  # raises with the reason when invalid

    suite = ET.parse(target).getroot()
    assert suite.tag == "testsuite" and suite.get("name") == "thresher gate synthetic"
    counts = [suite.get(k) for k in ("tests", "failures", "errors", "skipped")]
    assert counts == ["4", "2", "0", "1"]
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["run_id"] == result.run_id
    assert props["dataset.golden.fingerprint"] == result.datasets["golden"].fingerprint
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["roc_auc >= 0.7", "AP & <friends>",
                                              "per segment: recall >= 0.9 at threshold 0.5",
                                              "roc_auc vs baseline >= -0.01"]
    assert {c.get("classname") for c in cases} == {"thresher.gate.synthetic.golden"}
    assert list(cases[0]) == []  # a pass has no children
    failure = cases[1].find("failure")
    assert failure.get("message").startswith("average_precision 0.") and failure.get("type") == "threshold"
    assert "bound: >= 0.99" in failure.text
    segments = cases[2].find("failure")
    assert segments.get("message").startswith("2 of 2 segments fail")
    assert "segment region=north: FAIL" in segments.text
    assert cases[3].find("skipped").get("message").startswith("no baseline")
    assert "roc_auc >= 0.7" in suite.find("system-out").text  # the table, for humans reading the CI log
    assert junit_xml(result) == target.read_text()


def test_the_schema_rejects_what_consumers_reject():
    schema = xmlschema.XMLSchema(SCHEMA)
    good = '<testsuite name="s" tests="1" failures="1" errors="0"><testcase name="c" classname="k" time="0.1">' \
           '<failure message="why">details</failure></testcase></testsuite>'
    assert schema.is_valid(good)
    assert not schema.is_valid(good.replace(' tests="1"', ""))                      # counts are required
    assert not schema.is_valid(good.replace('failures="1"', 'failures="one"'))      # and numbers
    assert not schema.is_valid(good.replace(' message="why"', ""))                  # a failure says why
    assert not schema.is_valid(good.replace('<testcase name="c"', '<testcase'))     # a testcase has a name
