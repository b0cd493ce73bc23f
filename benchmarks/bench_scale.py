"""Exact evaluation of a 1e9-row Parquet dataset on one machine: wall time and peak memory.

Runs the out-of-core exact engine (two streaming passes, 2 bytes a row) in a child process on the
dataset written by generate_scale_data.py (generated first if missing), computes the exact ROC AUC,
average precision and best-F1 threshold, and reports each phase, the wall time and the child's peak
resident memory (ru_maxrss). Scale figures for Spark and Dask come from bench_spark.py.

Run: .venv/bin/python benchmarks/bench_scale.py [--rows 1e9] [--data benchmarks/_data/scale]
     .venv/bin/python benchmarks/bench_scale.py --dtype float64 --rows 2e8   (64-bit keys, 8 bytes a row)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent

CHILD = r"""
import json, resource, sys, time
from thresher.scale.outofcore import exact_curves
from thresher.select import select_on_curve
start = time.perf_counter()
timings = {}
result = exact_curves(sys.argv[1] + "/*.parquet", label="label", score="score", timings=timings)
curve = result.overall
t = time.perf_counter()
auc, ap = curve.roc_auc(), curve.average_precision()
best = select_on_curve(curve, "max-f1")
timings["metrics: AUC, AP, best F1"] = time.perf_counter() - t
print(json.dumps({"rows": result.rows, "distinct_scores": len(curve), "roc_auc": auc, "average_precision": ap,
                  "best_f1": best.value, "best_f1_threshold": best.threshold,
                  "wall_s": time.perf_counter() - start, "phases_s": timings,
                  "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e9)
    parser.add_argument("--data", help="default: benchmarks/_data/scale, or scale-float64 with --dtype float64")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="the scores' type")
    args = parser.parse_args()
    suffix = "" if args.dtype == "float32" else "-float64"
    data = Path(args.data or HERE / "_data" / f"scale{suffix}")
    marker = data / f"ROWS-{int(args.rows)}"
    if not marker.exists():
        print(f"generating {int(args.rows):,} rows into {data} ...", flush=True)
        subprocess.run([sys.executable, str(HERE / "generate_scale_data.py"), "--rows", str(args.rows), "--out",
                        str(data), "--dtype", args.dtype], check=True)
        marker.touch()
    size = sum(p.stat().st_size for p in data.glob("*.parquet"))
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(data)], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    result = json.loads(out.stdout)
    print(f"exact evaluation of {result['rows']:,} rows, {args.dtype} scores ({size / 2**30:.1f} GiB of Parquet, "
          f"{result['distinct_scores']:,} distinct scores)")
    for phase, seconds in result["phases_s"].items():
        print(f"  {phase:28s} {seconds:7.1f} s")
    print(f"  {'total (in the child)':28s} {result['wall_s']:7.1f} s   (process wall incl. start-up {wall:.1f} s)")
    print(f"  peak resident memory         {result['peak_rss_gib']:7.2f} GiB")
    print(f"  ROC AUC {result['roc_auc']:.6f}  AP {result['average_precision']:.6f}  best F1 {result['best_f1']:.4f} "
          f"at threshold {result['best_f1_threshold']:.6g}")
    (HERE / "results").mkdir(exist_ok=True)
    record = {**result, "dtype": args.dtype, "parquet_bytes": size, "process_wall_s": wall}
    (HERE / "results" / f"bench_scale{suffix}.json").write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
