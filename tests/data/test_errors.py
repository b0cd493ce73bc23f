"""Bad input: each error has the right type, names the column or parameter, and says how to fix it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import thresher
from thresher import Confusion, InputError, ParameterError

from numba_threads import one_numba_thread  # noqa: F401  (fixture: one thread)

Y = [0, 1, 1, 0]
S = [0.1, 0.2, 0.3, 0.4]

# every public entry point that validates the array form
ARRAY_FUNCTIONS = {
    "curve": thresher.curve,
    "roc_auc": thresher.roc_auc,
    "average_precision": thresher.average_precision,
    "pr_auc": thresher.pr_auc,
    "confusion": thresher.confusion,
    "binned_curve": thresher.binned_curve,
    "BinnedCounts.from_scores": thresher.BinnedCounts.from_scores,
    "Curve.from_scores": thresher.Curve.from_scores,
}


@pytest.fixture(params=sorted(ARRAY_FUNCTIONS))
def fn(request):
    return ARRAY_FUNCTIONS[request.param]


def test_error_classes():
    assert issubclass(InputError, ValueError) and issubclass(InputError, thresher.ThresherError)
    assert issubclass(ParameterError, ValueError) and issubclass(ParameterError, thresher.ThresherError)


# --- scores -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("bad", "kind"), [(np.nan, "NaN"), (np.inf, r"\+inf"), (-np.inf, "-inf")])
def test_non_finite_score(fn, bad, kind):
    message = rf"score column 'y_score' has 1 non-finite value\(s\) \({kind}; first at row 2\)"
    with pytest.raises(InputError, match=message + r".*drop those rows or fix the model output"):
        fn(Y, [0.1, 0.2, bad, 0.4])


def test_non_finite_score_float32_and_counts():
    with pytest.raises(InputError, match=r"'y_score' has 2 non-finite value\(s\) \(\+inf, NaN; first at row 0\)"):
        thresher.curve(Y, np.array([np.inf, 0.2, np.nan, 0.4], np.float32))


def test_null_score_in_a_frame():
    df = pd.DataFrame({"y": Y, "p": [0.1, None, 0.3, 0.4]})
    for data in (df, pl.from_pandas(df), pa.Table.from_pandas(df)):
        with pytest.raises(InputError, match=r"score column 'p' has 1 missing value\(s\) \(first at row 1\)"
                                             r"\. Drop or impute those rows"):
            thresher.load(data, label="y", score="p")


def test_non_numeric_score_column():
    with pytest.raises(InputError, match=r"score column 'p' holds string values; it must hold numbers\. "
                                         r"Check that 'p' is the right column, or convert it to numbers"):
        thresher.load({"y": Y, "p": ["a", "b", "c", "d"]}, label="y", score="p")
    with pytest.raises(InputError, match=r"score column 'y_score' holds .*convert it to numbers"):
        thresher.curve(Y, ["0.1", "0.2", "0.3", "0.4"])


# --- labels -------------------------------------------------------------------------------------

def test_nan_label(fn):
    with pytest.raises(InputError, match=r"label column 'y_true' has 1 NaN value\(s\) \(first at row 3\)\. "
                                         r"Every row needs a label: drop unlabelled rows first"):
        fn([0, 1, 1, np.nan], S)


@pytest.mark.parametrize("source", ["pandas_object", "pandas_Int64", "polars", "arrow", "dict"])
def test_null_label_in_a_frame(source):
    values = [0, None, 1, 0]
    data = {
        "pandas_object": lambda: pd.DataFrame({"y": pd.Series(values, dtype=object), "p": S}),
        "pandas_Int64": lambda: pd.DataFrame({"y": pd.array(values, dtype="Int64"), "p": S}),
        "polars": lambda: pl.DataFrame({"y": values, "p": S}),
        "arrow": lambda: pa.table({"y": pa.array(values), "p": S}),
        "dict": lambda: {"y": pa.array(values), "p": S},
    }[source]()
    with pytest.raises(InputError, match=r"label column 'y' has 1 missing value\(s\) \(first at row 1\)\. "
                                         r"Every row needs a label"):
        thresher.load(data, label="y", score="p")


def test_three_label_values(fn):
    with pytest.raises(InputError, match=r"label column 'y_true' has 3 distinct values \(0, 1, 2\); thresher needs "
                                         r"binary labels\. .*one-vs-rest"):
        fn([0, 1, 2, 0], S)


def test_many_label_values_are_abbreviated():
    with pytest.raises(InputError, match=r"has 10 distinct values \(0, 1, 2, 3, 4, 5, \.\.\.\)"):
        thresher.curve(list(range(10)), np.arange(10.0))


def test_string_labels_need_pos_label(fn):
    with pytest.raises(InputError, match=r"label column 'y_true' holds 'ham', 'spam'; say which value is the "
                                         r"positive class with pos_label= \(CLI: --pos-label spam\)"):
        fn(["ham", "spam", "spam", "ham"], S)


@pytest.mark.parametrize("labels", [[1, 2, 2, 1], [0, 2, 2, 0]])
def test_non_default_numeric_labels_need_pos_label(labels):
    with pytest.raises(InputError, match=r"label column 'y_true' holds .*pos_label="):
        thresher.curve(labels, S)
    assert thresher.curve(labels, S, pos_label=2).positives == 2


def test_pos_label_that_never_occurs(fn):
    with pytest.raises(InputError, match=r"pos_label 'eggs' never occurs in the label column 'y_true' \(values: "
                                         r"'ham', 'spam'\)\. Check the spelling, or pick one of those values"):
        fn(["ham", "spam", "spam", "ham"], S, pos_label="eggs")
    with pytest.raises(InputError, match=r"pos_label 5 never occurs in the label column 'y_true'"):
        fn(Y, S, pos_label=5)


def test_pos_label_through_load():
    with pytest.raises(InputError, match=r"pos_label 'yes' never occurs in the label column 'outcome'"):
        thresher.load({"outcome": ["no", "no"], "p": [0.1, 0.2]}, label="outcome", score="p", pos_label="yes")


# --- weights ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("bad", "shown"), [(-1.0, r"-1\.0"), (np.nan, "nan"), (np.inf, "inf")])
def test_bad_weight(bad, shown):
    for f in (thresher.curve, thresher.roc_auc, thresher.average_precision, thresher.binned_curve):
        with pytest.raises(InputError, match=rf"weight column 'sample_weight' has 1 negative or non-finite value\(s\) "
                                             rf"\(first at row 2: .*{shown}.*\)\. Weights must be finite and >= 0"):
            f(Y, S, sample_weight=[1.0, 2.0, bad, 1.0])


def test_null_weight_in_a_frame():
    df = pd.DataFrame({"y": Y, "p": S, "w": [1.0, None, 1.0, 1.0]})
    with pytest.raises(InputError, match=r"weight column 'w' has 1 missing value\(s\) \(first at row 1\)\. "
                                         r"Give every row a weight"):
        thresher.load(df, label="y", score="p", weight="w")


# --- shape --------------------------------------------------------------------------------------

def test_empty_input(fn):
    with pytest.raises(InputError, match=r"The data has no rows\. Check the file or the filter"):
        fn([], [])


def test_empty_frame_and_file(tmp_path):
    with pytest.raises(InputError, match=r"no rows"):
        thresher.load(pd.DataFrame({"y": pd.Series([], dtype=int), "p": pd.Series([], dtype=float)}),
                      label="y", score="p")
    path = tmp_path / "header_only.csv"
    path.write_text("y,p\n")
    with pytest.raises(InputError, match=r"no rows"):
        thresher.load(path, label="y", score="p")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match=r"Could not read '.*empty\.csv' as CSV: .*Check that it is a CSV file with "
                                         r"a header row"):
        thresher.load(empty, label="y", score="p")


def test_mismatched_lengths(fn):
    with pytest.raises(InputError, match=r"Inconsistent lengths: y_true has 4, y_score has 3\. "
                                         r"Pass one label, score \(and weight\) per row"):
        fn(Y, S[:3])


def test_mismatched_weight_length():
    with pytest.raises(InputError, match=r"y_true has 4, y_score has 4, sample_weight has 2"):
        thresher.curve(Y, S, sample_weight=[1, 2])


def test_mismatched_dict_columns():
    with pytest.raises(InputError, match=r"Columns have different lengths: \{'y': 4, 'p': 3\}\. "
                                         r"Every column needs one value per row"):
        thresher.load({"y": Y, "p": S[:3]}, label="y", score="p")


def test_two_dimensional_input():
    with pytest.raises(InputError, match=r"'y_score' must be one-dimensional; got shape \(2, 2\)\. "
                                         r"Pass one value per row"):
        thresher.curve(Y, np.array(S).reshape(2, 2))


# --- columns and files --------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["dict", "pandas", "polars", "arrow", "csv", "parquet"])
def test_missing_column_suggests_the_closest(source, tmp_path):
    df = pd.DataFrame({"label": Y, "score": S, "segment": list("abab")})
    data = {"dict": lambda: df.to_dict("list"), "pandas": lambda: df, "polars": lambda: pl.from_pandas(df),
            "arrow": lambda: pa.Table.from_pandas(df)}.get(source)
    if source in ("csv", "parquet"):
        path = tmp_path / f"d.{source}"
        df.to_csv(path, index=False) if source == "csv" else df.to_parquet(path, index=False)
        data = lambda: path  # noqa: E731
    with pytest.raises(InputError, match=r"Column 'scroe' not found in .*; it has 'label', 'score', 'segment'\. "
                                         r"Did you mean 'score'\?"):
        thresher.load(data(), label="label", score="scroe")
    with pytest.raises(InputError, match=r"Column 'segmnt' not found.*Did you mean 'segment'\?"):
        thresher.evaluate(data(), label="label", score="score", by="segmnt")
    with pytest.raises(InputError, match=r"Column 'zzz' not found in .*'label', 'score', 'segment'\.$"):
        thresher.load(data(), label="zzz", score="score")  # nothing close: no suggestion


def test_unreadable_file_type(tmp_path):
    path = tmp_path / "scores.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match=r"Don't know how to read '.*scores\.xlsx': use a \.csv/\.tsv .*or \.parquet"):
        thresher.load(path, label="y", score="p")


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_text("not parquet")
    with pytest.raises(InputError, match=r"Could not read '.*broken\.parquet' as Parquet"):
        thresher.load(path, label="y", score="p")


def test_file_not_found(tmp_path):
    with pytest.raises(InputError, match=r"File not found: '.*nope\.csv'\. Check the path \(relative paths start at "):
        thresher.load(tmp_path / "nope.csv", label="y", score="p")
    with pytest.raises(InputError, match=r"File not found: 'nope\.parquet'"):
        thresher.evaluate("nope.parquet", label="y", score="p")


def test_unsupported_data_type():
    with pytest.raises(InputError, match=r"thresher can't read data of type list\. Pass a path to a CSV or Parquet "
                                         r"file, a pandas or polars DataFrame, a pyarrow Table, or a dict of columns"):
        thresher.load([[0, 0.1]], label="y", score="p")


# --- parameters ---------------------------------------------------------------------------------

@pytest.mark.parametrize("max_fpr", [0, 0.0, 1.5, -0.1, float("nan"), "0.5", True])
def test_max_fpr_out_of_range(max_fpr):
    message = r"The 'max_fpr' parameter of roc_auc must be a float in the range \(0, 1\] or None\. Got .* instead"
    with pytest.raises(ParameterError, match=message):
        thresher.roc_auc(Y, S, max_fpr=max_fpr)
    with pytest.raises(ParameterError, match=message):
        thresher.curve(Y, S).roc_auc(max_fpr=max_fpr)


@pytest.mark.parametrize("beta", [-1, 0, float("nan"), float("-inf")])
def test_f_beta_beta_must_be_positive(beta):
    message = rf"The 'beta' parameter of f_beta must be a float > 0\. Got {beta!r} instead"
    with pytest.raises(ParameterError, match=message):
        Confusion(0.5, tp=1, fp=1, tn=1, fn=1).f_beta(beta)
    with pytest.raises(ParameterError, match=r"'beta' parameter of f_beta must be a float > 0"):
        thresher.curve(Y, S).f_beta(beta)


@pytest.mark.parametrize("bins", [0, -3, 2.5, "10"])
def test_bins_must_be_a_positive_int(bins):
    with pytest.raises(ParameterError, match=rf"The 'bins' parameter of BinnedCounts must be an int >= 1\. "
                                             rf"Got {bins!r} instead"):
        thresher.binned_curve(Y, S, bins=bins)


@pytest.mark.parametrize("bad_range", [(1.0, 0.0), (0.5, 0.5), (0.0, float("inf")), (float("nan"), 1.0)])
def test_bin_range_must_be_increasing_and_finite(bad_range):
    with pytest.raises(ParameterError, match=r"The 'range' parameter of BinnedCounts must be \(low, high\) with "
                                             r"low < high"):
        thresher.binned_curve(Y, S, range=bad_range)


def test_unknown_metric_lists_the_known_ones():
    with pytest.raises(ParameterError, match=r"Unknown metric 'f_one'\. Known metrics: .*precision.*recall.*"
                                             r"and fBETA such as f2 or f0\.5"):
        Confusion(0.5, tp=1, fp=1, tn=1, fn=1).metric("f_one")


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), "0.5"])
def test_evaluate_threshold_must_be_a_finite_number(threshold):
    with pytest.raises(ParameterError, match=r"The 'threshold' parameter of evaluate must be a float"):
        thresher.evaluate({"y": Y, "p": S}, label="y", score="p", threshold=threshold)


def test_finite_scores_whose_sum_overflows_are_accepted():
    # validation sums the scores once; an overflowing sum of finite scores must not be mistaken for inf
    import warnings

    from thresher.data.load import from_arrays

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cols = from_arrays(np.array([0, 1, 0, 1], np.uint8), np.full(4, 3e38, np.float32))
    assert len(cols) == 4
    with pytest.raises(InputError, match="non-finite"):
        from_arrays(np.array([0, 1, 0], np.uint8), np.array([3e38, np.inf, -3e38], np.float32))
