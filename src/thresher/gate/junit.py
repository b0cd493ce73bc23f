"""JUnit XML for CI systems: one ``testsuite``, one ``testcase`` per check, ``failure`` / ``skipped`` children.

The layout is the one Jenkins, GitLab, GitHub test reporters and Azure read (the "junit-10"
schema): ``testsuite`` with ``name``, ``tests``, ``failures``, ``errors``, ``skipped``, ``time``,
``timestamp`` and ``hostname``; ``properties`` with the run id, commit and fingerprints; each
``testcase`` with ``classname`` (``thresher.gate.GATE.DATASET``), ``name`` (the check) and
``time``; a failed check has ``<failure message="why" type="...">`` with the details as text.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET

from thresher.data.atomic import write_atomic
from thresher.gate.render import render_text
from thresher.gate.result import FAIL, SKIP, CheckResult, GateResult


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _failure_type(c: CheckResult) -> str:
    if "vs baseline" in c.check:
        return "regression"
    if "undefined" in c.why:
        return "undefined"
    return "threshold"


def _details(c: CheckResult) -> str:
    lines = [f"check: {c.check}", f"dataset: {c.dataset}", f"value: {c.value:.6g}" if c.value == c.value
             else "value: undefined", f"bound: {c.op} {c.bound:g}", f"why: {c.why}"]
    for s in c.segments:
        lines.append(f"  segment {s.segment}: {s.verdict.upper()} {s.why}")
    return "\n".join(lines)


def junit_xml(result: GateResult) -> str:
    """The JUnit XML document of a gate run."""
    n = result.counts()
    suite = ET.Element("testsuite", {
        "name": f"thresher gate {result.gate}",
        "tests": str(n["total"]),
        "failures": str(n[FAIL]),
        "errors": "0",
        "skipped": str(n[SKIP]),
        "time": _seconds(result.seconds),
        "timestamp": result.created_at[:19],
        "hostname": socket.gethostname() or "localhost",
        "id": result.run_id,
    })
    props = ET.SubElement(suite, "properties")
    values = {"run_id": result.run_id, "gate_file": result.gate_file, "git_commit": result.git_commit,
              "confidence": f"{result.confidence:g}", "baseline": result.baseline}
    for name, d in result.datasets.items():
        values[f"dataset.{name}.fingerprint"] = d.fingerprint
        values[f"dataset.{name}.rows_fingerprint"] = d.rows_fingerprint
        values[f"dataset.{name}.baseline_run"] = d.baseline_run
    for key, value in values.items():
        if value is not None:
            ET.SubElement(props, "property", {"name": key, "value": str(value)})
    for c in result.checks:
        case = ET.SubElement(suite, "testcase", {"classname": f"thresher.gate.{result.gate}.{c.dataset}",
                                                 "name": c.title, "time": _seconds(c.seconds)})
        if c.verdict == FAIL:
            failure = ET.SubElement(case, "failure", {"message": c.why, "type": _failure_type(c)})
            failure.text = _details(c)
        elif c.verdict == SKIP:
            ET.SubElement(case, "skipped", {"message": c.why})
    out = ET.SubElement(suite, "system-out")
    out.text = render_text(result)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def write_junit(result: GateResult, path) -> None:
    """Write the JUnit XML atomically (a failed write never leaves a half file for the CI to read)."""
    write_atomic(path, junit_xml(result))
