"""thresher on Apache Spark: exact metrics, operating points and policy decisions over a Spark
DataFrame, equal to the single-machine results on the collected data.

>>> from thresher.scale import spark as ts                                      # doctest: +SKIP
>>> ev = ts.evaluate(df, label="y", score="p", by="country", threshold=0.4)      # doctest: +SKIP
>>> point = ts.select(df, "max-precision recall>=0.9", label="y", score="p")     # doctest: +SKIP
>>> decided = ts.decide(df, "policy.yaml")                                        # doctest: +SKIP

How: every partition counts its rows with thresher's kernels inside ``mapInArrow`` (Arrow in, Arrow
out, no Python rows); the driver collects only an aggregated score histogram, plans score ranges
(units) and their offsets, and after one shuffle of the per-partition counts by unit, each unit's
exact cumulative counts yield its area contributions and a few candidate points
(:mod:`thresher.scale.partition`). Raw rows and the curve never reach the driver.

Workers need thresher installed in the Python that Spark runs (``spark.pyspark.python``);
:func:`local_session` sets it to this interpreter. While thresher's jobs run, the session's
``spark.sql.execution.arrow.maxRecordsPerBatch`` is raised to at least 262,144 rows (then restored).
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager

import pyarrow as pa

from thresher import errors
from thresher.data.read import _missing
from thresher.errors import require
from thresher.scale.distributed import evaluate_with, select_with
from thresher.scale.partition import (
    Spec,
    Task,
    chunks,
    decide_partition,
    histogram,
    histogram_schema,
    partial_counts,
    partial_schema,
)
from thresher.scale.units import sorted_unit_stream, summary_schema

__all__ = ["decide", "evaluate", "local_session", "select"]

_FEATURE = "thresher.scale.spark"
_BATCH_KEY = "spark.sql.execution.arrow.maxRecordsPerBatch"
ARROW_BATCH_ROWS = 1 << 18
_RAISED = re.compile(r"thresher\.errors\.(InputError|ParameterError|SpecError|PolicyError|InfeasibleError): (.+)")


def _sql():
    require("pyspark", "spark", _FEATURE)
    from pyspark.sql import functions, types

    return functions, types


def local_session(master: str = "local[2]", *, memory: str = "1g", shuffle_partitions: int = 4, app: str = "thresher",
                  conf: dict | None = None):
    """A local SparkSession set up for thresher: workers run this Python (so they import this
    thresher), the UI is off, and memory and shuffle partitions are small. ``conf`` adds settings
    (``{"spark.sql.files.maxPartitionBytes": "16m"}``)."""
    require("pyspark", "spark", _FEATURE)
    import os

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName(app)
               .config("spark.pyspark.python", sys.executable)
               .config("spark.pyspark.driver.python", sys.executable)
               .config("spark.driver.memory", memory)
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    for key, value in (conf or {}).items():
        builder = builder.config(key, str(value))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def _arrow_batches(session, rows: int = ARROW_BATCH_ROWS):
    # Spark's default of 10,000 rows per Arrow batch doubles the time of the passes; raised for the
    # duration of one action, then restored
    before = int(session.conf.get(_BATCH_KEY, "10000"))
    if before >= rows:
        yield
        return
    session.conf.set(_BATCH_KEY, str(rows))
    try:
        yield
    finally:
        session.conf.set(_BATCH_KEY, str(before))


def _run(session, action):
    """Run a Spark action; a thresher error raised on a worker is re-raised here as itself."""
    try:
        with _arrow_batches(session):
            return action()
    except Exception as exc:  # Spark wraps worker errors in its own exception types
        found = _RAISED.search(str(exc))
        if found:
            raise getattr(errors, found.group(1))(found.group(2).strip()) from None
        raise


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & 0xFFFFFFFF


def spark_partition_of(value: int, partitions: int) -> int:
    """The partition ``repartition(partitions, column)`` sends an int column value to: Spark's
    ``pmod(Murmur3_x86_32.hashInt(value, 42), partitions)`` (checked against ``F.hash`` in the tests)."""
    k = (value & 0xFFFFFFFF) * 0xCC9E2D51 & 0xFFFFFFFF
    k = _rotl(k, 15) * 0x1B873593 & 0xFFFFFFFF
    h = _rotl(42 ^ k, 13)
    h = (h * 5 + 0xE6546B64) & 0xFFFFFFFF
    h ^= 4
    h ^= h >> 16
    h = h * 0x85EBCA6B & 0xFFFFFFFF
    h ^= h >> 13
    h = h * 0xC2B2AE35 & 0xFFFFFFFF
    h ^= h >> 16
    signed = h - (1 << 32) if h >= 1 << 31 else h
    return signed % partitions  # Python's % is already a non-negative pmod


class SparkEngine:
    """Runs the partition passes on one Spark DataFrame (see :class:`thresher.scale.distributed.Engine`)."""

    def __init__(self, df):
        self.df = df
        self.session = df.sparkSession
        try:
            self.parallelism = int(self.session.sparkContext.defaultParallelism)
        except Exception:  # Spark Connect has no SparkContext
            self.parallelism = int(self.session.conf.get("spark.sql.shuffle.partitions", "4"))
        large = self.session.conf.get("spark.sql.execution.arrow.useLargeVarTypes", "false") == "true"
        self._large = large

    def check_columns(self, columns: list[str]) -> None:
        _missing(columns, self.df.columns, "the Spark DataFrame")

    def _struct(self, schema: pa.Schema, keep=None):
        # Spark types for an Arrow schema; ``keep`` maps columns that keep the input's Spark type
        _, T = _sql()
        simple = {pa.string(): T.StringType(), pa.int64(): T.LongType(), pa.int8(): T.ByteType(),
                  pa.int32(): T.IntegerType(), pa.float64(): T.DoubleType(), pa.float32(): T.FloatType()}
        fields = [T.StructField(f.name, (keep or {}).get(f.name) or simple[f.type], True) for f in schema]
        return T.StructType(fields)

    def _arrow(self, struct):
        from pyspark.sql.pandas.types import to_arrow_schema

        return to_arrow_schema(struct, timezone="UTC", prefers_large_types=self._large)

    def histogram(self, spec: Spec) -> pa.Table:
        F, _ = _sql()
        df = self.df.select(*spec.columns)
        label_type = df.schema[spec.label].dataType
        struct = self._struct(histogram_schema(spec, pa.null()), keep={"label": label_type})
        target = self._arrow(struct)

        def count(batches):
            from pyspark import TaskContext

            position = TaskContext.get().partitionId() << 40
            for chunk in chunks(batches):
                yield from histogram(chunk, spec, position).cast(target).to_batches()
                position += chunk.num_rows

        keys = [n for n in struct.fieldNames() if n.startswith("segment_")] + ["label", "bucket"]
        sums = ["rows", "weight"] + [f"amount_{i}" for i in range(len(spec.amounts))]
        merged = df.mapInArrow(count, struct).groupBy(*keys).agg(
            F.min("first").alias("first"), *[F.sum(n).alias(n) for n in sums])
        return _run(self.session, merged.toArrow)

    def units(self, spec: Spec, plan, task: Task) -> pa.Table:
        _, T = _sql()
        df = self.df.select(*spec.columns)
        score_type = pa.float32() if isinstance(df.schema[spec.score].dataType, T.FloatType) else pa.float64()
        partial = self._struct(partial_schema(spec, score_type))
        plan.route(lambda code: spark_partition_of(code, plan.partitions))
        summary = self._struct(summary_schema(spec))

        def count(batches):
            for chunk in chunks(batches):
                yield from partial_counts(chunk, spec, plan, task).to_batches()

        def summarise(batches):
            for table in sorted_unit_stream(batches, spec, plan, task):
                yield from table.to_batches()

        result = (df.mapInArrow(count, partial)
                  .repartition(plan.partitions, "unit")
                  .sortWithinPartitions("unit")
                  .mapInArrow(summarise, summary))
        return _run(self.session, result.toArrow)


def evaluate(df, *, label: str = "label", score: str = "score", weight: str | None = None, by=None,
             pos_label=None, threshold: float = 0.5):
    """:func:`thresher.evaluate` on a Spark DataFrame: a :class:`thresher.Evaluation` whose
    ``overall`` and ``segments`` hold ``n``, ``positives``, ``negatives``, ``roc_auc``,
    ``average_precision``, ``pr_auc`` and ``at_threshold`` (a Confusion), ``to_dict()`` as the CLI's
    JSON. Segments are listed in order of first appearance (partition order, then row order)."""
    return evaluate_with(SparkEngine(df), label=label, score=score, weight=weight, by=by, pos_label=pos_label,
                         threshold=threshold)


def select(df, objective, *, label: str = "label", score: str = "score", weight: str | None = None, by=None,
           pos_label=None, min_support: int = 30, confidence: float = 0.95):
    """:func:`thresher.select` on a Spark DataFrame (an :class:`~thresher.OperatingPoint`), or with
    ``by`` :func:`thresher.select_by_segment` (a :class:`~thresher.SegmentedSelection`; its
    ``levels`` keys hold segment values as text). Per-period budgets are not supported."""
    return select_with(SparkEngine(df), objective, label=label, score=score, weight=weight, by=by,
                       pos_label=pos_label, min_support=min_support, confidence=confidence)


def decide(df, policy):
    """The DataFrame with the policy's decision columns appended (``action``, ``tier``,
    ``threshold``, ``segment``, ``policy_version``), decided per partition with
    :meth:`thresher.policy.Policy.decide_table`. Lazy, like any transformation: bad scores raise
    when an action runs. ``policy`` is a :class:`~thresher.policy.Policy` or a policy file path."""
    _, T = _sql()
    from thresher.policy import Policy

    policy = policy if isinstance(policy, Policy) else Policy.load(policy)
    needed = [policy.score, *policy.segments]
    _missing(needed, df.columns, f"the Spark DataFrame (policy '{policy.name}' v{policy.version} needs it)")
    clash = [c for c in ("action", "tier", "threshold", "segment", "policy_version") if c in df.columns]
    if clash:
        raise errors.InputError(f"The frame already has a column '{clash[0]}'; drop or rename it before deciding.")
    struct = T.StructType(list(df.schema.fields) + [
        T.StructField("action", T.StringType(), True), T.StructField("tier", T.StringType(), True),
        T.StructField("threshold", T.DoubleType(), True), T.StructField("segment", T.StringType(), True),
        T.StructField("policy_version", T.IntegerType(), True)])
    engine = SparkEngine(df)
    target = engine._arrow(struct)
    document = policy.to_dict()

    def decide_batches(batches):
        from thresher.policy import Policy

        rebuilt = Policy.from_dict(document)
        for batch in batches:
            yield from decide_partition(pa.Table.from_batches([batch]), rebuilt).cast(target).to_batches()

    return df.mapInArrow(decide_batches, struct)
