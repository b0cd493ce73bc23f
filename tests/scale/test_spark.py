"""thresher on Apache Spark equals thresher on the collected frame, for any partitioning.

One local[2] session for the module (1g driver memory, 4 shuffle partitions, UI off; workers run
this interpreter). Spark jobs cost seconds each, so the property test draws 5 examples; the Dask
tests cover the same engine-independent code with many more.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest
from distributed_cases import assert_same, make_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thresher
from thresher.errors import InfeasibleError, InputError
from thresher.policy import Policy
from thresher.scale import plan as scale_plan
from thresher.scale import spark as ts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark():
    session = ts.local_session("local[2]", memory="1g", shuffle_partitions=4)
    yield session
    session.stop()


@pytest.fixture(scope="module", autouse=True)
def small_units():
    before = scale_plan.MIN_UNIT_ROWS
    scale_plan.MIN_UNIT_ROWS = 1  # several units per group, so offsets and cross-unit neighbours matter
    yield
    scale_plan.MIN_UNIT_ROWS = before


def frame(spark, table: pa.Table, partitions: int):
    # checkpointed: every job reads the same partitions instead of redoing the repartition shuffle
    return spark.createDataFrame(table).repartition(partitions).localCheckpoint()


def test_importing_thresher_imports_neither_spark_nor_dask():
    code = ("import sys, thresher, thresher.scale; import thresher.scale.distributed; "
            "bad = [m for m in ('pyspark', 'dask', 'distributed') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("by", [None, "region,band"])
def test_evaluate_equals_single_machine(spark, by):
    table = make_table(np.random.default_rng(11), 4000, weighted=True, segments=3)
    df = frame(spark, table, 3)
    kwargs = dict(label="label", score="score", weight="w", by=by, threshold=0.6)
    got = ts.evaluate(df, **kwargs)
    want = thresher.evaluate(df.toArrow(), **kwargs)
    # equal as documents; the order of segments follows the rows as Spark reads them, which a
    # round-robin repartition does not keep from one query plan to the next
    assert_same(got.to_dict(), want.to_dict())


def test_select_equals_single_machine(spark):
    # the engine-independent logic meets every objective in the Dask tests; here one of each path:
    # a cost column, confidence bounds, a count budget and a fixed threshold's located point
    table = make_table(np.random.default_rng(12), 3000, weighted=True)
    df = frame(spark, table, 4)
    collected = df.toArrow()
    for objective in ("min-cost fn=amount fp=1", "max-recall precision>=0.4 confidence=0.9", "budget count<=40",
                      "fixed 0.5"):
        got = ts.select(df, objective, label="label", score="score", weight="w")
        want = thresher.select(collected, objective, label="label", score="score", weight="w")
        assert_same(got.to_dict(), want.to_dict())


def test_select_by_segment_with_fallbacks(spark):
    table = make_table(np.random.default_rng(13), 4000, segments=4)
    df = frame(spark, table, 3)
    kwargs = dict(by="region,band", label="label", score="score", min_support=60)
    got = ts.select(df, "max-precision recall>=0.7", **kwargs)
    want = thresher.select_by_segment(df.toArrow(), "max-precision recall>=0.7", **kwargs)
    assert want.fallbacks
    assert_same(got.to_dict(), want.to_dict())
    assert list(got.segments) == list(want.segments)  # select_by_segment sorts them


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), partitions=st.integers(1, 6), n=st.integers(2, 600),
       weighted=st.booleans(), labels=st.sampled_from(["int", "bool", "text"]),
       dtype=st.sampled_from([np.float32, np.float64]), negative=st.booleans(),
       objective=st.sampled_from(["max-f1", "min-cost fn=10 fp=1", "max-precision recall>=0.6", "fixed 0.5"]))
def test_any_partitioning_gives_the_single_machine_result(spark, seed, partitions, n, weighted, labels, dtype,
                                                           negative, objective):
    rng = np.random.default_rng(seed)
    table = make_table(rng, n, weighted=weighted, labels=labels, dtype=dtype, negative=negative, segments=2)
    common = dict(label="label", score="score", weight="w" if weighted else None,
                  pos_label="Yes" if labels == "text" else None)
    df = frame(spark, table, partitions)
    collected = df.toArrow()
    assert_same(ts.evaluate(df, by="region", **common).to_dict(),
                thresher.evaluate(collected, by="region", **common).to_dict())
    try:
        want = thresher.select(collected, objective, **common).to_dict()
    except InfeasibleError as exc:
        with pytest.raises(InfeasibleError) as raised:
            ts.select(df, objective, **common)
        assert str(raised.value) == str(exc)
    else:
        assert_same(ts.select(df, objective, **common).to_dict(), want)


def test_worker_errors_surface_as_thresher_errors(spark):
    table = make_table(np.random.default_rng(14), 300)
    scores = table.column("score").to_numpy().astype(np.float64)
    scores[7] = np.inf
    bad = table.set_column(table.schema.get_field_index("score"), "score", pa.array(scores))
    with pytest.raises(InputError, match=r"'score' has 1 non-finite value\(s\) \(\+inf; first at row 7\)"):
        ts.evaluate(spark.createDataFrame(bad).coalesce(1), label="label", score="score")
    with pytest.raises(InputError, match="Column 'lable' not found in the Spark DataFrame"):
        ts.evaluate(frame(spark, table, 1), label="lable", score="score")
    text = table.set_column(table.schema.get_field_index("label"), "label",
                            pa.array(np.where(np.arange(300) % 2, "a", "b")))
    with pytest.raises(InputError, match="say which value is the positive class"):
        ts.evaluate(frame(spark, text, 2), label="label", score="score")


def test_decide_appends_the_policy_decisions(spark):
    table = make_table(np.random.default_rng(15), 1000, segments=2)
    policy = Policy.from_dict({
        "name": "p", "version": 2, "score": "score", "segments": ["region"], "actions": ["block", "review", "allow"],
        "rules": [{"name": "r0", "match": {"region": "r0"},
                   "tiers": [{"action": "block", "threshold": 0.9}, {"action": "review", "threshold": 0.6}]},
                  {"name": "default", "tiers": [{"action": "block", "threshold": 0.8}]}]})
    got = ts.decide(frame(spark, table, 3), policy).toArrow().sort_by("id")
    want = policy.decide(table)
    assert got.column_names == table.column_names + ["action", "tier", "threshold", "segment", "policy_version"]
    for name in ("action", "tier", "segment", "threshold"):
        assert got.column(name).to_pylist() == want.column(name).cast(want.column(name).type if name == "threshold"
                                                                     else pa.string()).to_pylist()
    assert set(got.column("policy_version").to_pylist()) == {2}
