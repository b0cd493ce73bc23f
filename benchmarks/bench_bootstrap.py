"""Benchmark thresher's stratified bootstrap against a naive scikit-learn loop.

Task: ROC AUC and average precision (thresher also computes the best F1 and its threshold in the
same pass) on every resample of a stratified bootstrap (draw n_pos rows from the positives and
n_neg from the negatives, with replacement).

    thresher      thresher.stats.bootstrap(y, s, n_resamples=1000): sort once, then per resample
                  one round of uniform draws into per-row counts and one linear pass
    scikit-learn  for each resample: index arrays drawn with numpy, then
                  roc_auc_score(y[idx], s[idx]) + average_precision_score(y[idx], s[idx]);
                  only --sklearn-resamples of them are run and the rate is extrapolated

Both rates include everything per call (validation, sorting, drawing). The thresher time is the
median of --repeats runs after a JIT warm-up. CPU seconds (all threads of this process) are
printed too: on a shared machine wall time includes waiting for other processes, CPU time much
less so, and CPU seconds / threads estimates the wall time of an idle machine.

Run:  .venv/bin/python benchmarks/bench_bootstrap.py [--rows 1e6] [--resamples 1000] [--sklearn-resamples 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numba
import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from thresher.stats import bootstrap

METRICS = ("roc_auc", "average_precision", "max_f1", "max_f1_threshold")


def make_data(n: int, prevalence: float = 0.1, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(np.uint8)
    s = rng.normal(size=n) + 1.0 * y  # float64, essentially tie-free; AUC ~ 0.76
    return y, s


def time_thresher(y, s, n_resamples: int, repeats: int):
    bootstrap(y[:2000], s[:2000], n_resamples=4, metrics=METRICS)  # JIT warm-up
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        result = bootstrap(y, s, n_resamples=n_resamples, seed=0, metrics=METRICS)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), min(times), statistics.median(cpu), result


def time_sklearn(y, s, n_resamples: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    aucs, aps = [], []
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n_resamples):
        idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        aucs.append(roc_auc_score(y[idx], s[idx]))
        aps.append(average_precision_score(y[idx], s[idx]))
    return time.perf_counter() - t, time.process_time() - c, np.array(aucs), np.array(aps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--sklearn-resamples", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = int(args.rows)
    y, s = make_data(n)
    print(f"rows={n:,} positives={int(y.sum()):,} numba threads={numba.get_num_threads()} "
          f"cpus={os.cpu_count()} load average={os.getloadavg()[0]:.1f}")

    threads = numba.get_num_threads()
    median, best, cpu, result = time_thresher(y, s, args.resamples, args.repeats)
    th_rate = args.resamples / median
    print(f"thresher     {args.resamples} resamples (AUC + AP + max F1): median {median:.2f} s "
          f"(best {best:.2f} s, {cpu:.2f} CPU s, {cpu / threads:.2f} s on {threads} idle cores) "
          f"-> {th_rate:,.0f} resamples/s")

    elapsed, sk_cpu, aucs, aps = time_sklearn(y, s, args.sklearn_resamples)
    sk_rate = args.sklearn_resamples / elapsed
    print(f"scikit-learn {args.sklearn_resamples} resamples (AUC + AP): {elapsed:.2f} s ({sk_cpu:.2f} CPU s) "
          f"-> {sk_rate:,.2f} resamples/s (1000 would take {1000 / sk_rate:,.0f} s)")
    print(f"ratio        thresher is {th_rate / sk_rate:,.0f}x faster per resample in wall time, "
          f"{(sk_cpu / args.sklearn_resamples) / (cpu / args.resamples):,.0f}x less CPU per resample")

    # sanity: both bootstraps describe the same sampling distribution
    for name, ours, theirs in (("roc_auc", result.samples["roc_auc"], aucs),
                               ("average_precision", result.samples["average_precision"], aps)):
        print(f"check        {name}: estimate {result.estimate[name]:.5f}, bootstrap sd thresher "
              f"{ours.std(ddof=1):.5f} vs scikit-learn {theirs.std(ddof=1):.5f} "
              f"(means {ours.mean():.5f} vs {theirs.mean():.5f})")
    low, high = result.interval("roc_auc")
    print(f"interval     roc_auc 95% [{low:.5f}, {high:.5f}]; max_f1 {result.estimate['max_f1']:.4f} "
          f"at threshold {result.estimate['max_f1_threshold']:.4f}")


if __name__ == "__main__":
    main()
