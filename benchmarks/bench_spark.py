"""thresher on Spark and Dask against what their users have today: time, and error against the exact value.

Data: N rows (default 2e7) of float32 scores with 1% positives (numpy, seeded), written once as 8
Parquet files to benchmarks/_data/scores-N/ and read back by each engine.

Spark (a local[2] session; every tool reads the same Parquet):
  thresher      ``thresher.scale.spark.evaluate``: ROC AUC, average precision, PR AUC and the
                confusion matrix at 0.5, exact, in one call
  MLlib (RDD)   ``pyspark.mllib.evaluation.BinaryClassificationMetrics`` as documented: an RDD of
                (score, label) tuples; areaUnderROC + areaUnderPR          [skipped with --no-rdd]
  MLlib (JVM)   the same Scala class built from the DataFrame (what the pyspark wrapper calls after
                converting the RDD), so no Python rows. Both go through the Scala DataFrame
                constructor, which down-samples to numBins=1000; pyspark cannot change that.
  ml evaluator  ``pyspark.ml.evaluation.BinaryClassificationEvaluator``, areaUnderROC and
                areaUnderPR (two passes), with its default numBins=1000 and with numBins=0 (no
                down-sampling: MLlib's exact mode)
Dask (a LocalCluster, in-process, 2 threads):
  thresher      ``thresher.scale.dask.evaluate`` on ``dd.read_parquet``, against thresher's
                single-machine ``thresher.evaluate`` on the same files.

The exact reference is single-machine thresher on the Parquet files. MLlib's areaUnderPR is a
trapezoid under a PR curve that starts at (0, precision at the top score); it is compared with
thresher's ``pr_auc`` (trapezoid anchored at (0, 1)) and is a different quantity from average precision.

Run: .venv/bin/python benchmarks/bench_spark.py [--rows 2e7] [--repeats 1] [--memory 6g] [--no-rdd]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import thresher

HERE = Path(__file__).parent
DATA = HERE / "_data"
FILES = 8


def write_data(n: int) -> Path:
    path = DATA / f"scores-{n}"
    if (path / "_done").exists():
        return path
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    per = -(-n // FILES)
    for i in range(FILES):
        m = min(per, n - i * per)
        y = (rng.random(m) < 0.01).astype(np.int8)
        logit = rng.normal(-2.0, 1.0, m) + 1.8 * y
        score = (1 / (1 + np.exp(-logit))).astype(np.float32)
        pq.write_table(pa.table({"label": y, "score": score}), path / f"part-{i}.parquet", row_group_size=1 << 20)
    (path / "_done").touch()
    return path


def timed(fn, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    print(f"  {fn.__name__}: {statistics.median(times):.1f}s (1-minute load average {os.getloadavg()[0]:.1f})",
          flush=True)
    return statistics.median(times), result


def result_row(**fields) -> dict:
    # the machine is shared: keep the load at the time of each measurement next to it
    return {**fields, "load_average_1min": round(os.getloadavg()[0], 2)}


def spark_rows(path: Path, exact, args) -> list[dict]:
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.mllib.evaluation import BinaryClassificationMetrics
    from pyspark.sql import functions as F

    from thresher.scale import spark as ts

    spark = ts.local_session("local[2]", memory=args.memory, shuffle_partitions=8,
                             conf={"spark.sql.files.maxPartitionBytes": str(1 << 24)})
    df = spark.read.parquet(str(path))
    # warm up the Python workers and the numba kernels in them (a real cluster keeps them warm too)
    ts.evaluate(df.limit(10_000), label="label", score="score")
    rows = []

    seconds, ev = timed(lambda: ts.evaluate(df, label="label", score="score"), args.repeats)
    o = ev.overall
    rows.append(result_row(engine="spark", tool="thresher.scale.spark.evaluate", seconds=seconds, roc_auc=o.roc_auc,
                           pr_metric="pr_auc", pr_value=o.pr_auc, average_precision=o.average_precision))

    doubles = df.select(F.col("score").cast("double").alias("score"), F.col("label").cast("double").alias("label"))
    jvm_class = spark.sparkContext._jvm.org.apache.spark.mllib.evaluation.BinaryClassificationMetrics

    def mllib_jvm():
        metrics = jvm_class(doubles._jdf)
        out = metrics.areaUnderROC(), metrics.areaUnderPR()
        metrics.unpersist()
        return out

    seconds, (auc, aupr) = timed(mllib_jvm, args.repeats)
    rows.append(result_row(engine="spark", tool="MLlib BinaryClassificationMetrics (DataFrame->JVM, 1000 bins)",
                           seconds=seconds, roc_auc=auc, pr_metric="areaUnderPR", pr_value=aupr))

    if args.rdd:
        def mllib_rdd():
            metrics = BinaryClassificationMetrics(doubles.rdd.map(lambda r: (r[0], r[1])))
            out = metrics.areaUnderROC, metrics.areaUnderPR
            metrics.unpersist()
            return out

        seconds, (auc, aupr) = timed(mllib_rdd, args.repeats)
        rows.append(result_row(engine="spark", tool="MLlib BinaryClassificationMetrics (RDD, 1000 bins)",
                               seconds=seconds, roc_auc=auc, pr_metric="areaUnderPR", pr_value=aupr))

    for bins in (1000, 0):
        def evaluator(bins=bins):
            common = dict(rawPredictionCol="score", labelCol="label", numBins=bins)
            roc = BinaryClassificationEvaluator(metricName="areaUnderROC", **common)
            pr = BinaryClassificationEvaluator(metricName="areaUnderPR", **common)
            return roc.evaluate(doubles), pr.evaluate(doubles)

        seconds, (auc, aupr) = timed(evaluator, args.repeats)
        rows.append(result_row(engine="spark", tool=f"ml BinaryClassificationEvaluator ROC+PR, numBins={bins}",
                               seconds=seconds, roc_auc=auc, pr_metric="areaUnderPR", pr_value=aupr))
    spark.stop()
    return rows


def dask_rows(path: Path, args) -> list[dict]:
    import dask.dataframe as dd
    import distributed

    from thresher.scale import dask as td

    rows = []
    cluster = distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None)
    with cluster, distributed.Client(cluster):
        ddf = dd.read_parquet(str(path))
        td.evaluate(ddf.partitions[0].head(10_000, compute=False), label="label", score="score")  # warm up
        seconds, ev = timed(lambda: td.evaluate(ddf, label="label", score="score"), args.repeats)
        o = ev.overall
        rows.append(result_row(engine="dask", tool=f"thresher.scale.dask.evaluate ({ddf.npartitions} partitions)",
                               seconds=seconds, roc_auc=o.roc_auc, pr_metric="pr_auc", pr_value=o.pr_auc,
                               average_precision=o.average_precision))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=2e7)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--memory", default="6g", help="Spark driver memory (local mode: the executors too)")
    parser.add_argument("--no-rdd", dest="rdd", action="store_false", help="skip MLlib's RDD-of-tuples path")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    n = int(args.rows)
    path = write_data(n)

    thresher.evaluate(str(path / "part-0.parquet"), label="label", score="score")  # compile the kernels
    seconds, exact = timed(lambda: thresher.evaluate(str(path), label="label", score="score"), args.repeats)
    e = exact.overall
    rows = [result_row(engine="single machine", tool="thresher.evaluate (reference, exact)", seconds=seconds,
                       roc_auc=e.roc_auc, pr_metric="pr_auc", pr_value=e.pr_auc, average_precision=e.average_precision)]
    if not args.skip_spark:
        rows += spark_rows(path, exact, args)
    if not args.skip_dask:
        rows += dask_rows(path, args)
    for row in rows:
        row["roc_auc_error"] = abs(row["roc_auc"] - e.roc_auc)
        row["pr_error"] = abs(row["pr_value"] - e.pr_auc)
        if "average_precision" in row:
            row["average_precision_error"] = abs(row["average_precision"] - e.average_precision)

    command = " ".join([".venv/bin/python", "benchmarks/bench_spark.py", *sys.argv[1:]])
    print(f"{n:,} rows, float32 scores, 1% positives; {os.cpu_count()} cores; exact ROC AUC {e.roc_auc:.15f}, "
          f"PR AUC {e.pr_auc:.15f}, AP {e.average_precision:.15f}")
    print(f"{'engine':15s} {'tool':58s} {'seconds':>8s} {'AUC error':>10s} {'PR error':>10s}")
    for row in rows:
        print(f"{row['engine']:15s} {row['tool']:58s} {row['seconds']:8.2f} {row['roc_auc_error']:10.1e} "
              f"{row['pr_error']:10.1e}")
    print(f"command: {command}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "bench_spark.json").write_text(json.dumps({
        "rows": n, "positives_rate": 0.01, "score_dtype": "float32", "files": FILES, "cpus": os.cpu_count(),
        "python": platform.python_version(), "command": command,
        "exact": {"roc_auc": e.roc_auc, "average_precision": e.average_precision, "pr_auc": e.pr_auc},
        "results": rows}, indent=2))


if __name__ == "__main__":
    main()
