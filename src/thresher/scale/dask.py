"""thresher on Dask: exact metrics, operating points and policy decisions over a dask DataFrame,
equal to the single-machine results on the computed frame.

>>> from thresher.scale import dask as td                                        # doctest: +SKIP
>>> ev = td.evaluate(ddf, label="y", score="p", by="country", threshold=0.4)     # doctest: +SKIP
>>> point = td.select(ddf, "min-cost fn=10 fp=1", label="y", score="p")          # doctest: +SKIP
>>> decided = td.decide(ddf, "policy.yaml")                                       # doctest: +SKIP

The same three partition passes as on Spark (:mod:`thresher.scale.partition`), as
``map_partitions`` over pandas partitions converted to Arrow, with a dask shuffle by unit between
passes 2 and 3; pass-1 histograms are merged in a tree, so the client only holds small tables.
Runs on whatever scheduler is active (a ``distributed.Client``, or dask's local threads).
"""

from __future__ import annotations

import os

import pyarrow as pa

from thresher.data.read import _missing
from thresher.errors import InputError, require
from thresher.scale.distributed import evaluate_with, select_with
from thresher.scale.partition import (
    Spec,
    Task,
    chunks,
    decide_partition,
    histogram,
    merge_histograms,
    partial_counts,
)
from thresher.scale.units import unit_summary

__all__ = ["decide", "evaluate", "select"]

_FEATURE = "thresher.scale.dask"
_MERGE_FAN_IN = 8


def _dask():
    require("dask.dataframe", "dask", _FEATURE)
    import dask

    return dask


def _arrow(pdf, columns) -> pa.Table:
    return pa.Table.from_pandas(pdf[list(columns)], preserve_index=False)


def _histogram_partition(pdf, spec: Spec, partition_info=None):
    number = (partition_info or {}).get("number", 0)
    position = number << 40
    out = []
    for chunk in chunks([_arrow(pdf, spec.columns)]):
        out.append(histogram(chunk, spec, position))
        position += chunk.num_rows
    table = merge_histograms(pa.concat_tables(out)) if out else _empty_histogram(pdf, spec)
    return table.to_pandas()


def _empty_histogram(pdf, spec: Spec) -> pa.Table:
    return histogram(_arrow(pdf, spec.columns).slice(0, 0), spec, 0)


def _merge(*parts):
    tables = [pa.Table.from_pandas(p, preserve_index=False) for p in parts]
    return merge_histograms(pa.concat_tables(tables, promote_options="permissive")).to_pandas()


def _partial_partition(pdf, spec: Spec, plan, task: Task):
    tables = [partial_counts(chunk, spec, plan, task) for chunk in chunks([_arrow(pdf, spec.columns)])]
    if not tables:
        tables = [partial_counts(_arrow(pdf, spec.columns).slice(0, 0), spec, plan, task)]
    return pa.concat_tables(tables).to_pandas()


def _summary_partition(pdf, spec: Spec, plan, task: Task):
    return unit_summary(pa.Table.from_pandas(pdf, preserve_index=False), spec, plan, task).to_pandas()


class DaskEngine:
    """Runs the partition passes on one dask DataFrame (see :class:`thresher.scale.distributed.Engine`)."""

    def __init__(self, ddf):
        _dask()
        self.ddf = ddf
        self.parallelism = _threads()

    def check_columns(self, columns: list[str]) -> None:
        _missing(columns, list(self.ddf.columns), "the dask DataFrame")

    def histogram(self, spec: Spec) -> pa.Table:
        dask = _dask()
        frame = self.ddf[spec.columns]
        meta = _histogram_partition(frame._meta, spec)
        parts = frame.map_partitions(_histogram_partition, spec, meta=meta).to_delayed()
        merge = dask.delayed(_merge, pure=True)
        while len(parts) > 1:  # a tree: no step holds more than a few partitions' histograms
            parts = [merge(*parts[i : i + _MERGE_FAN_IN]) for i in range(0, len(parts), _MERGE_FAN_IN)]
        (result,) = dask.compute(parts[0])
        return pa.Table.from_pandas(result, preserve_index=False)

    def units(self, spec: Spec, plan, task: Task) -> pa.Table:
        frame = self.ddf[spec.columns]
        meta = _partial_partition(frame._meta, spec, plan, task)
        partial = frame.map_partitions(_partial_partition, spec, plan, task, meta=meta)
        shuffled = partial.shuffle(on="unit", npartitions=plan.partitions)
        summary_meta = _summary_partition(meta, spec, plan, task)
        result = shuffled.map_partitions(_summary_partition, spec, plan, task, meta=summary_meta).compute()
        return pa.Table.from_pandas(result, preserve_index=False)


def _threads() -> int:
    try:
        from distributed import default_client

        return max(1, sum(default_client().nthreads().values()))
    except (ImportError, ValueError):
        return os.cpu_count() or 1


def evaluate(ddf, *, label: str = "label", score: str = "score", weight: str | None = None, by=None,
             pos_label=None, threshold: float = 0.5):
    """:func:`thresher.evaluate` on a dask DataFrame: a :class:`thresher.Evaluation` (see
    :func:`thresher.scale.spark.evaluate` for what it holds)."""
    return evaluate_with(DaskEngine(ddf), label=label, score=score, weight=weight, by=by, pos_label=pos_label,
                         threshold=threshold)


def select(ddf, objective, *, label: str = "label", score: str = "score", weight: str | None = None, by=None,
           pos_label=None, min_support: int = 30, confidence: float = 0.95):
    """:func:`thresher.select` on a dask DataFrame, or with ``by`` :func:`thresher.select_by_segment`."""
    return select_with(DaskEngine(ddf), objective, label=label, score=score, weight=weight, by=by,
                       pos_label=pos_label, min_support=min_support, confidence=confidence)


def _decide_partition(pdf, document: dict, needed: list[str]):
    from thresher.policy import Policy

    decided = decide_partition(_arrow(pdf, needed), Policy.from_dict(document))
    out = pdf.copy()
    for name in decided.column_names[len(needed):]:
        out[name] = decided.column(name).to_pandas().to_numpy()
    return out


def decide(ddf, policy):
    """The dask DataFrame with the policy's decision columns appended (``action``, ``tier``,
    ``threshold``, ``segment``, ``policy_version``), decided per partition. Lazy: bad scores raise
    when it is computed. ``policy`` is a :class:`~thresher.policy.Policy` or a policy file path."""
    _dask()
    from thresher.policy import Policy

    policy = policy if isinstance(policy, Policy) else Policy.load(policy)
    needed = list(dict.fromkeys([policy.score, *policy.segments]))
    _missing(needed, list(ddf.columns), f"the dask DataFrame (policy '{policy.name}' v{policy.version} needs it)")
    clash = [c for c in ("action", "tier", "threshold", "segment", "policy_version") if c in ddf.columns]
    if clash:
        raise InputError(f"The frame already has a column '{clash[0]}'; drop or rename it before deciding.")
    document = policy.to_dict()
    meta = _decide_partition(ddf._meta, document, needed)
    return ddf.map_partitions(_decide_partition, document, needed, meta=meta)
