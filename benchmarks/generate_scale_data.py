"""Write a synthetic scored dataset as Parquet: float32 score, int8 label, a 20-value segment.

Scores are a logistic model's output: logit ~ Normal(-4 + 2.5 * label, 1.5), about 1% positives.
``--dtype float64`` computes and stores them in float64 (values float32 cannot represent).
Files of --rows-per-file rows (row groups of 1M), written chunk by chunk in bounded memory.

Run: .venv/bin/python benchmarks/generate_scale_data.py --rows 1e9 --out benchmarks/_data/scale
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEGMENTS = pa.array([f"seg{i:02d}" for i in range(20)])
CHUNK = 10_000_000


def chunk(rng: np.random.Generator, n: int, dtype=np.float32) -> pa.Table:
    label = (rng.random(n, dtype=np.float32) < 0.01).astype(np.int8)
    logit = rng.standard_normal(n, dtype=dtype) * dtype(1.5) - dtype(4.0) + dtype(2.5) * label
    score = (dtype(1.0) / (dtype(1.0) + np.exp(-logit))).astype(dtype)
    segment = pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, 20, n, dtype=np.int8)), SEGMENTS)
    return pa.table({"score": score, "label": label, "segment": segment})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e9)
    parser.add_argument("--rows-per-file", type=float, default=5e7)
    parser.add_argument("--out", default=str(Path(__file__).parent / "_data" / "scale"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args()
    dtype = np.dtype(args.dtype).type
    total, per_file = int(args.rows), int(args.rows_per_file)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*.parquet"):
        old.unlink()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    written = 0
    part = 0
    while written < total:
        rows_here = min(per_file, total - written)
        with pq.ParquetWriter(out / f"part-{part:04d}.parquet", chunk(rng, 1, dtype).schema) as writer:
            done = 0
            while done < rows_here:
                n = min(CHUNK, rows_here - done)
                writer.write_table(chunk(rng, n, dtype), row_group_size=1 << 20)
                done += n
        written += rows_here
        part += 1
        print(f"\r{written:,} rows in {part} files, {time.perf_counter() - start:.0f}s", end="", flush=True)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
