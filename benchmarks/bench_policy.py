"""Policy apply throughput (rows/s) against plain numpy and pyarrow baselines, in one run.

Data: N rows (default 1e7) of float32 scores and a 20-value segment column, in memory and as a
Parquet file. The policy has a rule per segment with two tiers (block / review) plus a default.

Measured (median of --repeats runs):
  in memory  thresher ``Policy.decide_table``      vs  numpy: per-row tier by ``searchsorted`` on one
             rule's thresholds (the floor: no segments, no output columns)
  file       ``thresher policy apply`` path          vs  pyarrow: read the same Parquet, numpy
             (``apply_file``, Parquet -> Parquet)        searchsorted, write the same columns back

Run: .venv/bin/python benchmarks/bench_policy.py [--rows 10000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from thresher.policy import Policy
from thresher.policy.apply import apply_file

HERE = Path(__file__).parent
DATA = HERE / "_data"


def make_policy(segments: list[str]) -> Policy:
    rng = np.random.default_rng(1)
    rules = []
    for value in segments:
        hi, lo = sorted(rng.uniform(0.2, 0.95, 2), reverse=True)
        rules.append({"name": f"region={value}", "match": {"region": value},
                      "tiers": [{"action": "block", "threshold": float(hi)}, {"action": "review", "threshold": float(lo)}]})
    rules.append({"name": "default", "tiers": [{"action": "block", "threshold": 0.9}, {"action": "review", "threshold": 0.5}]})
    return Policy.from_dict({"name": "bench", "version": 1, "score": "score", "segments": ["region"],
                             "actions": ["block", "review", "allow"], "rules": rules})


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = int(args.rows)
    rng = np.random.default_rng(0)
    segments = [f"s{i:02d}" for i in range(20)]
    table = pa.table({"id": np.arange(n, dtype=np.int64), "score": rng.random(n, dtype=np.float32),
                      "region": pa.array(rng.choice(segments, n)).dictionary_encode()})
    DATA.mkdir(exist_ok=True)
    source, target = DATA / "policy_in.parquet", DATA / "policy_out.parquet"
    pq.write_table(table, source)
    policy = make_policy(segments)
    policy.decide_table(table.slice(0, 1000))  # compile the kernel

    scores = table.column("score").to_numpy()
    cuts = np.array([0.5, 0.9], dtype=np.float32)
    labels = np.array(["allow", "review", "block"])

    def numpy_in_memory():
        return np.searchsorted(cuts, scores, side="right")

    def numpy_file():
        t = pq.read_table(source)
        tier = np.searchsorted(cuts, t.column("score").to_numpy(), side="right").astype(np.int8)
        out = t.append_column("action", pa.DictionaryArray.from_arrays(pa.array(tier), pa.array(labels)))
        pq.write_table(out, target)

    rows = {
        "in memory": (median_time(lambda: policy.decide_table(table), args.repeats),
                      median_time(numpy_in_memory, args.repeats)),
        "file (Parquet -> Parquet)": (median_time(lambda: apply_file(policy, source, target), args.repeats),
                                      median_time(numpy_file, args.repeats)),
    }
    print(f"policy apply, {n:,} rows, 20 segments, 2 tiers (median of {args.repeats})")
    print(f"{'path':28s} {'thresher rows/s':>16s} {'baseline rows/s':>16s} {'thresher/baseline':>18s}")
    results = {}
    for name, (t_ours, t_base) in rows.items():
        print(f"{name:28s} {n / t_ours:16,.0f} {n / t_base:16,.0f} {t_base / t_ours:18.2f}")
        results[name] = {"thresher_rows_per_s": n / t_ours, "baseline_rows_per_s": n / t_base}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "bench_policy.json").write_text(json.dumps({"rows": n, "results": results}, indent=2))


if __name__ == "__main__":
    main()
