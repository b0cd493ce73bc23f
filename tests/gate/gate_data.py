"""Helpers for the gate tests: synthetic golden data with a known truth, gate files, the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import yaml

N_ROWS = 1000


def scored_rows(seed: int = 3, n: int = N_ROWS) -> dict[str, np.ndarray]:
    """Labels (20% positive), a segment, and three score columns on the same rows:

    ``baseline``: signal 1.2 + noise; ``noise``: another model of the same true quality (a retrain:
    its AUC differs from the baseline's only by chance); ``regressed``: a weaker signal (0.8), a
    real regression of about 0.1 AUC. Scores are float32, as the run history stores them.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.int64)
    e0, e1 = rng.normal(size=(2, n))
    return {
        "y": y,
        "region": np.where(rng.random(n) < 0.5, "north", "south"),
        "baseline": (1.2 * y + e0).astype(np.float32),
        "noise": (1.2 * y + 0.6 * e0 + 0.8 * e1).astype(np.float32),
        "regressed": (0.8 * y + 0.6 * e0 + 0.8 * e1).astype(np.float32),
    }


def write_scores(path: Path, rows: dict, score: str, **extra) -> Path:
    """A golden CSV with the columns y, region and score (taken from ``rows[score]``)."""
    columns = {"y": rows["y"], "region": rows["region"], "score": rows[score], **extra}
    pacsv.write_csv(pa.table(columns), path)
    return path


def write_gate(directory: Path, checks: list, *, data: str = "golden.csv", name: str = "synthetic",
               file: str = "gate.yaml", **top) -> Path:
    gate = {"name": name, "bootstrap": 300, **top,
            "datasets": {"golden": {"path": data, "label": "y", "score": "score", "segments": ["region"]}},
            "checks": checks}
    path = directory / file
    path.write_text(yaml.safe_dump(gate, sort_keys=False))
    return path


def run_cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "thresher.cli.main", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=env)
