"""``thresher report`` on data larger than memory: the exact curves of every segment, counted out of
core, and (with a policy) one more streamed pass that counts its decisions per view, rule, tier and
label. Every number in the report is exact, as from the rows in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from thresher.data.columns import segment_names
from thresher.data.stream import BatchLabels, BatchSegments
from thresher.data.validate import clean_weight
from thresher.errors import ParameterError
from thresher.policy.policy import Policy
from thresher.report.build import Report, build_report_from_curves, check_curve_objectives, check_policy_score
from thresher.report.marks import PolicyMarks, decision_counts
from thresher.scale.outofcore import exact_curves
from thresher.scale.sources import Source, open_source


def build_report(source=None, *, label: str, score: str, by=None, weight: str | None = None, pos_label=None,
                 objectives=(), policy=None,
                 policy_old=None, cost=None, confidence: float = 0.95, min_support: int = 30, max_points: int = 1200,
                 title: str | None = None, sql: str | None = None, database: str | None = None,
                 progress: bool = False) -> Report:
    """:func:`thresher.report.build_report` for a re-readable source (Parquet files, a directory, a
    glob, a DuckDB or PostgreSQL query), exact, in bounded memory. No policy diff
    (``policy_old``): comparing two policies pairs their decisions row by row."""
    if policy_old is not None:
        raise ParameterError("--policy-old compares two policies row by row, which needs the rows in memory; drop "
                             "it (the report still marks --policy), or use --in-memory if the data fits.")
    chosen = policy if policy is None or isinstance(policy, Policy) else Policy.load(policy)
    check_policy_score(chosen, score)  # before any pass over the data
    check_curve_objectives(objectives)
    src = open_source(source, sql=sql, database=database)
    names = tuple(b.strip() for b in by.split(",")) if isinstance(by, str) else tuple(by or ())
    curves = exact_curves(src, label=label, score=score, by=names, pos_label=pos_label, weight=weight,
                          progress=progress)
    policies = []
    if chosen is not None:
        policies.append((PolicyMarks(chosen, "policy"),
                         _decision_counts(src, chosen, label, names, curves.pos_label, list(curves.segments),
                                          weight)))
    default_title = Path(str(source)).name if source is not None else "query"
    return build_report_from_curves(curves.level_curves(), list(curves.segments), by=names, label=label, score=score,
                                    pos_label=curves.pos_label, objectives=objectives, policies=policies, cost=cost,
                                    confidence=confidence, min_support=min_support, max_points=max_points,
                                    title=title or default_title, source=default_title if source is not None else None,
                                    weighted=weight is not None, rows=curves.level_rows())


def _decision_counts(src: Source, policy: Policy, label: str, by: tuple, positive, names: list[str],
                     weight: str | None) -> dict:
    """``{None: all rows, segment name: its rows}`` -> decision counts (rule, tier, label)."""
    columns = list(dict.fromkeys([label, policy.score, *policy.segments, *by, *([weight] if weight else [])]))
    labels = BatchLabels(label, positive)
    segments = BatchSegments(by)
    tiers = (len(policy.rules), len(policy.model.actions))
    shape = (tiers[0], tiers[1] + 1, 2)
    per: dict[int, np.ndarray] = {}
    total = np.zeros(shape)
    offset = 0
    for batch in src.batches(columns):
        table = pa.Table.from_batches([batch])
        y = labels(table.column(label), offset)
        decided = policy.decide_table(table, offset)
        rule = decided.column("segment").chunk(0).indices.to_numpy(zero_copy_only=False)
        tier = decided.column("tier").chunk(0).indices.to_numpy(zero_copy_only=False)
        w = clean_weight(table.column(weight), weight, offset=offset) if weight else None
        total += decision_counts(rule, tier, y, w, *tiers)
        if by:
            codes = segments(table)
            for g in np.unique(codes):
                rows = codes == g
                counts = decision_counts(rule[rows], tier[rows], y[rows], None if w is None else w[rows], *tiers)
                per[int(g)] = per[int(g)] + counts if int(g) in per else counts
        offset += table.num_rows
    out = {None: total}
    by_name = dict(zip(segment_names(segments.keys), range(len(segments.keys))))
    for name in names:
        out[name] = per.get(by_name.get(name, -1), np.zeros(shape))
    return out
