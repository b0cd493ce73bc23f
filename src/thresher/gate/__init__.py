"""The evaluation gate: golden datasets, checks with uncertainty, baselines, and the run history.

Names are imported on first use, so ``thresher runs list`` does not pay for the statistics stack.

>>> from thresher.gate import parse_check
>>> parse_check("precision >= 0.6 at recall>=0.9").spec()
'precision >= 0.6 at max-precision recall>=0.9'
"""

import importlib

_EXPORTS = {
    "Check": "spec", "parse_check": "spec:parse",
    "Comparison": "compare", "compare_runs": "compare",
    "Dataset": "gatefile", "Gate": "gatefile", "GateCheck": "gatefile",
    "junit_xml": "junit", "write_junit": "junit",
    "Sample": "measure",
    "Difference": "paired", "paired_difference": "paired",
    "render_text": "render",
    "CheckResult": "result", "DatasetSummary": "result", "GateResult": "result",
    "rows_fingerprint": "rows",
    "check_gate": "run",
    "RunStore": "store", "default_url": "store", "open_store": "store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'thresher.gate' has no attribute '{name}'")
    module, _, attribute = _EXPORTS[name].partition(":")
    value = getattr(importlib.import_module(f"thresher.gate.{module}"), attribute or name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
