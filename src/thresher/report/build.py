"""``build_report``: everything the HTML report shows, as one JSON-able document.

The document holds one *view* per set of rows (all rows, then each segment of ``by``), each with
its display curve, areas, distributions and marked points, plus the policy diff when two
policies are given. :mod:`thresher.report.html` turns it into a single self-contained page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


from thresher.data.atomic import write_atomic
from thresher.data.columns import Columns
from thresher.data.load import load
from thresher.errors import InfeasibleError, ParameterError, PolicyError
from thresher.metrics.curve import Curve
from thresher.params import Interval, check
from thresher.policy.diff import diff_policies
from thresher.policy.policy import Policy
from thresher.report.marks import PolicyDecisions, infeasible_mark, objective_mark
from thresher.report.views import MAX_POINTS, view_document
from thresher.select.context import Context
from thresher.select.objectives import MinCost, parse
from thresher.select.select import select_by_segment, select_on_curve


@dataclass(frozen=True)
class Report:
    """A built report: ``document`` is the data the page shows; ``to_html()`` / ``save()`` render it."""

    document: dict

    def to_html(self) -> str:
        from thresher.report.html import render

        return render(self.document)

    def save(self, path) -> Path:
        """Write the self-contained HTML file atomically; returns the path."""
        path = Path(path)
        write_atomic(path, self.to_html())
        return path


def parse_costs(cost) -> dict | None:
    """``"fn=10 fp=1"`` (or a :class:`MinCost`, or a dict) to ``{"fn", "fp", "tp", "tn"}``: constant
    cost per error and gain per correct call."""
    if cost is None:
        return None
    if isinstance(cost, dict):
        cost = MinCost(**cost)
    objective = cost if isinstance(cost, MinCost) else parse(f"min-cost {cost}")
    if not isinstance(objective, MinCost) or objective.columns():
        raise ParameterError(f"The report's costs must be constants per case, like 'fn=10 fp=1'; got '{cost}'. "
                             "Per-case cost columns work in --objective 'min-cost fn=COLUMN', not in --cost.")
    return {"fn": float(objective.fn), "fp": float(objective.fp), "tp": float(objective.tp), "tn": float(objective.tn)}


def _policy(value, option: str) -> Policy | None:
    if value is None or isinstance(value, Policy):
        return value
    if isinstance(value, (str, Path)):
        return Policy.load(value)
    raise ParameterError(f"The '{option}' parameter of build_report must be a Policy or a path to a policy file. "
                         f"Got {type(value).__name__} instead.")


def _source_name(data) -> str | None:
    return Path(data).name if isinstance(data, (str, Path)) else None


def _plain(value):
    """A JSON scalar for a label value (numpy scalars unwrapped, anything else as text)."""
    value = value.item() if hasattr(value, "item") else value
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


class _Selections:
    """Each objective's operating points: overall and per segment, or why it is infeasible."""

    def __init__(self, cols: Columns, curve: Curve, objectives, confidence: float, min_support: int):
        self.results = []
        for objective in objectives:
            try:
                if cols.segments is not None:
                    sel = select_by_segment(cols, objective, by=cols.segments.names, min_support=min_support,
                                            confidence=confidence)
                    self.results.append((objective, sel.overall, sel.segments, None))
                else:
                    point = select_on_curve(curve, objective, Context(cols), confidence=confidence)
                    self.results.append((objective, point, {}, None))
            except InfeasibleError as exc:
                self.results.append((objective, None, {}, str(exc)))

    def marks(self, segment: str | None, curve: Curve) -> tuple[list[dict], list[float]]:
        marks, keep = [], []
        for objective, overall, segments, error in self.results:
            point = overall if segment is None else segments.get(segment)
            if point is None:
                marks.append(infeasible_mark(objective.spec(), error or "no operating point in this segment"))
                continue
            marks.append(objective_mark(point, curve))
            keep.append(point.threshold)
        return marks, keep


def build_report(data, *, label: str = "label", score: str = "score", weight: str | None = None, by=None,
                 pos_label=None, objectives=(), policy=None, policy_old=None, cost=None, confidence: float = 0.95,
                 min_support: int = 30, max_points: int = MAX_POINTS, title: str | None = None,
                 diff_resamples: int = 1000, progress: bool = False) -> Report:
    """Build the interactive report of a labelled, scored dataset.

    ``objectives`` are spec strings (``"min-cost fn=10 fp=1"``) whose operating points are marked;
    ``policy`` (a :class:`~thresher.policy.Policy` or a file) marks its tiers, and with ``policy_old``
    the report shows what changes between the two; ``cost`` (``"fn=10 fp=1"``) adds the expected
    cost curve (default: the costs of the first constant ``min-cost`` objective).

    >>> r = build_report({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.35, 0.8]}, label="y", score="p")
    >>> view = r.document["views"][0]
    >>> view["roc_auc"], view["curve"]["tp"]
    (0.75, [0, 1, 1, 2, 2])
    """
    from thresher import __version__

    check(confidence, "confidence", "build_report", Interval(0, 1, closed="neither"))
    check(max_points, "max_points", "build_report", Interval(16, None, integer=True))
    specs = [objectives] if isinstance(objectives, str) else list(objectives)
    parsed = [parse(s) for s in specs]
    new, old = _policy(policy, "policy"), _policy(policy_old, "policy_old")
    if old is not None and new is None:
        raise ParameterError("policy_old (--policy-old) needs policy (--policy): the new policy to compare it with.")
    for p in (new, old):
        if p is not None and p.score != score:
            raise PolicyError(f"Policy '{p.name}' v{p.version} reads the score field '{p.score}' but the report uses "
                              f"the score column '{score}'; pass --score {p.score} or use a policy fitted on "
                              f"'{score}'.")
    if isinstance(data, Columns) and new is not None:
        raise ParameterError("A report with a policy needs the data source (a path, DataFrame, table or dict of "
                             "columns), not loaded Columns: the policy reads its own score and segment fields.")
    costs = parse_costs(cost)
    if costs is None:
        first = next((o for o in parsed if isinstance(o, MinCost) and not o.columns()), None)
        costs = parse_costs(first)
    extra = sorted({c for o in parsed for c in o.columns()})
    cols = data if isinstance(data, Columns) else load(
        data, label=label, score=score, weight=weight, by=by, pos_label=pos_label, extra=extra, progress=progress)
    curve = Curve.from_columns(cols)
    selections = _Selections(cols, curve, parsed, confidence, min_support)
    decisions = [PolicyDecisions(p, data, len(cols), kind)
                 for p, kind in ((new, "policy"), (old, "policy-old")) if p is not None]

    def view(key, name, sub, sub_curve, rows, segment):
        marks, keep = selections.marks(segment, sub_curve)
        for d in decisions:
            more, thresholds = d.marks(rows, sub_curve, sub.y, sub.weight, confidence)
            marks += more
            keep += thresholds
        return view_document(key, name, sub, sub_curve, marks=marks, keep=keep, confidence=confidence,
                             max_points=max_points)

    views = [view("all", "All rows", cols, curve, None, None)]
    if cols.segments is not None:
        for name, rows in cols.segments.groups():
            sub = cols.take(rows)
            views.append(view(f"segment:{name}", name, sub, Curve.from_columns(sub), rows, name))
    notes = []
    if cols.weight is not None:
        notes.append("Weighted data: counts are sums of weights; the DeLong AUC interval needs unweighted data "
                     "and is not shown.")
    diff = None
    if old is not None:
        impact_costs = (costs["fn"], costs["fp"]) if costs and not (costs["tp"] or costs["tn"]) else None
        result = diff_policies(old, new, data, label=label, pos_label=pos_label, costs=impact_costs,
                               n_resamples=diff_resamples, confidence=confidence)
        diff = result.to_dict()
        diff["change_text"] = [str(c) for c in result.changes]
    return Report({
        "format": 1,
        "title": title or _source_name(data) or "thresher report",
        "source": _source_name(data),
        "generated": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "thresher_version": __version__,
        "label": label,
        "score": score,
        "by": list(cols.segments.names) if cols.segments is not None else [],
        "pos_label": _plain(cols.pos_label),
        "weighted": cols.weight is not None,
        "confidence": confidence,
        "objectives": [o.spec() for o in parsed],
        "policy": decisions[0].title if decisions else None,
        "policy_old": decisions[1].title if len(decisions) > 1 else None,
        "cost": costs,
        "views": views,
        "diff": diff,
        "notes": notes,
    })
