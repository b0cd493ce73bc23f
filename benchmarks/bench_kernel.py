"""Benchmark thresher's exact counting kernel against scikit-learn: time, peak memory, equality.

What it measures
----------------
1. At each size (default 1e6 and 1e7 rows; float32 scores, 1% positives) and two score variants,
   ``no-ties`` (a random permutation of n distinct float32 values on a uniform grid, so truly
   tie-free; plain ``rng.random(dtype=float32)`` only has 2**24 values and would repeat ~25% of
   scores at 1e7) and ``ties-3dp`` (the same uniform scores rounded to 3 decimals), the task
   "ROC AUC + AP + the full PR curve":
     scikit-learn  roc_auc_score + average_precision_score + precision_recall_curve
     thresher      c = thresher.curve(y, s); c.roc_auc(); c.average_precision(); c.pr()
   and the fused thresher.roc_auc + thresher.average_precision (no curve materialised), compared
   with scikit-learn's roc_auc_score + average_precision_score. Times are medians over repeats
   (after a JIT warm-up; each run's result is freed before the next, as in any loop), and the full
   task is also timed once in a fresh process (the "first call": every output on fresh pages, the
   operating system's page faults included); the checks demand AUC and AP equal to 1e-12 and PR arrays allclose
   (rtol 0, atol 1e-12). Each approach is also timed per phase to show where the time goes.
2. Peak extra memory per row of each approach, in a fresh subprocess per (approach, size, variant):
   the child loads the data from benchmarks/_data/*.npy, warms up on 2,000 rows, resets the peak
   RSS (``echo 5 > /proc/self/clear_refs``), runs the task once and reports
   (VmHWM - VmRSS before) / n. RSS, not tracemalloc, because numba's allocations bypass it. The
   child runs with MALLOC_MMAP_THRESHOLD_=131072 so every large buffer is mmapped and unmapped on
   free: the figure is the peak of live memory, not of what glibc happened to keep in its heap.
3. At 1e8 rows (rng.random float32 scores, 1% positives): numpy.sum(scores) as the memory-bandwidth
   floor, the exact fused roc_auc + average_precision, the binned path
   BinnedCounts.from_scores(bins=1024).curve().roc_auc_bounds(), and, without input validation,
   the kernels exact_areas (one sort for both areas) and binned_counts; each as a ratio to the sum.

Run:  .venv/bin/python benchmarks/bench_kernel.py [--quick] [--sizes 1e6,1e7] [--big 1e8|0]
Writes benchmarks/results/bench_kernel.json. The machine is shared and noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
RESULTS = HERE / "results"
VARIANTS = ("no-ties", "ties-3dp")
TOL = 1e-12


# data --------------------------------------------------------------------------------------------
def make_data(n: int, variant: str, seed: int = 0):
    """uint8 labels (1% positives, more likely at high scores: AUC ~ 0.67) and float32 scores."""
    rng = np.random.default_rng(seed)
    if variant == "uniform":  # 1e8: float32 cannot hold that many distinct values on [0, 1)
        s = rng.random(n, dtype=np.float32)
        return (rng.random(n, dtype=np.float32) < 0.02 * s).astype(np.uint8), s
    if n > 2**24:
        raise SystemExit(f"variant {variant!r} needs n <= 2**24 distinct float32 values; got {n}")
    rank = rng.permutation(n)
    y = (rng.random(n) < 0.02 * rank / n).astype(np.uint8)
    if variant == "no-ties":  # distinct multiples of 2**-24: exact in float32
        s = (rank * ((1 << 24) // n) / 2.0**24).astype(np.float32)
    else:
        s = np.round(rank / n, 3).astype(np.float32)
    return y, s


def data_files(n: int, variant: str):
    return DATA / f"{variant}-{n}-y.npy", DATA / f"{variant}-{n}-s.npy"


# the approaches: each returns ((auc, ap, pr or None), {phase: seconds}) ------------------------------
class Phases(dict):
    def __call__(self, name, fn, *args, **kwargs):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        self[name] = self.get(name, 0.0) + time.perf_counter() - t
        return out


def sklearn_full(y, s, with_pr=True):
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

    t = Phases()
    auc = t("roc_auc_score", roc_auc_score, y, s)
    ap = t("average_precision_score", average_precision_score, y, s)
    pr = t("precision_recall_curve", precision_recall_curve, y, s) if with_pr else None
    return (auc, ap, pr), t


def sklearn_auc_ap(y, s):
    return sklearn_full(y, s, with_pr=False)


def thresher_full(y, s):
    from thresher import Curve
    from thresher.data.load import from_arrays

    t = Phases()  # thresher.curve(y, s) is exactly Curve.from_columns(from_arrays(y, s)), split in two
    c = t("count", Curve.from_columns, t("validate", from_arrays, y, s))
    auc, ap = t("areas", lambda: (c.roc_auc(), c.average_precision()))
    pr = t("pr", c.pr)
    return (auc, ap, pr), t


def thresher_fused(y, s):
    import thresher

    t = Phases()
    return (t("roc_auc", thresher.roc_auc, y, s), t("average_precision", thresher.average_precision, y, s), None), t


APPROACHES = {"sklearn": sklearn_full, "sklearn-auc-ap": sklearn_auc_ap,
              "thresher": thresher_full, "thresher-fused": thresher_fused}


def repeat(fn, args, repeats):
    """Median total seconds, median seconds per phase, the last result and every total. Each run's
    result is dropped before the next starts, as in any loop that calls the function again (keeping
    them all would make every run allocate fresh pages, and grow the process by its outputs)."""
    timings, result = [], None
    for _ in range(repeats):
        result = None  # the previous result's arrays go back before this run allocates its own
        result, phases = fn(*args)
        timings.append(phases)
    totals = [sum(t.values()) for t in timings]
    phases = {k: statistics.median(t[k] for t in timings) for k in timings[0]}
    return statistics.median(totals), phases, result, totals


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def identical(ref, got) -> bool:
    same = abs(ref[0] - got[0]) <= TOL and abs(ref[1] - got[1]) <= TOL
    if got[2] is not None:
        same &= all(np.shape(a) == np.shape(b) and np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                                                rtol=0, atol=TOL) for a, b in zip(ref[2], got[2]))
    return bool(same)


# peak memory, in a fresh child process -------------------------------------------------------------
def status_kib(field: str) -> int:
    return int(re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M).group(1))


def child(approach: str, n: int, variant: str) -> None:
    y_file, s_file = data_files(n, variant)
    y, s = np.load(y_file), np.load(s_file)
    fn = APPROACHES[approach]
    fn(y[:2000], s[:2000])  # imports, numba JIT (cache) and its thread pool, outside the measurement
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = status_kib("VmRSS")
    start = time.perf_counter()
    result = fn(y, s)
    seconds = time.perf_counter() - start
    peak = status_kib("VmHWM")
    del result
    print(json.dumps({"bytes_per_row": (peak - before) * 1024 / n, "seconds": seconds}))


def in_child(approach: str, n: int, variant: str, *, memory: bool) -> dict:
    """One call in a fresh process (after a 2,000-row warm-up): its peak extra bytes per row
    (``memory``: every large buffer mmapped, so the peak is of live memory) or its seconds."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072") if memory else None
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", approach, str(n), variant],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_bytes_per_row(approach: str, n: int, variant: str) -> float:
    return in_child(approach, n, variant, memory=True)["bytes_per_row"]


# output ----------------------------------------------------------------------------------------------
def table(headers, rows) -> str:
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])])


def size_name(n: int) -> str:
    e = int(round(np.log10(n)))
    return f"1e{e}" if n == 10**e else f"{n:,}"


def fmt(x, spec=".3f"):
    return "-" if x is None else format(x, spec)


# the sections ------------------------------------------------------------------------------------------
def bench_size(n: int, variant: str, repeats: int, sk_repeats: int) -> dict:
    y, s = make_data(n, variant)
    DATA.mkdir(parents=True, exist_ok=True)
    for f, a in zip(data_files(n, variant), (y, s)):
        np.save(f, a)
    sk, sk_phases, sk_res, sk_runs = repeat(sklearn_full, (y, s), sk_repeats)
    th, th_phases, th_res, th_runs = repeat(thresher_full, (y, s), repeats)
    fu, fu_phases, fu_res, fu_runs = repeat(thresher_fused, (y, s), repeats)
    sk_auc_ap = sk_phases["roc_auc_score"] + sk_phases["average_precision_score"]  # sum of the phase medians
    mem = {a: peak_bytes_per_row(a, n, variant) for a in APPROACHES}
    first = {a: in_child(a, n, variant, memory=False)["seconds"] for a in ("sklearn", "thresher")}
    row = dict(n=n, variant=variant, distinct_scores=len(th_res[2][2]), auc=th_res[0], ap=th_res[1],
               sklearn_s=sk, thresher_s=th, fused_s=fu, sklearn_auc_ap_s=sk_auc_ap,
               identical_full=identical(sk_res, th_res), identical_fused=identical(sk_res[:2] + (None,), fu_res),
               phases={"sklearn": sk_phases, "thresher": th_phases, "thresher-fused": fu_phases},
               runs={"sklearn": sk_runs, "thresher": th_runs, "thresher-fused": fu_runs},
               bytes_per_row=mem, first_call_s=first)
    print(f"\n## {size_name(n)} rows, {variant}: {row['distinct_scores']:,} distinct scores, "
          f"{int(y.sum()):,} positives, AUC {row['auc']:.6f}, AP {row['ap']:.6f}\n")
    print(table(["approach", "median s", "speed-up vs sklearn", "first call s", "its speed-up", "peak bytes/row",
                 "identical"], [
        ["sklearn AUC+AP+PR", fmt(sk), "1.0x", fmt(first["sklearn"]), "1.0x", fmt(mem["sklearn"], ".1f"),
         "reference"],
        ["thresher curve+AUC+AP+PR", fmt(th), f"{sk / th:.1f}x", fmt(first["thresher"]),
         f"{first['sklearn'] / first['thresher']:.1f}x", fmt(mem["thresher"], ".1f"),
         "yes" if row["identical_full"] else "NO"],
        ["sklearn AUC+AP", fmt(sk_auc_ap), "1.0x", "-", "-", fmt(mem["sklearn-auc-ap"], ".1f"), "reference"],
        ["thresher fused AUC+AP", fmt(fu), f"{sk_auc_ap / fu:.1f}x", "-", "-", fmt(mem["thresher-fused"], ".1f"),
         "yes" if row["identical_fused"] else "NO"]]))
    print("\nphases (median s): " + "; ".join(
        f"{a}: " + ", ".join(f"{k} {v:.3f}" for k, v in p.items()) for a, p in row["phases"].items()))
    return row


def bench_big(n: int, repeats: int) -> dict:
    import thresher
    from thresher.data.load import from_arrays
    from thresher.kernels import bin_edges, binned_counts, exact_areas

    y, s = make_data(n, "uniform")
    edges = bin_edges(0.0, 1.0, 1024)
    timings = {}
    timings["numpy.sum(scores)"], _ = median_time(lambda: np.sum(s), 5)
    timings["validation only (from_arrays)"], _ = median_time(lambda: from_arrays(y, s), repeats)
    timings["thresher.roc_auc + average_precision"], (auc, ap) = median_time(
        lambda: (thresher.roc_auc(y, s), thresher.average_precision(y, s)), repeats)
    timings["kernel exact_areas (no validation)"], _ = median_time(lambda: exact_areas(y, s), repeats)
    timings["BinnedCounts.from_scores(1024).curve().roc_auc_bounds()"], (lo, hi) = median_time(
        lambda: thresher.BinnedCounts.from_scores(y, s, bins=1024).curve().roc_auc_bounds(), 5)
    timings["kernel binned_counts (no validation)"], _ = median_time(lambda: binned_counts(y, s, edges), 5)
    floor = timings["numpy.sum(scores)"]
    print(f"\n## {size_name(n)} rows (float32 uniform, {int(y.sum()):,} positives): exact AUC {auc:.6f}, "
          f"AP {ap:.6f}; binned AUC bounds [{lo:.6f}, {hi:.6f}] contain it: {'yes' if lo <= auc <= hi else 'NO'}\n")
    print(table(["task", "median s", "x numpy.sum"], [[k, fmt(v), f"{v / floor:.1f}"] for k, v in timings.items()]))
    return dict(n=n, seconds=timings, ratio_to_sum={k: v / floor for k, v in timings.items()},
                auc=auc, ap=ap, binned_auc_bounds=[lo, hi])


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel and import scikit-learn before timing."""
    import thresher
    from thresher.kernels import bin_edges, binned_counts, exact_areas

    y, s = make_data(200_000, "no-ties")  # > 65,536 rows so the parallel chunked paths run too
    for fn in APPROACHES.values():
        fn(y, s)
    exact_areas(y, s)
    binned_counts(y, s, bin_edges(0.0, 1.0, 1024))
    thresher.BinnedCounts.from_scores(y, s, bins=1024).curve().roc_auc_bounds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1e6 rows only, no 1e8 step")
    parser.add_argument("--sizes", help="comma-separated row counts, e.g. 1e6,1e7")
    parser.add_argument("--big", type=float, default=1e8, help="rows for the bandwidth step (0 to skip)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats for thresher (median)")
    parser.add_argument("--sk-repeats", type=int, default=3, help="repeats for scikit-learn (median)")
    parser.add_argument("--child", nargs=3, metavar=("APPROACH", "N", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]), args.child[2])
    sizes = [int(float(x)) for x in args.sizes.split(",")] if args.sizes else [10**6] if args.quick else [10**6, 10**7]
    big = 0 if args.quick else int(args.big)
    command = shlex.join([os.path.relpath(sys.executable), os.path.relpath(__file__), *sys.argv[1:]])

    import numba
    import sklearn

    import thresher

    machine = dict(python=platform.python_version(), numpy=np.__version__, numba=numba.__version__,
                   sklearn=sklearn.__version__, thresher=thresher.__version__, cpus=os.cpu_count(),
                   numba_threads=numba.get_num_threads(), platform=platform.platform(),
                   load_average_at_start=os.getloadavg()[0])
    print("# thresher kernel benchmark\n\n" + ", ".join(f"{k} {v}" for k, v in machine.items()))
    warm_up()
    rows = [bench_size(n, v, args.repeats, args.sk_repeats) for n in sizes for v in VARIANTS]
    big_result = bench_big(big, min(3, args.repeats)) if big else None

    print("\n## Summary for the README\n")
    readme = []
    for r in rows:
        m = r["bytes_per_row"]
        f = r["first_call_s"]
        readme.append([size_name(r["n"]), r["variant"], "AUC + AP + PR curve", fmt(r["thresher_s"]), fmt(r["sklearn_s"]),
                       f"{r['sklearn_s'] / r['thresher_s']:.1f}x", f"{f['sklearn'] / f['thresher']:.1f}x",
                       fmt(m["thresher"], ".1f"), fmt(m["sklearn"], ".1f"), "yes" if r["identical_full"] else "no"])
        readme.append([size_name(r["n"]), r["variant"], "AUC + AP (fused)", fmt(r["fused_s"]), fmt(r["sklearn_auc_ap_s"]),
                       f"{r['sklearn_auc_ap_s'] / r['fused_s']:.1f}x", "-", fmt(m["thresher-fused"], ".1f"),
                       fmt(m["sklearn-auc-ap"], ".1f"), "yes" if r["identical_fused"] else "no"])
    print(table(["size", "variant", "task", "thresher s", "sklearn s", "ratio", "first call ratio",
                 "bytes/row thresher", "bytes/row sklearn", "identical"], readme))
    if big_result:
        print(f"\n{size_name(big)} rows, float32, 1% positives (sklearn skipped):\n")
        print(table(["task", "seconds", "x numpy.sum"], [[k, fmt(v), f"{big_result['ratio_to_sum'][k]:.1f}"]
                                                         for k, v in big_result["seconds"].items()]))
    print(f"\nCommand: `{command}`")

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "bench_kernel.json"
    out.write_text(json.dumps(dict(command=command, machine=machine, repeats=dict(thresher=args.repeats,
                   sklearn=args.sk_repeats), sizes=rows, big=big_result), indent=2, default=float) + "\n")
    print(f"Figures written to {os.path.relpath(out)}")


if __name__ == "__main__":
    main()
