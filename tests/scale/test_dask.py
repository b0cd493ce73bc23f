"""thresher on Dask equals thresher on the computed frame, for any partitioning.

Runs on a real ``distributed`` LocalCluster (in-process workers, small memory). Units are made
small (``MIN_UNIT_ROWS``) so that every group spans several units and the cross-unit offsets,
neighbours and tie handling are exercised.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from distributed_cases import OBJECTIVES, assert_same, make_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thresher
from thresher.errors import InfeasibleError, InputError, ParameterError
from thresher.policy import Policy
from thresher.scale import dask as td
from thresher.scale import plan as scale_plan

dd = pytest.importorskip("dask.dataframe", reason="the dask extra is part of the test extra")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module", autouse=True)
def client():
    cluster = distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2, memory_limit="1GiB",
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module", autouse=True)
def small_units():
    before = scale_plan.MIN_UNIT_ROWS
    scale_plan.MIN_UNIT_ROWS = 1
    yield
    scale_plan.MIN_UNIT_ROWS = before


def frame(table: pa.Table, partitions: int):
    return dd.from_pandas(table.to_pandas(), npartitions=partitions, sort=False)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("by", [None, "region", "region,band"])
def test_evaluate_equals_single_machine(weighted, by):
    table = make_table(np.random.default_rng(1), 3000, weighted=weighted, segments=3)
    kwargs = dict(label="label", score="score", weight="w" if weighted else None, by=by, threshold=0.55)
    got = td.evaluate(frame(table, 5), **kwargs)
    want = thresher.evaluate(table, **kwargs)
    assert_same(got.to_dict(), want.to_dict())
    assert got.overall.at_threshold == want.overall.at_threshold
    assert list(got.segments) == list(want.segments)  # in order of first appearance, as on one machine


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_select_equals_single_machine(objective):
    table = make_table(np.random.default_rng(2), 2500, weighted=True)
    got = td.select(frame(table, 4), objective, label="label", score="score", weight="w")
    want = thresher.select(table, objective, label="label", score="score", weight="w")
    assert_same(got.to_dict(), want.to_dict())


@pytest.mark.parametrize("objective", ["max-precision recall>=0.7", "min-cost fn=5 fp=1", "fixed 0.6"])
def test_select_by_segment_with_fallbacks(objective):
    table = make_table(np.random.default_rng(3), 4000, segments=4)
    kwargs = dict(by="region,band", label="label", score="score", min_support=60)
    got = td.select(frame(table, 3), objective, **kwargs)
    want = thresher.select_by_segment(table, objective, **kwargs)
    assert want.fallbacks, "the case should exercise fallbacks"
    assert_same(got.to_dict(), want.to_dict())
    assert got.fallbacks == want.fallbacks
    assert list(got.segments) == list(want.segments)


def test_infeasible_message_is_the_single_machine_one():
    table = make_table(np.random.default_rng(4), 1500)
    spec = "max-precision recall>=0.95 specificity>=0.95"
    with pytest.raises(InfeasibleError) as single:
        thresher.select(table, spec, label="label", score="score")
    with pytest.raises(InfeasibleError) as spread:
        td.select(frame(table, 3), spec, label="label", score="score")
    assert str(spread.value) == str(single.value)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), partitions=st.integers(1, 7), n=st.integers(2, 400),
       weighted=st.booleans(), labels=st.sampled_from(["int", "bool", "text"]),
       dtype=st.sampled_from([np.float32, np.float64]), negative=st.booleans(),
       objective=st.sampled_from(OBJECTIVES[:-2] + ["budget rate<=0.3"]))
def test_any_partitioning_gives_the_single_machine_result(seed, partitions, n, weighted, labels, dtype, negative,
                                                           objective):
    rng = np.random.default_rng(seed)
    table = make_table(rng, n, weighted=weighted, labels=labels, dtype=dtype, negative=negative, segments=2)
    pos_label = "Yes" if labels == "text" else None
    common = dict(label="label", score="score", weight="w" if weighted else None, pos_label=pos_label)
    ddf = frame(table, partitions)
    assert_same(td.evaluate(ddf, by="region", threshold=0.5, **common).to_dict(),
                thresher.evaluate(table, by="region", threshold=0.5, **common).to_dict())
    try:
        want = thresher.select(table, objective, **common).to_dict()
    except (InfeasibleError, InputError) as exc:
        with pytest.raises(type(exc)) as raised:
            td.select(ddf, objective, **common)
        assert str(raised.value) == str(exc)
    else:
        assert_same(td.select(ddf, objective, **common).to_dict(), want)


def test_errors_name_the_column():
    table = make_table(np.random.default_rng(5), 200)
    scores = table.column("score").to_numpy().copy()
    scores[150] = np.nan
    bad = table.set_column(table.schema.get_field_index("score"), "score", pa.array(scores))
    with pytest.raises(InputError, match=r"'score' has 1 missing value.*row 50.*In partition 1 "):
        td.evaluate(frame(bad, 2), label="label", score="score")
    with pytest.raises(InputError, match="Column 'scor' not found"):
        td.evaluate(frame(table, 2), label="label", score="scor")
    three = table.set_column(table.schema.get_field_index("label"), "label", pa.array(np.arange(200) % 3))
    with pytest.raises(InputError, match="3 distinct values"):
        td.evaluate(frame(three, 2), label="label", score="score")
    with pytest.raises(ParameterError, match="per-period"):
        td.select(frame(table, 2), "budget count<=5 per=day time=id", label="label", score="score")


def test_decide_appends_the_policy_decisions():
    table = make_table(np.random.default_rng(6), 1000, segments=2)
    policy = Policy.from_dict({
        "name": "p", "version": 3, "score": "score", "segments": ["region"], "actions": ["block", "review", "allow"],
        "rules": [{"name": "r0", "match": {"region": "r0"},
                   "tiers": [{"action": "block", "threshold": 0.9}, {"action": "review", "threshold": 0.6}]},
                  {"name": "default", "tiers": [{"action": "block", "threshold": 0.8}]}]})
    got = td.decide(frame(table, 3), policy).compute().sort_values("id")
    want = policy.decide(table)
    for name in ("action", "tier", "segment"):
        assert got[name].tolist() == want.column(name).cast(pa.string()).to_pylist()
    assert np.array_equal(got["threshold"].to_numpy(), want.column("threshold").to_numpy(zero_copy_only=False),
                          equal_nan=True)
    assert set(got["policy_version"]) == {3}
    assert list(got.columns[: table.num_columns]) == table.column_names
