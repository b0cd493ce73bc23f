"""``thresher policy fit`` on data larger than memory: the exact curves of every segment prefix,
counted out of core (:func:`thresher.scale.outofcore.exact_curves`), then the same selection,
fallbacks and evidence as the in-memory fit."""

from __future__ import annotations

from thresher.errors import InputError
from thresher.policy.fit import FitResult, fit_policy_on_curves, parse_tiers
from thresher.scale.outofcore import exact_curves
from thresher.scale.sources import open_source


def fit_policy(source=None, *, label: str, score: str, tiers, by=None, weight: str | None = None,
               otherwise: str = "allow",
               min_support: int = 30, name: str = "policy", version: int = 1, pos_label=None,
               confidence: float = 0.95, description: str | None = None, sql: str | None = None,
               database: str | None = None, progress: bool = False) -> FitResult:
    """:func:`thresher.policy.fit_policy` for a re-readable source (Parquet files, a directory, a glob,
    a DuckDB or PostgreSQL query), exact, in bounded memory. Objectives that read per-case columns
    (cost columns, per-day budgets) need the rows in memory.

    >>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "s.parquet")
    >>> pq.write_table(pa.table({"y": [0, 0, 1, 1], "p": pa.array([0.1, 0.4, 0.35, 0.8], pa.float32())}), path)
    >>> fit_policy(path, label="y", score="p", tiers={"block": "max-f1"}).policy.rules[0].tiers[0].threshold
    0.3499999940395355
    """
    specs = parse_tiers(tiers)
    for action, objective in specs:
        if objective.columns():
            raise InputError(f"The '{action}' tier's objective '{objective.spec()}' reads per-case columns "
                             f"({', '.join(objective.columns())}), which out-of-core fitting does not carry; use "
                             "--in-memory if the data fits, or constant costs / a rate budget.")
    names = tuple(b.strip() for b in by.split(",")) if isinstance(by, str) else tuple(by or ())
    curves = exact_curves(open_source(source, sql=sql, database=database), label=label, score=score, by=names,
                          pos_label=pos_label, weight=weight, progress=progress, fingerprint=True)
    return fit_policy_on_curves(curves.level_curves(), by=names, score=score, tiers=specs, rows=curves.level_rows(),
                                score_ranges=curves.level_ranges(),
                                data_fingerprint=curves.fingerprint, otherwise=otherwise, min_support=min_support,
                                name=name, version=version, confidence=confidence, description=description)
