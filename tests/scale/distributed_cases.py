"""Data and comparisons shared by the Spark and Dask tests: distributed results must equal the
single-machine results on the collected data (thresholds and counts exactly, areas to 1e-12)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

AREAS = ("roc_auc", "average_precision", "pr_auc", "roc_auc_interval")

# every objective kind, including ties, a Bayes query, a cost column and confidence bounds
OBJECTIVES = [
    "max-f1",
    "max-fbeta beta=2",
    "youden",
    "fixed 0.5",
    "min-cost fn=10 fp=1",
    "min-cost fn=amount fp=1",
    "max-precision recall>=0.6",
    "max-recall precision>=0.4 confidence=0.9",
    "min-fpr recall>=0.5",
    "budget rate<=0.1",
    "budget count<=40",
]


def make_table(rng: np.random.Generator, n: int, *, ties: bool = True, weighted: bool = False, segments: int = 0,
               labels: str = "int", dtype=np.float32, negative: bool = False) -> pa.Table:
    """Labelled scores with ties, optional integer weights (zeros included), segments with a
    missing value, an integer per-case ``amount`` and an ``id``."""
    y = (rng.random(n) < rng.uniform(0.15, 0.5)).astype(np.int64)
    y[:2] = [1, 0]
    score = rng.random(n) + 0.35 * y
    if ties:
        score = np.round(score, int(rng.integers(1, 3)))
    if negative:
        score = (score - 0.6) * 7  # logits of both signs
    columns = {"id": np.arange(n), "score": score.astype(dtype)}
    columns["label"] = {"int": y, "bool": y.astype(bool), "text": np.where(y == 1, "Yes", "No")}[labels]
    if weighted:
        columns["w"] = rng.integers(0, 4, n).astype(np.float64)
    columns["amount"] = rng.integers(0, 20, n).astype(np.float64)
    table = pa.table(columns)
    if segments:
        # uneven sizes, so that small segments fall back to their parent's threshold
        sizes = 0.5 ** np.arange(segments + 1)
        region = rng.choice([f"r{i}" for i in range(segments)] + [None], n, p=sizes / sizes.sum()).tolist()
        table = table.append_column("region", pa.array(region, pa.string()))
        table = table.append_column("band", pa.array(rng.integers(0, 2, n)))
    return table


def _close(key, a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(k, a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(key, x, y) for x, y in zip(a, b))
    if key in AREAS and isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)
    return a == b


def _without_interval(doc):
    # the distributed summary does not compute the DeLong interval (null); everything else must match
    if isinstance(doc, dict):
        return {k: _without_interval(v) for k, v in doc.items() if k != "roc_auc_interval"}
    return doc


def assert_same(got: dict, want: dict) -> None:
    """Equal JSON documents: exact everywhere but the areas (1e-12); dict order is ignored."""
    got, want = _without_interval(got), _without_interval(want)
    if not _close(None, got, want):
        diffs = _differences(got, want)
        raise AssertionError("distributed result differs from single-machine:\n" + "\n".join(diffs[:20]))


def _differences(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}: keys {sorted(a.keys() ^ b.keys())}"] if a.keys() != b.keys() else []
        for k in a.keys() & b.keys():
            out += _differences(a[k], b[k], f"{path}.{k}")
        return out
    key = path.rsplit(".", 1)[-1]
    return [] if _close(key, a, b) else [f"{path}: {a!r} != {b!r}"]
